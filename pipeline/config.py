"""Load and validate ``configs/default.yaml`` (or another YAML file of the same shape)."""
from __future__ import annotations

from pathlib import Path
from typing import Literal, Sequence

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from .errors import FactCheckError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG = PROJECT_ROOT / "configs" / "default.yaml"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Paths(_Section):
    corpus_dir: Path
    index_dir: Path
    models_dir: Path
    verifier_model: Path
    labelled_claims: Path
    training_pairs: Path
    labelled_posts: Path
    holdout_posts: Path
    post_reader: Path


class Embedding(_Section):
    model: Literal["e5-small-nl", "minilm-en"]
    batch_size: int = Field(gt=0, le=1024)
    max_seq_length: int = Field(ge=16, le=512)
    threads: int = Field(ge=1, le=64)
    symmetric_prefix: bool
    runtime: Literal["auto", "torch", "onnx"]  # pipeline/onnx_encoder.py
    onnx_min_cosine: float = Field(gt=0, le=1)  # an ONNX export is kept only this close to the torch model


class Adaptation(_Section):
    enabled: bool
    epochs: int = Field(ge=1, le=20)
    batch_size: int = Field(ge=2, le=512)
    learning_rate: float = Field(gt=0, le=1e-2)
    query_share: float = Field(gt=0, le=1)
    scale: float = Field(gt=0)
    max_seq_length: int = Field(ge=16, le=512)
    seed: int
    use_pairs: bool


class Chunking(_Section):
    max_sentences: int = Field(ge=1, le=10)
    max_chars: int = Field(ge=50, le=5000)
    min_chars: int = Field(ge=0, le=500)
    context: Literal["none", "section", "title_section"]
    lexical_context: bool


class Retrieval(_Section):
    k: int = Field(ge=1, le=50)
    candidates: int = Field(ge=1, le=500)
    fusion: Literal["rrf", "dense", "lexical", "written"]
    rrf_k: float = Field(gt=0)
    dense_weight: float = Field(ge=0)
    lexical_weight: float = Field(ge=0)
    written_claims_weight: float = Field(ge=0)  # the ranking by written claims (pipeline/written_claims.py); 0: off
    split_compounds: bool
    rerank_depth: int = Field(ge=0, le=100)
    dense_backend: Literal["exact", "faiss", "auto"]  # pipeline/dense.py
    faiss_min_passages: int = Field(ge=1)             # auto: faiss from this many passages on
    hnsw_neighbours: int = Field(ge=4, le=128)        # links per passage in the graph (HNSW's M)
    hnsw_build_depth: int = Field(ge=8, le=1024)      # candidates kept while building (efConstruction)
    hnsw_search_depth: int = Field(ge=8, le=4096)     # candidates kept while searching (efSearch)


class Verdict(_Section):
    seed: int
    calibration_folds: int = Field(ge=2, le=20)
    regularisation: float = Field(gt=0)
    embedding_pair_features: bool
    post_contradicted_margin: float = Field(ge=0, le=1)
    review_precision: float = Field(gt=0, le=1)
    conflict_depth: int = Field(ge=0, le=20)
    conflict_min_confidence: float = Field(ge=0, le=1)
    conflict_min_nli: float = Field(ge=0, le=1)
    training_splits: list[str] = Field(min_length=1)
    train_on_pairs: bool
    pairs_share: float = Field(gt=0, le=1)
    labelled_weight: int = Field(ge=1, le=100)
    post_claims_weight: int = Field(ge=0, le=100)
    post_claims_as_read: bool
    pair_memory: bool
    memory_fallback: bool


class Nli(_Section):
    enabled: bool
    sick_nl: Path | None                  # SICK-NL's text file, read in place (never copied); None: not used
    sick_splits: list[Literal["TRAIN", "TRIAL"]] = Field(min_length=1)
    sick_marker: str = Field(max_length=40)  # leads each SICK premise: the model tells SICK's sentences from ours
    sick_share: float = Field(gt=0, le=1)    # share of those SICK pairs trained on (an even sample, the same each run)
    layers: int = Field(ge=1, le=12)
    frozen_layers: int = Field(ge=0, le=11)  # lowest layers (and the embeddings) left as e5 has them
    epochs: int = Field(ge=1, le=10)
    batch_size: int = Field(ge=1, le=256)
    bucket_batches: int = Field(ge=1, le=10_000)  # batches sorted by length together: less padding
    learning_rate: float = Field(gt=0, le=1e-2)
    max_length: int = Field(ge=16, le=512)
    seed: int
    # bfloat16 | float32 | auto (bfloat16 where the CPU computes it natively): what training multiplies in
    training_precision: Literal["auto", "float32", "bfloat16"]
    top_passages: int = Field(ge=1, le=20)
    rerank_depth: int = Field(ge=1, le=20)   # best passages the cross-encoder reads to reorder them (at most retrieval.k)
    rerank_weight: float = Field(ge=0, le=10)  # weight of its reading against the reranker's (0: the reranker's order)
    runtime: Literal["auto", "torch", "onnx"]  # as embedding.runtime, for the cross-encoder (pipeline/nli.py)
    onnx_max_difference: float = Field(gt=0, le=0.1)  # an ONNX export is kept only this close to torch's probabilities

    @model_validator(mode="after")
    def _some_layer_trained(self) -> "Nli":
        if self.frozen_layers >= self.layers:
            raise ValueError(f"frozen_layers ({self.frozen_layers}) must be below layers ({self.layers})")
        return self


