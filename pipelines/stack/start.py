"""Starting the long-lived stack (``techcredit up``): migrate, Prefect server, work pool,
deployments, worker, API — each step waited for, and everything started so far stopped again
if a later step fails, so a failed ``up`` leaves no process behind.

Prefect's own command line does the deploying (``prefect --no-prompt deploy --all`` on
prefect.yaml), so what runs is what an operator would run by hand; only the work pool is made
through Prefect's client, because ``prefect deploy`` refuses a pool that does not exist and
``prefect work-pool create`` refuses one that does.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from features.settings import Settings
from pipelines.stack.processes import (
    HOST,
    POOL,
    Proc,
    StackError,
    StackInfo,
    run_dir,
    stop_processes,
    write_info,
)

REPO = Path(__file__).resolve().parents[2]
START_TIMEOUT_S = 180.0  # the Prefect server on a loaded 2-core machine
# the API builds its contract ledger and loads the score answers after it answers; `up` waits
# this long for /readyz to say ready, then prints what is still missing and returns
READY_WAIT_S = 120.0
DEPLOY_TIMEOUT_S = 300.0
# Variables a parent Prefect process (a test run, a temporary server) may have set that must
# not reach the stack's processes: each gets the stack's own values or Prefect's defaults.
DROPPED = ("PREFECT_API_URL", "PREFECT__SERVER_EPHEMERAL", "PREFECT__SERVER_FINAL",
           "PREFECT_UI_ENABLED", "TECHCREDIT_TESTS_PREFECT_SERVER_PID")


def _bin(name: str) -> str:
    """A console script of this environment (``prefect``, ``techcredit``)."""
    path = Path(sys.executable).parent / name
    if not path.is_file():
        raise StackError(f"{name} is not installed next to {sys.executable}")
    return str(path)


def port_free(port: int) -> bool:
    """Whether a server could listen on ``port``: bound as uvicorn binds (SO_REUSEADDR), so
    connections of a just-stopped stack lingering in TIME_WAIT do not count as in use."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((HOST, port))
        except OSError:
            return False
    return True


def stack_env(settings: Settings, prefect_api: str | None) -> dict[str, str]:
    """The environment of the stack's processes: this one's, with the stack's Prefect home,
    server URL and an absolute data dir (flow runs start in the repository folder)."""
    env = {k: v for k, v in os.environ.items() if k not in DROPPED}
    env.update(PREFECT_HOME=str(settings.prefect_dir), TECHCREDIT_HOME=str(settings.home_dir),
               PREFECT_SERVER_ANALYTICS_ENABLED="false", TECHCREDIT_REPO=str(REPO))
    if prefect_api:
        env["PREFECT_API_URL"] = prefect_api
    return env


def _tail(log: Path) -> str:
    try:
        lines = [line for line in log.read_text(errors="replace").splitlines() if line.strip()]
    except OSError:
        return ""
    return f" (last line: {lines[-1].strip()[:160]})" if lines else ""


def spawn(name: str, argv: list[str], env: dict[str, str], settings: Settings) -> Proc:
    """Start a detached process in a session of its own (its pid is its group), output to
    ``run/<name>.log``, started over at each ``up``."""
    log = run_dir(settings) / f"{name}.log"
    with open(log, "wb") as out:
        p = subprocess.Popen(argv, env=env, cwd=REPO, stdin=subprocess.DEVNULL, stdout=out,
                             stderr=subprocess.STDOUT, start_new_session=True)
    return Proc(name, p.pid, str(log))


def wait_http(url: str, proc: Proc, what: str, timeout_s: float,
              accept: tuple[int, ...] = (200,)) -> int:
    """Poll ``url`` until it answers with a status in ``accept``; give up at once if the
    process died, else at the timeout — both as one line naming the log."""
    from pipelines.stack.processes import alive

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=5) as r:
                return int(r.status)
        except urllib.error.HTTPError as e:
            if e.code in accept:
                return e.code
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        if not alive(proc.pid):
            raise StackError(f"{what} exited while starting; see {proc.log}{_tail(Path(proc.log))}")
        time.sleep(0.3)
    raise StackError(f"{what} did not answer {url} within {timeout_s:.0f} s; see {proc.log}")


