"""Verify stage: compare a claim with its retrieved passages and label it.

Two calibrated logistic regressions, scikit-learn style: the first asks whether
the best passage addresses the claim at all (supported or contradicted against
unsupported), the second whether it agrees (supported against contradicted).
Every feature compares the claim with a passage; claim-only cues are kept out
of the model and serve only as a baseline (``claim_only_features``).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.utils.validation import check_is_fitted, validate_data

from .errors import FactCheckError
from .index import Index
from .retrieve import Hit, RetrievalResult
from .overlap import overlap
from .pair_memory import MEMORY_FEATURES
from .storage import atomic_file, load_skops, loading_artefact
from .lang import (ANTONYMS, HEDGES, LIMITING, NEGATED_BEFORE, NEGATIONS, NO_EVIDENCE, NO_LONGER, NON_NEGATING_IDIOM,
                   SWAPPABLE_PAIRS, UNIVERSAL)
from .text import LexicalAnalyzer, extract_quantities, figure_trend, fold, stated_trend, stem, word_tokens

LABELS = ("supported", "contradicted", "unsupported")
def _universal_words(text: str) -> frozenset[str]:
    """The universal words a text asserts: "altijd" counts, "niet altijd" does not."""
    return frozenset(match.group(0).lower() for match in UNIVERSAL.finditer(text)
                     if not NEGATED_BEFORE.search(text[max(0, match.start() - 12):match.start()]))


@dataclass(frozen=True)
class Comparison:
    """Interpretable claim-versus-passage signals; the features and the explanation come from these."""

    coverage: float                 # share of the claim's terms found in the passage
    passage_coverage: float         # share of the passage's terms found in the claim
    claim_negated: bool
    passage_negated: bool
    passage_rejects: bool           # "er is geen bewijs", "mythe", "onduidelijk" ...
    numbers_matched: int
    number_conflicts: tuple[tuple[str, str], ...]
    bare_number_conflicts: tuple[tuple[str, str], ...]
    antonym_conflicts: tuple[tuple[str, str], ...]
    order_swaps: tuple[tuple[str, str], ...]
    claim_universal: bool
    passage_limits: bool
    claim_hedged: bool
    passage_hedged: bool
    negation_cue: str = ""
    trend_conflict: bool = False    # the claim says it rose (fell); the passage's words or figures say otherwise
    trend_agrees: bool = False
    universal_stated: bool = False  # the passage asserts the claim's own universal word ("altijd" in both)

    @property
    def universal_open(self) -> bool:
        """The claim says "altijd"/"iedereen" and the passage does not assert that same word, so a limit or
        negation in the passage restricts the claim."""
        return self.claim_universal and not self.universal_stated


def _cue(tokens: set[str], cues: frozenset[str]) -> str:
    return next((token for token in sorted(tokens) if token in cues), "")


# Stemmed, so inflected forms meet: "kortere" against "langere", "zwakkere" against "sterker".
_STEMMED_ANTONYMS = tuple(({stem(word) for word in a}, {stem(word) for word in b}) for a, b in ANTONYMS)


def _antonym_conflicts(claim: dict[str, str], passage: dict[str, str]) -> list[tuple[str, str]]:
    """Opposite wording; both sides map stem -> word as written."""
    conflicts = []
    for side_a, side_b in _STEMMED_ANTONYMS:
        for mine, theirs in ((side_a, side_b), (side_b, side_a)):
            in_claim = sorted(claim.keys() & mine)
            in_passage = sorted(passage.keys() & theirs)
            if in_claim and in_passage and not (passage.keys() & mine) and not (claim.keys() & theirs):
                conflicts.append((claim[in_claim[0]], passage[in_passage[0]]))
    return conflicts


_FOLDED_PAIRS = tuple((fold(first), fold(second)) for first, second in SWAPPABLE_PAIRS)


def _order_swaps(claim_f: str, passage_f: str) -> list[tuple[str, str]]:
    """Pairs named in both (folded) texts but in the opposite order ("R- ... dan S-ketamine")."""
    swaps = []
    for (first, second), (a, b) in zip(SWAPPABLE_PAIRS, _FOLDED_PAIRS):
        positions = [text.find(word) for text in (claim_f, passage_f) for word in (a, b)]
        if min(positions) >= 0 and (positions[0] < positions[1]) != (positions[2] < positions[3]):
            swaps.append((first, second))
    return swaps


@dataclass(frozen=True)
class _Profile:
    """What compare() needs to know about one text, computed once per text."""

    folded: str
    tokens: frozenset[str]
    stems: dict[str, str]           # stem -> the word as written
    negated: bool                   # a negation word, or a denial ("onduidelijk", "geen bewijs", "mythe")
    rejects: bool
    universal_words: frozenset[str]  # asserted ones: "niet altijd" asserts none
    limits: bool
    hedged: bool
    stated_trend: int               # +1 rising, -1 falling, 0 none: from the words
    figure_trend: int               # the same from shares at two moments

    @property
    def universal(self) -> bool:
        return bool(self.universal_words)


# "S(+)-ketamine" is "S-ketamine": the optical sign would split the name into two tokens.
_OPTICAL_SIGN = re.compile(r"\((?:\+|-|−)\)(?=-)")


@lru_cache(maxsize=8192)
def _profile(text: str) -> _Profile:
    text = _OPTICAL_SIGN.sub("", text)
    raw = word_tokens(NO_LONGER.sub(r"\1", text))
    # An idiom's negation words ("niet zonder reden") deny nothing; its other words stay.
    denying = {fold(t) for t in word_tokens(NON_NEGATING_IDIOM.sub(" ", text))} & NEGATIONS
    tokens = frozenset(({fold(t) for t in raw} | set(raw)) - (NEGATIONS - denying))
    rejects = bool(NO_EVIDENCE.search(text))
    # "onduidelijk", "mythe" and "geen bewijs" deny as "niet" does.
    return _Profile(fold(text), tokens, {stem(t): t for t in raw},
                    bool(tokens & NEGATIONS) or rejects, rejects, _universal_words(text),
                    bool(LIMITING.search(text)),
                    bool(tokens & HEDGES), stated_trend(text), figure_trend(text))


def compare(claim: str, passage: str, analyzer: LexicalAnalyzer) -> Comparison:
    """Compare one claim with one passage. Passages recur across claims, so their side is cached."""
    shared = overlap(claim, passage, analyzer)
    mine, theirs = _profile(claim), _profile(passage)
    # A claim's trend is its words ("daalde"); a passage may state it in figures instead.
    passage_trend = theirs.figure_trend or theirs.stated_trend
    return Comparison(
        coverage=shared.coverage, passage_coverage=shared.passage_coverage,
        claim_negated=mine.negated, passage_negated=theirs.negated, passage_rejects=theirs.rejects,
        numbers_matched=shared.numbers_matched, number_conflicts=shared.number_conflicts,
        bare_number_conflicts=shared.bare_number_conflicts,
        antonym_conflicts=tuple(_antonym_conflicts(mine.stems, theirs.stems)),
        order_swaps=tuple(_order_swaps(mine.folded, theirs.folded)),
        claim_universal=mine.universal, passage_limits=theirs.limits,
        claim_hedged=mine.hedged, passage_hedged=theirs.hedged,
        negation_cue=_cue(set(theirs.tokens), NEGATIONS) or _cue(set(mine.tokens), NEGATIONS),
        trend_conflict=bool(mine.stated_trend and passage_trend and passage_trend != mine.stated_trend),
        trend_agrees=bool(mine.stated_trend and passage_trend == mine.stated_trend),
        universal_stated=bool(mine.universal_words & theirs.universal_words),
    )


RELATION_FEATURES = (
    "dense_primary", "sentence_dense_primary", "dense_margin", "lexical_top_is_primary", "coverage",
    "passage_coverage", "coverage_x_dense", "claim_negated", "passage_negated", "negation_mismatch", "passage_rejects",
    "rejects_unnegated_claim", "numbers_matched", "number_conflicts", "number_conflict_only",
    "bare_number_conflict_only", "bare_number_conflicts", "antonym_conflicts", "order_swaps", "universal_vs_limit",
    "claim_universal_passage_negated", "hedge_mismatch", "runner_up_conflict", "trend_conflict",
    "trend_agrees", "weighted_coverage", "rarest_missing",
)
# What the NLI cross-encoder says of the best passages (added when nli.enabled): the best passage's
# entailment, contradiction and neutral probabilities, the highest of each over the passages it read, and
# whether one passage entails while another contradicts.
NLI_FEATURES = ("nli_entails_primary", "nli_contradicts_primary", "nli_neutral_primary", "nli_entails_best",
                "nli_contradicts_best", "nli_split")
CLAIM_ONLY_FEATURES = ("claim_negated", "claim_universal", "claim_hedged", "claim_has_number",
                       "claim_length", "claim_is_question", "claim_has_hashtag")


@dataclass
class Assessment:
    """Features of one claim plus what is needed to explain the verdict."""

    features: np.ndarray
    primary: Hit | None
    comparison: Comparison | None
    nli: np.ndarray | None = None   # (entailment, contradiction, neutral) of each passage the cross-encoder read


def feature_names(embedding_pairs: bool, nli: bool, dimension: int = 0, memory: bool = False) -> list[str]:
    """The verdict model's columns, in order."""
    names = list(RELATION_FEATURES) + (list(NLI_FEATURES) if nli else []) + (list(MEMORY_FEATURES) if memory else [])
    return names + ([f"pair_{part}_{i}" for part in ("u", "v", "diff", "prod") for i in range(dimension)]
                    if embedding_pairs else [])


