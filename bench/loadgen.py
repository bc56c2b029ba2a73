"""A small HTTP/1.1 load generator and a CPU meter that reads /proc, for the hot-path bench.

Written for this bench rather than using wrk: it needs no system package, rotates a fresh body per request
(tokens, sessions, unique event ids), and has an open-loop mode whose latencies are measured from the
moment each request was *due*, so a stalled server cannot hide its queue (coordinated omission).
"""

import asyncio
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field

TICKS = os.sysconf("SC_CLK_TCK")


@dataclass
class Run:
    latencies: list[float] = field(default_factory=list)  # seconds
    served: int = 0  # answered, whatever the status
    errors: int = 0  # connection failures, and requests a far-behind server never answered in time
    non_2xx: int = 0
    elapsed: float = 0.0

    def percentile(self, pct: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(len(ordered) * pct / 100))] * 1000

    @property
    def rate(self) -> float:
        return self.served / self.elapsed if self.elapsed else 0.0


class Connection:
    """One keep-alive connection; reopened when the server closes it (gunicorn's sync workers do)."""

    def __init__(self, host: str, port: int):
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(self, raw: bytes) -> int:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        self.writer.write(raw)
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip().lower()
        await self.reader.readexactly(int(headers.get("content-length", "0")))
        if headers.get("connection") == "close":
            self.close()
        return status

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


def http_post(path: str, body: bytes, token: str) -> bytes:
    return (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Authorization: Bearer {token}\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode() + body


async def _one(conn: Connection, raw: bytes, started: float, run: Run) -> None:
    try:
        status = await conn.request(raw)
    except (OSError, asyncio.IncompleteReadError, ValueError):
        conn.close()
        run.errors += 1
        return
    run.latencies.append(time.perf_counter() - started)
    run.served += 1
    if not 200 <= status < 300:
        run.non_2xx += 1


async def closed_loop(
    host: str, port: int, make: Callable[[int], bytes], connections: int, seconds: float
) -> Run:
    """Each connection sends its next request as soon as the last answer arrived."""
    run, stop_at = Run(), time.perf_counter() + seconds
    counter = iter(range(10**12))

    async def client() -> None:
        conn = Connection(host, port)
        while time.perf_counter() < stop_at:
            await _one(conn, make(next(counter)), time.perf_counter(), run)
        conn.close()

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(connections)))
    run.elapsed = time.perf_counter() - started
    return run


async def open_loop(
    host: str, port: int, make: Callable[[int], bytes], rate: float, seconds: float, max_connections: int = 64
) -> Run:
    """Requests fall due at a fixed rate whatever the server does; latency counts from the due time."""
    run, idle, busy = Run(), [], set()
    started = time.perf_counter()
    total = int(rate * seconds)

    async def send(index: int, due: float) -> None:
        conn = idle.pop() if idle else Connection(host, port)
        try:
            await _one(conn, make(index), due, run)
        finally:
            idle.append(conn)

    for index in range(total):
        due = started + index / rate
        if time.perf_counter() > started + seconds:  # far behind: what was never sent counts as failed
            now = time.perf_counter()
            run.errors += total - index
            run.latencies += [now - started - i / rate for i in range(index, total)]
            total = index
            break
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        while len(busy) >= max_connections:  # the server is far behind: the wait still counts as latency
            await asyncio.wait(busy, return_when=asyncio.FIRST_COMPLETED)
        task = asyncio.ensure_future(send(index, due))
        busy.add(task)
        task.add_done_callback(busy.discard)
    # A server far behind the rate would keep the bench running for minutes: after a grace period, what
    # is still unanswered counts as an error with its wait so far as a (lower bound) latency.
    if busy:
        _, late = await asyncio.wait(busy, timeout=max(5.0, seconds))
        for task in late:
            task.cancel()
        now = time.perf_counter()
        run.errors += len(late)
        run.latencies += [now - started - i / rate for i in range(total - len(late), total)]
    run.elapsed = time.perf_counter() - started
    for conn in idle:
        conn.close()
    return run


# --- CPU from /proc ---------------------------------------------------------------------------------


def _stat(pid: int) -> tuple[int, int] | None:
    """(parent pid, user + system ticks) of a live process."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            text = handle.read()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2 :].split()
    return int(fields[1]), int(fields[11]) + int(fields[12])


def process_tree(root: int) -> list[int]:
    """The root and all its descendants (gunicorn's master and workers, daphne)."""
    parents = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (stat := _stat(int(entry))) is not None:
            parents[int(entry)] = stat[0]
    tree, frontier = {root}, [root]
    while frontier:
        parent = frontier.pop()
        children = [pid for pid, ppid in parents.items() if ppid == parent and pid not in tree]
        tree.update(children)
        frontier += children
    return sorted(tree)


def cpu_ticks(pids: list[int]) -> dict[int, int]:
    return {pid: stat[1] for pid in pids if (stat := _stat(pid)) is not None}


def cpu_seconds_between(before: dict[int, int], after: dict[int, int]) -> float:
    """CPU used between two samples; a process born in between counts from zero."""
    return sum(ticks - before.get(pid, 0) for pid, ticks in after.items()) / TICKS


def load_average() -> str:
    with open("/proc/loadavg") as handle:
        return " ".join(handle.read().split()[:3])
