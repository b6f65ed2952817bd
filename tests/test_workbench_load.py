"""The workbench under load and under a crash, over real HTTP on 127.0.0.1: 200 concurrent check
requests all succeed, and a server killed with SIGKILL while decisions are written loses none that it had
acknowledged. (Speed is measured by bench/workbench_load.py, not asserted here.)"""
from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
import yaml
from sqlalchemy import select, text

from pipeline.workbench.app import create_app
from pipeline.workbench.db import Decision, open_database
from pipeline.workbench.load import free_port, send_checks, serve_in_thread

ROOT = Path(__file__).resolve().parent.parent
POSTGRES_URL = os.environ.get("WORKBENCH_TEST_POSTGRES_URL")


def example_posts() -> list[str]:
    with open(ROOT / "examples" / "posts.csv", encoding="utf-8", newline="") as handle:
        return [row["post"] for row in csv.DictReader(handle)]


def test_200_concurrent_check_requests_all_succeed(fake_checker, tmp_path):
    posts = example_posts()
    texts = [posts[i % len(posts)] + f" (#{i})" for i in range(200)]
    app = create_app(fake_checker.config, checker=fake_checker, database=str(tmp_path / "load.db"))
    with serve_in_thread(app) as base_url:
        report = send_checks(base_url, texts)
        listed = httpx.get(f"{base_url}/api/posts").json()
    print(report.summary())  # shown with pytest -s
    assert report.errors == [] and len(report.latencies_s) == 200
    assert listed["total"] == 200
    database = open_database(str(tmp_path / "load.db"))
    with database.reading() as session:
        stored = {row[0] for row in session.execute(text("SELECT text FROM posts"))}
    database.close()
    assert stored == set(texts)


SERVER = """
import sys
sys.path.insert(0, {tests!r})
import uvicorn
from conftest import FakeEncoder
from pipeline.checker import FactChecker
from pipeline.config import load_config
from pipeline.workbench.app import create_app

config = load_config({config!r})
checker = FactChecker(config, encoder=FakeEncoder())
checker.load_classifier()
uvicorn.run(create_app(config, checker=checker, database={database!r}), host="127.0.0.1", port={port}, log_level="warning")
"""


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_a_killed_server_loses_no_acknowledged_decision(backend, fake_checker, tmp_path):
    if backend == "postgresql":
        if not POSTGRES_URL:
            pytest.skip("WORKBENCH_TEST_POSTGRES_URL is not set (.ci/run sets it after starting PostgreSQL)")
        from test_workbench_db import _empty_postgres

        database_url = _empty_postgres()
    else:
        database_url = str(tmp_path / "crash.db")
    # The server runs in its own process with the same fake-encoder pipeline (its config, index and models).
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump(fake_checker.config.model_dump(mode="json"), allow_unicode=True), encoding="utf-8")
    port = free_port()
    script = SERVER.format(tests=str(ROOT / "tests"), config=str(config), database=database_url, port=port)
    server = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            assert server.poll() is None, server.stdout.read().decode()
            try:
                if httpx.get(f"{base_url}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.2)
        client = httpx.Client(base_url=base_url, timeout=10)
        token = client.get("/api/session").json()["csrf_token"]
        post = client.post("/api/posts", json={"text": "Ketamine verhoogt de bloeddruk."},
                           headers={"X-CSRF-Token": token}).json()["posts"][0]
        claim_id = post["claims"][0]["id"]
        acknowledged: list[str] = []

        def write_decisions() -> None:
            for number in range(5000):  # bounded; ends at the first refused connection after the kill
                note = f"beslissing {number}"
                try:
                    response = client.post(f"/api/claims/{claim_id}/decisions", headers={"X-CSRF-Token": token},
                                           json={"verdict": "contradicted", "note": note, "moderator": "anna"})
                except httpx.HTTPError:
                    return
                if response.status_code == 201:
                    acknowledged.append(note)

        writer = threading.Thread(target=write_decisions)
        writer.start()
        while len(acknowledged) < 40 and writer.is_alive():
            time.sleep(0.01)
        server.send_signal(signal.SIGKILL)  # mid-stream: requests are in flight
        server.wait(timeout=30)
        writer.join(timeout=60)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
    assert len(acknowledged) >= 40
    database = open_database(database_url)  # reopens (and checks the migrations of) the crashed database
    with database.reading() as session:
        stored = set(session.scalars(select(Decision.note)))
        if backend == "sqlite":
            assert session.execute(text("PRAGMA integrity_check")).scalar() == "ok"
    database.close()
    assert set(acknowledged) <= stored
    assert len(stored) - len(acknowledged) <= 1  # at most the one committed while its answer was cut off
