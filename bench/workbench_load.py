"""Load on the moderator workbench: N check requests sent at once to a workbench on 127.0.0.1 (the real
model, index and verdict model; a fresh SQLite database in a temporary folder); prints errors and the
p50 and p95 latency. Each request checks one example post and stores it in the queue.

    .venv/bin/python bench/workbench_load.py                 # 200 requests at once
    .venv/bin/python bench/workbench_load.py --requests 50
"""
from __future__ import annotations

import argparse
import csv
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.checker import FactChecker  # noqa: E402
from pipeline.config import load_config  # noqa: E402
from pipeline.runtime import configure_runtime  # noqa: E402
from pipeline.workbench.app import create_app  # noqa: E402
from pipeline.workbench.load import send_checks, serve_in_thread  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--config", default=None)
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    args = parser.parse_args()
    config = load_config(args.config, args.overrides)
    configure_runtime(config)
    started = time.perf_counter()
    checker = FactChecker(config)
    checker.load_classifier()
    print(f"model, index and verdict model loaded in {time.perf_counter() - started:.1f} s")
    with open(ROOT / "examples" / "posts.csv", encoding="utf-8", newline="") as handle:
        posts = [row["post"] for row in csv.DictReader(handle)]
    texts = [posts[i % len(posts)] for i in range(args.requests)]
    with tempfile.TemporaryDirectory() as folder:
        app = create_app(config, checker=checker, database=str(Path(folder) / "load.db"))
        with serve_in_thread(app) as base_url:
            report = send_checks(base_url, texts)
    print(report.summary())
    for error in report.errors[:5]:
        print(f"  {error}")
    sys.exit(1 if report.errors else 0)


if __name__ == "__main__":
    main()
