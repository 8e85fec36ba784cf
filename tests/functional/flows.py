"""Steps a person takes, through the real app, for the functional tests."""

from __future__ import annotations

from typing import Any

import pyotp
import webtest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import AccountEvent, OutgoingEmail
from app.services.accounts.accounts import AccountService
from app.services.composition import Services
from tests.support import form_by_action
from tests.support.records import account_events


def register(client: webtest.TestApp, email: str, password: str, status: int = 303) -> Any:
    page = client.get("/account/register")
    form = form_by_action(page, "/account/register")
    form["email"] = email
    form["password"] = password
    form["confirm_password"] = password
    return form.submit(status=status)


def confirm_email(client: webtest.TestApp, code: str, password: str, status: int = 303) -> Any:
    """Open a confirmation link and give the password chosen at registration."""
    client.get(f"/account/verify_email/{code}", status=303)
    form = form_by_action(client.get("/account/verify_email"), "/account/verify_email")
    form["password"] = password
    return form.submit(status=status)


def register_and_confirm(
    client: webtest.TestApp, wsgi_app: Any, mailbox: Any, email: str, password: str
) -> Any:
    """Register, receive the confirmation link and use it: the browser is signed in."""
    register(client, email, password)
    deliver_mail(wsgi_app)
    code = mailbox.to(email)[-1].link_code
    return confirm_email(client, code, password)


def sign_in(
    client: webtest.TestApp, email: str, password: str, status: int = 303, came_from: str = ""
) -> Any:
    url = "/account/signin" + (f"?came_from={came_from}" if came_from else "")
    page = client.get(url)
    form = form_by_action(page, "/account/signin")
    form["email"] = email
    form["password"] = password
    return form.submit(status=status)


def sign_out(client: webtest.TestApp) -> Any:
    page = client.get("/account")
    return form_by_action(page, "/account/logout").submit(status=303)


def change_password(client: webtest.TestApp, current: str, new: str, status: int = 303) -> Any:
    page = client.get("/account/change_password")
    form = form_by_action(page, "/account/change_password")
    form["current_password"] = current
    form["password"] = new
    form["confirm_password"] = new
    return form.submit(status=status)


def forgot_password(client: webtest.TestApp, email: str, status: int = 303) -> Any:
    page = client.get("/account/forgot_password")
    form = form_by_action(page, "/account/forgot_password")
    form["email"] = email
    return form.submit(status=status)


def open_link(client: webtest.TestApp, code: str, status: int = 303) -> Any:
    return client.get(f"/account/reset_password/{code}", status=status)


def choose_password(client: webtest.TestApp, password: str, status: int = 200) -> Any:
    page = client.get("/account/reset_password")
    form = form_by_action(page, "/account/reset_password")
    form["password"] = password
    form["confirm_password"] = password
    return form.submit(status=status)


def deliver_mail(wsgi_app: Any) -> int:
    return wsgi_app.registry["outbox_sender"].deliver_due()


def services(wsgi_app: Any, session: Session) -> Services:
    """The app's services on a session the test controls."""
    return wsgi_app.registry["services"].services(session)


def account_service(wsgi_app: Any, session: Session) -> AccountService:
    """The app's AccountService on a session the test controls."""
    return services(wsgi_app, session).accounts


def create_account(wsgi_app: Any, email: str, password: str | None, confirmed: bool = True) -> int:
    """An account made through the service and committed, as a script would; its address
    counts as confirmed unless asked otherwise."""
    with wsgi_app.registry["dbsession_factory"]() as session, session.begin():
        account = account_service(wsgi_app, session).create_account(
            email, password, email_verified=confirmed and password is not None
        )
        session.flush()
        return account.id


def db(wsgi_app: Any) -> Session:
    """A fresh session on the app's database, for looking at what a request did."""
    return wsgi_app.registry["dbsession_factory"]()


def is_signed_in(client: webtest.TestApp) -> bool:
    """Whether this client's session opens the account page."""
    return client.get("/account", status="*").status_int == 200


def queued_emails(wsgi_app: Any) -> list[OutgoingEmail]:
    """Every email in the outbox."""
    with db(wsgi_app) as session:
        return list(session.scalars(select(OutgoingEmail)))


def recorded_events(wsgi_app: Any, kind: str | None = None) -> list[AccountEvent]:
    """The account events the app recorded, oldest first (of this kind, if given)."""
    with db(wsgi_app) as session:
        return account_events(session, kind)


def invitation_code(wsgi_app: Any, email: str) -> str:
    """The code of a new invitation link for the (invited) account with this address."""
    from app.models import Account

    with db(wsgi_app) as session, session.begin():
        account = session.query(Account).filter_by(email=email).one()
        link = account_service(wsgi_app, session).create_invitation_link(account)
    return link.rsplit("/", 1)[1]


def code_at(secret: str, clock, steps: int = 0) -> str:
    return pyotp.TOTP(secret).at(clock.now().timestamp() + 30 * steps)


def set_up_totp(client, clock) -> tuple[str, list[str]]:
    """Turn the authenticator app on for the signed-in client: (secret, recovery codes)."""
    page = client.get("/account/two_factor/totp")
    secret = page.html.find(id="totp-secret").text.replace(" ", "")
    assert page.html.find("svg") is not None  # the QR code, drawn inline
    form = form_by_action(page, "/account/two_factor/totp")
    form["code"] = code_at(secret, clock)
    done = form.submit(status=200)
    codes = [li.text.strip() for li in done.html.find(id="recovery-codes").find_all("li")]
    return secret, codes
