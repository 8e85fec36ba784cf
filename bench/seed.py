"""Bulk seeding of a migrated database: accounts that share one password hash, and
one-time reset codes of which only the SHA-256 is stored, as the app stores them; then a
few thousand accounts with an authenticator app, for the second-factor scenarios; and for
the identity provider's token endpoint, a registered client and refresh tokens.

Each account has its own random public_id (the subject other applications know it by),
as the app gives it. SQLite gets executemany batches of 50,000 rows inside one
transaction; PostgreSQL gets COPY through psycopg. Either way a million codes take
seconds, not minutes. The accounts with an authenticator app go in through SQLAlchemy
Core on either database: their secret is encrypted with a key derived from the server's
app.secret, as the app stores it. The client, its login sessions and refresh tokens are
made through the app's own services."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import psycopg
import pyotp
from psycopg import sql
from sqlalchemy import create_engine, insert, make_url
from sqlalchemy.dialects import sqlite

from app.models import Account
from app.models.accounts import new_public_id
from app.models.meta import UTCDateTime
from app.services.kernel.codes import digest, new_code
from app.services.kernel.secret_keys import TOTP_SECRETS, fernet_for
from bench.common import BenchError

BATCH_ROWS = 50_000
EMAIL_DOMAIN = "bench.example.com"
# Long enough to outlive any run; a code's lookup costs the same whatever its expiry.
CODE_LIFETIME = timedelta(hours=24)
CREATED_IP = "127.0.0.1"
KNOWN_LOCAL_PART = "user"
TOTP_LOCAL_PART = "totp"
# The client the refresh-token scenario speaks as, and what its tokens grant.
OIDC_CLIENT_NAME = "Benchmark shop"
OIDC_REDIRECT_URI = "https://shop.bench.example.com/callback"
OIDC_SCOPE = "openid offline_access"
OIDC_USER_AGENT = "bench"


def known_email(number: int) -> str:
    """The address of seeded account `number` (1-based)."""
    return f"{KNOWN_LOCAL_PART}{number}@{EMAIL_DOMAIN}"


def unknown_email(number: int) -> str:
    """An address that has no account."""
    return f"nobody{number}@{EMAIL_DOMAIN}"


def totp_email(number: int) -> str:
    """The address of seeded account `number` (1-based) with an authenticator app."""
    return f"{TOTP_LOCAL_PART}{number}@{EMAIL_DOMAIN}"


@dataclass
class Seeded:
    accounts: int
    codes: int
    seconds: float
    # Plain codes kept for the scenarios, spread evenly over the whole table.
    sample_codes: list[str] = field(default_factory=list)
    # The base32 secret of the authenticator app of totp_email(n), at index n - 1.
    totp_secrets: list[str] = field(default_factory=list)
    totp_seconds: float = 0.0


def _code_batches(
    total: int, accounts: int, sample_size: int
) -> Iterator[tuple[list[tuple[int, str]], list[str]]]:
    """Batches of (account_id, code_hash), with the plain codes sampled from each."""
    every = max(1, total // max(1, sample_size))
    made = 0
    while made < total:
        size = min(BATCH_ROWS, total - made)
        rows: list[tuple[int, str]] = []
        sample: list[str] = []
        for number in range(made, made + size):
            code = new_code()
            rows.append((number % accounts + 1, digest(code)))
            if number % every == 0:
                sample.append(code)
        made += size
        yield rows, sample


def _sqlite_datetime(value: datetime) -> str:
    """The text the app's UTCDateTime column stores on SQLite for this value. Expiry is
    compared as text in SQL there, so the format has to be exactly SQLAlchemy's."""
    dialect = sqlite.dialect()
    naive = UTCDateTime().process_bind_param(value, dialect)
    processor = sqlite.DATETIME().bind_processor(dialect)
    assert processor is not None
    return processor(naive)


