"""Retrieve stage: hybrid BM25 + dense search with reciprocal-rank fusion."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .chunk import Passage
from .config import Retrieval
from .index import Index


@dataclass(frozen=True)
class Hit:
    passage: Passage
    score: float          # fused score (what the ranking uses)
    dense_score: float    # cosine similarity of claim and passage
    lexical_score: float  # BM25 score
    dense_rank: int       # 1-based; 0 when outside the retriever's candidates
    lexical_rank: int
    row: int              # row of the passage in the index (and its embedding)


@dataclass(frozen=True)
class RetrievalResult:
    claim: str
    claim_vector: np.ndarray
    hits: list[Hit]




class Retriever:
    """Ranks passages for claims. ``fusion`` picks dense, lexical or reciprocal-rank fusion."""

    def __init__(self, index: Index, encoder, settings: Retrieval):
        self.index, self.encoder, self.settings = index, encoder, settings
        self._vocab = getattr(index.bm25, "vocab_dict", None) or {}

    def lexical_scores(self, claim: str) -> np.ndarray:
        terms = sorted(term for term in self.index.analyzer.term_set(claim) if term in self._vocab)
        if not terms:
            return np.zeros(len(self.index.passages), dtype=np.float32)
        return np.asarray(self.index.bm25.get_scores(terms), dtype=np.float32)

    def search_many(self, claims: list[str], k: int | None = None, fusion: str | None = None) -> list[RetrievalResult]:
        k = k or self.settings.k
        vectors = self.encoder.encode_queries(claims)
        dense_all = vectors @ self.index.embeddings.T
        return [self._rank(claim, vector, dense, k, fusion or self.settings.fusion)
                for claim, vector, dense in zip(claims, vectors, dense_all)]

    def search(self, claim: str, k: int | None = None, fusion: str | None = None) -> RetrievalResult:
        return self.search_many([claim], k, fusion)[0]

    def _rank(self, claim: str, vector: np.ndarray, dense: np.ndarray, k: int, fusion: str) -> RetrievalResult:
        lexical = self.lexical_scores(claim)
        n = self.settings.candidates
        dense_order = np.argsort(-dense, kind="stable")
        lexical_order = np.argsort(-lexical, kind="stable")
        dense_rank = np.zeros(len(dense), dtype=int)
        lexical_rank = np.zeros(len(dense), dtype=int)
        dense_rank[dense_order[:n]] = np.arange(1, min(n, len(dense)) + 1)
        has_terms = lexical > 0
        top_lexical = [i for i in lexical_order[:n] if has_terms[i]]
        lexical_rank[top_lexical] = np.arange(1, len(top_lexical) + 1)

        if fusion == "dense":
            fused = dense.astype(np.float64)
        elif fusion == "lexical":
            fused = lexical.astype(np.float64) + 1e-6 * dense  # dense breaks ties among zero scores
        else:
            rrf_k, s = self.settings.rrf_k, self.settings
            fused = np.zeros(len(dense))
            fused[dense_rank > 0] += s.dense_weight / (rrf_k + dense_rank[dense_rank > 0])
            fused[lexical_rank > 0] += s.lexical_weight / (rrf_k + lexical_rank[lexical_rank > 0])
            fused += 1e-6 * dense  # deterministic tie-break
        order = np.argsort(-fused, kind="stable")[:k]
        hits = [Hit(self.index.passages[i], float(fused[i]), float(dense[i]), float(lexical[i]),
                    int(dense_rank[i]), int(lexical_rank[i]), int(i)) for i in order]
        return RetrievalResult(claim, vector, hits)
