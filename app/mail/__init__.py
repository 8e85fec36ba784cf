"""Delivering the outbox: rendering each email in its language, the transports (SMTP,
files) and the sender that retries."""
