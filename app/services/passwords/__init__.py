"""Passwords: hashing, the policy (length, strength, breaches) and the limits on guessing."""
