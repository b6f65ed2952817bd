"""Throughput benchmark: the raw encoder against `factcheck batch`, on the same claims, in one run.

    .venv/bin/python bench/throughput.py [--repeat 2] [--profile]

1. raw encoder: the embedding model encoding the claims (query prefix), nothing else;
2. `factcheck batch` end to end as a fresh process: claims per second, peak memory (max RSS),
   and cold start (process start to first verdict, measured with `factcheck check`);
3. the ratio of batch throughput (excluding start-up) to raw encoder throughput.
With --profile, a cProfile summary of the in-process pipeline shows where the time goes.
"""
from __future__ import annotations

import argparse
import cProfile
import csv
import io
import pstats
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import pandas as pd  # noqa: E402

from pipeline.config import load_config  # noqa: E402

FACTCHECK = str(Path(sys.executable).parent / "factcheck")


def timed_process(args: list[str]) -> tuple[float, int, str]:
    """Wall seconds, peak RSS of the child (KiB) and its stdout."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    done = subprocess.run(args, capture_output=True, text=True, cwd=ROOT)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"error: {' '.join(args)} failed: {done.stderr.strip().splitlines()[-1:]}")
    return seconds, max(before, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss), done.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=2, help="the labelled claims, this many times over")
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    config = load_config()
    claims = list(pd.read_csv(config.path("labelled_claims"), keep_default_na=False)["claim"]) * args.repeat

    from pipeline.checker import FactChecker
    from pipeline.posts import normalise_post

    checker = FactChecker.from_config()
    texts = [normalise_post(c) for c in claims]
    checker.encoder.encode_queries(texts[:64])  # warm-up
    started = time.perf_counter()
    checker.encoder.encode_queries(texts)
    encoder_rate = len(texts) / (time.perf_counter() - started)

    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "claims.csv"
        with open(source, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["claim"])
            writer.writerows([c] for c in claims)
        cold, _, _ = timed_process([FACTCHECK, "check", claims[0]])
        batch_seconds, peak_kib, _ = timed_process([FACTCHECK, "batch", str(source), "-o", str(Path(tmp) / "out.csv")])
    steady_rate = len(claims) / max(1e-9, batch_seconds - cold)
    end_to_end_rate = len(claims) / batch_seconds

    print(f"{len(claims)} claims, {config.embedding.threads} torch threads, batch size {config.embedding.batch_size}\n")
    print("| measure | value |\n|---|---|")
    print(f"| raw encoder | {encoder_rate:.1f} claims/s |")
    print(f"| factcheck batch, end to end (incl. start-up) | {end_to_end_rate:.1f} claims/s ({batch_seconds:.1f} s) |")
    print(f"| factcheck batch, after start-up | {steady_rate:.1f} claims/s |")
    print(f"| cold start (process start to first verdict) | {cold:.1f} s |")
    print(f"| peak memory of the batch process | {peak_kib / 1024:.0f} MiB |")
    print(f"| ratio batch (after start-up) / raw encoder | {steady_rate / encoder_rate:.2f} |")

    if args.profile:
        profiler = cProfile.Profile()
        profiler.enable()
        checker.check_many(claims)
        profiler.disable()
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(25)
        print("\nWhere the time goes (cProfile, cumulative):")
        print("\n".join(line for line in out.getvalue().splitlines() if line.strip())[:6000])


if __name__ == "__main__":
    main()