def nli_features(nli: np.ndarray | None) -> np.ndarray:
    """NLI_FEATURES from the cross-encoder's rows (best passage first); zeros when it read none."""
    if nli is None or not len(nli):
        return np.zeros(len(NLI_FEATURES), dtype=np.float32)
    best = nli.max(axis=0)
    return np.array([nli[0, 0], nli[0, 1], nli[0, 2], best[0], best[1], best[0] * best[1]], dtype=np.float32)


def assess(result: RetrievalResult, index: Index, embedding_pairs: bool, nli: np.ndarray | None = None,
           use_nli: bool = False, memory=None) -> Assessment:
    """Turn a retrieval result into model features. The retriever's best passage decides
    (the trained reranker already weighs meaning and words). The reranker's own score is left out:
    as a feature it made held-out verdicts worse. ``nli``: the cross-encoder's probabilities for the
    best passages, in rank order (with ``use_nli``). ``memory``: a ``PairMemory`` (its features are added)."""
    width = len(feature_names(embedding_pairs, use_nli, len(result.claim_vector), memory is not None))
    if not result.hits:
        return Assessment(np.zeros(width, dtype=np.float32), None, None)
    hit = result.hits[0]
    comp = compare(result.claim, hit.passage.text, index.analyzer)
    claim_terms, passage_terms = index.analyzer.term_set(result.claim), index.analyzer.term_set(hit.passage.text)
    ranked_dense = sorted((h.dense_score for h in result.hits), reverse=True)
    values = {
        "dense_primary": hit.dense_score,
        "sentence_dense_primary": float(index.sentence_embeddings[hit.row] @ result.claim_vector),
        "dense_margin": ranked_dense[0] - ranked_dense[1] if len(ranked_dense) > 1 else 0.0,
        "lexical_top_is_primary": float(hit.lexical_rank == 1),
        "coverage": comp.coverage,
        "passage_coverage": comp.passage_coverage,
        "coverage_x_dense": comp.coverage * hit.dense_score,
        "claim_negated": float(comp.claim_negated),
        "passage_negated": float(comp.passage_negated),
        "negation_mismatch": float(comp.claim_negated != comp.passage_negated),
        "passage_rejects": float(comp.passage_rejects),
        "rejects_unnegated_claim": float(comp.passage_rejects and not comp.claim_negated),
        "numbers_matched": float(min(comp.numbers_matched, 3)),
        "number_conflicts": float(min(len(comp.number_conflicts), 3)),
        "number_conflict_only": float(bool(comp.number_conflicts) and comp.numbers_matched == 0),
        "bare_number_conflict_only": float(bool(comp.bare_number_conflicts) and comp.numbers_matched == 0),
        "bare_number_conflicts": float(min(len(comp.bare_number_conflicts), 3)),
        "antonym_conflicts": float(min(len(comp.antonym_conflicts), 3)),
        "order_swaps": float(min(len(comp.order_swaps), 2)),
        "universal_vs_limit": float(comp.universal_open and (comp.passage_limits or comp.passage_negated)),
        "claim_universal_passage_negated": float(comp.universal_open and comp.passage_negated),
        "hedge_mismatch": float(comp.claim_hedged != comp.passage_hedged),
        "trend_conflict": float(comp.trend_conflict),
        "trend_agrees": float(comp.trend_agrees),
        "weighted_coverage": index.weighted_coverage(claim_terms, passage_terms),
        "rarest_missing": index.rarest_missing(claim_terms, passage_terms),
    }
    # The next passages can hold the rejection the top one lacks ("Mythe: ..." then "De realiteit ...").
    # A feature only: as the passage to show, a conflicting runner-up was more often wrong than right.
    runners = [compare(result.claim, h.passage.text, index.analyzer) for h in result.hits[1:3]]
    values["runner_up_conflict"] = max((c.coverage for c in runners if _conflicts(c)), default=0.0)
    features = np.array([values[name] for name in RELATION_FEATURES], dtype=np.float32)
    if use_nli:
        features = np.concatenate([features, nli_features(nli)])
    if memory is not None:
        features = np.concatenate([features, memory.features(result.claim, result.claim_vector, hit.row)])
    if embedding_pairs:
        u = result.claim_vector
        v = index.embeddings[hit.row]
        features = np.concatenate([features, u, v, np.abs(u - v), u * v]).astype(np.float32)
    return Assessment(features, hit, comp, nli if use_nli else None)