def ensure_pool(prefect_api: str) -> bool:
    """Create the ``techcredit`` process work pool unless it exists; True if created."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import WorkPoolCreate
    from prefect.exceptions import ObjectNotFound
    from prefect.settings import PREFECT_API_URL, temporary_settings
    from prefect.workers.process import ProcessWorker

    with temporary_settings(updates={PREFECT_API_URL: prefect_api}), \
            get_client(sync_client=True) as client:
        try:
            client.read_work_pool(POOL)
            return False
        except ObjectNotFound:
            template = ProcessWorker.get_default_base_job_template()
            client.create_work_pool(WorkPoolCreate(name=POOL, type="process",
                                                   base_job_template=template))
            return True


def deploy(settings: Settings, env: dict[str, str]) -> None:
    """Register every deployment of prefect.yaml, schedules active, with Prefect's CLI."""
    log = run_dir(settings) / "deploy.log"
    with open(log, "wb") as out:
        try:
            done = subprocess.run([_bin("prefect"), "--no-prompt", "deploy", "--all"], env=env,
                                  cwd=REPO, stdin=subprocess.DEVNULL, stdout=out,
                                  stderr=subprocess.STDOUT, timeout=DEPLOY_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            raise StackError(f"prefect deploy took over {DEPLOY_TIMEOUT_S:.0f} s; see {log}"
                             ) from None
    if done.returncode != 0:
        raise StackError(f"prefect deploy failed; see {log}{_tail(log)}")


def migrate(settings: Settings) -> None:
    from sqlalchemy.exc import SQLAlchemyError

    from service.core.db.engine import make_engine
    from service.core.db.migrate import upgrade

    engine = make_engine(settings.db_url)
    try:
        upgrade(engine)
    except SQLAlchemyError as e:
        cause = str(getattr(e, "orig", None) or e).strip().splitlines()[0]
        raise StackError(f"cannot migrate the database: {cause}") from None
    finally:
        engine.dispose()


def start(settings: Settings, api_port: int, prefect_port: int,
          say: Callable[[str], None]) -> StackInfo:
    """Start the whole stack and record it; on any failure stop what was started."""
    for port, what, option in ((prefect_port, "the Prefect server", "--prefect-port"),
                               (api_port, "the API", "--port")):
        if not port_free(port):
            raise StackError(f"port {port} for {what} is in use on {HOST}; choose another "
                             f"with {option}")
    if api_port == prefect_port:
        raise StackError("--port and --prefect-port must differ")
    if not (REPO / "prefect.yaml").is_file():
        raise StackError(f"no prefect.yaml in {REPO}")
    run_dir(settings).mkdir(parents=True, exist_ok=True)
    settings.prefect_dir.mkdir(parents=True, exist_ok=True)
    info = StackInfo(str(settings.home_dir), prefect_port, api_port,
                     datetime.now(UTC).isoformat(timespec="seconds"))
    env = stack_env(settings, info.prefect_api)
    started: list[Proc] = []
    try:  # the slow starts overlap: the server boots while the database migrates
        say(f"starting the Prefect server on {info.prefect_ui}")
        started.append(spawn("prefect-server", [
            sys.executable, "-m", "pipelines.stack.prefect_server", "server", "start",
            "--host", HOST, "--port", str(prefect_port)],
                             stack_env(settings, None), settings))
        say("migrating the database (techcredit db upgrade)")
        migrate(settings)
        say(f"starting the API and console on {info.api}")
        started.append(spawn("api", [_bin("techcredit"), "serve", "--host", HOST, "--port",
                                     str(api_port)], env, settings))
        wait_http(f"{info.prefect_api}/health", started[0], "the Prefect server",
                  START_TIMEOUT_S)
        ensure_pool(info.prefect_api)
        say("registering the deployments of prefect.yaml (prefect deploy --all)")
        deploy(settings, env)
        started.append(spawn("prefect-worker", [_bin("prefect"), "worker", "start", "--pool",
                                                POOL, "--type", "process"], env, settings))
        wait_http(f"{info.api}/readyz", started[1], "the API", START_TIMEOUT_S,
                  accept=(200, 503))
        say("waiting for the API to load (models, contract ledger, score answers)")
        wait_loaded(info.api, started[1], READY_WAIT_S)
        from pipelines.stack.processes import alive

        dead = [p for p in started if not alive(p.pid)]
        if dead:
            raise StackError(f"{dead[0].name} exited; see {dead[0].log}{_tail(Path(dead[0].log))}")
    except BaseException:
        stop_processes(started)
        raise
    info = StackInfo(info.home, prefect_port, api_port, info.started, started)
    write_info(settings, info)
    return info


@dataclass(frozen=True)
class Readiness:
    """What the API's ``/readyz`` says; ``problem``: why it did not answer."""

    ready: bool = False
    starting: bool = False  # a part is still on its first load
    models: str = ""
    state: str = ""
    scores: str = ""
    problem: str | None = None

    @property
    def line(self) -> str:
        if self.problem is not None:
            return f"not answering ({self.problem})"
        if self.ready:
            return "ready"
        return (f"{'loading' if self.starting else 'not ready'} — models: {self.models}; "
                f"state: {self.state}; scores: {self.scores}")


def read_readiness(api: str) -> Readiness:
    try:
        with urllib.request.urlopen(f"{api}/readyz", timeout=5) as r:
            body = json.loads(r.read())
    except urllib.error.HTTPError as e:  # 503: not ready, and says why
        body = json.loads(e.read() or b"{}")
    except (urllib.error.URLError, ConnectionError, TimeoutError, ValueError) as e:
        return Readiness(problem=str(e))
    return Readiness(**{k: body[k] for k in ("ready", "starting", "models", "state", "scores")
                        if k in body})


def wait_loaded(api: str, proc: Proc, timeout_s: float) -> Readiness:
    """Poll ``/readyz`` while the API is still on its first loads (at most ``timeout_s``):
    ready, or not ready for a reason waiting will not mend (no champion, no curated store)."""
    from pipelines.stack.processes import alive

    deadline = time.monotonic() + timeout_s
    while True:
        now = read_readiness(api)
        settled = now.problem is None and not now.starting  # a missed answer: ask again
        if settled or time.monotonic() >= deadline or not alive(proc.pid):
            return now
        time.sleep(0.3)


def readiness(info: StackInfo) -> str:
    """``/readyz`` of the running API in a line: ready, or what it still misses."""
    return read_readiness(info.api).line
