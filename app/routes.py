from pyramid.config import Configurator


def includeme(config: Configurator) -> None:
    config.add_static_view("static", "app:static", cache_max_age=3600)
    config.add_route("home", "/")
    config.add_route("account", "/account")
    config.add_route("account.register", "/account/register")
    config.add_route("account.verify_sent", "/account/verify_sent")
    config.add_route("account.verify_email_link", "/account/verify_email/{code}")
    config.add_route("account.verify_email", "/account/verify_email")
    config.add_route("account.change_email", "/account/change_email")
    config.add_route("account.change_email_sent", "/account/change_email/sent")
    config.add_route("account.confirm_email_link", "/account/confirm_email/{code}")
    config.add_route("account.confirm_email", "/account/confirm_email")
    config.add_route("account.signin", "/account/signin")
    config.add_route("account.signin.two_factor", "/account/signin/two_factor")
    config.add_route("account.reauthenticate", "/account/reauthenticate")
    # Passkey ceremonies: JSON POSTs from static/passkeys.js, the options then the answer.
    config.add_route("account.signin.passkey_options", "/account/signin/passkey/options")
    config.add_route("account.signin.passkey", "/account/signin/passkey")
    config.add_route(
        "account.signin.two_factor_passkey_options", "/account/signin/two_factor/passkey/options"
    )
    config.add_route("account.signin.two_factor_passkey", "/account/signin/two_factor/passkey")
    config.add_route(
        "account.reauthenticate.passkey_options", "/account/reauthenticate/passkey/options"
    )
    config.add_route("account.reauthenticate.passkey", "/account/reauthenticate/passkey")
    config.add_route("account.logout", "/account/logout")
    config.add_route("account.not_me_link", "/account/not_me/{code}")
    config.add_route("account.not_me", "/account/not_me")
    config.add_route("account.forgot_password", "/account/forgot_password")
    config.add_route("account.reset_sent", "/account/reset_sent")
    config.add_route("account.reset_password_link", "/account/reset_password/{code}")
    config.add_route("account.reset_password", "/account/reset_password")
    config.add_route("account.change_password", "/account/change_password")
    config.add_route("account.sessions", "/account/sessions")
    config.add_route("account.sessions.revoke", r"/account/sessions/{id:\d{1,9}}/revoke")
    config.add_route("account.activity", "/account/activity")
    config.add_route("account.two_factor", "/account/two_factor")
    config.add_route("account.two_factor.totp", "/account/two_factor/totp")
    config.add_route("account.two_factor.totp_disable", "/account/two_factor/totp/disable")
    config.add_route("account.two_factor.recovery_codes", "/account/two_factor/recovery_codes")
    config.add_route("account.sessions.revoke_others", "/account/sessions/revoke_others")
    config.add_route("account.passkeys", "/account/passkeys")
    config.add_route("account.passkeys.add_options", "/account/passkeys/add/options")
    config.add_route("account.passkeys.add", "/account/passkeys/add")
    config.add_route("account.passkeys.rename", r"/account/passkeys/{id:\d{1,9}}/rename")
    config.add_route("account.passkeys.delete", r"/account/passkeys/{id:\d{1,9}}/delete")
    config.add_route("admin.accounts", "/admin/accounts")
    config.add_route("admin.accounts.new", "/admin/accounts/new")
    # Ids are at most nine digits: PostgreSQL's integer stops at 2,147,483,647, and a
    # larger number must be a 404, not a database error.
    config.add_route("admin.account", r"/admin/accounts/{id:\d{1,9}}")
    config.add_route("admin.account.action", r"/admin/accounts/{id:\d{1,9}}/{action}")