class Posts(_Section):
    max_chars: int = Field(ge=100)
    min_claim_words: int = Field(ge=1)
    language_min_confidence: float = Field(ge=0, le=1)
    reader: bool
    reader_embeddings: bool
    reader_regularisation: float = Field(gt=0)
    reader_plain_claims: bool
    reader_training_splits: list[str] = Field(min_length=1)
    search_with_context: bool


class Batch(_Section):
    chunk_rows: int = Field(ge=1, le=100_000)
    text_column_candidates: list[str]
    dask_workers: int = Field(ge=1, le=1024)            # --engine dask: processes of a local cluster
    dask_partitions_in_flight: int = Field(ge=1, le=64)  # chunks queued per worker thread
    dask_timeout_s: float = Field(gt=0)                 # to reach --scheduler and find a worker there


class Workbench(_Section):
    """`factcheck serve`: the moderator workbench (pipeline/workbench/)."""
    host: str = Field(min_length=1)
    port: int = Field(ge=1, le=65535)
    database: str = Field(min_length=1)        # a SQLAlchemy URL or a SQLite file path
    page_size: int = Field(ge=1, le=500)
    context_passages: int = Field(ge=0, le=10)  # passages shown before and after a highlighted one
    memory_threshold: float = Field(ge=0, le=1)
    max_upload_bytes: int = Field(ge=1024)
    max_upload_rows: int = Field(ge=1)
    reply_quote_chars: int = Field(ge=40, le=2000)
    reply_footer: str
    logins: dict[str, str] = Field(default_factory=dict)  # moderator name -> argon2 hash of the password
    session_hours: float = Field(gt=0, le=24 * 30)


class Config(_Section):
    paths: Paths
    embedding: Embedding
    adaptation: Adaptation
    chunking: Chunking
    retrieval: Retrieval
    verdict: Verdict
    nli: Nli
    posts: Posts
    batch: Batch
    workbench: Workbench

    def without_adaptation(self) -> "Config":
        """The same settings with the base embedding model, as converted (no corpus adaptation)."""
        return self.model_copy(update={"adaptation": self.adaptation.model_copy(update={"enabled": False})})

    def path(self, name: str) -> Path:
        """An entry of ``paths`` resolved against the project root."""
        return self.resolve(getattr(self.paths, name))

    @staticmethod
    def resolve(value: Path) -> Path:
        """A configured path, relative to the project root unless absolute."""
        return value if value.is_absolute() else PROJECT_ROOT / value


def read_yaml(path: Path, what: str):
    """Parse a YAML file; unreadable or malformed files become a one-line FactCheckError."""
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise FactCheckError(f"cannot read {what} {path}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise FactCheckError(f"{what} {path} is not valid YAML: {exc}".splitlines()[0]) from None


def _merged(base: dict, overrides: dict) -> dict:
    merged = dict(base)
    for key, value in overrides.items():
        merged[key] = _merged(base[key], value) if isinstance(value, dict) and isinstance(base.get(key), dict) else value
    return merged


def _read_profile(path: Path, seen: tuple[Path, ...] = ()) -> dict:
    """A config file as a mapping; ``extends: other.yaml`` (beside it) supplies every key it leaves out.
    A file without ``extends`` extends configs/default.yaml, so a small file names only what it changes."""
    raw = read_yaml(path, "config")
    if raw is None:  # an empty file changes nothing
        raw = {}
    if not isinstance(raw, dict):
        raise FactCheckError(f"config {path} must be a mapping of sections")
    parent = raw.pop("extends", None)
    if parent is not None:
        base_path = (path.parent / str(parent)).resolve()
    elif path.resolve() == DEFAULT_CONFIG.resolve():
        return raw
    else:
        base_path = DEFAULT_CONFIG.resolve()
    if base_path in seen:
        raise FactCheckError(f"config {path}: 'extends' loops back to {base_path}")
    return _merged(_read_profile(base_path, seen + (path.resolve(),)), raw)


def _override(raw: dict, assignment: str) -> list[str]:
    """Apply one ``--set section.key=value`` (the value read as YAML) to ``raw``; return the key's parts."""
    dotted, equals, text = assignment.partition("=")
    parts = [part.strip() for part in dotted.split(".")]
    if not equals or not all(parts):
        raise FactCheckError(f"--set {assignment}: expected KEY=VALUE, e.g. --set retrieval.k=3")
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError:
        raise FactCheckError(f"--set {assignment}: the value is not valid YAML") from None
    node = raw
    for depth, part in enumerate(parts[:-1], 1):
        # An unknown section is created, so that validation names the bad key as for a config file.
        node = node.setdefault(part, {})
        if not isinstance(node, dict):
            raise FactCheckError(f"--set {assignment}: '{'.'.join(parts[:depth])}' is a value, not a section")
    node[parts[-1]] = value
    return parts


def load_config(path: str | Path | None = None, overrides: Sequence[str] = ()) -> Config:
    """Read and validate a config file, layered over configs/default.yaml, with ``overrides``
    (``section.key=value``, as ``--set`` gives them) applied last; raise FactCheckError naming the bad key."""
    path = Path(path) if path else DEFAULT_CONFIG
    raw = _read_profile(path)
    overridden = [(assignment, _override(raw, assignment)) for assignment in overrides]
    try:
        return Config(**raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = [str(part) for part in first["loc"]]
        key = ".".join(loc)
        # Name where the bad value came from: the --set that wrote that key, else the file.
        source = next((f"--set {assignment}" for assignment, parts in overridden
                       if parts[:len(loc)] == loc or loc[:len(parts)] == parts), f"config {path}")
        raise FactCheckError(f"{source}: bad key '{key}': {first['msg']}") from None
