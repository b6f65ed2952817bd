"""The Dask engine against the local engine: claims/s of `factcheck batch` on the same input, in one run.

    .venv/bin/python bench/dask_batch.py [--repeat 2] [--rounds 2] [--workers 1,2] [--set KEY=VALUE ...]

Each engine (local; dask with 1 and with 2 local worker processes) checks the labelled claims (``--repeat``
times over) as a fresh `factcheck batch` process, once on one row and once on all rows. The one-row run is
the start-up (for dask: starting the cluster and loading the model in every worker); the difference
between the two runs is the time for the remaining rows, so start-up cancels out. Engines alternate
within each of ``--rounds`` rounds and the median is reported, so a slow moment of a shared machine hits
all alike; the load average as each round began is printed as well. Every run's output is compared with
the local engine's: the table says whether they are identical. The ratios are to the local engine after
start-up; on a machine of C cores, N worker processes share those C cores.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.throughput import claim_inputs  # noqa: E402

import pandas as pd  # noqa: E402

from pipeline.config import load_config  # noqa: E402

FACTCHECK = str(Path(sys.executable).parent / "factcheck")


def timed(args: list[str]) -> float:
    """Wall seconds of one `factcheck` process; stops the benchmark with its error when it fails."""
    started = time.perf_counter()
    done = subprocess.run(args, capture_output=True, text=True, cwd=ROOT)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"error: {' '.join(args)} failed: {done.stderr.strip().splitlines()[-1:]}")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=2, help="the labelled claims, this many times over")
    parser.add_argument("--rounds", type=int, default=2, help="alternating measurement rounds (median reported)")
    parser.add_argument("--workers", default="1,2", help="local dask worker counts to measure, comma-separated")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="config override passed to every run, as `factcheck --set`")
    args = parser.parse_args()
    config = load_config(None, args.overrides)
    claims = list(pd.read_csv(config.path("labelled_claims"), keep_default_na=False)["claim"]) * args.repeat
    overrides = [part for value in args.overrides for part in ("--set", value)]
    engines = {"local": []} | {f"dask, {n} worker{'s' * (n > 1)}": ["--engine", "dask", "--workers", str(n)]
                               for n in map(int, args.workers.split(","))}

    starts: dict[str, list[float]] = {name: [] for name in engines}
    rates: dict[str, list[float]] = {name: [] for name in engines}
    identical: dict[str, bool] = {name: True for name in engines}
    with tempfile.TemporaryDirectory() as tmp:
        inputs = claim_inputs(Path(tmp), claims)
        reference, loads = None, []
        for _ in range(args.rounds):
            loads.append(os.getloadavg()[0])  # a shared machine: how busy it was as each round began
            for name, options in engines.items():
                output = Path(tmp) / f"{name.replace(' ', '_').replace(',', '')}.csv"
                start = timed([FACTCHECK, "batch", str(inputs["one"]), "-o", str(output), *options, *overrides])
                whole = timed([FACTCHECK, "batch", str(inputs["all"]), "-o", str(output), *options, *overrides])
                starts[name].append(start)
                rates[name].append((len(claims) - 1) / max(1e-9, whole - start))
                written = output.read_bytes()
                reference = reference if reference is not None else written  # the local engine runs first
                identical[name] = identical[name] and written == reference

    local = statistics.median(rates["local"])
    print(f"{len(claims)} claims, {os.cpu_count()} cores, embedding.threads {config.embedding.threads} per process, "
          f"chunks of {config.batch.chunk_rows} rows, median of {args.rounds} alternating rounds\n")
    print("| engine | start-up (s) | claims/s after start-up | ratio to local | output identical to local |")
    print("|---|---|---|---|---|")
    for name in engines:
        rate = statistics.median(rates[name])
        print(f"| {name} | {statistics.median(starts[name]):.1f} | {rate:.1f} | {rate / local:.2f} | "
              f"{'yes' if identical[name] else 'NO'} |")
    print("per round (claims/s): " + "; ".join(f"{name} " + "/".join(f"{r:.1f}" for r in rates[name])
                                            for name in engines))
    print("load average (1 min) as each round began: " + "/".join(f"{load:.1f}" for load in loads))


if __name__ == "__main__":
    main()
