"""A throwaway PostgreSQL server for the test session, and a database per test.

The server lives in a fresh temporary directory, listens only on 127.0.0.1 with trust
authentication, and gives up durability for speed: nothing in it outlives the session.
"""

from __future__ import annotations

import contextlib
import glob
import itertools
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
from pytest_postgresql.janitor import DatabaseJanitor

from tests.support import free_port

USER = "postgres"
HOST = "127.0.0.1"
# PostgreSQL refuses to run as root; as root the server runs as this system user.
SYSTEM_USER = "postgres"

PREFIX = "accounts-postgres-"
OWNER_FILE = "owner.pid"
SHARED_MEMORY = "/dev/shm"  # memory-backed; a private directory is made inside it

SERVER_SETTINGS = {
    "listen_addresses": f"'{HOST}'",
    "max_connections": "200",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    # Not UTC on purpose, and far from it (+13:45/+12:45): production servers often are
    # not on UTC either, and every time must still be written and read back as UTC.
    "timezone": "'Pacific/Chatham'",
    "log_min_messages": "warning",
}


def find_bin_dir() -> Path | None:
    """Where initdb, pg_ctl and postgres are: $PG_BIN, else the newest
    /usr/lib/postgresql/*/bin (Debian's layout), else what pg_config says."""
    candidates: list[Path] = []
    if os.environ.get("PG_BIN"):
        candidates.append(Path(os.environ["PG_BIN"]))
    else:
        versioned = glob.glob("/usr/lib/postgresql/*/bin")
        candidates += sorted(map(Path, versioned), key=_major_version, reverse=True)
        pg_config = shutil.which("pg_config")
        if pg_config:
            result = subprocess.run(
                [pg_config, "--bindir"], capture_output=True, text=True, check=False
            )
            if result.returncode == 0 and result.stdout.strip():
                candidates.append(Path(result.stdout.strip()))
    for directory in candidates:
        if all(os.access(directory / name, os.X_OK) for name in ("initdb", "pg_ctl", "postgres")):
            return directory
    return None


def _major_version(bin_dir: Path) -> int:
    name = bin_dir.parent.name
    return int(name) if name.isdigit() else -1


def _fast_temp_dir() -> str | None:
    """/dev/shm when it has room: on a disk, copying the template for each test takes
    ten times longer (about 0.4 s instead of 0.04 s), even with fsync off."""
    try:
        usage = shutil.disk_usage(SHARED_MEMORY)
    except OSError:
        return None
    if usage.free >= 512 * 1024 * 1024 and os.access(SHARED_MEMORY, os.W_OK | os.X_OK):
        return SHARED_MEMORY
    return None


def _is_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # no signal is sent: this only asks whether pid exists
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # it exists, as another user's process
    return True


