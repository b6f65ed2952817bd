"""Running the workbench on localhost inside a process, and sending it a bounded burst of check requests:
used by the load test, the browser test and ``bench/workbench_load.py``. Every request goes to 127.0.0.1."""
from __future__ import annotations

import asyncio
import socket
import statistics
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Iterator


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


@contextmanager
def serve_in_thread(app, host: str = "127.0.0.1", startup_timeout_s: float = 60.0) -> Iterator[str]:
    """Serve ``app`` with uvicorn in a background thread; yields its base URL and stops it afterwards."""
    import uvicorn

    port = free_port(host)
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, name="workbench-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + startup_timeout_s
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"the workbench did not start on {host}:{port}")
        time.sleep(0.05)
    try:
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


@dataclass
class LoadReport:
    requests: int
    seconds: float
    latencies_s: list[float] = field(default_factory=list)   # of the requests that succeeded
    errors: list[str] = field(default_factory=list)          # one line per failed request

    def percentile(self, share: float) -> float:
        ordered = sorted(self.latencies_s)
        return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))] if ordered else float("nan")

    def summary(self) -> str:
        mean = statistics.fmean(self.latencies_s) if self.latencies_s else float("nan")
        return (f"{self.requests} concurrent check requests in {self.seconds:.1f} s: {len(self.errors)} errors, "
                f"latency p50 {self.percentile(0.5) * 1000:.0f} ms, p95 {self.percentile(0.95) * 1000:.0f} ms, "
                f"mean {mean * 1000:.0f} ms")


def send_checks(base_url: str, texts: list[str], timeout_s: float = 300.0) -> LoadReport:
    """POST every text to ``/api/posts`` at once (one request each, all in flight together) from one
    session, and time each; bounded by the number of texts and by ``timeout_s``."""
    import httpx

    async def run() -> LoadReport:
        limits = httpx.Limits(max_connections=len(texts), max_keepalive_connections=len(texts))
        async with httpx.AsyncClient(base_url=base_url, timeout=timeout_s, limits=limits) as client:
            token = (await client.get("/api/session")).json()["csrf_token"]
            report = LoadReport(len(texts), 0.0)

            async def one(text: str) -> None:
                started = time.perf_counter()
                try:
                    response = await client.post("/api/posts", json={"text": text}, headers={"X-CSRF-Token": token})
                except httpx.HTTPError as exc:
                    report.errors.append(f"{type(exc).__name__}: {exc}")
                    return
                if response.status_code != 201:
                    report.errors.append(f"HTTP {response.status_code}: {response.text[:200]}")
                else:
                    report.latencies_s.append(time.perf_counter() - started)

            began = time.perf_counter()
            await asyncio.wait_for(asyncio.gather(*(one(text) for text in texts)), timeout_s)
            report.seconds = time.perf_counter() - began
            return report

    return asyncio.run(run())
