"""Shared fixtures. Each test gets its own database, made by the real Alembic
migrations: they run once into a template, which is then copied per test.

Every test that uses a database runs twice, on SQLite and on PostgreSQL (a throwaway
server started once per session, see tests/postgres.py): test_x[sqlite] and
test_x[postgresql]. `pytest --db=sqlite` (or TEST_DB=sqlite) runs one of them only.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import webtest
from alembic import command
from alembic.config import Config
from sqlalchemy.orm import Session

from app import make_app as make_wsgi_app
from app.models import get_engine, get_session_factory
from app.services.accounts.accounts import AccountService
from app.services.composition import ServiceFactory, Services
from app.services.kernel.audit import RequestOrigin
from app.services.passwords.hashing import PasswordHasher, make_crypt_context
from app.services.signin.authentication import AuthenticationService
from app.services.signin.flow import SignInFlow
from app.settings import AppSettings
from tests.postgres import PostgresServer, find_bin_dir
from tests.support import UNLIMITED_RATES, FakeClock, SMTPServer
from tests.support.hashers import CHEAP_ARGON2

ROOT = Path(__file__).resolve().parent.parent
SECRET = "test-secret-0123456789abcdef"
BASE_URL = "https://accounts.example.test"
CLIENT_IP = "203.0.113.7"
STRONG_PASSWORD = "correct horse battery staple"
OTHER_PASSWORD = "plum orbit canvas thunder 42"
THIRD_PASSWORD = "violet harbor mosaic drifting"


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(ROOT / "alembic"))
    config.attributes["sqlalchemy.url"] = url
    config.attributes["configure_logging"] = False
    return config


BACKENDS = ("sqlite", "postgresql")
POSTGRES_TEMPLATE = "accounts_template"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--db",
        default=os.environ.get("TEST_DB", "all"),
        help="database backends to run the tests on: sqlite, postgresql or all (the default);"
        " a comma-separated list works too. Default from $TEST_DB.",
    )


def selected_backends(config: pytest.Config) -> list[str]:
    value = config.getoption("db").strip().lower()
    names = list(BACKENDS) if value in ("all", "both", "") else value.split(",")
    unknown = [name for name in names if name.strip() not in BACKENDS]
    if unknown:
        raise pytest.UsageError(
            f"--db: unknown backend {', '.join(unknown)}; choose from {', '.join(BACKENDS)} or all"
        )
    return [name for name in BACKENDS if name in {name.strip() for name in names}]


def pytest_configure(config: pytest.Config) -> None:
    selected_backends(config)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if os.environ.get("MUTANT_UNDER_TEST"):
        # Under `make mutate` each run stops at its first failure, and a mutant is run
        # with its tests in no particular order: the quickest tests go first, as timed by
        # mutmut's first clean run (mutmut-stats.json in the folder the tests run in),
        # and the unit tests before the functional ones where no time is known.
        durations = _mutmut_test_durations()
        items.sort(
            key=lambda item: (durations.get(item.nodeid, 0.0), "/functional/" in item.nodeid)
        )


def _mutmut_test_durations() -> dict[str, float]:
    try:
        stats = json.loads(Path("mutmut-stats.json").read_text())
        return {str(k): float(v) for k, v in stats["duration_by_test"].items()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return {}


def pytest_report_header(config: pytest.Config) -> str:
    backends = selected_backends(config)
    line = f"databases: {', '.join(backends)}"
    if "postgresql" in backends:
        bin_dir = find_bin_dir()
        line += f" (PostgreSQL from {bin_dir})" if bin_dir else " (PostgreSQL not found)"
    return line


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "db_backend" in metafunc.fixturenames:
        backends = selected_backends(metafunc.config)
        only = metafunc.definition.get_closest_marker("backends")
        if only is not None:
            backends = [backend for backend in backends if backend in only.args]
        metafunc.parametrize("db_backend", backends, indirect=True)


@pytest.fixture
def db_backend(request: pytest.FixtureRequest) -> str:
    """The database this test runs on: "sqlite" or "postgresql"."""
    return getattr(request, "param", selected_backends(request.config)[0])


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.sqlite"
    command.upgrade(alembic_config(f"sqlite:///{path}"), "head")
    return path


@pytest.fixture(scope="session")
def postgresql_server(request: pytest.FixtureRequest) -> Iterator[PostgresServer]:
    if "postgresql" not in selected_backends(request.config):
        # Tests that ask for the server itself (not for db_url) follow --db too.
        pytest.skip(f"PostgreSQL is not among --db={request.config.getoption('db')}")
    bin_dir = find_bin_dir()
    if bin_dir is None:
        where = (
            f"PG_BIN={os.environ['PG_BIN']}"
            if os.environ.get("PG_BIN")
            else "/usr/lib/postgresql/*/bin, pg_config --bindir"
        )
        reason = (
            f"PostgreSQL server binaries not found ({where}): install postgresql-15,"
            " set PG_BIN, or run only SQLite with --db=sqlite"
        )
        if os.environ.get("CI") == "true":
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    PostgresServer.reap_orphans(bin_dir)
    server = PostgresServer(bin_dir)
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def postgresql_template(postgresql_server: PostgresServer) -> str:
    postgresql_server.janitor(POSTGRES_TEMPLATE, as_template=True).init()
    command.upgrade(alembic_config(postgresql_server.url(POSTGRES_TEMPLATE)), "head")
    return POSTGRES_TEMPLATE


@pytest.fixture
def db_url(db_backend: str, request: pytest.FixtureRequest) -> Iterator[str]:
    """A database of this test's own, migrated to head."""
    if db_backend == "sqlite":
        path = request.getfixturevalue("tmp_path") / "test.sqlite"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    yield from _postgresql_database(
        request, template=request.getfixturevalue("postgresql_template")
    )


