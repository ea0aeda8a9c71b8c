"""``techcredit up | status | down``: the stack file and its logic without processes, then the
real stack once — a Prefect server whose scheduler fires, a worker that runs a deployment, a
CLI command that finds the server through stack.json, and nothing left after ``down``."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from features.settings import Settings
from pipelines.stack.processes import (
    Proc,
    StackInfo,
    alive,
    descendants,
    login_lines,
    prefect_api_url,
    read_state,
    stack_file,
    stop_processes,
    write_info,
)
from pipelines.stack.start import Readiness, port_free, stack_env

ROOT = Path(__file__).resolve().parents[3]
TECHCREDIT = Path(sys.executable).parent / "techcredit"


def deployment_names(prefect_yaml: Path) -> list[str]:
    """The deployments ``up`` registers: the names in prefect.yaml, in order."""
    spec = yaml.safe_load(prefect_yaml.read_text(encoding="utf-8"))
    return [d["name"] for d in spec.get("deployments") or []]


def _dead_pid() -> int:
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def _record(home: Path, pid: int) -> Settings:
    settings = Settings(home=home)
    stack_file(settings).parent.mkdir(parents=True)
    write_info(settings, StackInfo(str(home), 4311, 8311, "2026-11-25T00:00:00+00:00",
                                   [Proc("prefect-server", pid, "s.log"),
                                    Proc("api", os.getpid(), "a.log")]))
    return settings


def test_the_stack_file_round_trips_and_a_corrupt_one_is_refused() -> None:
    info = StackInfo("/h", 4200, 8000, "t", [Proc("api", 12, "/h/run/api.log")])
    again = StackInfo.from_json(info.to_json())
    assert again == info and again.prefect_api == "http://127.0.0.1:4200/api"
    assert again.api == "http://127.0.0.1:8000" and again.pid_of("api") == 12
    for text in ("{", "{}", '{"home": "/h"}'):
        with pytest.raises(ValueError, match="not a stack file"):
            StackInfo.from_json(text)


def test_a_running_stack_gives_its_url_and_a_dead_one_is_stale(tmp_path: Path) -> None:
    live = _record(tmp_path / "live", os.getpid())
    assert prefect_api_url(live) == "http://127.0.0.1:4311/api"
    assert read_state(live).up
    dead = _record(tmp_path / "dead", _dead_pid())
    assert prefect_api_url(dead) is None
    state = read_state(dead)
    assert state.stale and state.stopped == ["prefect-server"] and state.running == ["api"]
    assert prefect_api_url(Settings(home=tmp_path / "none")) is None
    assert read_state(Settings(home=tmp_path / "none")).info is None


def test_a_corrupt_stack_file_is_stale_not_an_error(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path)
    stack_file(settings).parent.mkdir(parents=True)
    stack_file(settings).write_text("{half", encoding="utf-8")
    assert read_state(settings).stale and prefect_api_url(settings) is None


def test_up_deploys_every_deployment_of_prefect_yaml() -> None:
    assert deployment_names(ROOT / "prefect.yaml") == [
        "ingest-exports", "month-end-features", "monthly-train-and-review",
        "month-end-scoring", "event-rescoring", "monthly-monitoring", "daily",
        "yearly-assessment"]


def test_logins_come_from_the_demo_file_else_how_to_add_one(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path)
    assert "techcredit users add" in login_lines(settings)[0]
    (tmp_path / "demo-logins.txt").write_text("demo-admin\tadmin\ttok123\n", encoding="utf-8")
    assert login_lines(settings) == [f"  {'demo-admin':<18} {'admin':<10} tok123"]


def test_the_stacks_processes_get_its_server_not_the_callers(tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch
                                                            ) -> None:
    monkeypatch.setenv("PREFECT_API_URL", "http://elsewhere:1/api")
    settings = Settings(home=tmp_path)
    assert "PREFECT_API_URL" not in stack_env(settings, None)
    env = stack_env(settings, "http://127.0.0.1:4311/api")
    assert env["PREFECT_API_URL"] == "http://127.0.0.1:4311/api"
    assert env["TECHCREDIT_HOME"] == str(tmp_path) and env["PREFECT_HOME"].startswith(
        str(tmp_path))


def test_stop_ends_a_group_and_the_sessions_below_it_sigkill_if_it_must() -> None:
    """The leader ignores SIGTERM (killed after the timeout); its child runs in a session of
    its own, as a worker's flow runs do, and still ends."""
    script = ("import signal, subprocess, sys, time; signal.signal(signal.SIGTERM, "
              "signal.SIG_IGN); subprocess.Popen([sys.executable, '-c', 'import time; "
              "time.sleep(120)'], start_new_session=True); time.sleep(120)")
    leader = subprocess.Popen([sys.executable, "-c", script], start_new_session=True)
    try:
        deadline = time.monotonic() + 30
        while not descendants(leader.pid):
            assert time.monotonic() < deadline, "the child never started"
            time.sleep(0.05)
        time.sleep(0.5)  # the leader has installed its handler before the child started
        child = descendants(leader.pid)[0]
        assert stop_processes([Proc("leader", leader.pid, "leader.log")], timeout_s=1) == [
            "leader"]
        leader.wait(timeout=10)
        gone = time.monotonic() + 10  # an orphan is reaped by init, which may take a moment
        while alive(child) and time.monotonic() < gone:
            time.sleep(0.1)
        assert not alive(child)
    finally:
        if leader.poll() is None:
            leader.kill()
            leader.wait()


