"""The production set-up on one machine: PostgreSQL instance storage (deploy/dagster.yaml), Redis as Celery
broker and result backend (deploy/celery.yaml), two dagster-celery workers. A 7-partition backfill through
the Celery executor gives exactly the tables of one in-process run.

Servers listen on loopback only, on free ports; every wait is bounded and every process is stopped in the
fixtures' teardown. Skipped with a reason when redis-server or PostgreSQL 15 is missing or will not start.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest
from polars.testing import assert_frame_equal

from pipelines.backfill import RANGE_END_TAG, RANGE_START_TAG, launch_partition_runs
from pipelines.celery_executor import BACKEND_ENV, BROKER_ENV
from pipelines.core.resources import Workspace
from pipelines.core.snapshot import warehouse_snapshot
from pipelines.definitions import all_assets
from pipelines.jobs import BACKFILL_SELECTION
from pipelines.scenario import generate

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
REDIS_SERVER = Path(shutil.which("redis-server") or "/usr/bin/redis-server")


def _postgres_bin() -> Path:
    """Debian puts PostgreSQL's server binaries under /usr/lib/postgresql/<major>/bin: the newest one found."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parts[-3]))
    on_path = shutil.which("initdb")
    return found[-1].parent if found else Path(on_path).parent if on_path else Path("/usr/lib/postgresql/bin")


PG_BIN = _postgres_bin()


def unavailable(reason: str) -> None:
    """A service this test needs cannot run: a skip on a developer's machine, a failure in CI (CI=true),
    where .ci/run installs every service and a skip would hide a broken set-up."""
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"CI: {reason}")
    pytest.skip(reason)
VENV_BIN = Path(sys.executable).parent
FIRST, LAST = dt.date(2026, 2, 27), dt.date(2026, 3, 5)
DAYS = [(FIRST + dt.timedelta(days=i)).isoformat() for i in range((LAST - FIRST).days + 1)]
SCALE = 0.2
SOURCES = ("app_rankings", "crowd_reports", "request_logs")
LOCK_ERRORS = ("Could not set lock", "Conflicting lock")
SERVER_START_S = 30.0
WORKER_READY_S = 120.0
RUN_TIMEOUT_S = 240.0
STOP_S = 15.0
WORKERS = ("w1", "w2")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def tail(path: Path, chars: int = 3000) -> str:
    return path.read_text(errors="replace")[-chars:] if path.exists() else f"({path} not written)"


def stop(process: subprocess.Popen, group: bool = False) -> None:
    """SIGTERM (the whole session when `group`, for the worker's celery child), then SIGKILL after STOP_S."""
    if process.poll() is not None:
        return
    send = (lambda sig: os.killpg(process.pid, sig)) if group else process.send_signal
    try:
        send(signal.SIGTERM)
        process.wait(timeout=STOP_S)
    except subprocess.TimeoutExpired:
        send(signal.SIGKILL)
        process.wait(timeout=STOP_S)
    except ProcessLookupError:
        pass
    if group:  # the celery child may outlive the dagster-celery parent
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def redis_ping(port: int) -> bool:
    """PING over the Redis protocol (no client library needed just to wait for the server)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if not REDIS_SERVER.exists():
        unavailable(f"{REDIS_SERVER} is not installed (apt-get install redis-server)")
    if importlib.util.find_spec("redis") is None:
        unavailable("Celery's Redis transport needs the `redis` Python package (redis-py), "
                    "which is not installed in this environment")
    work = tmp_path_factory.mktemp("redis")
    port = free_port()
    log = work / "redis.log"
    with log.open("wb") as out:
        server = subprocess.Popen(
            [str(REDIS_SERVER), "--bind", "127.0.0.1", "--port", str(port), "--protected-mode", "yes",
             "--save", "", "--appendonly", "no", "--dir", str(work)], stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + SERVER_START_S
        while not redis_ping(port):
            if server.poll() is not None or time.monotonic() > deadline:
                unavailable(f"redis-server did not start on 127.0.0.1:{port}: {tail(log)}")
            time.sleep(0.2)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        stop(server)


def _as_postgres(command: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: run its tools as the `postgres` OS user then."""
    if os.geteuid() != 0:
        return command
    runuser = shutil.which("runuser")
    if runuser is None:
        unavailable("running as root without `runuser` to switch to the postgres user")
    return [runuser, "-u", "postgres", "--", *command]


