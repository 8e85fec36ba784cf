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
    config.add_route("account.logout", "/account/logout")
    config.add_route("account.forgot_password", "/account/forgot_password")
    config.add_route("account.reset_sent", "/account/reset_sent")
    config.add_route("account.reset_password_link", "/account/reset_password/{code}")
    config.add_route("account.reset_password", "/account/reset_password")
    config.add_route("account.change_password", "/account/change_password")
    config.add_route("account.sessions", "/account/sessions")
    config.add_route("account.sessions.revoke", r"/account/sessions/{id:\d{1,9}}/revoke")
    config.add_route("account.activity", "/account/activity")
    config.add_route("account.sessions.revoke_others", "/account/sessions/revoke_others")
    config.add_route("admin.accounts", "/admin/accounts")
    config.add_route("admin.accounts.new", "/admin/accounts/new")
    # Ids are at most nine digits: PostgreSQL's integer stops at 2,147,483,647, and a
    # larger number must be a 404, not a database error.
    config.add_route("admin.account", r"/admin/accounts/{id:\d{1,9}}")
    config.add_route("admin.account.action", r"/admin/accounts/{id:\d{1,9}}/{action}")
