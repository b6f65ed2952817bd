"""The one object every surface uses: ``FactChecker``.

It owns the embedding model, the index and the verdict model (each loaded once),
and runs retrieve -> verify for claims and posts.
"""
from __future__ import annotations

import threading
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

import numpy as np

from .config import Config, load_config
from .errors import FactCheckError
from .lang import PRESENT_TIME, fingerprint as language_fingerprint
from .pair_memory import MEMORY_FEATURES
from .post_reading import PostReader, SentenceReading, load_reader, reader_identity, rule_reading, skip_reason
from .posts import (PostAnalysis, SkippedSentence, analyse_post, claim_fingerprint, is_dutch, normalise_post,
                    post_verdict)
from .results import STANCE_WORDS, CheckResult, ClaimResult, Conflict, Evidence
from .retrieve import (RERANK_FEATURES, EvidenceReranker, Hit, RetrievalResult, Retriever, reorder_by_reading,
                       post_search_text)
from .runtime import configure_runtime
from .text import figure_year
from .verify import (LABELS, Assessment, VerdictClassifier, assess, explain, feature_names, load_models,
                     short_quote)


def _with_context(explanation: str, claim: str, label: str, evidence: list[Evidence],
                  conflict: Conflict | None) -> str:
    """The explanation, led by a conflict between sources and followed by the year of a dated figure
    when the claim speaks of the present."""
    if conflict is not None:
        explanation = (f"bronnen spreken elkaar tegen: '{short_quote(conflict.supporting.text)}' tegenover "
                       f"'{short_quote(conflict.contradicting.text)}'; {explanation}")
    year = evidence[0].figure_year if evidence and label != "unsupported" else None
    if year and PRESENT_TIME.search(claim):
        explanation += f" (volgens cijfers uit {year})"
    return explanation


def with_stance(probabilities: np.ndarray, stance: dict[str, float]) -> np.ndarray:
    """The verdict on the poster's position, from the verdict on the claim and the stance: denying a supported
    claim is contradicted and denying a contradicted one supported, so
    P(position supported) = P(claim supported) P(not denied) + P(claim contradicted) P(denied)."""
    denied = stance.get("denies", 0.0)
    supported, contradicted, unsupported = probabilities
    return np.array([supported * (1 - denied) + contradicted * denied,
                     contradicted * (1 - denied) + supported * denied, unsupported])


def _stance_prefix(reading: SentenceReading) -> str:
    """Says what the post does with the claim, where it does more than assert it."""
    if reading.stance not in ("denies", "reports"):
        return ""
    whose = f" ({reading.attributed_to})" if reading.stance == "reports" and reading.attributed_to else ""
    return f"{STANCE_WORDS[reading.stance]}{whose}: '{reading.claim}' — "


def _deciding_first(hits: list[Hit], primary: Hit | None, k: int) -> list[Hit]:
    """The passage the verdict rests on leads the evidence list; the rest keep their rank."""
    hits = hits[:k]
    if primary is None or primary not in hits:
        return hits
    return [primary] + [hit for hit in hits if hit is not primary]


def _read_first(assessment: Assessment) -> np.ndarray | None:
    """The cross-encoder's (entailment, contradiction, neutral) for the passage an assessment put first."""
    return assessment.nli[0] if assessment.nli is not None and len(assessment.nli) else None


@dataclass(frozen=True)
class _PassageAlone:
    """One of a claim's best passages judged as if it were the best one: the verdict model's probabilities
    (in ``LABELS`` order) and the cross-encoder's reading of it (None without one)."""

    hit: Hit
    probabilities: np.ndarray
    nli: np.ndarray | None

    @property
    def supports(self) -> float:
        return float(self.probabilities[LABELS.index("supported")])

    @property
    def contradicts(self) -> float:
        return float(self.probabilities[LABELS.index("contradicted")])


