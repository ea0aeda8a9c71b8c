"""A CLI command that runs a flow, on Prefect's temporary server vs on the running stack.

The command is ``techcredit daily --day 2026-11-02`` on a migrated, empty home: one small flow
(an empty inbox, the case sweep), so the figure is almost all Prefect's overhead. Without a
stack every such command starts Prefect's temporary server first; with ``techcredit up``
running it finds the stack's server in ``run/stack.json`` and starts none. The baseline is
``techcredit daily --help`` in the same environment: starting Python and the CLI, no flow.

Run: ``.venv/bin/python -m benchmarks.bench_cli_stack [--rounds 3]``
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.report import write_section

TECHCREDIT = str(Path(sys.executable).parent / "techcredit")
COMMAND = ["daily", "--day", "2026-11-02"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _run(env: dict[str, str], args: list[str]) -> float:
    start = time.perf_counter()
    done = subprocess.run([TECHCREDIT, *args], env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"techcredit {' '.join(args)} failed: {done.stderr.strip()}")
    return seconds


def _times(env: dict[str, str], args: list[str], rounds: int) -> list[float]:
    return [_run(env, args) for _ in range(rounds)]


def _load() -> str:
    return ", ".join(f"{x:.1f}" for x in os.getloadavg())


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-cli-stack-") as tmp:
        env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
        env["TECHCREDIT_HOME"] = tmp
        _run(env, ["db", "upgrade"])
        load_before = _load()
        baseline = _times(env, [*COMMAND[:1], "--help"], args.rounds)
        temporary = _times(env, COMMAND, args.rounds)
        up_start = time.perf_counter()
        _run(env, ["up", "--port", str(_free_port()), "--prefect-port", str(_free_port())])
        up_seconds = time.perf_counter() - up_start
        try:
            stacked = _times(env, COMMAND, args.rounds)
        finally:
            _run(env, ["down"])
        load_after = _load()
    med = {k: statistics.median(v) for k, v in
           (("baseline", baseline), ("temporary", temporary), ("stack", stacked))}
    body = "\n".join([
        f"`techcredit {' '.join(COMMAND)}` on a migrated, empty home, {args.rounds} runs each "
        "(one small flow: empty inbox and the case sweep).",
        "",
        "| Prefect server | median s | runs s |",
        "|---|---:|---:|",
        f"| temporary (no stack: started by the command) | {med['temporary']:.1f} | "
        f"{', '.join(f'{t:.1f}' for t in temporary)} |",
        f"| the running stack's (`techcredit up`) | {med['stack']:.1f} | "
        f"{', '.join(f'{t:.1f}' for t in stacked)} |",
        f"| baseline: `techcredit daily --help`, no flow | {med['baseline']:.1f} | "
        f"{', '.join(f'{t:.1f}' for t in baseline)} |",
        "",
        f"- with the stack a command takes **{med['temporary'] / med['stack']:.1f}×** less "
        f"time ({med['temporary'] - med['stack']:.1f} s saved per command); above the "
        f"baseline, {med['temporary'] - med['baseline']:.1f} s vs "
        f"{med['stack'] - med['baseline']:.1f} s",
        f"- `techcredit up` itself took {up_seconds:.0f} s (migrate, Prefect server, deploy "
        "of every prefect.yaml deployment, worker, API); it pays for itself after about "
        f"{up_seconds / max(med['temporary'] - med['stack'], 0.1):.0f} commands",
        f"- load average (1, 5, 15 min) {load_before} before, {load_after} after; on 2 cores "
        "a load above 2 means other work shared the machine — absolute times vary with it, "
        "the ratio less so",
    ])
    print(body)
    if not args.no_write:
        write_section("cli-stack", "python -m benchmarks.bench_cli_stack "
                                   f"--rounds {args.rounds}", body)


if __name__ == "__main__":
    main()
