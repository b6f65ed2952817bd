"""Dense search: the passages whose embeddings lie nearest a claim's, behind one small interface.

Two implementations of ``DenseSearch``:

- ``ExactSearch`` scores every passage with one matrix product (numpy), as the retriever always did;
  exact, and fast enough up to a few hundred thousand passages;
- ``FaissSearch`` walks an HNSW graph (faiss-cpu) built by `factcheck index` and stored in the index
  folder as ``dense.faiss``: approximate, a fraction of a millisecond per claim at a million passages.
  HNSW was chosen over IVF by ``bench/scale.py``: at the same latency it finds far more of the exact
  top 10.

``retrieval.dense_backend`` picks one: ``exact``, ``faiss``, or ``auto`` (faiss from
``retrieval.faiss_min_passages`` passages on). The index manifest records what was built
(``dense_fingerprint``), so changing the choice or the graph settings makes the index out of date.
"""
from __future__ import annotations

from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Protocol

import numpy as np

from .config import Retrieval
from .errors import FactCheckError

FAISS_FILE = "dense.faiss"
# The exact search scores a block of claims against every passage at once; blocks are cut so that one
# block's scores stay near this many bytes (a batch of claims against a million passages would not fit).
_EXACT_BLOCK_BYTES = 1 << 28


@dataclass(frozen=True)
class DenseHits:
    """One claim's nearest passages, best first."""

    rows: np.ndarray              # passage rows (int64)
    scores: np.ndarray            # their cosine similarity to the claim (float32)
    all_scores: np.ndarray | None = None  # every passage's similarity, where the search computed them all


class DenseSearch(Protocol):
    """What the retriever needs of a dense search."""

    backend: str

    def search(self, queries: np.ndarray, depth: int) -> list[DenseHits]:
        """For each unit-length query row, its ``depth`` nearest passages (fewer when there are fewer)."""
        ...


def top_rows(scores: np.ndarray, depth: int) -> np.ndarray:
    """Rows of the ``depth`` highest scores, best first, equal scores by row: the first ``depth`` of
    ``np.argsort(-scores, kind="stable")``, without sorting every score."""
    if depth >= len(scores):
        return np.argsort(-scores, kind="stable")
    if depth <= 0:
        return np.zeros(0, dtype=np.int64)
    threshold = np.partition(scores, len(scores) - depth)[len(scores) - depth]  # the depth-th highest
    above = np.flatnonzero(scores > threshold)
    tied = np.flatnonzero(scores == threshold)[:depth - len(above)]  # ascending rows: the stable order
    rows = np.concatenate([above, tied])
    return rows[np.lexsort((rows, -scores[rows]))]


class ExactSearch:
    """Every passage scored against every claim: exact, memory and time linear in the corpus."""

    backend = "exact"

    def __init__(self, embeddings: np.ndarray):
        self.embeddings = embeddings

    def search(self, queries: np.ndarray, depth: int) -> list[DenseHits]:
        block = max(1, _EXACT_BLOCK_BYTES // (4 * max(1, len(self.embeddings))))
        found = []
        for start in range(0, len(queries), block):
            for scores in queries[start:start + block] @ self.embeddings.T:
                rows = top_rows(scores, depth)
                found.append(DenseHits(rows, scores[rows], scores))
        return found


class FaissSearch:
    """Approximate search in an HNSW graph over the passage embeddings (inner product = cosine on unit
    vectors). ``search_depth`` is HNSW's efSearch: how many candidates the walk keeps; more is slower and
    finds more of the exact neighbours. It never goes below the depth asked for."""

    backend = "faiss"

    def __init__(self, graph, search_depth: int):
        self.graph, self.search_depth = graph, search_depth

    @classmethod
    def build(cls, embeddings: np.ndarray, settings: Retrieval) -> "FaissSearch":
        import faiss

        graph = faiss.IndexHNSWFlat(embeddings.shape[1], settings.hnsw_neighbours, faiss.METRIC_INNER_PRODUCT)
        graph.hnsw.efConstruction = settings.hnsw_build_depth
        graph.add(np.ascontiguousarray(embeddings, dtype=np.float32))
        return cls(graph, settings.hnsw_search_depth)

    def save(self, path: Path) -> None:
        import faiss

        faiss.write_index(self.graph, str(path))

    @classmethod
    def load(cls, path: Path, settings: Retrieval) -> "FaissSearch":
        import faiss

        if not path.is_file():
            raise FactCheckError(f"{path} is missing; rebuild the index with `factcheck index --force`")
        try:
            graph = faiss.read_index(str(path))
        except RuntimeError as exc:  # faiss reports a short or garbled file this way
            reason = (str(exc).strip().splitlines() or ["unreadable"])[-1]
            raise FactCheckError(f"{path} is damaged ({reason}); rebuild the index with "
                                 "`factcheck index --force`") from None
        return cls(graph, settings.hnsw_search_depth)

    def search(self, queries: np.ndarray, depth: int) -> list[DenseHits]:
        import faiss

        if len(queries) == 0:
            return []
        depth = min(depth, self.graph.ntotal)
        params = faiss.SearchParametersHNSW(efSearch=max(self.search_depth, depth))
        scores, rows = self.graph.search(np.ascontiguousarray(queries, dtype=np.float32), depth, params=params)
        found = []
        for own_rows, own_scores in zip(rows, scores):
            keep = own_rows >= 0  # faiss pads with -1 when the walk found fewer
            found.append(DenseHits(own_rows[keep].astype(np.int64), own_scores[keep]))
        return found


def resolved_backend(settings: Retrieval, passages: int) -> str:
    """``exact`` or ``faiss``: ``auto`` picks faiss from ``faiss_min_passages`` passages on."""
    if settings.dense_backend == "auto":
        return "faiss" if passages >= settings.faiss_min_passages else "exact"
    return settings.dense_backend


def dense_fingerprint(settings: Retrieval, passages: int) -> dict:
    """What the index manifest records of the dense search built for ``passages`` passages; a change to
    any of it makes the stored search out of date. The exact search stores nothing of its own."""
    if resolved_backend(settings, passages) == "exact":
        return {"backend": "exact"}
    return {"backend": "faiss", "structure": "hnsw", "neighbours": settings.hnsw_neighbours,
            "build_depth": settings.hnsw_build_depth, "faiss": metadata.version("faiss-cpu")}


def write_dense(folder: Path, embeddings: np.ndarray, settings: Retrieval) -> None:
    """Build and store what the configured dense search needs in the index folder being written."""
    if resolved_backend(settings, len(embeddings)) == "faiss":
        FaissSearch.build(embeddings, settings).save(folder / FAISS_FILE)


def load_dense(folder: Path, fingerprint: dict, embeddings: np.ndarray, settings: Retrieval) -> DenseSearch:
    """The dense search the index was built with (its manifest's ``fingerprint``)."""
    if fingerprint["backend"] == "faiss":
        return FaissSearch.load(folder / FAISS_FILE, settings)
    return ExactSearch(embeddings)