def _conflicts(comp: Comparison) -> bool:
    return bool(comp.number_conflicts or comp.antonym_conflicts or comp.order_swaps or comp.trend_conflict
                or comp.passage_rejects or comp.claim_negated != comp.passage_negated)


def claim_only_features(claim: str) -> np.ndarray:
    """Cues of the claim alone, for the claim-only baseline; never part of the model."""
    tokens = set(word_tokens(claim))
    return np.array([
        float(bool(tokens & NEGATIONS)), float(bool(UNIVERSAL.search(claim))), float(bool(tokens & HEDGES)),
        float(bool(extract_quantities(claim))), float(np.log1p(len(tokens))), float(claim.strip().endswith("?")),
        float("#" in claim),
    ], dtype=np.float32)


def explain(label: str, assessment: Assessment) -> str:
    """A short Dutch explanation a moderator can read."""
    comp, hit = assessment.comparison, assessment.primary
    if hit is None or comp is None:
        return "geen passage in de bronnen gevonden"
    quote = short_quote(hit.passage.text)
    if label == "unsupported":
        return f"de bronnen behandelen dit niet (dichtstbijzijnde passage: '{quote}')"
    if label == "contradicted":
        if comp.number_conflicts or comp.bare_number_conflicts:
            claim_value, source_value = (comp.number_conflicts or comp.bare_number_conflicts)[0]
            return f"getal wijkt af: bewering {claim_value}, bron {source_value}"
        if comp.order_swaps:
            first, second = comp.order_swaps[0]
            return f"verwisseld: de bron zegt het omgekeerde over {first} en {second} ('{quote}')"
        if comp.trend_conflict:
            return f"richting wijkt af: de bron beschrijft het omgekeerde verloop ('{quote}')"
        if comp.antonym_conflicts:
            mine, theirs = comp.antonym_conflicts[0]
            return f"tegengestelde bewoording: bewering '{mine}', bron '{theirs}' ('{quote}')"
        if comp.passage_rejects or comp.passage_negated:
            return f"bron ontkent: '{quote}'"
        if comp.universal_open and comp.passage_limits:
            return f"bron beperkt de bewering (niet altijd/niet iedereen): '{quote}'"
        if assessment.nli is not None and len(assessment.nli) and assessment.nli[0, 1] >= 0.5:
            return f"bron zegt het tegendeel (volgens het taalmodel dat bron en bewering samen leest): '{quote}'"
        return f"bron zegt iets anders: '{quote}'"
    return f"bron bevestigt: '{quote}'"


