"""The rate limits' names, as their settings are named (ratelimit.<name>), and their
defaults. Each limit belongs to the service whose action it limits (see
app/services/kernel/rate_limits.py)."""

SIGNIN_PER_ACCOUNT = "signin_per_account"
SIGNIN_PER_DEVICE = "signin_per_device"
SIGNIN_PER_IP = "signin_per_ip"
FORGOT_PER_EMAIL = "forgot_per_email"
FORGOT_PER_IP = "forgot_per_ip"
BAD_CODE_PER_IP = "bad_code_per_ip"
REGISTER_PER_IP = "register_per_ip"
REGISTER_PER_EMAIL = "register_per_email"
CONFIRMATION_PER_ACCOUNT = "confirmation_per_account"
CHANGE_EMAIL_PER_ACCOUNT = "change_email_per_account"
CHANGE_EMAIL_PER_ADDRESS = "change_email_per_address"
SECOND_FACTOR_PER_ACCOUNT = "second_factor_per_account"
NEW_DEVICE_ALERTS_PER_ACCOUNT = "new_device_alerts_per_account"
EXPORT_PER_ACCOUNT = "export_per_account"
SIGNIN_CODE_PER_EMAIL = "signin_code_per_email"
SIGNIN_CODE_PER_IP = "signin_code_per_ip"
OIDC_TOKEN_PER_CLIENT = "oidc_token_per_client"  # noqa: S105 - a limit name
OIDC_TOKEN_PER_IP = "oidc_token_per_ip"  # noqa: S105 - a limit name

# Defaults. Moving windows, so a burst at the edge of a fixed window cannot double the
# allowance.
DEFAULT_LIMITS = {
    SIGNIN_PER_ACCOUNT: "10/5minutes",
    SIGNIN_PER_DEVICE: "10/5minutes",
    SIGNIN_PER_IP: "50/5minutes",
    FORGOT_PER_EMAIL: "3/hour",
    FORGOT_PER_IP: "20/hour",
    BAD_CODE_PER_IP: "20/5minutes",
    REGISTER_PER_IP: "10/hour",
    # Registrations of one address (each sends it an email), new or existing alike.
    REGISTER_PER_EMAIL: "3/hour",
    # New confirmation links sent when an unconfirmed account signs in.
    CONFIRMATION_PER_ACCOUNT: "3/hour",
    CHANGE_EMAIL_PER_ACCOUNT: "5/hour",
    # Changes of address to one address, from any accounts (each emails that address).
    CHANGE_EMAIL_PER_ADDRESS: "3/hour",
    # Wrong authenticator or recovery codes, after the right password.
    SECOND_FACTOR_PER_ACCOUNT: "10/15minutes",
    # Emails about sign-ins from new browsers (each different browser is told of).
    NEW_DEVICE_ALERTS_PER_ACCOUNT: "10/hour",
    # Downloads of everything held about an account (docs/security.md 72).
    EXPORT_PER_ACCOUNT: "5/hour",
    # Emailed sign-in codes (docs/security.md 73): to one address, known or not (each
    # emails it), and asked from one client address.
    SIGNIN_CODE_PER_EMAIL: "5/hour",
    SIGNIN_CODE_PER_IP: "20/hour",
    # Calls of the identity provider's token, revocation and introspection endpoints
    # (docs/security.md 67): by each client, and from each address.
    OIDC_TOKEN_PER_CLIENT: "1200/minute",
    OIDC_TOKEN_PER_IP: "600/minute",
}