@pytest.fixture(scope="module")
def postgres(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """A throw-away PostgreSQL 15 cluster on 127.0.0.1 and a free port; yields the DAGSTER_PG_* env vars."""
    if not (PG_BIN / "initdb").exists():
        unavailable(f"PostgreSQL binaries (initdb) not found under {PG_BIN} (apt-get install postgresql)")
    if os.geteuid() == 0:
        try:
            owner = pwd.getpwnam("postgres")
        except KeyError:
            unavailable("running as root and there is no `postgres` OS user to run the server as")
    # Not under pytest's tmp dir: that is private to root, and the server runs as `postgres`.
    root = Path(tempfile.mkdtemp(prefix="incidents-pg-"))
    data, sockets, log = root / "data", root / "sock", root / "server.log"
    sockets.mkdir()
    if os.geteuid() == 0:
        for path in (root, sockets):
            os.chown(path, owner.pw_uid, owner.pw_gid)
    port = free_port()
    pg_ctl = [str(PG_BIN / "pg_ctl"), "-D", str(data)]
    started = False
    try:
        init = subprocess.run(
            _as_postgres([str(PG_BIN / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust", "-E", "UTF8",
                          "--no-sync", "--no-instructions"]), capture_output=True, text=True, timeout=120, check=False)
        if init.returncode != 0:
            unavailable(f"initdb failed: {init.stderr[-2000:]}")
        options = (f"-h 127.0.0.1 -p {port} -k {sockets} -c fsync=off -c synchronous_commit=off "
                   f"-c full_page_writes=off")
        started = True  # from here on, always try to stop it in `finally` (a timed-out start may be up)
        start = subprocess.run(_as_postgres([*pg_ctl, "-l", str(log), "-o", options, "-w", "-t",
                                             str(int(SERVER_START_S)), "start"]),
                               capture_output=True, text=True, timeout=SERVER_START_S + 15, check=False)
        if start.returncode != 0:
            unavailable(f"PostgreSQL did not start on 127.0.0.1:{port}: {start.stderr[-1000:]} {tail(log)}")
        import psycopg2

        con = psycopg2.connect(host="127.0.0.1", port=port, user="postgres", dbname="postgres", connect_timeout=10)
        con.autocommit = True
        with con.cursor() as cursor:
            cursor.execute("CREATE DATABASE dagster")
        con.close()
        yield {"DAGSTER_PG_USERNAME": "postgres", "DAGSTER_PG_PASSWORD": "trust-auth-on-loopback",
               "DAGSTER_PG_HOST": "127.0.0.1", "DAGSTER_PG_PORT": str(port), "DAGSTER_PG_DB": "dagster"}
    finally:
        if started:
            subprocess.run(_as_postgres([*pg_ctl, "-m", "immediate", "-w", "-t", str(int(STOP_S)), "stop"]),
                           capture_output=True, timeout=STOP_S + 15, check=False)
        shutil.rmtree(root, ignore_errors=True)


def make_data_dir(root: Path, scenario: Path) -> Path:
    data = root / "data"
    (data / "config").mkdir(parents=True)
    for name in ("providers.yaml", "cost_model.yaml"):
        if (REPO / "data/config" / name).exists():
            shutil.copy(REPO / "data/config" / name, data / "config" / name)
    shutil.copytree(scenario / "raw", data / "raw")
    return data


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = tmp_path_factory.mktemp("scenario") / "data"
    generate(data, start=FIRST, end=LAST, scale=SCALE, sources=SOURCES, config=REPO / "data/config/providers.yaml")
    return data


@pytest.fixture
def cluster(tmp_path: Path, scenario: Path, redis_url: str, postgres: dict[str, str],
            monkeypatch: pytest.MonkeyPatch) -> Iterator[dict]:
    """DAGSTER_HOME with deploy/dagster.yaml, the env every process shares, and two running workers."""
    if not (VENV_BIN / "dagster-celery").exists():
        unavailable(f"dagster-celery is not installed in {VENV_BIN}")
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(DEPLOY / "dagster.yaml", home / "dagster.yaml")
    data = make_data_dir(tmp_path / "distributed", scenario)
    env = {**os.environ, **postgres, "DAGSTER_HOME": str(home), BROKER_ENV: redis_url, BACKEND_ENV: redis_url,
           "INCIDENTS_DATA_DIR": str(data), "INCIDENTS_REPORTS_DIR": str(tmp_path / "distributed/reports"),
           "INCIDENTS_CONFIG": str(data / "config/providers.yaml"), "GX_ANALYTICS_ENABLED": "false",
           "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
           "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    for name, value in postgres.items():
        monkeypatch.setenv(name, value)
    with dg.DagsterInstance.from_config(str(home)) as instance:
        instance.get_runs(limit=1)  # create the PostgreSQL schema once, before the workers race to create it

    workers: dict[str, tuple[subprocess.Popen, Path]] = {}
    try:
        for name in WORKERS:
            log = tmp_path / f"worker-{name}.log"
            with log.open("wb") as out:
                # -i: import the code location and GX in the worker before it forks its pool process
                workers[name] = (subprocess.Popen(
                    [str(VENV_BIN / "dagster-celery"), "worker", "start", "-A", "dagster_celery.app",
                     "-y", str(DEPLOY / "celery.yaml"), "-n", name, "-i", "pipelines.definitions",
                     "-i", "great_expectations", "--", "--concurrency=1"],
                    cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True), log)
        deadline = time.monotonic() + WORKER_READY_S
        waiting = set(WORKERS)
        while waiting:
            for name in sorted(waiting):
                process, log = workers[name]
                if " ready." in tail(log, 20000):
                    waiting.discard(name)
                elif process.poll() is not None:
                    pytest.fail(f"celery worker {name} exited with {process.returncode}: {tail(log)}")
            if waiting and time.monotonic() > deadline:
                pytest.fail(f"celery workers {sorted(waiting)} not ready after {WORKER_READY_S:.0f} s: "
                            + " | ".join(tail(workers[n][1], 1500) for n in sorted(waiting)))
            time.sleep(0.5)
        yield {"home": home, "data": data, "env": env, "logs": {n: log for n, (_, log) in workers.items()}}
    finally:
        for process, _ in workers.values():
            stop(process, group=True)


def run_in_process(data: Path) -> dg.ExecuteInProcessResult:
    workspace = Workspace(data_dir=str(data), reports_dir=str(data.parent / "reports"),
                          config_path=str(data / "config/providers.yaml"))
    return dg.materialize(all_assets, selection=BACKFILL_SELECTION, resources={"workspace": workspace},
                          tags={RANGE_START_TAG: DAYS[0], RANGE_END_TAG: DAYS[-1]})


def test_celery_backfill_matches_in_process_run(cluster, scenario, tmp_path):
    started = time.monotonic()
    reference_dir = make_data_dir(tmp_path / "in_process", scenario)
    assert run_in_process(reference_dir).success

    # No run config: celery_backfill_job reads broker and backend from the same env vars as deploy/celery.yaml.
    outcomes = launch_partition_runs("celery_backfill_job", DAYS, {}, parallel=2, timeout_s=RUN_TIMEOUT_S,
                                     env=cluster["env"])
    print(f"celery partition runs (start s, elapsed s): "
          f"{ {o.partition: (o.started_s, o.elapsed_s) for o in outcomes} }; total {time.monotonic() - started:.1f} s")
    worker_logs = "".join(tail(log, 200_000) for log in cluster["logs"].values())
    for outcome in outcomes:
        assert outcome.success, (f"{outcome.partition}: rc={outcome.returncode} failed={outcome.failed_steps}\n"
                                 f"{outcome.output[-3000:]}\nworkers:\n{worker_logs[-3000:]}")
    assert not any(text in worker_logs + "".join(o.output for o in outcomes) for text in LOCK_ERRORS)

    with dg.DagsterInstance.from_config(str(cluster["home"])) as instance:
        runs = instance.get_runs()
        assert sorted(r.tags.get("dagster/partition") for r in runs) == DAYS
        assert {r.status for r in runs} == {dg.DagsterRunStatus.SUCCESS}
        hosts = set()
        for run in runs:
            for record in instance.get_records_for_run(run.run_id, of_type=dg.DagsterEventType.ENGINE_EVENT).records:
                metadata = record.event_log_entry.dagster_event.engine_event_data.metadata
                if "Celery worker" in metadata:
                    hosts.add(metadata["Celery worker"].value.split("@")[0])
        assert hosts == set(WORKERS), f"steps ran on {hosts}, expected both workers"

    expected = warehouse_snapshot(reference_dir / "warehouse.duckdb")
    actual = warehouse_snapshot(cluster["data"] / "warehouse.duckdb")
    assert sorted(actual) == sorted(expected)
    for name, frame in expected.items():
        try:
            assert_frame_equal(actual[name], frame, check_exact=True)
        except AssertionError as exc:
            raise AssertionError(f"{name} differs from the in-process run: {exc}") from None