def short_quote(text: str, limit: int = 160) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rsplit(" ", 1)[0] + "…"


# --------------------------------------------------------------------------- the estimator

# The range searched when calibrating the three-way output (the lowest out-of-fold log loss wins).
_TEMPERATURE_RANGE = (0.25, 2.0)


def _sharpen(probabilities: np.ndarray, temperature: float) -> np.ndarray:
    """Temperature scaling: p ** (1 / T), renormalised (T < 1 sharpens, T > 1 softens)."""
    scaled = np.power(np.clip(probabilities, 1e-12, 1.0), 1.0 / temperature)
    return scaled / scaled.sum(axis=1, keepdims=True)


class VerdictClassifier(ClassifierMixin, BaseEstimator):
    """Two-stage calibrated classifier, a scikit-learn estimator: parameters in ``__init__``, fitted
    state in ``*_`` attributes set by ``fit``."""

    def __init__(self, seed: int = 13, calibration_folds: int = 5, regularisation: float = 1.0,
                 review_precision: float = 0.9, optional_columns: tuple[int, ...] = ()):
        self.seed = seed
        self.calibration_folds = calibration_folds
        self.regularisation = regularisation
        self.review_precision = review_precision
        # Columns new rows may lack (all zero), e.g. the pair memory's for a passage nobody wrote claims about:
        # such rows go to a second model, ``fallback_``, fit without them. The first model learned that a
        # silent memory means "unsupported", which is false of a newly added document.
        self.optional_columns = optional_columns

    def _stage(self, features: np.ndarray, targets: np.ndarray, groups: np.ndarray):
        """A logistic regression whose sigmoid calibration is fit out of fold. Folds keep an evidence
        group together: paraphrases of one sentence on both sides make the calibration overconfident."""
        from sklearn.calibration import CalibratedClassifierCV
        from sklearn.linear_model import LogisticRegression
        from sklearn.model_selection import StratifiedGroupKFold
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        folds = StratifiedGroupKFold(self.calibration_folds, shuffle=True, random_state=self.seed)
        model = make_pipeline(StandardScaler(), LogisticRegression(C=self.regularisation, max_iter=5000))
        splits = list(folds.split(features, targets, groups))
        return CalibratedClassifierCV(model, method="sigmoid", cv=splits).fit(features, targets)

    def fit(self, features: np.ndarray, labels, groups=None, claim_fingerprints=None) -> "VerdictClassifier":
        """``groups`` (optional) names each row's evidence group; no fold ever splits one.
        ``claim_fingerprints`` (optional) identify the claims, so an evaluation can say how many of
        its claims the model has seen.

        The product of two calibrated stages comes out underconfident, so a temperature is fit
        last, on out-of-fold three-way probabilities (lowest log loss)."""
        features, labels = validate_data(self, features, labels, dtype=None)
        labels, groups = self.validate(labels, groups)
        self._fit_stages(features, labels, groups)
        held_out = self._held_out_stage_proba(features, labels, groups)
        truth = np.array([LABELS.index(label) for label in labels])
        self.temperature_ = _best_temperature(held_out, truth)
        sharpened = _sharpen(held_out, self.temperature_)
        self.review_threshold_ = review_threshold(sharpened.max(axis=1), sharpened.argmax(axis=1) == truth,
                                                  self.review_precision)
        self.classes_ = np.array(LABELS)
        self.trained_on_ = frozenset(claim_fingerprints or ())
        self.fallback_ = None
        if self.optional_columns:
            self.fallback_ = clone(self).set_params(optional_columns=()).fit(features[:, self._kept_columns()],
                                                                             labels, groups)
        return self

    def _kept_columns(self) -> np.ndarray:
        return np.setdiff1d(np.arange(self.n_features_in_), self.optional_columns)

    def lacks_optional(self, features: np.ndarray) -> np.ndarray:
        """Which rows ``fallback_`` judges: those whose optional columns are all zero."""
        features = np.atleast_2d(features)
        if getattr(self, "fallback_", None) is None:
            return np.zeros(len(features), dtype=bool)
        return ~features[:, list(self.optional_columns)].any(axis=1)

    def validate(self, labels, groups=None) -> tuple[np.ndarray, np.ndarray]:
        """Labels and groups as arrays, or a FactCheckError saying why they cannot train a model."""
        labels = np.asarray(labels)
        groups = np.asarray(groups if groups is not None else range(len(labels)), dtype=str)
        unknown = set(labels) - set(LABELS)
        if unknown:
            raise FactCheckError(f"unknown label values: {', '.join(sorted(map(str, unknown)))}")
        counts = {label: len(set(groups[labels == label])) for label in LABELS}
        needed = 2 * self.calibration_folds  # the temperature's folds each hold calibration folds of their own
        if min(counts.values()) < needed:
            found = ", ".join(f"{label} {count}" for label, count in counts.items())
            raise FactCheckError(f"training needs at least {needed} examples (evidence groups) of each label "
                                 f"with {self.calibration_folds} calibration folds; found {found}")
        return labels, groups

    def _fit_stages(self, features: np.ndarray, labels: np.ndarray, groups: np.ndarray) -> "VerdictClassifier":
        relevant = labels != "unsupported"
        if relevant.all() or not relevant.any() or len(set(labels[relevant])) < 2:
            raise FactCheckError("training needs supported, contradicted and unsupported examples")
        self.relevance_ = self._stage(features, relevant.astype(int), groups)
        self.stance_ = self._stage(features[relevant], (labels[relevant] == "supported").astype(int),
                                   groups[relevant])
        return self

    def _held_out_stage_proba(self, features: np.ndarray, labels: np.ndarray, groups: np.ndarray) -> np.ndarray:
        """Three-way probabilities of each row from stages fit without its evidence group."""
        from sklearn.model_selection import StratifiedGroupKFold

        held_out = np.zeros((len(labels), len(LABELS)))
        folds = StratifiedGroupKFold(self.calibration_folds, shuffle=True, random_state=self.seed)
        for fitted_on, held in folds.split(features, labels, groups):
            part = clone(self)._fit_stages(features[fitted_on], labels[fitted_on], groups[fitted_on])
            held_out[held] = part._stage_proba(features[held])
        return held_out

    def _stage_proba(self, features: np.ndarray) -> np.ndarray:
        p_relevant = self.relevance_.predict_proba(features)[:, 1]
        p_supported = self.stance_.predict_proba(features)[:, 1]
        return np.column_stack([p_relevant * p_supported, p_relevant * (1 - p_supported), 1 - p_relevant])

    def predict_proba(self, features: np.ndarray) -> np.ndarray:
        """Columns in the order of ``LABELS``."""
        check_is_fitted(self, "temperature_")
        if len(features) == 0:
            return np.zeros((0, 3))
        features = validate_data(self, features, reset=False, dtype=None)
        lacking = self.lacks_optional(features)
        probabilities = np.zeros((len(features), len(self.classes_)))
        if not lacking.all():
            probabilities[~lacking] = _sharpen(self._stage_proba(features[~lacking]), self.temperature_)
        if lacking.any():
            probabilities[lacking] = self.fallback_.predict_proba(features[lacking][:, self._kept_columns()])
        return probabilities

    def predict(self, features: np.ndarray) -> np.ndarray:
        check_is_fitted(self, "temperature_")
        return self.classes_[self.predict_proba(features).argmax(axis=1)]

    def needs_review(self, confidence: float, features: np.ndarray | None = None) -> bool:
        """Below the confidence at which out-of-fold verdicts reached ``review_precision``: those of the model
        that judged ``features`` (the first one when not given)."""
        check_is_fitted(self, "review_threshold_")
        if features is not None and self.lacks_optional(features)[0]:
            return self.fallback_.needs_review(confidence)
        return bool(confidence < self.review_threshold_)


