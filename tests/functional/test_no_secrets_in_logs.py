"""docs/security.md 25: run every flow with canary secrets, then look for them in all log
output (the access log's lines too, written as production and development write them)
and in every row of the database."""

from __future__ import annotations

import logging
from configparser import ConfigParser
from pathlib import Path

from app.logs import JSONFormatter, TextFormatter
from app.services.kernel import codes
from tests.conftest import new_client
from tests.functional.flows import (
    choose_password,
    confirm_email,
    create_account,
    db,
    deliver_mail,
    forgot_password,
    open_link,
    register,
    sign_in,
    sign_out,
)
from tests.support import dump_database, form_by_action

ROOT = Path(__file__).resolve().parents[2]
CANARY_PASSWORD = "canary-password-7Hq2 lantern meadow"
CANARY_NEW_PASSWORD = "canary-newpass-9Zx4 harbor thistle"
CANARY_CHANGED_PASSWORD = "canary-changed-3Kp8 walnut glacier"
CANARY_CODE = "canaryCODEcanaryCODEcanaryCODEcanaryCODE123"
CANARY_CONFIRM = "canaryCONFIRMcanaryCONFIRMcanaryCONFIRMcan"
CANARY_TOKEN = "canaryTOKENcanaryTOKENcanaryTOKENcanaryTOK"
CANARY_DEVICE = "canaryDEVICEcanaryDEVICEcanaryDEVICEcanary"


def _development_format() -> str:
    config = ConfigParser(interpolation=None)
    config.read(ROOT / "development.ini")
    return config["formatter_generic"]["format"]


def test_no_password_code_or_session_token_reaches_a_log_or_the_database(
    make_app, app_settings, smtp_server, monkeypatch, caplog
):
    planned = iter(
        [CANARY_CONFIRM, CANARY_DEVICE, CANARY_TOKEN, CANARY_CODE]
        + [f"canaryX{i:036d}" for i in range(30)]
    )
    issued: list[str] = []
    monkeypatch.setattr(
        codes.secrets, "token_urlsafe", lambda n: issued.append(next(planned)) or issued[-1]
    )
    wsgi_app = make_app(app_settings)
    email = "canary@example.com"

    with caplog.at_level(logging.DEBUG):
        logging.getLogger("sqlalchemy.engine").setLevel(logging.INFO)
        try:
            client = new_client(wsgi_app)
            # The confirmation code, then the browser's device token and the session token.
            register(client, email, CANARY_PASSWORD)
            deliver_mail(wsgi_app)
            confirm_email(client, CANARY_CONFIRM, CANARY_PASSWORD)
            assert client.cookies["auth"] == CANARY_TOKEN
            assert client.cookies["device"] == CANARY_DEVICE
            client.get("/account")
            client.get("/account/sessions")
            sign_out(client)
            sign_in(client, email, "canary-wrong-password", status=400)
            forgot_password(client, email)  # the code: CANARY_CODE
            deliver_mail(wsgi_app)
            open_link(client, CANARY_CODE)
            choose_password(client, CANARY_NEW_PASSWORD)
            open_link(client, CANARY_CODE, status=400)
            sign_in(client, email, CANARY_NEW_PASSWORD)
            form = form_by_action(
                client.get("/account/change_password"), "/account/change_password"
            )
            form["current_password"] = CANARY_NEW_PASSWORD
            form["password"] = form["confirm_password"] = CANARY_CHANGED_PASSWORD
            form.submit(status=303)
            client.get("/account/activity")
            # Another browser: a device token, a session token, and the "this wasn't me"
            # code in the email to the owner.
            sign_in(new_client(wsgi_app), email, CANARY_CHANGED_PASSWORD)
            deliver_mail(wsgi_app)
            create_account(wsgi_app, "other@example.com", None)
        finally:
            logging.getLogger("sqlalchemy.engine").setLevel(logging.WARNING)

    # The test's own SMTP server ("mail.log") logs the emails it receives; that is the
    # mailbox, not the app. Each line as production (JSON) and development write it.
    records = [r for r in caplog.records if not r.name.startswith("mail.log")]
    production, development = JSONFormatter(), TextFormatter(_development_format())
    app_logs = "\n".join(
        f"{r.name} {r.getMessage()} {r.exc_text or ''}\n{production.format(r)}\n"
        f"{development.format(r)}"
        for r in records
    )
    assert "sqlalchemy.engine" in app_logs  # the SQL itself was logged, and looked at
    # So were the access log's lines, one per request, the reset link's among them.
    access = [r.fields for r in records if r.name == "app.access"]
    assert len(access) > 20
    links = [a["path"] for a in access if a["route"] == "account.reset_password_link"]
    assert links == ["/account/reset_password/{code}"] * 2
    with db(wsgi_app) as session:
        database = dump_database(session)
    secrets_used = [
        CANARY_PASSWORD,
        CANARY_NEW_PASSWORD,
        CANARY_CHANGED_PASSWORD,
        "canary-wrong-password",
        CANARY_CODE,
        CANARY_CONFIRM,
        CANARY_TOKEN,
        *issued,
    ]
    for secret in secrets_used:
        assert secret not in app_logs, secret
        assert secret not in database, secret
    # The emailed code did reach the mailbox, so the flows really used it.
    assert any(CANARY_CODE in m.text for m in smtp_server.mailbox.messages)
    not_me = [m.link_code for m in smtp_server.mailbox.messages if "/not_me/" in m.text]
    assert len(not_me) == 1 and not_me[0] in issued
