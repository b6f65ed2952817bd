"""Training: fit the evidence reranker and the verdict model on labelled claims, through the
pipeline's own retrieval, and save both. ``FactChecker`` only loads and uses what this writes;
``factcheck train`` and ``bench/cv.py`` call it.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.base import clone
from sklearn.model_selection import GroupKFold

from .evidence import contains_quote
from .posts import analyse_post, claim_fingerprint
from .retrieve import EvidenceReranker, RetrievalResult, rerank_features
from .verify import VerdictClassifier, save_models


@dataclass(frozen=True)
class TrainedModels:
    classifier: VerdictClassifier
    reranker: EvidenceReranker | None


def evidence_group_folds(groups: list, folds: int) -> list[tuple[list[int], list[int]]]:
    """(fitted on, held out) row indices; no evidence group is on both sides."""
    rows = np.arange(len(groups))
    splitter = GroupKFold(min(folds, len(set(groups))))
    return [(list(a), list(b)) for a, b in splitter.split(rows, groups=np.asarray(groups, dtype=str))]


def fit_reranker(template: EvidenceReranker, candidates: list[RetrievalResult], evidence: list[str],
                 index) -> EvidenceReranker | None:
    """A clone of ``template`` fit on the candidates of claims with a gold quote (target: the candidate
    contains it); None when there is nothing to learn from."""
    pairs = [(result, quote) for result, quote in zip(candidates, evidence) if quote]
    if not pairs:
        return None
    features = np.vstack([rerank_features(r, r.hits, index) for r, _ in pairs])
    targets = np.concatenate([[contains_quote(hit.passage.text, quote) for hit in r.hits] for r, quote in pairs])
    if targets.all() or not targets.any():
        return None
    return clone(template).fit(features, targets.astype(int))


def fit_models(checker, texts: list[str], labels: list[str], evidence: list[str] | None = None,
               groups: list[str] | None = None) -> TrainedModels:
    """Fit the evidence reranker (on rows with a gold quote) and then the verdict model on the
    pipeline's own retrieval output. Nothing is written, and ``checker`` is not changed.

    The verdict model must see rankings like those it will meet on new claims, so each training
    claim is ranked by a reranker fit without its evidence group (cross-fitting); the kept
    reranker is then fit on all rows."""
    config, retriever, index = checker.config, checker.retriever, checker.index
    settings = config.verdict
    classifier = VerdictClassifier(settings.seed, settings.calibration_folds, settings.regularisation,
                                   settings.review_precision)
    classifier.validate(labels, groups)  # before any work: too few examples is a one-line error
    template = EvidenceReranker(settings.regularisation)
    normalised = [analyse_post(text, config.posts).normalised for text in texts]
    depth, k = config.retrieval.rerank_depth, config.retrieval.k
    distinct = list(dict.fromkeys(normalised))  # repeated (weighted) claims are retrieved once
    found = dict(zip(distinct, retriever.search_many(distinct, max(k, depth), rerank=False)))
    candidates = [found[text] for text in normalised]
    evidence = evidence or [""] * len(texts)
    reranker = fit_reranker(template, candidates, evidence, index) if depth else None
    if reranker is None:
        ranked = candidates
    else:
        ranked = [None] * len(candidates)
        for fitted_on, held_out in evidence_group_folds(groups or list(range(len(texts))), settings.calibration_folds):
            fold_reranker = fit_reranker(template, [candidates[i] for i in fitted_on],
                                         [evidence[i] for i in fitted_on], index)
            held = [candidates[i] for i in held_out]
            reordered = retriever.rerank(held, fold_reranker) if fold_reranker is not None else held
            for row, result in zip(held_out, reordered):
                ranked[row] = result
    assessments = checker.assess([RetrievalResult(r.claim, r.claim_vector, r.hits[:k]) for r in ranked])
    features = np.vstack([a.features for a in assessments])
    classifier.fit(features, labels, groups, claim_fingerprints=[claim_fingerprint(text) for text in normalised])
    return TrainedModels(classifier, reranker)


def with_written_pairs(config, labelled):
    """The labelled claims plus, when ``verdict.train_on_pairs``, the written pairs as training claims.
    Each labelled claim then counts ``verdict.labelled_weight`` times (repeated rows share their evidence
    group, so no fold splits them): the pairs outnumber the claims ten to one."""
    import pandas as pd

    from .pairs import as_training_claims, read_pairs

    if not config.verdict.train_on_pairs:
        return labelled
    pairs = as_training_claims(read_pairs(config.path("training_pairs")))
    if not len(pairs):
        return labelled
    return pd.concat([labelled] * config.verdict.labelled_weight + [pairs], ignore_index=True)


def train(checker, texts: list[str], labels: list[str], evidence: list[str] | None = None,
          groups: list[str] | None = None) -> TrainedModels:
    """``fit_models``, save both models to ``paths.verifier_model``, and let ``checker`` use them."""
    models = fit_models(checker, texts, labels, evidence, groups)
    save_models(checker.config.path("verifier_model"), models.classifier, models.reranker,
                checker.current_feature_config())
    checker.use_models(models.classifier, models.reranker)
    return models
