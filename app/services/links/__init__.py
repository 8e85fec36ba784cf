"""The one-time codes of emailed links: one table, one way to create, check and spend
a code, whatever its purpose."""
