"""The long-lived stack on loopback (常驻服务): a Prefect server, a worker serving prefect.yaml's
deployments, and the API with its console — started by ``techcredit up``, stopped by ``down``.

Every process runs detached in its own session (its pid is its process group), logs to
``$TECHCREDIT_HOME/run/<name>.log``, and is recorded in ``run/stack.json`` so that ``down``,
``status`` and every other CLI process can find it without asking the network:
:func:`prefect_api_url` is called by :func:`pipelines.runtime.configure` before Prefect is
imported, so commands run their flows on the stack's server instead of starting Prefect's
temporary one (25–37 s on a loaded machine). This module imports only the standard library at
the top for that reason; the start-up sequence itself lives in :mod:`pipelines.stack.start`.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from features.settings import Settings

HOST = "127.0.0.1"
POOL = "techcredit"
STOP_TIMEOUT_S = 15.0


class StackError(RuntimeError):
    """A refusal or failure of the stack, in one line (the CLI prints it and exits 2)."""


@dataclass(frozen=True)
class Proc:
    """One process of the stack: its pid is also its process group and session."""

    name: str
    pid: int
    log: str


@dataclass(frozen=True)
class StackInfo:
    """What ``run/stack.json`` records: enough to reach, describe and stop the stack."""

    home: str
    prefect_port: int
    api_port: int
    started: str
    processes: list[Proc] = field(default_factory=list)

    @property
    def prefect_api(self) -> str:
        return f"http://{HOST}:{self.prefect_port}/api"

    @property
    def prefect_ui(self) -> str:
        return f"http://{HOST}:{self.prefect_port}"

    @property
    def api(self) -> str:
        return f"http://{HOST}:{self.api_port}"

    def pid_of(self, name: str) -> int | None:
        return next((p.pid for p in self.processes if p.name == name), None)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2)

    @classmethod
    def from_json(cls, text: str) -> StackInfo:
        """Parse stack.json; a file that is not one (hand-edited, half-written) raises
        ValueError, which callers treat as a stale stack."""
        try:
            raw = json.loads(text)
            procs = [Proc(str(p["name"]), int(p["pid"]), str(p["log"]))
                     for p in raw["processes"]]
            return cls(str(raw["home"]), int(raw["prefect_port"]), int(raw["api_port"]),
                       str(raw["started"]), procs)
        except (KeyError, TypeError, json.JSONDecodeError) as e:
            raise ValueError(f"not a stack file: {e}") from None


@dataclass(frozen=True)
class StackState:
    """The recorded stack (if any) and which of its processes still run."""

    info: StackInfo | None
    running: list[str]
    stopped: list[str]

    @property
    def up(self) -> bool:
        return self.info is not None and not self.stopped

    @property
    def stale(self) -> bool:
        """A stack file whose processes are (partly) gone: left by a crash or a reboot."""
        return self.info is not None and bool(self.stopped)


def run_dir(settings: Settings) -> Path:
    return settings.home_dir / "run"


def stack_file(settings: Settings) -> Path:
    return run_dir(settings) / "stack.json"


def alive(pid: int) -> bool:
    """Whether ``pid`` runs; a zombie (dead, not yet reaped) does not."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process took the pid
        return False
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True  # no /proc: trust kill(0)
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"


def read_state(settings: Settings) -> StackState:
    """The stack file and a liveness check of its pids; no file: no stack. A corrupt file is
    a stale stack with no process to stop."""
    path = stack_file(settings)
    try:
        info = StackInfo.from_json(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return StackState(None, [], [])
    except (OSError, ValueError):
        return StackState(StackInfo(str(settings.home_dir), 0, 0, "?"), [], ["stack.json"])
    running = [p.name for p in info.processes if alive(p.pid)]
    stopped = [p.name for p in info.processes if p.name not in running]
    return StackState(info, running, stopped)


def prefect_api_url(settings: Settings) -> str | None:
    """The running stack's Prefect API, for CLI commands to use instead of a temporary
    server: read from stack.json, trusted only while the server's pid runs (no HTTP, so it
    costs a file read)."""
    try:
        info = StackInfo.from_json(stack_file(settings).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    pid = info.pid_of("prefect-server")
    return info.prefect_api if pid is not None and alive(pid) else None


def write_info(settings: Settings, info: StackInfo) -> None:
    path = stack_file(settings)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(info.to_json(), encoding="utf-8")
    tmp.replace(path)


def _proc_table() -> list[tuple[int, int, int]]:
    """(pid, parent pid, process group) of every live process, from /proc; zombies are left
    out (they are dead, only not yet reaped)."""
    rows = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[-1].split()
        except OSError:
            continue
        if fields[0] != "Z":
            rows.append((int(stat.parent.name), int(fields[1]), int(fields[2])))
    return rows


def descendants(pid: int) -> list[int]:
    """Every process below ``pid``: a worker starts its flow runs in sessions of their own,
    which a signal to the worker's group does not reach."""
    tree: dict[int, list[int]] = {}
    for child, parent, _ in _proc_table():
        tree.setdefault(parent, []).append(child)
    out, todo = [], [pid]
    while todo:
        kids = tree.get(todo.pop(), [])
        out += kids
        todo += kids
    return out


def _any_alive(pgid: int, pids: list[int]) -> bool:
    """Whether a process of group ``pgid`` or one of ``pids`` still runs (a group member
    whose parent died is no longer below the leader, but still in its group)."""
    watched = set(pids)
    return any(pgrp == pgid or pid in watched for pid, _, pgrp in _proc_table())


def _signal(pgid: int, pids: list[int], sig: signal.Signals) -> None:
    for send, target in [(os.killpg, pgid)] + [(os.kill, p) for p in pids]:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            send(target, sig)


def stop_processes(procs: list[Proc], timeout_s: float = STOP_TIMEOUT_S) -> list[str]:
    """SIGTERM each process group (last started first) and the processes below it, wait, then
    SIGKILL what is left. Returns the names that had to be killed."""
    killed = []
    for proc in reversed(procs):
        below = descendants(proc.pid)
        _signal(proc.pid, below, signal.SIGTERM)
        deadline = time.monotonic() + timeout_s
        while _any_alive(proc.pid, below):
            if time.monotonic() > deadline:
                _signal(proc.pid, below + descendants(proc.pid), signal.SIGKILL)
                killed.append(proc.name)
                break
            time.sleep(0.1)
    return killed


def stop(settings: Settings, timeout_s: float = STOP_TIMEOUT_S) -> StackState:
    """Stop the recorded stack and remove stack.json; returns what was recorded before."""
    state = read_state(settings)
    if state.info is not None:
        stop_processes(state.info.processes, timeout_s)
        stack_file(settings).unlink(missing_ok=True)
    return state


def login_lines(settings: Settings) -> list[str]:
    """The demo's logins (name, role, token) if the demo wrote them, else how to add one."""
    from pipelines.demo.people import logins_path

    path = logins_path(settings)
    try:
        rows = [line.split("\t") for line in path.read_text(encoding="utf-8").splitlines()]
    except OSError:
        return ["no demo logins here; add a user with: techcredit users add NAME --role "
                "regulator (prints its token once)"]
    return [f"  {r[0]:<18} {r[1]:<10} {r[2]}" for r in rows if len(r) == 3]
