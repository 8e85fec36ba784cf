"""Signing in with another provider: Google, Apple, Microsoft, GitLab, another instance
of this app (OpenID Connect), or GitHub."""
