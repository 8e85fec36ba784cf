from pyramid.config import Configurator


def includeme(config: Configurator) -> None:
    config.add_static_view("static", "app:static", cache_max_age=3600)
    # For the operator's tools: app/controllers/operations.py.
    config.add_route("healthz", "/healthz")
    config.add_route("readyz", "/readyz")
    config.add_route("metrics", "/metrics")
    config.add_route("home", "/")
    config.add_route("language", "/language")
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
    # Signing in with another provider, by its name in signin.providers.
    provider = "/with/{name:[a-z][a-z0-9_-]{0,29}}"
    config.add_route("account.signin.upstream", "/account/signin" + provider)
    config.add_route("account.signin.upstream_callback", "/account/signin" + provider + "/callback")
    config.add_route("account.signin.upstream_new", "/account/signin" + provider + "/new")
    config.add_route("account.signin.upstream_link", "/account/signin" + provider + "/link")
    config.add_route("account.reauthenticate.upstream", "/account/reauthenticate" + provider)
    config.add_route(
        "account.reauthenticate.upstream_code", "/account/reauthenticate" + provider + "/code"
    )
    config.add_route("account.signin_methods", "/account/signin_methods")
    config.add_route("account.export", "/account/export")
    config.add_route("account.signin_methods.link", "/account/signin_methods/link/{name}")
    config.add_route(
        "account.signin_methods.unlink", r"/account/signin_methods/{id:\d{1,9}}/unlink"
    )
    config.add_route("account.signin_methods.password", "/account/signin_methods/password")
    config.add_route("account.logout", "/account/logout")
    config.add_route("account.not_me_link", "/account/not_me/{code}")
    config.add_route("account.not_me", "/account/not_me")
    config.add_route("account.undo_email_change_link", "/account/undo_email_change/{code}")
    config.add_route("account.undo_email_change", "/account/undo_email_change")
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
    # The identity provider (app/controllers/oidc_provider.py).
    config.add_route("oidc.discovery", "/.well-known/openid-configuration")
    config.add_route("oidc.jwks", "/oidc/jwks")
    config.add_route("oidc.authorize", "/oidc/authorize")
    config.add_route("oidc.token", "/oidc/token")
    config.add_route("oidc.userinfo", "/oidc/userinfo")
    config.add_route("oidc.revoke", "/oidc/revoke")
    config.add_route("oidc.introspect", "/oidc/introspect")
    config.add_route("oidc.logout", "/oidc/logout")
    config.add_route("account.apps", "/account/apps")
    config.add_route("account.apps.disconnect", r"/account/apps/{client_id:[\w-]{1,64}}/disconnect")
    # Applications registered with the identity provider, for administrators.
    config.add_route("admin.clients", "/admin/clients")
    config.add_route("admin.clients.new", "/admin/clients/new")
    config.add_route("admin.client", r"/admin/clients/{client_id:[\w-]{1,64}}")
    config.add_route("admin.client.action", r"/admin/clients/{client_id:[\w-]{1,64}}/{action}")
    config.add_route("admin.accounts", "/admin/accounts")
    config.add_route("admin.accounts.new", "/admin/accounts/new")
    # Ids are at most nine digits: PostgreSQL's integer stops at 2,147,483,647, and a
    # larger number must be a 404, not a database error.
    config.add_route("admin.account", r"/admin/accounts/{id:\d{1,9}}")
    config.add_route("admin.account.action", r"/admin/accounts/{id:\d{1,9}}/{action}")
    # The JSON API (app/controllers/api/, app/api/): the same flows for single-page and
    # phone apps, described by its OpenAPI document.
    config.add_route("api.openapi", "/api/v1/openapi.json")
    config.add_route("api.session", "/api/v1/session")
    config.add_route("api.session.second_factor", "/api/v1/session/second_factor")
    config.add_route("api.session.passkey_options", "/api/v1/session/passkey/options")
    config.add_route("api.session.passkey", "/api/v1/session/passkey")
    config.add_route(
        "api.session.second_factor.passkey_options",
        "/api/v1/session/second_factor/passkey/options",
    )
    config.add_route("api.session.second_factor.passkey", "/api/v1/session/second_factor/passkey")
    config.add_route("api.accounts", "/api/v1/accounts")
    config.add_route("api.email.confirm", "/api/v1/email/confirm")
    config.add_route("api.email.change", "/api/v1/email/change")
    config.add_route("api.password.forgot", "/api/v1/password/forgot")
    config.add_route("api.password.reset", "/api/v1/password/reset")
    config.add_route("api.password.change", "/api/v1/password/change")
    config.add_route("api.account", "/api/v1/account")
    config.add_route("api.account.export", "/api/v1/account/export")
    config.add_route("api.sessions", "/api/v1/sessions")
    config.add_route("api.sessions.one", r"/api/v1/sessions/{id:\d{1,9}}")
    config.add_route("api.activity", "/api/v1/activity")
    config.add_route("api.reauthenticate", "/api/v1/reauthenticate")
    config.add_route("api.reauthenticate.passkey_options", "/api/v1/reauthenticate/passkey/options")
    config.add_route("api.reauthenticate.passkey", "/api/v1/reauthenticate/passkey")
    config.add_route("api.two_factor.totp", "/api/v1/two_factor/totp")
    config.add_route("api.two_factor.recovery_codes", "/api/v1/two_factor/recovery_codes")
    config.add_route("api.passkeys", "/api/v1/passkeys")
    config.add_route("api.passkeys.options", "/api/v1/passkeys/options")
    config.add_route("api.passkeys.one", r"/api/v1/passkeys/{id:\d{1,9}}")