class PostgresServer:
    """initdb + pg_ctl in a temporary directory, removed again by stop()."""

    def __init__(self, bin_dir: Path, base_dir: Path | None = None) -> None:
        self.bin_dir = bin_dir
        self.base_dir = base_dir or Path(tempfile.mkdtemp(prefix=PREFIX, dir=_fast_temp_dir()))
        self.data_dir = self.base_dir / "data"
        self.log_file = self.base_dir / "server.log"
        self.port = 0
        self._as_root = os.geteuid() == 0
        self._databases = itertools.count(1)
        self._running = False

    @classmethod
    def reap_orphans(cls, bin_dir: Path) -> None:
        """Stop and remove the servers of test sessions that were killed (SIGKILL, a
        closed terminal) before they could stop their own. Others' live sessions are
        left alone: each directory names the process that made it."""
        parent = Path(_fast_temp_dir() or tempfile.gettempdir())
        for base_dir in parent.glob(PREFIX + "*"):
            try:
                owner = int((base_dir / OWNER_FILE).read_text())
            except (OSError, ValueError):
                continue
            if _is_alive(owner):
                continue
            orphan = cls(bin_dir, base_dir)
            orphan._running = (orphan.data_dir / "postmaster.pid").exists()
            with contextlib.suppress(RuntimeError):  # already gone: stop() removes the dir
                orphan.stop()

    def start(self) -> None:
        (self.base_dir / OWNER_FILE).write_text(str(os.getpid()))
        if self._as_root:
            try:
                account = pwd.getpwnam(SYSTEM_USER)
            except KeyError:
                raise RuntimeError(
                    f"tests run as root, and PostgreSQL refuses to run as root, but there is "
                    f"no {SYSTEM_USER!r} system user to run it as"
                ) from None
            os.chown(self.base_dir, account.pw_uid, account.pw_gid)
        self._run(
            "initdb",
            "--pgdata",
            str(self.data_dir),
            "--username",
            USER,
            "--auth",
            "trust",
            "--encoding",
            "UTF8",
            "--locale",
            "C",
            "--no-sync",
            "--no-instructions",
        )
        settings = {**SERVER_SETTINGS, "unix_socket_directories": f"'{self.base_dir}'"}
        with open(self.data_dir / "postgresql.conf", "a") as conf:
            conf.write("\n# Added by the test suite: a throwaway server.\n")
            conf.writelines(f"{name} = {value}\n" for name, value in settings.items())

        # The free port can be taken by someone else before the server binds it.
        for attempt in range(3):
            self.port = free_port()
            try:
                self._pg_ctl_start()
            except RuntimeError:
                if attempt == 2:
                    raise
            else:
                break
        self._running = True

    def stop(self) -> None:
        try:
            if self._running:
                self._run("pg_ctl", "stop", "--pgdata", str(self.data_dir), "--mode", "immediate")
                self._running = False
        finally:
            shutil.rmtree(self.base_dir, ignore_errors=True)

    def pause(self) -> None:
        """Stop the server but keep its data, as an outage would."""
        self._run("pg_ctl", "stop", "--pgdata", str(self.data_dir), "--mode", "fast", "--wait")
        self._running = False

    def resume(self) -> None:
        """Start the paused server again, on the same port."""
        self._pg_ctl_start()
        self._running = True

    def _pg_ctl_start(self) -> None:
        self._run(
            "pg_ctl",
            "start",
            "--pgdata",
            str(self.data_dir),
            "--log",
            str(self.log_file),
            "--wait",
            "--timeout",
            "60",
            "--options",
            f"-p {self.port}",
        )

    def url(self, dbname: str) -> str:
        return f"postgresql+psycopg://{USER}@{HOST}:{self.port}/{dbname}"

    def janitor(self, dbname: str, **kwargs: object) -> DatabaseJanitor:
        return DatabaseJanitor(user=USER, host=HOST, port=self.port, dbname=dbname, **kwargs)

    def new_database_name(self, prefix: str = "test") -> str:
        return f"{prefix}_{os.getpid()}_{next(self._databases)}"

    @contextmanager
    def database(self, template: str | None = None) -> Iterator[str]:
        """A new database, a copy of template if one is given, dropped afterwards."""
        dbname = self.new_database_name()
        self.janitor(dbname, template_dbname=template).init()
        try:
            yield dbname
        finally:
            self.drop(dbname)

    def open_connections(self, dbname: str, settle_seconds: float = 2.0) -> list[str]:
        """Who is still connected to dbname: each connection's state and last query.

        Client connections only: an autovacuum worker visiting the database shows in
        pg_stat_activity too (with no state and no query), and is no leak. A backend
        whose client has just closed the socket goes on showing for a moment while it
        exits, so a connection counts as left open only if it is still there after
        settle_seconds."""
        deadline = time.monotonic() + settle_seconds
        with self._admin() as connection:
            while True:
                rows = connection.execute(
                    "SELECT state, left(query, 60) FROM pg_stat_activity"
                    " WHERE datname = %s AND pid <> pg_backend_pid()"
                    " AND backend_type = 'client backend'",
                    (dbname,),
                ).fetchall()
                if not rows or time.monotonic() >= deadline:
                    break
                time.sleep(0.05)
        return [f"{state}, last query {query!r}" for state, query in rows]

    def drop(self, dbname: str, *, is_template: bool = False) -> None:
        """Drop dbname. The janitor closes the door to new connections and terminates the
        open ones first; a backend that is slow to exit makes DROP fail, so try again."""
        janitor = self.janitor(dbname, as_template=is_template)
        for attempt in itertools.count():
            try:
                janitor.drop()
                return
            except psycopg.errors.ObjectInUse:
                if attempt >= 10:
                    raise
                time.sleep(0.2)

    @contextmanager
    def _admin(self) -> Iterator[psycopg.Connection]:
        with psycopg.connect(
            host=HOST, port=self.port, user=USER, dbname="postgres", autocommit=True
        ) as connection:
            yield connection

    def _run(self, program: str, *arguments: str) -> None:
        command = [str(self.bin_dir / program), *arguments]
        if self._as_root:
            command = ["runuser", "-u", SYSTEM_USER, "--", *command]
        # The server's user may not be allowed into the current directory.
        result = subprocess.run(
            command, cwd=self.base_dir, capture_output=True, text=True, check=False, timeout=120
        )
        if result.returncode != 0:
            raise RuntimeError(
                f"{' '.join(command)} failed with exit code {result.returncode}:\n"
                f"{result.stdout}{result.stderr}{self._log_tail()}"
            )

    def _log_tail(self) -> str:
        if not self.log_file.exists():
            return ""
        return self.log_file.read_text(errors="replace")[-4000:]
