"""Retrieve stage: hybrid BM25 + dense search with reciprocal-rank fusion."""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from .chunk import Passage
from .config import Retrieval
from .errors import FactCheckError
from .index import Index
from .overlap import overlap
from .text import stem, word_tokens


@dataclass(frozen=True)
class Hit:
    passage: Passage
    score: float          # what the ranking uses: the reranker's probability (0 past rerank_depth), else the fused score
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




# What the reranker knows of each candidate, by name. Each also enters as its distance to the best
# candidate's value: the choice is among candidates.
CANDIDATE_FEATURES = ("fused_rank", "dense_score", "dense_rank", "lexical_share", "lexical_rank", "coverage",
                      "passage_coverage", "numbers_matched", "length", "weighted_coverage", "bigram_share",
                      "sentence_dense_score", "weighted_coverage_with_previous", "weighted_coverage_with_next",
                      "previous_dense_score", "next_dense_score")
RERANK_FEATURES = CANDIDATE_FEATURES + tuple(f"{name}_below_best" for name in CANDIDATE_FEATURES)


@lru_cache(maxsize=8192)
def _stem_bigrams(text: str) -> frozenset[tuple[str, str]]:
    stems = [stem(token) for token in word_tokens(text)]
    return frozenset(zip(stems, stems[1:]))


def _candidate_features(result: RetrievalResult, rank: int, hit: Hit, before: int | None, after: int | None,
                        sentence_dense: dict[int, float], top_lexical: float, index: Index) -> dict[str, float]:
    analyzer = index.analyzer
    claim_terms = analyzer.term_set(result.claim)
    terms = analyzer.term_set(hit.passage.text)
    shared = overlap(result.claim, hit.passage.text, analyzer)
    claim_bigrams = _stem_bigrams(result.claim)
    with_neighbour = {side: index.weighted_coverage(claim_terms, terms | analyzer.term_set(index.passages[row].text))
                      if row is not None else 0.0 for side, row in (("previous", before), ("next", after))}
    return {
        "fused_rank": 1 / rank,
        "dense_score": hit.dense_score,
        "dense_rank": 1 / hit.dense_rank if hit.dense_rank else 0.0,
        "lexical_share": hit.lexical_score / top_lexical,
        "lexical_rank": 1 / hit.lexical_rank if hit.lexical_rank else 0.0,
        "coverage": shared.coverage,
        "passage_coverage": shared.passage_coverage,
        "numbers_matched": float(shared.numbers_matched),
        "length": float(np.log1p(len(hit.passage.text))),
        "weighted_coverage": index.weighted_coverage(claim_terms, terms),
        "bigram_share": len(claim_bigrams & _stem_bigrams(hit.passage.text)) / max(1, len(claim_bigrams)),
        "sentence_dense_score": float(sentence_dense[hit.row]),
        "weighted_coverage_with_previous": with_neighbour["previous"],
        "weighted_coverage_with_next": with_neighbour["next"],
        "previous_dense_score": float(sentence_dense[before]) if before is not None else 0.0,
        "next_dense_score": float(sentence_dense[after]) if after is not None else 0.0,
    }


def rerank_features(result: RetrievalResult, hits: list[Hit], index: Index) -> np.ndarray:
    """One row per candidate, columns in the order of ``RERANK_FEATURES``: how it ranked, how much of
    the claim it covers (plain, weighted by rarity, as word pairs, and in meaning against the passage
    without its title/section context), and how its neighbours in the document add to that: "Dit
    komt neer op 280.000 mensen" needs the sentence before it."""
    neighbours = [index.neighbours(hit.row) for hit in hits]
    # Only the candidates and their neighbours are compared in meaning, not the whole corpus.
    needed = sorted({hit.row for hit in hits} | {row for pair in neighbours for row in pair if row is not None})
    sentence_dense = dict(zip(needed, (index.sentence_embeddings[needed] @ result.claim_vector).tolist()))
    top_lexical = max((hit.lexical_score for hit in hits), default=0.0) or 1.0
    rows = [_candidate_features(result, rank, hit, before, after, sentence_dense, top_lexical, index)
            for rank, (hit, (before, after)) in enumerate(zip(hits, neighbours), 1)]
    own = np.array([[row[name] for name in CANDIDATE_FEATURES] for row in rows], dtype=np.float32)
    own = own.reshape(len(rows), len(CANDIDATE_FEATURES))
    best = own.max(axis=0, keepdims=True) if len(own) else own
    return np.hstack([own, own - best])


