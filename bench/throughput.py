"""Throughput benchmark: the raw encoder against `factcheck batch`, on the same claims, in one run.

    .venv/bin/python bench/throughput.py [--repeat 2] [--rounds 2] [--profile] [--config configs/fast.yaml]

1. raw encoder: the embedding model encoding the claims (query prefix), nothing else;
2. `factcheck batch` as a fresh process, once on one row and once on all rows. The one-row run is the
   cold start (process start to first verdict, written out); the difference between the two runs is the
   time for the remaining rows, so start-up cancels out. Peak memory is the larger run's max RSS;
3. the ratio of batch throughput (after start-up) to raw encoder throughput.
Measurements alternate for --rounds rounds and the median of each is reported, so that a slow moment
of a shared machine hits both sides alike. With --profile, a cProfile summary of the in-process
pipeline shows where the time goes.
"""
from __future__ import annotations

import argparse
import cProfile
import csv
import io
import pstats
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import pandas as pd  # noqa: E402

from pipeline.config import load_config  # noqa: E402
from pipeline.errors import FactCheckError  # noqa: E402

FACTCHECK = str(Path(sys.executable).parent / "factcheck")


def claim_inputs(folder: Path, claims: list[str]) -> dict[str, Path]:
    """Two one-column CSVs in ``folder``: "one" (the first claim, to time start-up) and "all"."""
    inputs = {}
    for name, rows in (("one", claims[:1]), ("all", claims)):
        inputs[name] = folder / f"{name}.csv"
        with open(inputs[name], "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["claim"])
            writer.writerows([claim] for claim in rows)
    return inputs


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
    parser.add_argument("--rounds", type=int, default=2, help="alternating measurement rounds (median reported)")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--config", type=Path, help="a profile such as configs/fast.yaml (default: the default)")
    args = parser.parse_args()
    config = load_config(args.config)
    claims = list(pd.read_csv(config.path("labelled_claims"), keep_default_na=False)["claim"]) * args.repeat

    from pipeline.checker import FactChecker
    from pipeline.posts import normalise_post

    checker = FactChecker.from_config(args.config)
    texts = [normalise_post(c) for c in claims]
    checker.encoder.encode_queries(texts[:64])  # warm-up

    encoder_rates, batch_rates, colds, peaks = [], [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        inputs = claim_inputs(Path(tmp), claims)
        output = str(Path(tmp) / "out.csv")
        for _ in range(args.rounds):
            started = time.perf_counter()
            checker.encoder.encode_queries(texts)
            encoder_rates.append(len(texts) / (time.perf_counter() - started))
            profile = ["--config", str(args.config)] if args.config else []
            cold, _, _ = timed_process([FACTCHECK, "batch", str(inputs["one"]), "-o", output, *profile])
            whole, peak_kib, _ = timed_process([FACTCHECK, "batch", str(inputs["all"]), "-o", output, *profile])
            colds.append(cold)
            peaks.append(peak_kib)
            batch_rates.append((len(claims) - 1) / max(1e-9, whole - cold))
    encoder_rate, batch_rate = statistics.median(encoder_rates), statistics.median(batch_rates)

    runtimes = f"encoder {type(checker.encoder).__name__}, cross-encoder {type(checker.nli).__name__ if checker.nli else 'off'}"
    print(f"{len(claims)} claims ({runtimes}), {config.embedding.threads} threads, encoder batch size "
          f"{config.embedding.batch_size}, batch chunk {config.batch.chunk_rows} rows, "
          f"median of {args.rounds} alternating rounds\n")
    print("| measure | value |\n|---|---|")
    print(f"| raw encoder | {encoder_rate:.1f} claims/s |")
    print(f"| factcheck batch, after start-up | {batch_rate:.1f} claims/s |")
    print(f"| cold start (process start to first verdict written) | {statistics.median(colds):.1f} s |")
    print(f"| peak memory of the batch process | {max(peaks) / 1024:.0f} MiB |")
    print(f"| ratio batch (after start-up) / raw encoder | {batch_rate / encoder_rate:.2f} |")
    print("per round (encoder, batch): " + ", ".join(f"{e:.1f}/{b:.1f}" for e, b in zip(encoder_rates, batch_rates)))

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
    try:
        main()
    except FactCheckError as error:  # a bad config, or a profile whose verdict model was never trained
        sys.exit(f"error: {error}")
