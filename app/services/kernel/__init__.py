"""What every rule of the services leans on: the clock, random codes and their digests,
keys derived from the app's secret, the errors a rule raises, rate limits, the audit
trail and the unit of work's context."""
