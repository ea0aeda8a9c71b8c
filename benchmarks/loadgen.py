"""An HTTP/1.1 load generator for loopback benchmarks: raw keep-alive connections, no client
library in the way, so one process on one core outruns a one-worker Python server.

Two modes:

- **open loop** (``--rate R``): request *i* is due at ``t0 + i / R`` whatever the server does;
  a due request waits for a free connection, and its latency is counted from the time it was
  due, so a stalled server shows as latency, not as fewer requests (no coordinated omission,
  as in wrk2).
- **closed loop** (no ``--rate``): each connection sends its next request as soon as the
  previous answer is in; the figure is the server's maximum throughput at that concurrency.

The requests come from a JSON spec: ``{"host", "port", "requests": [{"method", "path",
"headers", "body"}]}``, cycled in order; ``@@N@@`` in a path or body becomes a running counter
(from ``--counter-start``), so each contract check can carry a fresh contract id.

    python -m benchmarks.loadgen SPEC.json --connections 32 --duration 30 [--rate 1000]

Prints one JSON object: completed and achieved req/s, latency percentiles (ms), errors by
kind, the generator's own CPU use (to show it is not the bottleneck) and, with
``--interval S``, the same per S-second window.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import os
import resource
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

COUNTER = b"@@N@@"


@dataclass
class Stats:
    done_at: list[float] = field(default_factory=list)  # when the answer came, s
    latency: list[float] = field(default_factory=list)  # from due (open) or send time, s
    errors: collections.Counter[str] = field(default_factory=collections.Counter)

    def ok(self, due: float, now: float) -> None:
        self.done_at.append(now)
        self.latency.append(now - due)


class Requests:
    """The spec's requests as bytes, counter substituted per request."""

    def __init__(self, spec: dict, counter_start: int) -> None:
        host = f'{spec["host"]}:{spec["port"]}'
        self.parts: list[tuple[bytes, bytes, bool]] = []
        for r in spec["requests"]:
            body = (r.get("body") or "").encode()
            head = f'{r.get("method", "GET")} {r["path"]} HTTP/1.1\r\nHost: {host}\r\n'
            for k, v in (r.get("headers") or {}).items():
                head += f"{k}: {v}\r\n"
            if body:
                head += "Content-Type: application/json\r\n"
            self.parts.append((head.encode(), body, COUNTER in head.encode() + body))
        self.i = 0
        self.n = counter_start

    def next(self) -> bytes:
        head, body, counted = self.parts[self.i % len(self.parts)]
        self.i += 1
        if counted:
            self.n += 1
            tag = str(self.n).encode()
            head, body = head.replace(COUNTER, tag), body.replace(COUNTER, tag)
        return head + b"Content-Length: %d\r\n\r\n" % len(body) + body


class Conn(asyncio.Protocol):
    """One keep-alive connection, one request in flight; parses responses by Content-Length."""

    def __init__(self, gen: Generator) -> None:
        self.gen = gen
        self.buf = bytearray()
        self.transport: asyncio.Transport | None = None
        self.due = 0.0
        self.busy = False
        self.lost: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def send(self, due: float, data: bytes) -> None:
        assert self.transport is not None
        self.due, self.busy = due, True
        self.transport.write(data)

    def data_received(self, data: bytes) -> None:
        self.buf += data
        while True:
            end = self.buf.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(self.buf[:end]).lower()
            length = 0
            pos = head.find(b"\r\ncontent-length:")
            if pos >= 0:
                stop = head.find(b"\r\n", pos + 2)
                length = int(head[pos + 17: stop if stop >= 0 else None])
            elif b"transfer-encoding: chunked" in head:
                self.gen.stats.errors["chunked response (unsupported)"] += 1
                self.close()
                return
            if len(self.buf) < end + 4 + length:
                return
            status = int(head[9:12])
            del self.buf[: end + 4 + length]
            now = time.perf_counter()
            if self.busy:
                self.busy = False
                if 200 <= status < 300:
                    self.gen.stats.ok(self.due, now)
                else:
                    self.gen.stats.errors[f"HTTP {status}"] += 1
                self.gen.idle(self, now)

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        if self.busy:
            self.gen.stats.errors[f"socket: {type(exc).__name__ if exc else 'closed'}"] += 1
        self.busy = False
        self.gen.dead(self)
        if not self.lost.done():
            self.lost.set_result(None)


