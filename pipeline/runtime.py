"""Process-wide settings, applied by the entry points (CLI, ``FactChecker.from_config``, benchmarks)
and never on import."""
from __future__ import annotations

import os

from .config import Config

# Models come from local folders only; a hub lookup would fail on an air-gapped server.
OFFLINE_ENVIRONMENT = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "TRANSFORMERS_VERBOSITY": "error",
                       "TOKENIZERS_PARALLELISM": "false"}


def configure_environment() -> None:
    """Offline, quiet model libraries; a value the user set is kept. Call before importing them."""
    for name, value in OFFLINE_ENVIRONMENT.items():
        os.environ.setdefault(name, value)


def configure_runtime(config: Config) -> None:
    """``configure_environment`` and torch's intra-op thread count (``embedding.threads``)."""
    configure_environment()
    import torch

    torch.set_num_threads(config.embedding.threads)