def _best_temperature(held_out: np.ndarray, truth: np.ndarray) -> float:
    """The temperature with the lowest out-of-fold log loss, found on a continuous scale: a grid step moved
    the external ECE by 0.04 (docs/tried.md). The loss is convex in 1 / T, so a bounded search finds it."""
    from scipy.optimize import minimize_scalar

    def loss(inverse: float) -> float:
        return -np.mean(np.log(_sharpen(held_out, 1.0 / inverse)[np.arange(len(truth)), truth] + 1e-12))

    low, high = _TEMPERATURE_RANGE
    found = minimize_scalar(loss, bounds=(1.0 / high, 1.0 / low), method="bounded", options={"xatol": 1e-4})
    return float(round(1.0 / found.x, 4))


def review_threshold(confidence: np.ndarray, correct: np.ndarray, precision: float) -> float:
    """The lowest confidence t such that the verdicts at or above t are right at least ``precision`` of
    the time (so the most verdicts go unflagged); above every confidence when no t reaches it."""
    order = np.argsort(-confidence, kind="stable")
    running = np.cumsum(correct[order]) / np.arange(1, len(order) + 1)
    reaching = np.flatnonzero(running >= precision)
    if not len(reaching):
        return float(np.nextafter(confidence.max(initial=1.0), np.inf))
    return float(confidence[order][reaching.max()])