def test_the_servers_fix_drops_the_state_key_of_bulk_inserts_once() -> None:
    from prefect.server.database import orm_models

    from pipelines.stack.prefect_server import patch_state_hybrids

    patch_state_hybrids()
    hook = orm_models.FlowRun.__dict__["state"].bulk_dml_setter
    mapping = {"id": 1, "state": "Scheduled"}
    hook(orm_models.FlowRun, mapping, mapping["state"])
    assert mapping == {"id": 1}
    assert patch_state_hybrids() == 0  # already there: nothing patched twice


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _env(home: Path) -> dict[str, str]:
    """A user's shell: no Prefect server chosen (the test run's shared one is dropped)."""
    drop = ("PREFECT_API_URL", "TECHCREDIT_TESTS_PREFECT_SERVER_PID")
    env = {k: v for k, v in os.environ.items() if k not in drop}
    return {**env, "TECHCREDIT_HOME": str(home), "PREFECT_WORKER_QUERY_SECONDS": "2"}


def _cli(env: dict[str, str], *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([str(TECHCREDIT), *args], env=env, capture_output=True, text=True,
                          timeout=timeout, cwd=ROOT)


def test_readiness_says_ready_loading_stuck_or_silent_in_a_line() -> None:
    assert Readiness(ready=True, models="m v1", state="ok", scores="loaded (3 entities)"
                     ).line == "ready"
    assert Readiness(starting=True, models="m v1", state="registry state not built yet",
                     scores="loading").line == (
        "loading — models: m v1; state: registry state not built yet; scores: loading")
    assert Readiness(models="no champion anomaly model: a reviewer promotes one",
                     state="ok", scores="loaded (0 entities)").line.startswith(
        "not ready — models: no champion anomaly model")
    assert Readiness(problem="connection refused").line == "not answering (connection refused)"


def test_up_on_a_busy_port_is_one_line_and_exit_2(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert not port_free(port)
        result = _cli(_env(tmp_path), "up", "--prefect-port", str(port), "--port",
                      str(_free_port()), timeout=120)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"Error: port {port} for the Prefect server is in use on 127.0.0.1; choose another "
        "with --prefect-port"]
    assert not stack_file(Settings(home=tmp_path)).exists()


def _processes_of(home: Path) -> list[int]:
    """Every process started for ``home``: they all carry TECHCREDIT_HOME in their
    environment (the stack sets it, the worker's flow runs inherit it)."""
    marker = f"TECHCREDIT_HOME={home.resolve()}".encode()
    found = []
    for environ in Path("/proc").glob("[0-9]*/environ"):
        try:
            if marker in environ.read_bytes().split(b"\0"):
                found.append(int(environ.parent.name))
        except OSError:
            continue
    return [p for p in found if p != os.getpid()]


@dataclass
class Running:
    home: Path
    env: dict[str, str]
    info: StackInfo
    up_output: str


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    """One stack for the module; stopped — and anything of it left killed — even on failure."""
    home = tmp_path_factory.mktemp("stack-home")
    env = _env(home)
    try:
        up = _cli(env, "up", "--port", str(_free_port()), "--prefect-port", str(_free_port()),
                  timeout=400)
        assert up.returncode == 0, up.stderr
        info = StackInfo.from_json(stack_file(Settings(home=home)).read_text(encoding="utf-8"))
        yield Running(home, env, info, up.stdout)
    finally:
        _cli(env, "down", timeout=120)
        for pid in _processes_of(home):
            os.kill(pid, 9)


@pytest.mark.e2e
def test_up_starts_everything_and_says_where(stack: Running) -> None:
    assert [p.name for p in stack.info.processes] == ["prefect-server", "api", "prefect-worker"]
    assert f"{stack.info.api}/console" in stack.up_output
    assert stack.info.prefect_ui in stack.up_output and "techcredit users add" in stack.up_output
    # an empty home has no champion: `up` says so at once rather than waiting for it
    assert "/readyz: not ready — models: no champion" in stack.up_output
    status = _cli(stack.env, "status", timeout=60)
    assert status.returncode == 0 and "prefect-worker" in status.stdout
    again = _cli(stack.env, "up", timeout=60)
    assert again.returncode == 0 and "already running" in again.stdout
    assert stack.info.processes == StackInfo.from_json(
        stack_file(Settings(home=stack.home)).read_text(encoding="utf-8")).processes


@pytest.mark.e2e
def test_schedules_fire_and_a_deployment_runs_through_the_worker(stack: Running) -> None:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        DeploymentFilter,
        DeploymentFilterName,
        FlowRunFilter,
        FlowRunFilterState,
        FlowRunFilterStateType,
    )
    from prefect.client.schemas.objects import StateType
    from prefect.deployments import run_deployment
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings(updates={PREFECT_API_URL: stack.info.prefect_api}):
        daily = DeploymentFilter(name=DeploymentFilterName(any_=["daily"]))
        scheduled = FlowRunFilter(state=FlowRunFilterState(
            type=FlowRunFilterStateType(any_=[StateType.SCHEDULED])))
        deadline = time.monotonic() + 120
        with get_client(sync_client=True) as client:
            while not client.read_flow_runs(deployment_filter=daily, flow_run_filter=scheduled):
                assert time.monotonic() < deadline, "the scheduler made no run of 'daily'"
                time.sleep(1)
        run = run_deployment("daily/daily", parameters={"day": "2026-11-02"}, timeout=240)
    assert run.state is not None and run.state.is_completed(), run.state
    assert run.work_pool_name == "techcredit"
    assert (stack.home / "inbox").exists() is False  # an empty day touches no file


@pytest.mark.e2e
def test_a_cli_command_runs_its_flow_on_the_stacks_server(stack: Running) -> None:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowFilter, FlowFilterName
    from prefect.settings import PREFECT_API_URL, temporary_settings

    result = _cli(stack.env, "daily", "--day", "2026-11-03")
    assert result.returncode == 0, result.stderr
    assert "nothing new in the inbox" in result.stdout
    with temporary_settings(updates={PREFECT_API_URL: stack.info.prefect_api}), \
            get_client(sync_client=True) as client:
        runs = client.read_flow_runs(flow_filter=FlowFilter(name=FlowFilterName(any_=["daily"])))
    by_hand = [r for r in runs if r.deployment_id is None]
    assert len(by_hand) == 1 and by_hand[0].parameters == {"day": "2026-11-03"}


@pytest.mark.e2e
def test_down_stops_every_process(stack: Running) -> None:
    result = _cli(stack.env, "down", timeout=120)
    assert result.returncode == 0 and "stopped" in result.stdout
    assert not stack_file(Settings(home=stack.home)).exists()
    assert _processes_of(stack.home) == []
    status = _cli(stack.env, "status", timeout=60)
    assert status.returncode == 1 and "no stack is running" in status.stdout
