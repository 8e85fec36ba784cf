"""Signed-in devices: server-side login sessions, the browsers an account has used, and
the names shown for them."""
