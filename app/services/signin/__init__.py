"""Signing in: the stages of a sign-in, from the first factor to the session, and
re-authentication before sensitive changes."""