@pytest.fixture
def empty_db_url(db_backend: str, request: pytest.FixtureRequest) -> Iterator[str]:
    """A database of this test's own with nothing in it, not even the migrations."""
    if db_backend == "sqlite":
        yield f"sqlite:///{request.getfixturevalue('tmp_path') / 'empty.sqlite'}"
        return
    yield from _postgresql_database(request, template=None)


def _postgresql_database(request: pytest.FixtureRequest, template: str | None) -> Iterator[str]:
    server: PostgresServer = request.getfixturevalue("postgresql_server")
    with server.database(template) as dbname:
        yield server.url(dbname)
        # Fixtures that make engines (make_app, dbsession) depend on this one, so they
        # are torn down first and have disposed of them by now: anything still
        # connected is a leak. The drop cuts it off either way.
        leaks = server.open_connections(dbname)
    if leaks:
        pytest.fail(f"connections to the test database were left open: {'; '.join(leaks)}")


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
        "mail.tls": "none",
        "mail.delivery": "manual",
        "mail.retry_seconds": "1",
        "mail.default_sender": "Accounts <no-reply@example.test>",
    }


@pytest.fixture
def make_app(clock: FakeClock, db_url: str, hasher: PasswordHasher) -> Iterator[Any]:
    # db_url is requested so that the database is made before, and dropped after, the
    # apps that use it: their engines are disposed of first.
    made: list[Any] = []

    def factory(
        settings: dict[str, Any],
        use_fake_clock: bool = True,
        password_hasher: PasswordHasher | None = None,
    ) -> Any:
        wsgi_app = make_wsgi_app(
            settings,
            clock=clock if use_fake_clock else None,
            hasher=password_hasher or hasher,
        )
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


@pytest.fixture
def owasp_app(make_app: Any, app_settings: dict[str, Any], owasp_hasher: PasswordHasher) -> Any:
    """The app with OWASP's argon2id parameters, for tests of hashing and of timing."""
    return make_app(app_settings, password_hasher=owasp_hasher)


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
    return PasswordHasher(context=make_crypt_context(**CHEAP_ARGON2))


@pytest.fixture(scope="session")
def owasp_hasher() -> PasswordHasher:
    return PasswordHasher()


def unit_settings(**overrides: Any) -> AppSettings:
    """The typed settings of the unit tests: every rate limit lifted (the limits have
    tests of their own)."""
    limits = {key.removeprefix("ratelimit."): value for key, value in UNLIMITED_RATES.items()}
    values: dict[str, Any] = {"secret": SECRET, "base_url": BASE_URL, "rate_limits": limits}
    return AppSettings(**{**values, **overrides})


def make_services(
    dbsession: Session, clock: FakeClock, hasher: PasswordHasher, ip: str | None = None
) -> Services:
    """The services of one unit of work, built by the app's own factory, as if for a
    request from `ip`."""
    factory = ServiceFactory(unit_settings(), clock=clock, hasher=hasher)
    return factory.services(dbsession, RequestOrigin(ip=ip))


@pytest.fixture
def services(dbsession: Session, clock: FakeClock, hasher: PasswordHasher) -> Services:
    return make_services(dbsession, clock, hasher)


@pytest.fixture
def account_service(services: Services) -> AccountService:
    return services.accounts


@pytest.fixture
def authentication(services: Services) -> AuthenticationService:
    return services.authentication


@pytest.fixture
def signin(services: Services) -> SignInFlow:
    return services.signin
