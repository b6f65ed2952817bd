"""Process-wide settings, applied by the entry points (CLI, ``FactChecker.from_config``, benchmarks)
and never on import."""
from __future__ import annotations

import os
import sys
from contextlib import contextmanager
from typing import Iterator

from .config import Config

# Models come from local folders only; a hub lookup would fail on an air-gapped server.
OFFLINE_ENVIRONMENT = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "TRANSFORMERS_VERBOSITY": "error",
                       "TOKENIZERS_PARALLELISM": "false"}


def configure_environment() -> None:
    """Offline, quiet model libraries; a value the user set is kept. Call before importing them."""
    for name, value in OFFLINE_ENVIRONMENT.items():
        os.environ.setdefault(name, value)


def configure_runtime(config: Config) -> None:
    """``configure_environment`` and torch's intra-op thread count (``embedding.threads``). Torch is not
    imported for it (that alone took seconds of a `factcheck check` that runs the ONNX encoder): it reads
    the count from OMP_NUM_THREADS when a later step imports it."""
    configure_environment()
    os.environ["OMP_NUM_THREADS"] = str(config.embedding.threads)
    if "torch" in sys.modules:  # already imported: tell it directly
        sys.modules["torch"].set_num_threads(config.embedding.threads)


@contextmanager
def torch_hidden() -> Iterator[None]:
    """Inside the block, ``import torch`` fails as if torch were not installed; after it, torch imports as
    usual. For libraries that import torch only because it is there, which costs a second of start-up in
    processes that never run it: spaCy's thinc (only spaCy's word lists are read here) and skops, which lists
    every scikit-learn estimator (one wraps torch arrays). No-op once torch is imported."""
    if "torch" in sys.modules:
        yield
        return
    sys.modules["torch"] = None  # type: ignore[assignment]  # Python's way of marking a module absent
    try:
        yield
    finally:
        if sys.modules.get("torch", False) is None:
            del sys.modules["torch"]


def training_precision(setting: str) -> str:
    """The precision a fine-tuning run computes in, "float32" or "bfloat16". ``auto``: bfloat16 where the CPU
    multiplies it natively (AVX-512 BF16, which every AMX CPU has), where it trains faster; float32 elsewhere,
    where bfloat16 is emulated and slower."""
    if setting != "auto":
        return setting
    import torch

    return "bfloat16" if getattr(torch.cpu, "_is_avx512_bf16_supported", lambda: False)() else "float32"
