"""Retrieve stage: hybrid BM25 + dense search with reciprocal-rank fusion."""
from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from .chunk import Passage
from .config import Retrieval
from .dense import DenseHits, ExactSearch, top_rows
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
    written_score: float = 0.0  # cosine to the closest written claim the passage decides (0: none, or not used)
    written_rank: int = 0       # 1-based rank by written_score; 0 when outside the candidates


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
                      "previous_dense_score", "next_dense_score", "written_score", "written_rank")
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
        "written_score": hit.written_score,
        "written_rank": 1 / hit.written_rank if hit.written_rank else 0.0,
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
        self.dense = index.dense_search or ExactSearch(index.embeddings)

    def lexical_scores(self, claim: str) -> np.ndarray:
        terms = sorted(term for term in self.index.analyzer.term_set(claim) if term in self._vocab)
        if not terms:
            return np.zeros(len(self.index.passages), dtype=np.float32)
        return np.asarray(self.index.bm25.get_scores(terms), dtype=np.float32)

    def search_many(self, claims: list[str], k: int | None = None, fusion: str | None = None,
                    rerank: bool = True, vectors: np.ndarray | None = None,
                    searches: list[str] | None = None, search_vectors: np.ndarray | None = None
                    ) -> list[RetrievalResult]:
        """Rank passages for many claims (one encoder call, none when their query ``vectors`` are given);
        the best ``k`` per claim, best first. ``searches`` (and their ``search_vectors``, encoded when not
        given): per claim, the text that finds its candidates when that is not the claim itself
        (``post_search_text``). The candidates then carry the claim's own text, vector and similarity
        (``_for_claim``), which the reranker's coverage features and the verdict model read."""
        k = self.settings.k if k is None else k
        if k < 1:
            raise FactCheckError(f"k must be 1 or more, got {k}")
        if vectors is None:
            vectors = self.encoder.encode_queries(claims)
        if searches is None:
            searches, search_vectors = claims, vectors
        elif search_vectors is None:
            search_vectors = self.encoder.encode_queries(searches)
        if not len(claims) == len(vectors) == len(searches) == len(search_vectors):
            raise FactCheckError(f"{len(claims)} claims, {len(vectors)} vectors, {len(searches)} search texts and "
                                 f"{len(search_vectors)} search vectors: one of each per claim")
        depth = self.settings.rerank_depth if (rerank and self.reranker is not None) else 0
        wanted = max(k, depth)
        # The dense candidates, and the most similar passages that order the rest of the top ``wanted``.
        dense_found = self.dense.search(search_vectors, max(wanted, self.settings.candidates))
        results = [self._rank(search, vector, found, wanted, fusion or self.settings.fusion)
                   for search, vector, found in zip(searches, search_vectors, dense_found)]
        results = [result if search == claim else self._for_claim(result, claim, vector)
                   for result, search, claim, vector in zip(results, searches, claims, vectors)]
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
            hits = [replace(candidates[i], score=float(own[i])) for i in order]
            hits += [replace(hit, score=0.0) for hit in result.hits[depth:]]
            reranked.append(RetrievalResult(result.claim, result.claim_vector, hits))
        return reranked

    def _rank(self, claim: str, vector: np.ndarray, found: DenseHits, k: int, fusion: str) -> RetrievalResult:
        """The best ``k`` passages by ``fusion``. Only the candidates are scored: the dense search's passages
        (``found``, at least ``candidates`` and ``k`` of them) and BM25's best. A passage outside both
        could only enter the top ``k`` through the tie-break by similarity, where the dense search's own
        passages come first, so the ranking is the one every passage scored would give."""
        lexical_all = self.lexical_scores(claim)
        n = self.settings.candidates
        if found.all_scores is None:  # an approximate search: rank its passages as the exact one would
            similarity = self._similarity(found, vector, found.rows)
            found = DenseHits(found.rows[np.lexsort((found.rows, -similarity))], np.sort(similarity)[::-1])
        lexical_top = top_rows(lexical_all, n)
        lexical_top = lexical_top[lexical_all[lexical_top] > 0]  # a passage sharing no term with the claim has no rank
        written_all, written_top = self._written_claim_scores(claim, vector)
        pool = np.union1d(np.union1d(found.rows, lexical_top), written_top)
        if fusion == "lexical":  # raw BM25 scores decide: add the passages the tie-break could lift into the top k
            pool = np.union1d(pool, _near_top(lexical_all, k))
        if fusion == "written" and written_all is not None:  # the written scores decide, past the candidates too
            pool = np.union1d(pool, _near_top(written_all + 1.0, k))  # shifted: a passage without any scores 0
        dense = self._similarity(found, vector, pool)
        lexical = lexical_all[pool]
        dense_rank = np.zeros(len(pool), dtype=int)
        lexical_rank = np.zeros(len(pool), dtype=int)
        dense_rank[np.searchsorted(pool, found.rows[:n])] = np.arange(1, min(n, len(found.rows)) + 1)
        lexical_rank[np.searchsorted(pool, lexical_top)] = np.arange(1, len(lexical_top) + 1)
        written_rank = np.zeros(len(pool), dtype=int)
        written_rank[np.searchsorted(pool, written_top)] = np.arange(1, len(written_top) + 1)
        written = np.maximum(written_all[pool], 0.0) if written_all is not None else np.zeros(len(pool))

        if fusion == "dense":
            fused = dense.astype(np.float64)
        elif fusion == "lexical":
            fused = lexical.astype(np.float64) + _TIE_BREAK * dense  # dense breaks ties among zero scores
        elif fusion == "written":  # the written claims alone (a baseline); -1: the passage has none
            fused = (written_all[pool].astype(np.float64) if written_all is not None else -np.ones(len(pool))) \
                + _TIE_BREAK * dense
        else:
            rrf_k, s = self.settings.rrf_k, self.settings
            fused = np.zeros(len(pool))
            fused[dense_rank > 0] += s.dense_weight / (rrf_k + dense_rank[dense_rank > 0])
            fused[lexical_rank > 0] += s.lexical_weight / (rrf_k + lexical_rank[lexical_rank > 0])
            fused[written_rank > 0] += s.written_claims_weight / (rrf_k + written_rank[written_rank > 0])
            fused += _TIE_BREAK * dense  # deterministic tie-break
        order = np.argsort(-fused, kind="stable")[:k]  # pool rows ascend, so ties go to the lower row
        hits = [Hit(self.index.passages[pool[i]], float(fused[i]), float(dense[i]), float(lexical[i]),
                    int(dense_rank[i]), int(lexical_rank[i]), int(pool[i]), float(written[i]), int(written_rank[i]))
                for i in order]
        return RetrievalResult(claim, vector, hits)

    def _for_claim(self, found: RetrievalResult, claim: str, vector: np.ndarray) -> RetrievalResult:
        """Passages found by a search text, as the claim's: its text, vector and similarity to each replace the
        search's. Ranks, BM25 and written-claim scores stay the search's: taking the claim's own written-claim
        scores instead lost posts and evidence on dev and test (docs/tried.md)."""
        similarity = self._stored_similarity(vector, np.array([hit.row for hit in found.hits], dtype=int))
        return RetrievalResult(claim, vector, [replace(hit, dense_score=float(score))
                                               for hit, score in zip(found.hits, similarity)])

    def _written_claim_scores(self, claim: str, vector: np.ndarray) -> tuple[np.ndarray | None, np.ndarray]:
        """Per passage, the similarity of its closest deciding written claim (``pipeline/written_claims.py``),
        and the best ``candidates`` passages by it; nothing when the index has none or the weight is 0."""
        written = self.index.written_claims
        if written is None or self.settings.written_claims_weight == 0:
            return None, np.zeros(0, dtype=int)
        scores = written.passage_scores(claim, vector, len(self.index.passages))
        top = top_rows(scores, self.settings.candidates)
        return scores, top[scores[top] > -1]

    def _similarity(self, found: DenseHits, vector: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """Cosine similarity of the claim to the passages at ``rows``: from the exact search's scores where
        it computed them all, else from the stored embeddings (only these rows are read)."""
        if found.all_scores is not None:
            return found.all_scores[rows]
        return self._stored_similarity(vector, rows)

    def _stored_similarity(self, vector: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """Cosine similarity of ``vector`` to the stored embeddings at ``rows`` (only these rows are read)."""
        return (self.index.embeddings[rows] @ vector).astype(np.float32)


def post_search_text(claim: str, context: str | None) -> str:
    """What finds a claim's candidates: the claim followed by the post it came from, when it has one. A claim
    taken out of one sentence of a post often leaves what it is about to the others, whose words then find
    the passage the claim alone misses."""
    return f"{claim} {context}" if context else claim


def reorder_by_reading(result: RetrievalResult, probabilities: np.ndarray, weight: float) -> RetrievalResult:
    """The first ``len(probabilities)`` reranked hits ordered again by the reranker's log-odds plus ``weight``
    times the log-odds that the cross-encoder reads the passage as deciding the claim (entailing or
    contradicting it, the likelier of the two); the rest keep their place. A passage on the claim's topic that
    decides nothing then yields to one that does. ``probabilities``: (entailment, contradiction, neutral) of
    those hits, in rank order."""
    depth = len(probabilities)
    if depth < 2:
        return result
    deciding = np.asarray(probabilities)[:, :2].max(axis=1)
    scores = _log_odds(np.array([hit.score for hit in result.hits[:depth]])) + weight * _log_odds(deciding)
    order = np.argsort(-scores, kind="stable")
    return RetrievalResult(result.claim, result.claim_vector, [result.hits[i] for i in order] + result.hits[depth:])


_PROBABILITY_FLOOR = 1e-4  # keeps the log-odds of a probability of 0 or 1 finite


def _log_odds(probabilities: np.ndarray) -> np.ndarray:
    p = np.clip(probabilities, _PROBABILITY_FLOOR, 1 - _PROBABILITY_FLOOR)
    return np.log(p / (1 - p))


_TIE_BREAK = 1e-6  # weight of the similarity that orders passages the fusion scores alike


def _near_top(scores: np.ndarray, k: int) -> np.ndarray:
    """Rows with a positive score so close to the ``k``-th highest that the tie-break (at most ``_TIE_BREAK``
    either way) could carry them past it. Rows scoring 0 are ordered by similarity alone, and the dense
    search's own passages already hold the most similar of them."""
    top = top_rows(scores, k)
    if not len(top):
        return top
    return np.flatnonzero((scores >= scores[top[-1]] - 2 * _TIE_BREAK) & (scores > 0))