def seed_sqlite(
    url: str, accounts: int, codes: int, password_hash: str, sample_size: int
) -> Seeded:
    started = time.perf_counter()
    now = datetime.now(UTC)
    created = _sqlite_datetime(now)
    expires = _sqlite_datetime(now + CODE_LIFETIME)
    sample: list[str] = []
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.exec_driver_sql("PRAGMA journal_mode=WAL")
        # A throwaway database: durability does not matter while loading it.
        connection.exec_driver_sql("PRAGMA synchronous=OFF")
        connection.exec_driver_sql("PRAGMA cache_size=-262144")
        for first in range(1, accounts + 1, BATCH_ROWS):
            last = min(accounts, first + BATCH_ROWS - 1)
            connection.exec_driver_sql(
                "INSERT INTO accounts (id, email, public_id, password_hash, is_admin,"
                " is_disabled, created_at, password_changed_at, login_count, email_verified_at)"
                " VALUES (?, ?, ?, ?, 0, 0, ?, ?, 0, ?)",
                [
                    (n, known_email(n), new_public_id(), password_hash, created, created, created)
                    for n in range(first, last + 1)
                ],
            )
        for rows, batch_sample in _code_batches(codes, accounts, sample_size):
            connection.exec_driver_sql(
                "INSERT INTO one_time_codes (account_id, purpose, code_hash, created_at,"
                " expires_at, created_ip) VALUES (?, 'reset', ?, ?, ?, ?)",
                [
                    (account_id, code_hash, created, expires, CREATED_IP)
                    for account_id, code_hash in rows
                ],
            )
            sample += batch_sample
        connection.exec_driver_sql("ANALYZE")
    with engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return Seeded(accounts, codes, time.perf_counter() - started, sample)


def libpq_url(sqlalchemy_url: str) -> str:
    """postgresql+psycopg://... as a conninfo URL that psycopg accepts."""
    return make_url(sqlalchemy_url).set(drivername="postgresql").render_as_string(False)


def seed_postgresql(
    url: str, accounts: int, codes: int, password_hash: str, sample_size: int
) -> Seeded:
    started = time.perf_counter()
    now = datetime.now(UTC)
    created = now.isoformat()
    expires = (now + CODE_LIFETIME).isoformat()
    sample: list[str] = []
    with psycopg.connect(libpq_url(url)) as connection, connection.cursor() as cursor:
        with cursor.copy(
            "COPY accounts (id, email, public_id, password_hash, is_admin, is_disabled,"
            " created_at, password_changed_at, login_count, email_verified_at) FROM STDIN"
        ) as copy:
            for first in range(1, accounts + 1, BATCH_ROWS):
                last = min(accounts, first + BATCH_ROWS - 1)
                copy.write(
                    "".join(
                        f"{n}\t{known_email(n)}\t{new_public_id()}\t{password_hash}\tf\tf"
                        f"\t{created}\t{created}\t0\t{created}\n"
                        for n in range(first, last + 1)
                    )
                )
        cursor.execute("SELECT setval(pg_get_serial_sequence('accounts', 'id'), %s)", (accounts,))
        # Maintaining a unique index on random digests row by row is most of the cost of
        # the load, so the indexes go while it runs and are rebuilt from the catalog's
        # own definitions afterwards, as pg_restore does.
        with (
            _without_secondary_indexes(cursor, "one_time_codes"),
            cursor.copy(
                "COPY one_time_codes (account_id, purpose, code_hash, created_at, expires_at,"
                " created_ip) FROM STDIN"
            ) as copy,
        ):
            for rows, batch_sample in _code_batches(codes, accounts, sample_size):
                copy.write(
                    "".join(
                        f"{account_id}\treset\t{code_hash}\t{created}\t{expires}\t{CREATED_IP}\n"
                        for account_id, code_hash in rows
                    )
                )
                sample += batch_sample
        connection.commit()
        connection.autocommit = True
        # What autovacuum would do soon after a bulk load anyway.
        cursor.execute("VACUUM ANALYZE accounts")
        cursor.execute("VACUUM ANALYZE one_time_codes")
    return Seeded(accounts, codes, time.perf_counter() - started, sample)


