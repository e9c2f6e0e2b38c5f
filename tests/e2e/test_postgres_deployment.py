"""The production-shaped deployment, for real: a PostgreSQL server on loopback holds the Dagster instance
(deploy/postgres/dagster.yaml), the code locations run as gRPC code servers, and the daemon runs the
governance sensors and the queued run; runs, events and sensor ticks must land in PostgreSQL.

The test setup installs Debian's `postgresql` when it is missing (as root); if it cannot, the test fails.
"""

from __future__ import annotations

import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg2
import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
LOCATIONS = {
    "sales": "sales.definitions",
    "logistics": "logistics.definitions",
    "governance": "governance.definitions",
}
DEADLINE_SECONDS = 240


def _pg_bin() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    if not found and os.geteuid() == 0 and shutil.which("apt-get"):
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        subprocess.run(["apt-get", "update", "-qq"], env=env, capture_output=True)
        subprocess.run(
            ["apt-get", "install", "-y", "-qq", "postgresql"], env=env, capture_output=True
        )
        found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    if not found:
        pytest.fail(
            "PostgreSQL is not installed and could not be installed: apt-get install postgresql (as root)"
        )
    return Path(found[-1]).parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _as_postgres(*command: object) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *map(str, command)]


@pytest.fixture(scope="module")
def postgres():
    """A throwaway PostgreSQL cluster on 127.0.0.1, with a `dagster` database."""
    pg = _pg_bin()
    folder = Path(tempfile.mkdtemp(prefix="dagmesh-pg-"))
    folder.chmod(0o755)
    data = folder / "data"
    data.mkdir()
    shutil.chown(data, "postgres", "postgres")
    port = _free_port()
    subprocess.run(
        _as_postgres(pg / "initdb", "-D", data, "-A", "trust", "-U", "postgres"),
        check=True,
        capture_output=True,
    )
    options = f"-p {port} -k {data} -c listen_addresses=127.0.0.1"  # socket beside the data, owned by postgres
    subprocess.run(
        _as_postgres(
            pg / "pg_ctl", "-D", data, "-o", options, "-l", data / "server.log", "-w", "start"
        ),
        check=True,
        capture_output=True,
    )
    try:
        con = psycopg2.connect(host="127.0.0.1", port=port, user="postgres", dbname="postgres")
        con.autocommit = True  # CREATE DATABASE runs outside a transaction
        con.cursor().execute("CREATE DATABASE dagster")
        con.close()
        yield {"host": "127.0.0.1", "port": port, "user": "postgres", "db": "dagster"}
    finally:
        subprocess.run(
            _as_postgres(pg / "pg_ctl", "-D", data, "-m", "immediate", "stop"), capture_output=True
        )
        shutil.rmtree(folder, ignore_errors=True)


def _query(pg: dict, sql: str, params: tuple = ()) -> list[tuple]:
    with psycopg2.connect(
        host=pg["host"], port=pg["port"], user=pg["user"], dbname=pg["db"]
    ) as con:
        cursor = con.cursor()
        cursor.execute(sql, params)
        return cursor.fetchall()


def _start(command: list, env: dict, log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [str(c) for c in command],
        env=env,
        cwd=ROOT,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


def _wait_for(condition, what: str, processes: list, logs: Path, deadline: float):
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        for process in processes:
            if process.poll() is not None:
                pytest.fail(
                    f"a deployment process exited early while waiting for {what}; logs in {logs}"
                )
        time.sleep(2)
    pytest.fail(f"timed out waiting for {what}; logs in {logs}")


def test_daemon_and_code_servers_run_the_mesh_on_postgres(postgres, tmp_path):
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(ROOT / "deploy/postgres/dagster.yaml", home / "dagster.yaml")
    env = {k: v for k, v in os.environ.items() if not k.startswith("DAGSTER_")}
    env.update(
        DAGSTER_HOME=str(home),
        DAGMESH_HOME=str(tmp_path / "mesh"),
        DAGSTER_PG_HOST=postgres["host"],
        DAGSTER_PG_PORT=str(postgres["port"]),
        DAGSTER_PG_USER=postgres["user"],
        DAGSTER_PG_PASSWORD="",
        DAGSTER_PG_DB=postgres["db"],
    )
    ports = {name: _free_port() for name in LOCATIONS}
    workspace = tmp_path / "workspace.yaml"
    workspace.write_text(
        "load_from:\n"
        + "".join(
            f"  - grpc_server: {{host: 127.0.0.1, port: {ports[n]}, location_name: {n}}}\n"
            for n in LOCATIONS
        )
    )
    processes = []
    deadline = time.monotonic() + DEADLINE_SECONDS
    try:
        for name, module in LOCATIONS.items():
            processes.append(
                _start(
                    [
                        BIN / "dagster",
                        "api",
                        "grpc",
                        "-m",
                        module,
                        "-h",
                        "127.0.0.1",
                        "-p",
                        ports[name],
                    ],
                    env,
                    tmp_path / f"grpc-{name}.log",
                )
            )
        for name, port in ports.items():
            _wait_for(
                lambda port=port: _port_open(port),
                f"code server {name}",
                processes,
                tmp_path,
                deadline,
            )
        processes.append(
            _start([BIN / "dagster-daemon", "run", "-w", workspace], env, tmp_path / "daemon.log")
        )
        # A run submitted to the queue: the daemon's run coordinator launches it through the code server.
        launched = subprocess.run(
            [
                BIN / "dagster",
                "job",
                "launch",
                "-w",
                workspace,
                "-l",
                "sales",
                "-j",
                "sales__daily_products",
            ],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert launched.returncode == 0, launched.stdout + launched.stderr

        statuses = _wait_for(
            lambda: [
                row[0]
                for row in _query(
                    postgres,
                    "SELECT status FROM runs WHERE pipeline_name = %s",
                    ("sales__daily_products",),
                )
                if row[0] in ("SUCCESS", "FAILURE", "CANCELED")
            ],
            "the queued run to finish",
            processes,
            tmp_path,
            deadline,
        )
        assert statuses == ["SUCCESS"], (tmp_path / "daemon.log").read_text()[-3000:]
        materialized = _query(
            postgres,
            "SELECT DISTINCT asset_key FROM event_logs WHERE dagster_event_type = 'ASSET_MATERIALIZATION'",
        )
        keys = {row[0] for row in materialized}
        assert any("nations" in key for key in keys) and any("orders" in key for key in keys), keys
        checks = _query(
            postgres,
            "SELECT COUNT(*) FROM event_logs WHERE dagster_event_type = 'ASSET_CHECK_EVALUATION'",
        )
        assert checks[0][0] >= 6  # one contract check per sales product of the job

        ticks = _wait_for(
            lambda: _query(
                postgres,
                "SELECT COUNT(*) FROM job_ticks WHERE tick_body LIKE %s",
                ("%governance_slo%",),
            )[0][0],
            "a governance sensor tick",
            processes,
            tmp_path,
            deadline,
        )
        assert ticks >= 1
    finally:
        for process in reversed(processes):
            _stop(process)


def _port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0
