"""Benchmark: console page load times under 20 concurrent users, against ``techcredit serve``
on loopback (one uvicorn worker pinned to core 0), beside the service's ``/healthz`` under the
same load (the baseline of one request through the same server).

Each user is a thread with its own keep-alive connection and signed-in cookie, cycling over
the main pages (overview, an entity, warnings, the case queue, the market, the assessment,
the reviewers' models page, which reads the MLflow registry on each load, and the audit log) for
``--seconds``; a page's load time is its HTML from request to last byte (assets are one small
CSS file and inline SVG).

    python -m benchmarks.bench_console [--workdir DIR] [--users 20] [--seconds 30]
"""

from __future__ import annotations

import argparse
import http.client
import re
import statistics
import sys
import tempfile
import threading
import time
import urllib.parse
from collections import defaultdict
from pathlib import Path

from benchmarks.report import write_section
from benchmarks.service_home import (
    build_home,
    database_url,
    scored_entities,
    server_env,
    tokens,
)
from benchmarks.service_servers import start


def _cookie(response: http.client.HTTPResponse, name: str) -> str:
    for header in response.headers.get_all("set-cookie") or []:
        key, _, rest = header.partition("=")
        if key == name:
            return rest.split(";")[0]
    raise RuntimeError(f"no {name} cookie in the answer ({response.status})")


def sign_in(port: int, token: str) -> str:
    """A console session as a browser opens one: the sign-in form (its token in a cookie and
    a hidden field), then the post from the same origin; the session cookie's value."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", "/console/login")
    form = conn.getresponse()
    page = form.read().decode()
    login = _cookie(form, "tc_login")
    field = re.search(r'name="login_token" value="([^"]+)"', page)
    if field is None:
        raise RuntimeError("the sign-in form has no token")
    body = urllib.parse.urlencode({"token": token, "login_token": field.group(1)})
    conn.request("POST", "/console/login", body, {
        "Content-Type": "application/x-www-form-urlencoded", "Cookie": f"tc_login={login}",
        "Origin": f"http://127.0.0.1:{port}"})
    signed = conn.getresponse()
    signed.read()
    conn.close()
    return _cookie(signed, "tc_console")


def _user(port: int, token: str, paths: list[str], until: float,
          out: dict[str, list[float]], errors: list[str], lock: threading.Lock) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Cookie": f"tc_console={sign_in(port, token)}"}
    i = 0
    mine: dict[str, list[float]] = defaultdict(list)
    while time.perf_counter() < until:
        path = paths[i % len(paths)]
        i += 1
        t = time.perf_counter()
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        body = response.read()
        if response.status != 200 or not body:
            errors.append(f"{path}: {response.status}")
        mine[path.split("?")[0]].append((time.perf_counter() - t) * 1000)
    conn.close()
    with lock:
        for k, v in mine.items():
            out[k].extend(v)


def load(port: int, token: str, paths: list[str], users: int, seconds: float
         ) -> tuple[dict[str, list[float]], list[str]]:
    out: dict[str, list[float]] = defaultdict(list)
    errors: list[str] = []
    lock = threading.Lock()
    until = time.perf_counter() + seconds
    threads = [threading.Thread(target=_user, args=(port, token, paths[u % len(paths):]
                                                    + paths[:u % len(paths)], until, out,
                                                    errors, lock)) for u in range(users)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return out, errors


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--workdir", type=Path, default=None)
    ap.add_argument("--users", type=int, default=20)
    ap.add_argument("--seconds", type=float, default=30.0)
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args()
    work = args.workdir or Path(tempfile.mkdtemp(prefix="bench-console-"))
    work.mkdir(parents=True, exist_ok=True)
    home, market = build_home(work)
    _, admin = tokens(database_url(home))
    kind, entity = next(e for e in scored_entities(database_url(home)) if e[0] == "institution")
    pages = ["/console", f"/console/entities/{kind}/{entity}", "/console/warnings",
             "/console/cases", "/console/market", "/console/assessments", "/console/models",
             "/console/audit"]
    tmp = Path(tempfile.mkdtemp(prefix="bench-console-run-"))
    server = start("techcredit", [sys.executable, "-m", "pipelines.cli.main",
                                  "serve", "--port", "PORT", "--source", str(market)],
                   server_env(home), "/readyz", tmp)
    try:
        load(server.port, admin, pages, args.users, 5.0)  # warm-up
        base, base_errors = load(server.port, admin, ["/healthz"], args.users, args.seconds)
        got, errors = load(server.port, admin, pages, args.users, args.seconds)
    finally:
        server.stop()
    base_p50 = statistics.median(base["/healthz"])
    rows = [f"| `/healthz` (baseline) | {len(base['/healthz'])} | {base_p50:.1f} | "
            f"{pct(base['/healthz'], 0.95):.1f} | 1.0 |"]
    for page in [p.split("?")[0] for p in pages]:
        v = got[page]
        rows.append(f"| `{page}` | {len(v)} | {statistics.median(v):.1f} | {pct(v, 0.95):.1f} "
                    f"| {statistics.median(v) / base_p50:.1f} |")
    body = (f"{args.users} concurrent users (threads, keep-alive, signed in), {args.seconds:.0f} s "
            "per phase after a 5 s warm-up; one `techcredit serve` worker pinned to core 0; "
            "a page's time is its HTML from request to last byte. Every page read is audited "
            "(committed before the answer), as in the API.\n\n"
            "| page | loads | p50 ms | p95 ms | p50 × baseline |\n| --- | --- | --- | --- | --- |\n"
            + "\n".join(rows)
            + f"\n\nErrors: {len(errors) + len(base_errors)}"
            + (f" (first: {(errors + base_errors)[0]})" if errors or base_errors else "") + ".")
    print(body)
    if not args.no_write:
        write_section("console", f"python -m benchmarks.bench_console --users {args.users} "
                                 f"--seconds {args.seconds:.0f}", body)


if __name__ == "__main__":
    main()