@contextmanager
def _without_secondary_indexes(cursor: psycopg.Cursor, table: str) -> Iterator[None]:
    """Drop the table's unique and foreign-key constraints and its plain indexes, and
    put the same ones back afterwards, in the same transaction."""
    constraints = cursor.execute(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint"
        " WHERE conrelid = %s::regclass AND contype IN ('u', 'f')"
        " ORDER BY contype DESC",  # unique ('u') before foreign keys ('f') when rebuilt
        (table,),
    ).fetchall()
    indexes = cursor.execute(
        "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s AND indexname"
        " NOT IN (SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass)",
        (table, table),
    ).fetchall()
    for name, _definition in constraints:
        cursor.execute(
            sql.SQL("ALTER TABLE {} DROP CONSTRAINT {}").format(
                sql.Identifier(table), sql.Identifier(name)
            )
        )
    for name, _definition in indexes:
        cursor.execute(sql.SQL("DROP INDEX {}").format(sql.Identifier(name)))
    yield
    for name, definition in constraints:
        cursor.execute(
            sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} {}").format(
                sql.Identifier(table), sql.Identifier(name), sql.SQL(definition)
            )
        )
    for _name, definition in indexes:
        cursor.execute(sql.SQL(definition))


def seed_totp_accounts(
    url: str, seeded: Seeded, count: int, password_hash: str, app_secret: str
) -> None:
    """`count` more accounts, totp_email(1..count), with the shared password and an
    authenticator app whose step 0 was the last one used, encrypted as the app with this
    app.secret does. Inserted without ids, so that PostgreSQL's sequence moves past them.
    Their plain secrets go to seeded.totp_secrets."""
    started = time.perf_counter()
    cipher = fernet_for(app_secret, TOTP_SECRETS)
    now = datetime.now(UTC)
    secrets = [pyotp.random_base32() for _ in range(count)]
    rows = [
        {
            "email": totp_email(n),
            "password_hash": password_hash,
            "is_admin": False,
            "is_disabled": False,
            "created_at": now,
            "password_changed_at": now,
            "login_count": 0,
            "email_verified_at": now,
            "totp_secret": cipher.encrypt(secret.encode("ascii")),
            "totp_last_step": 0,
            "totp_enabled_at": now,
        }
        for n, secret in enumerate(secrets, start=1)
    ]
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            for first in range(0, len(rows), BATCH_ROWS):
                connection.execute(insert(Account), rows[first : first + BATCH_ROWS])
    finally:
        engine.dispose()
    seeded.totp_secrets = secrets
    seeded.totp_seconds = time.perf_counter() - started


@dataclass
class RefreshTokens:
    """A confidential client's credentials and refresh tokens issued to it."""

    client_id: str
    secret: str
    tokens: list[str]


def seed_refresh_tokens(settings: dict[str, str], emails: list[str], count: int) -> RefreshTokens:
    """Through the app's services, with the server's settings, in one transaction: a
    first-party confidential client, a login session on each account of `emails`, and
    `count` refresh tokens for OIDC_SCOPE, token i on session i % len(emails), each the
    start of its own family."""
    from app import main as make_accounts_app

    wsgi_app = make_accounts_app({}, **settings)
    try:
        with wsgi_app.registry["dbsession_factory"]() as session, session.begin():
            services = wsgi_app.registry["services"].services(session)
            made = services.oidc_clients.register(
                OIDC_CLIENT_NAME, [OIDC_REDIRECT_URI], first_party=True
            )
            subjects = []
            for email in emails:
                account = services.accounts.find_account_by_email(email)
                if account is None:
                    raise BenchError(f"no seeded account {email}")
                _cookie, login_session = services.login_sessions.start(
                    account, CREATED_IP, OIDC_USER_AGENT
                )
                subject = services.oidc_grants.live_subject(login_session)
                if subject is None:
                    raise BenchError(f"the login session just started for {email} is not live")
                subjects.append(subject)
            tokens = [
                services.oidc_grants.issue_refresh_token(
                    made.client, subjects[i % len(subjects)], OIDC_SCOPE
                )
                for i in range(count)
            ]
            if made.secret is None:
                raise BenchError("the client was registered without a secret")
            return RefreshTokens(made.client.client_id, made.secret, tokens)
    finally:
        wsgi_app.registry["db_engine"].dispose()
