"""One Prefect server for a whole test run, shared by every xdist worker and CLI subprocess.

Without it, each process that runs its first flow starts Prefect's temporary server (25–37 s
on the 2-core CI machine): once per xdist worker, and again in every ``techcredit``
subprocess that inherits the test environment. So the process that starts the run (the xdist
controller, or the only process without xdist) starts that same server once: uvicorn serving
``prefect.server.api.server:create_app`` in Prefect's ephemeral mode (no UI, the ephemeral
server's services), on its own SQLite database in a temporary folder. It exports
``PREFECT_API_URL`` while ``tests/conftest.py`` is imported, before anything imports Prefect,
so the workers and their subprocesses inherit it. Flows stay isolated per process where it
matters: results and cache records are written under each process's own ``PREFECT_HOME``
(the server keeps only run records).

The server is not waited for when it is started (collection overlaps its start-up): each
test process waits for ``/api/health`` before its first test, and if the server never answers
it falls back to today's temporary server per process rather than failing the run. The server
is stopped when the starting process ends (``pytest_unconfigure``, else at exit) and, on
Linux, dies with it even if that process is killed, so no server outlives its run; there is
no lock or pid file that a crashed run could leave behind.
"""

from __future__ import annotations

import atexit
import ctypes
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

URL_ENV = "PREFECT_API_URL"
PID_ENV = "TECHCREDIT_TESTS_PREFECT_SERVER_PID"  # set only with a URL this module started
READY_TIMEOUT_S = 180.0  # the temporary server's own start-up timeout in tests/conftest.py
STOP_TIMEOUT_S = 10.0
PR_SET_PDEATHSIG = 1  # linux/prctl.h


@dataclass
class _Server:
    process: subprocess.Popen[bytes]
    home: Path


_started: _Server | None = None


def start() -> None:
    """Start the shared server and export its URL, unless this process should inherit one.

    Nothing is started in an xdist worker (the controller has started the server, or failed
    to, and then the worker keeps the temporary server) or where ``PREFECT_API_URL`` is
    already set (a server the developer chose).
    """
    global _started
    if URL_ENV in os.environ or "PYTEST_XDIST_WORKER" in os.environ:
        return
    home = Path(tempfile.mkdtemp(prefix="techcredit-prefect-server-"))
    port = _free_port()
    # The command and environment of Prefect's temporary server (SubprocessASGIServer), so
    # flows see the same server they saw before; only its home and lifetime differ.
    env = {**os.environ, "PREFECT_HOME": str(home), "PREFECT_UI_ENABLED": "0",
           "PREFECT__SERVER_EPHEMERAL": "1", "PREFECT__SERVER_FINAL": "1"}
    try:
        with open(home / "server.log", "wb") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "uvicorn", "--factory",
                 "prefect.server.api.server:create_app", "--host", "127.0.0.1", "--port",
                 str(port), "--log-level", "error", "--lifespan", "on"],
                env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                preexec_fn=_die_with_parent if sys.platform == "linux" else None)
    except OSError as e:
        shutil.rmtree(home, ignore_errors=True)
        warnings.warn(f"no shared Prefect server ({e}): each process starts its own",
                      stacklevel=2)
        return
    _started = _Server(process, home)
    atexit.register(stop)
    os.environ[URL_ENV] = f"http://127.0.0.1:{port}/api"
    os.environ[PID_ENV] = str(process.pid)


def stop() -> None:
    """Stop the server this process started, if any, and remove its database."""
    global _started
    if _started is None:
        return
    server, _started = _started, None
    server.process.terminate()
    try:
        server.process.wait(timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait()
    shutil.rmtree(server.home, ignore_errors=True)


@contextmanager
def connected(timeout_s: float = READY_TIMEOUT_S) -> Iterator[None]:
    """Hold a test process's session: wait until the shared server answers, or fall back.

    The fallback drops the URL from the environment (for subprocesses) and from Prefect's
    settings, which this process read when it imported Prefect, so its flows start the
    temporary server as they would without this module.
    """
    url, pid = os.environ.get(URL_ENV), os.environ.get(PID_ENV)
    if url is None or pid is None or _healthy(url, int(pid), timeout_s):
        yield
        return
    from prefect.settings import PREFECT_API_URL, temporary_settings

    warnings.warn(f"the shared Prefect server at {url} did not answer: each test process "
                  "starts its own", stacklevel=2)
    del os.environ[URL_ENV], os.environ[PID_ENV]
    with temporary_settings(restore_defaults={PREFECT_API_URL}):
        yield


def _healthy(url: str, pid: int, timeout_s: float) -> bool:
    """Whether ``url`` answers ``/health`` before ``timeout_s``; gives up as soon as the
    server's process is gone."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=5) as response:
                if response.status == 200:
                    return True
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        if not _alive(pid):
            return False
        time.sleep(0.2)
    return False


def _alive(pid: int) -> bool:
    """Whether the server's process still runs. A dead server stays a zombie until the
    process that started it stops, so on Linux its state is read as well."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:  # no /proc: it exists, and that is all we can tell
        return True
    return state != "Z"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _die_with_parent() -> None:
    """In the server's process before exec: the kernel sends it SIGTERM when the pytest
    process that started it dies, even by SIGKILL, so a crashed run leaves no server."""
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