# Safe persistence: one skops file with both models and the feature configuration they were trained with.
def save_models(path: Path, classifier: VerdictClassifier, reranker, feature_config: dict) -> None:
    """Write the verdict model's fitted stages and the evidence reranker trained with it."""
    import skops.io as sio

    check_is_fitted(classifier, "temperature_")
    with atomic_file(path) as tmp:
        sio.dump({**_fitted_state(classifier), "feature_config": feature_config,
                  "reranker": reranker.model_ if reranker is not None else None,
                  "trained_on": sorted(classifier.trained_on_)}, tmp)


def _fitted_state(classifier: VerdictClassifier) -> dict:
    fallback = getattr(classifier, "fallback_", None)
    return {"relevance": classifier.relevance_, "stance": classifier.stance_,
            "temperature": classifier.temperature_, "review_threshold": classifier.review_threshold_,
            "params": {**classifier.get_params(), "optional_columns": list(classifier.optional_columns)},
            "fallback": _fitted_state(fallback) if fallback is not None else None}


def _restored(state: dict) -> VerdictClassifier:
    params = state["params"]
    model = VerdictClassifier(**{**params, "optional_columns": tuple(params.get("optional_columns", ()))})
    model.relevance_, model.stance_, model.temperature_ = state["relevance"], state["stance"], state["temperature"]
    model.review_threshold_ = state["review_threshold"]
    model.classes_ = np.array(LABELS)
    model.n_features_in_ = model.relevance_.n_features_in_
    model.fallback_ = _restored(state["fallback"]) if state.get("fallback") is not None else None
    return model


def load_models(path: Path) -> tuple[VerdictClassifier, dict, object]:
    """The verdict model, its feature configuration and the reranker's fitted pipeline (or None)."""
    if not path.exists():
        raise FactCheckError(f"no trained verdict model at {path}; run `factcheck train`")
    with loading_artefact(path, "run `factcheck train` to rebuild it"):
        data = load_skops(path)
        if "review_threshold" not in data:
            raise FactCheckError(f"{path} was written by an older version; run `factcheck train`")
        model = _restored(data)
        model.trained_on_ = frozenset(data.get("trained_on", []))
        return model, data["feature_config"], data.get("reranker")
