"""Shared fixtures. Each test gets its own database, made by the real Alembic
migrations: they run once into a template, which is then copied per test."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import webtest
from alembic import command
from alembic.config import Config
from sqlalchemy.orm import Session

from app import main
from app.models import get_engine, get_session_factory
from app.services.accounts import AccountPolicy, AccountService
from app.services.login_sessions import LoginSessionService
from app.services.mail_templates import MailTemplates
from app.services.outbox import Outbox, outbox_cipher
from app.services.passwords import PasswordHasher, PasswordPolicy

from .support import FakeClock, SMTPServer

ROOT = Path(__file__).resolve().parent.parent
SECRET = "test-secret-0123456789abcdef"
BASE_URL = "https://accounts.example.test"
CLIENT_IP = "203.0.113.7"
STRONG_PASSWORD = "correct horse battery staple"
OTHER_PASSWORD = "plum orbit canvas thunder 42"


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(ROOT / "alembic"))
    config.attributes["sqlalchemy.url"] = url
    config.attributes["configure_logging"] = False
    return config


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.sqlite"
    command.upgrade(alembic_config(f"sqlite:///{path}"), "head")
    return path


@pytest.fixture
def db_url(sqlite_template: Path, tmp_path: Path) -> str:
    path = tmp_path / "test.sqlite"
    shutil.copy(sqlite_template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def smtp_server() -> Iterator[SMTPServer]:
    server = SMTPServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def app_settings(db_url: str, smtp_server: SMTPServer) -> dict[str, Any]:
    return {
        "sqlalchemy.url": db_url,
        "app.secret": SECRET,
        "app.base_url": BASE_URL,
        "app.secure_cookies": "false",
        "app.log_reset_links": "false",
        "mail.transport": "smtp",
        "mail.host": "127.0.0.1",
        "mail.port": str(smtp_server.port),
        "mail.delivery": "manual",
        "mail.retry_seconds": "1",
        "mail.default_sender": "Accounts <no-reply@example.test>",
    }


@pytest.fixture
def make_app(clock: FakeClock) -> Iterator[Any]:
    made: list[Any] = []

    def factory(settings: dict[str, Any], use_fake_clock: bool = True) -> Any:
        wsgi_app = main({}, **settings)
        if use_fake_clock:
            wsgi_app.registry["clock"] = clock
        made.append(wsgi_app)
        return wsgi_app

    yield factory
    for wsgi_app in made:
        thread = wsgi_app.registry["outbox_thread"]
        if thread is not None:
            thread.stop()
        wsgi_app.registry["db_engine"].dispose()


@pytest.fixture
def wsgi_app(make_app: Any, app_settings: dict[str, Any]) -> Any:
    return make_app(app_settings)


def new_client(wsgi_app: Any, ip: str = CLIENT_IP) -> webtest.TestApp:
    return webtest.TestApp(wsgi_app, extra_environ={"REMOTE_ADDR": ip, "HTTP_HOST": "localhost"})


@pytest.fixture
def client(wsgi_app: Any) -> webtest.TestApp:
    return new_client(wsgi_app)


@pytest.fixture
def dbsession(db_url: str) -> Iterator[Session]:
    engine = get_engine({"sqlalchemy.url": db_url})
    session = get_session_factory(engine)()
    yield session
    session.close()
    engine.dispose()


@pytest.fixture(scope="session")
def hasher() -> PasswordHasher:
    return PasswordHasher()


@pytest.fixture
def account_service(dbsession: Session, clock: FakeClock, hasher: PasswordHasher) -> AccountService:
    return AccountService(
        dbsession=dbsession,
        clock=clock,
        hasher=hasher,
        password_policy=PasswordPolicy(),
        outbox=Outbox(dbsession, outbox_cipher(SECRET), clock),
        mail_templates=MailTemplates(),
        login_sessions=LoginSessionService(dbsession, clock),
        policy=AccountPolicy(base_url=BASE_URL),
    )