class Generator:
    def __init__(self, spec: dict, connections: int, rate: float | None, duration: float,
                 counter_start: int) -> None:
        self.spec = spec
        self.n_conn = connections
        self.rate = rate
        self.duration = duration
        self.reqs = Requests(spec, counter_start)
        self.stats = Stats()
        self.free: collections.deque[Conn] = collections.deque()
        self.pending: collections.deque[float] = collections.deque()  # due times (open loop)
        self.conns: list[Conn] = []
        self.end = 0.0
        self.open_loop = False

    async def connect(self) -> Conn:
        loop = asyncio.get_running_loop()
        _, conn = await loop.create_connection(lambda: Conn(self), self.spec["host"],
                                               self.spec["port"])
        self.conns.append(conn)
        return conn

    def idle(self, conn: Conn, now: float) -> None:
        if not self.open_loop:  # closed loop: straight back to work
            if now < self.end:
                conn.send(now, self.reqs.next())
        elif self.pending:  # open loop: requests due while every connection was busy
            conn.send(self.pending.popleft(), self.reqs.next())
        else:
            self.free.append(conn)

    def dead(self, conn: Conn) -> None:
        if conn in self.conns:
            self.conns.remove(conn)
        if conn in self.free:
            self.free.remove(conn)
        if time.perf_counter() < self.end:  # replace it, so the connection count holds
            asyncio.get_running_loop().create_task(self._replace())

    async def _replace(self) -> None:
        try:
            conn = await self.connect()
        except OSError as e:
            self.stats.errors[f"connect: {type(e).__name__}"] += 1
            await asyncio.sleep(0.05)
            if time.perf_counter() < self.end:
                asyncio.get_running_loop().create_task(self._replace())
            return
        self.idle(conn, time.perf_counter())

    async def run(self, warmup: float) -> float:
        for _ in range(self.n_conn):
            await self.connect()
        if warmup > 0:  # closed loop at the same concurrency, not recorded
            await self._closed(warmup)
            self.stats = Stats()
        t0 = time.perf_counter()
        if self.rate is None:
            await self._closed(self.duration)
        else:
            await self._open(t0)
        return t0

    async def _closed(self, seconds: float) -> None:
        self.open_loop = False
        self.end = time.perf_counter() + seconds
        for conn in list(self.conns):
            conn.send(time.perf_counter(), self.reqs.next())
        await self._drain(seconds)

    async def _open(self, t0: float) -> None:
        assert self.rate is not None
        self.open_loop = True
        self.end = t0 + self.duration
        self.free.extend(self.conns)
        total = int(self.duration * self.rate)
        i = 0
        while i < total:
            now = time.perf_counter()
            while i < total and t0 + i / self.rate <= now:
                due = t0 + i / self.rate
                i += 1
                if self.free:
                    self.free.popleft().send(due, self.reqs.next())
                else:
                    self.pending.append(due)
            if i < total:
                await asyncio.sleep(max(0.0, t0 + i / self.rate - time.perf_counter()))
        await self._drain(max(0.0, self.end - time.perf_counter()))

    async def _drain(self, seconds: float) -> None:
        await asyncio.sleep(seconds)
        deadline = time.perf_counter() + 10.0  # in-flight answers may still come
        while (any(c.busy for c in self.conns) or self.pending) and \
                time.perf_counter() < deadline:
            await asyncio.sleep(0.01)
        unanswered = sum(c.busy for c in self.conns) + len(self.pending)
        if unanswered:
            self.stats.errors["no answer within 10 s of the end"] += unanswered
        self.pending.clear()

    async def close(self) -> None:
        self.end = 0.0
        self.open_loop = False
        for conn in list(self.conns):
            conn.close()


def summary(lat_s: np.ndarray, seconds: float) -> dict:
    ms = lat_s * 1e3
    out: dict = {"completed": int(len(ms)), "rps": len(ms) / seconds if seconds > 0 else 0.0}
    if len(ms):
        p50, p90, p99, p999 = np.percentile(ms, [50, 90, 99, 99.9])
        out.update(p50_ms=float(p50), p90_ms=float(p90), p99_ms=float(p99),
                   p999_ms=float(p999), max_ms=float(ms.max()), mean_ms=float(ms.mean()))
    return out


async def main_async(args: argparse.Namespace) -> dict:
    spec = json.loads(Path(args.spec).read_text(encoding="utf-8"))
    gen = Generator(spec, args.connections, args.rate, args.duration, args.counter_start)
    cpu0 = resource.getrusage(resource.RUSAGE_SELF)
    t0 = await gen.run(args.warmup)
    elapsed = time.perf_counter() - t0
    await gen.close()
    cpu1 = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime)
    done = np.asarray(gen.stats.done_at) - t0
    lat = np.asarray(gen.stats.latency)
    out = {
        "mode": "open" if args.rate else "closed",
        "target_rps": args.rate,
        "connections": args.connections,
        "duration_s": args.duration,
        "elapsed_s": elapsed,
        # the rate over the whole run, the answers still coming in after the schedule included
        **summary(lat, max(elapsed, args.duration)),
        "errors": sum(gen.stats.errors.values()),
        "errors_by_kind": dict(gen.stats.errors),
        "generator_cpu_pct": 100.0 * cpu / (elapsed + args.warmup),
        "loop": type(asyncio.get_running_loop()).__module__,
    }
    if args.interval:
        windows = []
        # answers by the window they arrived in (the last window takes the drain after the end)
        n = int(np.ceil(args.duration / args.interval))
        for k in range(n):
            m = (done >= k * args.interval) & ((done < (k + 1) * args.interval) | (k == n - 1))
            windows.append({"start_s": k * args.interval, **summary(lat[m], args.interval)})
        out["windows"] = windows
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("spec", help="JSON file: host, port, requests")
    ap.add_argument("--connections", type=int, default=32)
    ap.add_argument("--duration", type=float, default=10.0, help="seconds")
    ap.add_argument("--rate", type=float, default=None, help="req/s (open loop); none: closed")
    ap.add_argument("--warmup", type=float, default=0.0,
                    help="closed-loop seconds first, unrecorded")
    ap.add_argument("--counter-start", type=int, default=0)
    ap.add_argument("--interval", type=float, default=0.0, help="also report per window (s)")
    ap.add_argument("--out", type=Path, default=None, help="write the JSON here too")
    args = ap.parse_args()
    try:
        import uvloop

        result = uvloop.run(main_async(args))
    except ImportError:
        result = asyncio.run(main_async(args))
    text = json.dumps(result)
    if args.out is not None:
        args.out.write_text(text, encoding="utf-8")
    sys.stdout.write(text + "\n")
    sys.stdout.flush()
    os._exit(0)  # do not wait for the server to close sockets politely


if __name__ == "__main__":
    main()
