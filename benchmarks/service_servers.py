"""The service benchmark's processes: servers pinned to one core, the load generator to the
other, and what each run measured (the generator's JSON, the server's CPU and RSS)."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from benchmarks.service_home import ROOT

SERVER_CPU, LOADGEN_CPU = 0, 1


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pin(cpu: int):  # a preexec_fn
    def _pin() -> None:
        if hasattr(os, "sched_setaffinity") and os.cpu_count() and os.cpu_count() > cpu:
            os.sched_setaffinity(0, {cpu})
    return _pin


def tree(pid: int) -> list[int]:
    """``pid`` and its descendants (``mlflow models serve`` runs uvicorn as a child)."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        for task in Path(f"/proc/{p}/task").glob("*"):
            with contextlib.suppress(OSError):
                todo += [int(c) for c in (task / "children").read_text().split()]
    return out


def cpu_seconds(pid: int) -> float:
    total = 0.0
    for p in tree(pid):
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def rss_mib(pid: int) -> float:
    total = 0.0
    for p in tree(pid):
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) / 1024
        except OSError:
            pass
    return total


@dataclass
class Server:
    name: str
    proc: subprocess.Popen
    port: int
    log: Path

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)  # our own process group only
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


def start(name: str, cmd: list[str], env: dict[str, str], ready: str, tmp: Path,
          timeout: float = 300.0) -> Server:
    port = free_port()
    log = tmp / f"{name}.log"
    proc = subprocess.Popen([c.replace("PORT", str(port)) for c in cmd], cwd=tmp, env=env,
                            stdout=log.open("w"), stderr=subprocess.STDOUT,
                            start_new_session=True, preexec_fn=pin(SERVER_CPU))
    server = Server(name, proc, port, log)
    deadline = time.time() + timeout
    try:
        while time.time() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"{name} exited ({proc.returncode}):\n"
                                   f"{log.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}{ready}", timeout=2) as r:
                    if r.status == 200:
                        return server
            except OSError:
                pass
            time.sleep(0.5)
        raise RuntimeError(f"{name} not ready after {timeout:.0f} s:\n"
                           f"{log.read_text()[-3000:]}")
    except BaseException:  # also Ctrl-C: never leave a half-started server behind
        server.stop()
        raise


# --- load ------------------------------------------------------------------------------------

@dataclass
class Load:
    server: Server
    requests: list[dict]


_counter = [0]


def run_load(load: Load, tmp: Path, duration: float, connections: int,
             rate: float | None = None, warmup: float = 0.0, interval: float = 0.0,
             sample_rss: float = 0.0) -> dict:
    """One load generator process against one server; the result has the generator's JSON,
    the server's CPU use over the run and, with ``sample_rss``, its RSS every so often."""
    spec = tmp / f"spec-{load.server.name}.json"
    spec.write_text(json.dumps({"host": "127.0.0.1", "port": load.server.port,
                                "requests": load.requests}, ensure_ascii=False))
    _counter[0] += 1
    cmd = [sys.executable, "-m", "benchmarks.loadgen", str(spec), "--connections",
           str(connections), "--duration", str(duration), "--warmup", str(warmup),
           "--counter-start", str(_counter[0] * 10_000_000), "--interval", str(interval)]
    if rate is not None:
        cmd += ["--rate", str(rate)]
    pid = load.server.proc.pid
    cpu0, t0 = cpu_seconds(pid), time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, text=True,
                            preexec_fn=pin(LOADGEN_CPU))
    rss: list[tuple[float, float]] = []
    while proc.poll() is None:
        if sample_rss and (not rss or time.perf_counter() - t0 - warmup >= rss[-1][0]
                           + sample_rss):
            rss.append((time.perf_counter() - t0 - warmup, rss_mib(pid)))
        time.sleep(0.2)
    out, _ = proc.communicate()
    if proc.returncode != 0:
        raise RuntimeError(f"load generator failed ({proc.returncode})")
    result = json.loads(out.strip().splitlines()[-1])
    result["server_cpu_pct"] = 100 * (cpu_seconds(pid) - cpu0) / (time.perf_counter() - t0)
    # server CPU time per answered request (warm-up and measured window run at the same load)
    result["server_cpu_ms"] = (10 * result["server_cpu_pct"] / result["rps"]
                               if result["rps"] else float("nan"))
    result["rss"] = rss + [(time.perf_counter() - t0 - warmup, rss_mib(pid))]
    return result


def line(name: str, r: dict) -> str:
    return (f"{name:<24} {r['rps']:>8.0f} req/s  p50 {r.get('p50_ms', 0):6.2f} ms  "
            f"p99 {r.get('p99_ms', 0):7.2f} ms  errors {r['errors']}  "
            f"server cpu {r['server_cpu_pct']:.0f}% ({r['server_cpu_ms']:.2f} ms/req)  "
            f"generator cpu {r['generator_cpu_pct']:.0f}%  {r['errors_by_kind'] or ''}")


def median_run(runs: list[dict]) -> dict:
    """The run with the median throughput (its latencies go with it)."""
    return sorted(runs, key=lambda r: r["rps"])[len(runs) // 2]
