"""Second factors: the authenticator app (TOTP) with its recovery codes, and passkeys
(WebAuthn)."""