def _cross_encoder_agrees(supporting: np.ndarray | None, contradicting: np.ndarray | None, floor: float) -> bool:
    """The cross-encoder, where it ran, also reads one passage as entailing the claim and the other as
    contradicting it: the verdict model alone takes a passage on a neighbouring fact with another figure
    ("sinds 2000 onderzocht" against "sinds 2019 goedgekeurd") for a contradiction."""
    if supporting is None or contradicting is None:
        return True
    return min(float(supporting[0]), float(contradicting[1])) >= floor


class FactChecker:
    """Checks Dutch claims and posts against the indexed corpus.

    >>> fc = FactChecker.from_config()
    >>> r = fc.check("Microdoseren met K geneest depressie 🙌 #ketamine")
    >>> r.verdict, r.confidence, r.explanation
    """

    def __init__(self, config: Config, encoder=None, index=None, classifier: VerdictClassifier | None = None,
                 feature_config: dict | None = None, nli=None):
        from .index import load_index
        from .onnx_encoder import load_encoder

        self.config = config
        self.encoder = encoder or load_encoder(config)  # ONNX Runtime where exported: a shorter start
        self.index = index or load_index(config, self.encoder.identity)
        if nli is None and config.nli.enabled:
            from .nli import load_nli

            nli = load_nli(config)  # ONNX Runtime where exported, as the encoder
        self.nli = nli
        self.retriever = Retriever(self.index, self.encoder, config.retrieval)
        self.classifier = classifier
        self.pair_memory = None  # a PairMemory (from the index) when verdict.pair_memory: set by training or load_classifier
        self.feature_config = feature_config or self.current_feature_config()
        self.post_reader: PostReader | None = None  # None: the sentence rules (``post_reading.rule_reading``)
        self._lock = threading.Lock()
        # The Dutch word lists (half a second) load when a post first needs them: only for elongated words
        # ("heeeel") and posts the language detector doubts.

    @classmethod
    def from_config(cls, path: str | Path | None = None, require_model: bool = True) -> "FactChecker":
        """Load configuration, embedding model, index and verdict model."""
        config = load_config(path)
        configure_runtime(config)
        checker = cls(config)
        if require_model:
            checker.load_classifier()
        return checker

    def current_feature_config(self) -> dict:
        return {"embedding_pair_features": self.config.verdict.embedding_pair_features,
                "rerank_depth": self.config.retrieval.rerank_depth,
                "model": self.encoder.identity, "review_precision": self.config.verdict.review_precision,
                "rerank_features": list(RERANK_FEATURES),
                "verdict_features": feature_names(False, self.nli is not None, memory=self.pair_memory is not None),
                "nli": self.nli.identity if self.nli is not None else None,
                "nli_top_passages": self.config.nli.top_passages if self.nli is not None else None,
                "nli_reorder": ([self.config.nli.rerank_depth, self.config.nli.rerank_weight]
                                if self.nli is not None and self.config.nli.rerank_weight else None),
                "pair_memory": self.pair_memory.identity if self.pair_memory is not None else None,
                "memory_fallback": bool(self.optional_verdict_columns()),
                "language": language_fingerprint()}

    def optional_verdict_columns(self) -> tuple[int, ...]:
        """The verdict model's columns a claim may lack: the pair memory's when ``verdict.memory_fallback``."""
        if self.pair_memory is None or not self.config.verdict.memory_fallback:
            return ()
        names = feature_names(False, self.nli is not None, memory=True)
        return tuple(names.index(name) for name in MEMORY_FEATURES)

    def load_classifier(self, optional: bool = False) -> str | None:
        """Load the trained verdict model and the evidence reranker trained with it. With ``optional``,
        a missing or outdated model is not an error: the reason comes back, and retrieval keeps the
        fused order instead of the reranked one."""
        try:
            if self.config.verdict.pair_memory:
                from .pair_memory import build_pair_memory

                self.pair_memory = build_pair_memory(self.index)
            classifier, feature_config, reranker = load_models(self.config.path("verifier_model"))
            if feature_config != self.current_feature_config():
                raise FactCheckError("the trained verdict model does not match the current embedding model, "
                                     "feature settings or language data; run `factcheck train`")
        except FactCheckError as exc:
            if optional:
                return str(exc)
            raise
        self.classifier, self.feature_config = classifier, feature_config
        self.retriever.reranker = EvidenceReranker.from_fitted_pipeline(reranker) if reranker is not None else None
        try:
            self.post_reader = self._load_post_reader()
        except FactCheckError as exc:
            if optional:
                return str(exc)
            raise
        return None

    def _load_post_reader(self) -> PostReader | None:
        """The trained post reader; None (the sentence rules) when it is off or there are no labelled posts."""
        path = self.config.path("post_reader")
        posts_folder = self.config.path("labelled_posts")
        if not self.config.posts.reader or not any(posts_folder.glob("*.csv")):
            return None
        if not path.exists():
            raise FactCheckError(f"no trained post reader at {path}; run `factcheck train`")
        reader, identity = load_reader(path)
        if identity != reader_identity(reader, self.encoder.identity):
            raise FactCheckError(f"the post reader at {path} does not match the current embedding model or word "
                                 "lists; run `factcheck train`")
        return reader

    # ------------------------------------------------------------------ retrieval
    def retrieve(self, claim: str, k: int | None = None) -> list[Evidence]:
        """The passages best matching ``claim``, best first, with scores and provenance. The claim is
        normalised as ``check`` normalises it (emojis, hashtags, URLs, slang such as "K"); a blank claim
        matches nothing."""
        if not isinstance(claim, str):
            raise FactCheckError(f"a claim must be text, not {type(claim).__name__}")
        text = normalise_post(claim)
        if not text.strip():
            return []
        return [self._evidence(hit) for hit in self.retriever.search(text, k).hits]

    def _evidence(self, hit: Hit) -> Evidence:
        passage = hit.passage
        meta = self.index.documents[passage.doc_id]["meta"]
        title = meta["title"]
        return Evidence(passage.text, passage.doc_id, title, passage.section, passage.start, passage.end,
                        round(hit.score, 6), round(hit.dense_score, 6), round(hit.lexical_score, 6),
                        passage.passage_id, f"{title} [{passage.doc_id}, tekens {passage.start}-{passage.end}]",
                        meta.get("date"), figure_year(passage.text))

    # ------------------------------------------------------------------ features
    def assess_claims(self, claims: list[str], encoded: dict[str, np.ndarray] | None = None,
                      contexts: list[str | None] | None = None) -> tuple[list[RetrievalResult], list[Assessment]]:
        """Retrieve and compute verdict features for many claims at once (one encoder batch). ``encoded``:
        query vectors already computed by text (a plain claim is also the sentence the post reader read).
        ``contexts``: per claim, the post it was read from (None for a claim on its own); with
        ``posts.search_with_context`` it helps find the candidates (``retrieve.post_search_text``)."""
        if not claims:
            return [], []
        if contexts is None or not self.config.posts.search_with_context:
            contexts = [None] * len(claims)
        if len(contexts) != len(claims):
            raise FactCheckError(f"{len(contexts)} contexts for {len(claims)} claims")
        searches = [post_search_text(claim, context) for claim, context in zip(claims, contexts)]
        known = dict(encoded or {})
        missing = list(dict.fromkeys(text for text in claims + searches if text not in known))
        if missing:
            known.update(zip(missing, self.encoder.encode_queries(missing)))
        results = self.retriever.search_many(claims, vectors=np.vstack([known[claim] for claim in claims]),
                                             searches=searches,
                                             search_vectors=np.vstack([known[search] for search in searches]))
        if self.retriever.reranker is not None:
            results = self.read_and_reorder(results)
        return results, self.assess(results)

    def read_and_reorder(self, results: list[RetrievalResult]) -> list[RetrievalResult]:
        """Reranked results with their best ``nli.rerank_depth`` passages ordered again by what the
        cross-encoder reads (``retrieve.reorder_by_reading``); as they are without it or with weight 0. Its
        readings are cached, so the features ``assess`` takes from the same pairs cost nothing more."""
        settings = self.config.nli
        if self.nli is None or not settings.rerank_weight:
            return results
        depths = [min(settings.rerank_depth, len(result.hits)) for result in results]
        probabilities = self.nli.predict([(hit.passage.text, result.claim)
                                          for result, depth in zip(results, depths) for hit in result.hits[:depth]])
        reordered, offset = [], 0
        for result, depth in zip(results, depths):
            reordered.append(reorder_by_reading(result, probabilities[offset:offset + depth], settings.rerank_weight))
            offset += depth
        return reordered

    def assess(self, results: list[RetrievalResult]) -> list[Assessment]:
        """Verdict features of retrieval results, with the settings the loaded model was trained with; the
        cross-encoder reads each claim with its best ``nli.top_passages`` passages, all in one call."""
        pairs = self.feature_config["embedding_pair_features"]
        if self.nli is None:
            return [assess(result, self.index, pairs, memory=self.pair_memory) for result in results]
        top = self.config.nli.top_passages
        probabilities = self.nli.predict([(hit.passage.text, r.claim) for r in results for hit in r.hits[:top]])
        assessments, offset = [], 0
        for result in results:
            read = len(result.hits[:top])
            assessments.append(assess(result, self.index, pairs, probabilities[offset:offset + read], use_nli=True,
                                      memory=self.pair_memory))
            offset += read
        return assessments

    # ------------------------------------------------------------------ checking
    def check(self, text: str) -> CheckResult:
        """Check one claim or post. Safe to call from several threads."""
        return self.check_many([text])[0]

    def check_many(self, texts: Iterable[str], batch_size: int = 256, progress=None) -> list[CheckResult]:
        """Check many texts (any iterable), ``batch_size`` texts per encoder call (larger calls pad less)."""
        if self.classifier is None:
            raise FactCheckError("no verdict model loaded; run `factcheck train`")
        if isinstance(texts, str):
            raise FactCheckError("check_many takes a list of texts; use check() for a single text")
        if batch_size < 1:
            raise FactCheckError(f"batch_size must be 1 or more, got {batch_size}")
        texts = list(texts)
        results: list[CheckResult] = []
        for start in range(0, len(texts), batch_size):
            chunk = texts[start:start + batch_size]
            results.extend(self._check_batch(chunk))
            if progress is not None:
                progress(len(chunk))
        return results

    def _check_batch(self, texts: list[str]) -> list[CheckResult]:
        analyses = [analyse_post(text if isinstance(text, str) else "", self.config.posts) for text in texts]
        with self._lock:  # encoder and classifier calls are serialised; the rest is per call
            readings, encoded = self._read(analyses)
            checkable = [(number, reading) for number, post in enumerate(readings) for reading in post
                         if reading.checkable]
            # A claim from a post of several sentences is searched with the whole post behind it.
            contexts = [analyses[owner].normalised if len(analyses[owner].sentences) > 1 else None
                        for owner, _ in checkable]
            retrievals, assessments = self.assess_claims([reading.claim for _, reading in checkable], encoded,
                                                         contexts)
            probabilities = self._predict(assessments)
            conflicts = self._conflicts(retrievals, assessments, probabilities)
        per_post: dict[int, list[ClaimResult]] = {}
        for (owner, reading), retrieval, assessment, probs, conflict in zip(checkable, retrievals, assessments,
                                                                             probabilities, conflicts):
            claim_label = LABELS[int(np.argmax(probs))]
            position = with_stance(probs, reading.stance_probabilities)
            label = LABELS[int(np.argmax(position))]
            confidence = round(float(np.max(position)), 4)
            evidence = [self._evidence(hit) for hit in _deciding_first(retrieval.hits, assessment.primary,
                                                                       self.config.retrieval.k)]
            explanation = _with_context(explain(claim_label, assessment), reading.claim, claim_label, evidence,
                                        conflict)
            per_post.setdefault(owner, []).append(ClaimResult(
                claim=reading.sentence, verdict=label, confidence=confidence,
                probabilities={name: round(float(p), 4) for name, p in zip(LABELS, position)},
                explanation=_stance_prefix(reading) + explanation,
                evidence=evidence,
                needs_review=conflict is not None or self.classifier.needs_review(confidence, assessment.features),
                conflict=conflict, stance=reading.stance, checked_claim=reading.claim, claim_verdict=claim_label,
                attributed_to=reading.attributed_to))
        return [self._aggregate(analysis, post, per_post.get(number, []))
                for number, (analysis, post) in enumerate(zip(analyses, readings))]

    def _read(self, analyses: list[PostAnalysis]) -> tuple[list[list[SentenceReading]], dict[str, np.ndarray]]:
        """Each Dutch post's sentences read by the trained post reader (the rules without one); none for
        a post in another language. Also the query vectors of the sentences, by text, where the reader
        embedded them."""
        settings = self.config.posts
        dutch = [is_dutch(analysis, settings) for analysis in analyses]
        if self.post_reader is None:
            return [rule_reading(a.sentences, settings) if ok else [] for a, ok in zip(analyses, dutch)], {}
        vectors = None
        if self.post_reader.use_embeddings:
            sentences = [s.text for a, ok in zip(analyses, dutch) if ok for s in a.sentences]
            vectors = self.encoder.encode_queries(sentences)
        readings, offset = [], 0
        for analysis, ok in zip(analyses, dutch):
            if not ok:
                readings.append([])
                continue
            count = len(analysis.sentences)
            own = vectors[offset:offset + count] if vectors is not None else None
            readings.append(self.post_reader.read(analysis.sentences, own, settings))
            offset += count
        return readings, (dict(zip(sentences, vectors)) if vectors is not None else {})

    def _predict(self, assessments: list[Assessment]) -> np.ndarray:
        if not assessments:
            return np.zeros((0, len(LABELS)))
        return self.classifier.predict_proba(np.vstack([a.features for a in assessments]))

    def _conflicts(self, retrievals: list[RetrievalResult], assessments: list[Assessment],
                   probabilities: np.ndarray) -> list[Conflict | None]:
        """Each of a claim's best ``conflict_depth`` passages judged alone (as if it were the best one); a
        conflict is a passage of one document supporting the claim and a passage of another contradicting
        it, each with at least ``conflict_min_confidence``, and, where the cross-encoder runs, each read the
        same way by it with at least ``conflict_min_nli``. ``assessments`` and ``probabilities`` are the
        claims' own, which already judge the best passage as the best one."""
        verdict = self.config.verdict
        depth, floor = verdict.conflict_depth, verdict.conflict_min_confidence
        # Only passages from two documents can disagree as sources; other claims need no second look.
        spread = [len({hit.passage.doc_id for hit in r.hits[:depth]}) > 1 for r in retrievals]
        alone = [RetrievalResult(r.claim, r.claim_vector, [hit] + [h for h in r.hits if h is not hit])
                 for r, spans in zip(retrievals, spread) if spans for hit in r.hits[1:depth]]
        alone_assessments = self.assess(alone)
        judged = iter(zip(alone_assessments, self._predict(alone_assessments)))
        found = []
        for retrieval, assessment, best, spans in zip(retrievals, assessments, probabilities, spread):
            if not spans:
                found.append(None)
                continue
            stances = [_PassageAlone(retrieval.hits[0], best, _read_first(assessment))] + [
                _PassageAlone(hit, probs, _read_first(judged_alone)) for hit, (judged_alone, probs) in
                zip(retrieval.hits[1:depth], judged)]
            # Sources disagree: a supporting and a contradicting passage from two different documents.
            pairs = [(support, against) for support in stances for against in stances
                     if support.hit.passage.doc_id != against.hit.passage.doc_id
                     and min(support.supports, against.contradicts) >= floor
                     and _cross_encoder_agrees(support.nli, against.nli, verdict.conflict_min_nli)]
            if pairs:
                support, against = max(pairs, key=lambda pair: min(pair[0].supports, pair[1].contradicts))
                found.append(Conflict(self._evidence(support.hit), self._evidence(against.hit),
                                      round(support.supports, 4), round(against.contradicts, 4)))
            else:
                found.append(None)
        return found

    def _aggregate(self, analysis: PostAnalysis, readings: list[SentenceReading],
                   claims: list[ClaimResult]) -> CheckResult:
        """Post verdict by the aggregation rule (``posts.post_verdict``): the surest supported or contradicted
        claim decides, else the surest unsupported one. The deciding claim gives confidence and evidence."""
        notes = ["tekst ingekort tot de eerste %d tekens" % self.config.posts.max_chars] if analysis.truncated else []
        skipped = [SkippedSentence(r.sentence, skip_reason(r)) for r in readings if not r.checkable]
        base = dict(text=analysis.original, claims=claims, skipped=skipped, language=analysis.language, notes=notes)
        if not is_dutch(analysis, self.config.posts):
            return CheckResult(verdict="unsupported", confidence=0.0, evidence=[],
                               explanation=f"taal niet gedekt: de tekst lijkt {analysis.language} "
                                           f"({analysis.language_confidence:.0%} zeker); alleen Nederlands wordt gecontroleerd",
                               **base)
        if not claims:
            reasons = ", ".join(sorted({s.reason for s in skipped})) or "lege tekst"
            return CheckResult(verdict="unsupported", confidence=0.0, evidence=[],
                               explanation=f"geen controleerbare bewering gevonden ({reasons})", **base)
        _, number = post_verdict([(c.verdict, c.confidence) for c in claims],
                                 self.config.verdict.post_contradicted_margin)
        decisive = claims[number]
        prefix = f"bewering '{decisive.claim}': " if len(claims) > 1 else ""
        return CheckResult(verdict=decisive.verdict, confidence=decisive.confidence,
                           explanation=prefix + decisive.explanation, evidence=decisive.evidence,
                           needs_review=decisive.needs_review, conflict=decisive.conflict, stance=decisive.stance,
                           checked_claim=decisive.checked_claim, **base)

    # ------------------------------------------------------------------ models
    def use_models(self, classifier: VerdictClassifier, reranker: EvidenceReranker | None) -> None:
        """Check with these fitted models from now on (as ``train.train`` leaves them)."""
        self.classifier, self.feature_config = classifier, self.current_feature_config()
        self.retriever.reranker = reranker

    @contextmanager
    def as_if_unwritten(self, documents: set[str], restate: bool = True, fallback: bool = True):
        """Inside the block the checker sees the written claims as an index would hold them had nobody written any
        about ``documents`` (``WrittenClaims.as_if_unwritten``; with ``restate`` false, their passages are not
        restated either), and judges with the fallback verdict model or, with ``fallback`` false, without it;
        afterwards it is as before. What ``bench/new_document.py`` and the tests measure."""
        from .pair_memory import PairMemory

        if self.classifier is None or (documents and (self.index.written_claims is None or self.pair_memory is None)):
            raise FactCheckError("checking as if documents had no written claims needs a trained verdict model, "
                                 "written claims in the index and verdict.pair_memory")
        saved = self.index.written_claims, self.pair_memory, self.classifier.fallback_
        try:
            if documents:
                written = self.index.written_claims.as_if_unwritten(documents, self.index.passages, self.encoder)
                if not restate:
                    written = written.subset(~written.restated_mask)
                self.index.written_claims = written
                self.pair_memory = PairMemory(written, self.pair_memory.identity)
            if not fallback:
                self.classifier.fallback_ = None
            yield self
        finally:
            self.index.written_claims, self.pair_memory, self.classifier.fallback_ = saved

    def seen_in_training(self, texts: list[str]) -> list[bool]:
        """Whether the loaded verdict model was fit on each text (compared as ``check`` reads it)."""
        seen = self.classifier.trained_on_ if self.classifier is not None else frozenset()
        return [claim_fingerprint(analyse_post(text, self.config.posts).normalised) in seen for text in texts]