class EvidenceReranker(ClassifierMixin, BaseEstimator):
    """Reorders the fused candidates with a logistic regression fit on claims whose gold evidence
    is known (target: the candidate contains the quote). A scikit-learn estimator."""

    def __init__(self, regularisation: float = 1.0):
        self.regularisation = regularisation

    def fit(self, X: np.ndarray, y: np.ndarray) -> "EvidenceReranker":
        """``X``: rows of ``rerank_features``; ``y``: whether each candidate holds the evidence."""
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        X, y = validate_data(self, X, y)
        check_classification_targets(y)
        model = make_pipeline(StandardScaler(), LogisticRegression(C=self.regularisation, max_iter=2000))
        self.model_ = model.fit(X, y)
        self.classes_ = self.model_.classes_
        return self

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        check_is_fitted(self, "model_")
        return self.model_.predict_proba(validate_data(self, X, reset=False))

    def predict(self, X: np.ndarray) -> np.ndarray:
        check_is_fitted(self, "model_")
        return self.model_.predict(validate_data(self, X, reset=False))

    def evidence_probability(self, features: np.ndarray) -> np.ndarray:
        """Per candidate, the probability that it holds the evidence."""
        return self.predict_proba(features)[:, 1]

    @classmethod
    def from_fitted_pipeline(cls, model) -> "EvidenceReranker":
        """A reranker around a pipeline fit earlier (``model_`` as saved with the verdict model)."""
        reranker = cls()
        reranker.model_, reranker.classes_, reranker.n_features_in_ = model, model.classes_, model.n_features_in_
        return reranker


class Retriever:
    """Ranks passages for claims. ``fusion`` picks dense, lexical or reciprocal-rank fusion; a trained
    reranker, when given, reorders the best ``rerank_depth`` fused candidates."""

    def __init__(self, index: Index, encoder, settings: Retrieval, reranker: EvidenceReranker | None = None):
        self.index, self.encoder, self.settings = index, encoder, settings
        self.reranker = reranker
        self._vocab = getattr(index.bm25, "vocab_dict", None) or {}

    def lexical_scores(self, claim: str) -> np.ndarray:
        terms = sorted(term for term in self.index.analyzer.term_set(claim) if term in self._vocab)
        if not terms:
            return np.zeros(len(self.index.passages), dtype=np.float32)
        return np.asarray(self.index.bm25.get_scores(terms), dtype=np.float32)

    def search_many(self, claims: list[str], k: int | None = None, fusion: str | None = None,
                    rerank: bool = True) -> list[RetrievalResult]:
        """Rank passages for many claims (one encoder call); the best ``k`` per claim, best first."""
        k = self.settings.k if k is None else k
        if k < 1:
            raise FactCheckError(f"k must be 1 or more, got {k}")
        vectors = self.encoder.encode_queries(claims)
        dense_all = vectors @ self.index.embeddings.T
        depth = self.settings.rerank_depth if (rerank and self.reranker is not None) else 0
        results = [self._rank(claim, vector, dense, max(k, depth), fusion or self.settings.fusion)
                   for claim, vector, dense in zip(claims, vectors, dense_all)]
        if depth:
            results = self.rerank(results, self.reranker)
        return [RetrievalResult(r.claim, r.claim_vector, r.hits[:k]) for r in results]

    def search(self, claim: str, k: int | None = None, fusion: str | None = None, rerank: bool = True) -> RetrievalResult:
        return self.search_many([claim], k, fusion, rerank)[0]

    def rerank(self, results: list[RetrievalResult], reranker: EvidenceReranker) -> list[RetrievalResult]:
        """Reorder each result's best ``rerank_depth`` candidates by ``reranker``; one model call in all.
        Candidates past that depth follow in fused order, with score 0: the reranker did not judge them,
        and reordering them would let ``k`` change the top of the list."""
        depth = self.settings.rerank_depth
        blocks = [rerank_features(r, r.hits[:depth], self.index) for r in results]
        scores = reranker.evidence_probability(np.vstack(blocks)) if blocks else np.zeros(0)
        reranked, offset = [], 0
        for result, block in zip(results, blocks):
            candidates, own = result.hits[:depth], scores[offset:offset + len(block)]
            offset += len(block)
            order = np.argsort(-own, kind="stable")
            hits = [Hit(candidates[i].passage, float(own[i]), candidates[i].dense_score, candidates[i].lexical_score,
                        candidates[i].dense_rank, candidates[i].lexical_rank, candidates[i].row) for i in order]
            hits += [Hit(hit.passage, 0.0, hit.dense_score, hit.lexical_score, hit.dense_rank, hit.lexical_rank, hit.row)
                     for hit in result.hits[depth:]]
            reranked.append(RetrievalResult(result.claim, result.claim_vector, hits))
        return reranked

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
