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


@dataclass(frozen=True)
class RerankRows:
    """Each claim's candidate features and targets (a candidate holds its gold quote), computed once and shared
    by every fold; None for a claim without a gold quote."""

    features: list[np.ndarray | None]
    targets: list[np.ndarray | None]


def rerank_rows(candidates: list[RetrievalResult], evidence: list[str], index) -> RerankRows:
    seen: dict[tuple[int, str], tuple[np.ndarray, np.ndarray]] = {}  # a weighted claim repeats its result
    for result, quote in zip(candidates, evidence):
        if quote and (id(result), quote) not in seen:
            seen[id(result), quote] = (rerank_features(result, result.hits, index),
                                       np.array([contains_quote(hit.passage.text, quote) for hit in result.hits]))
    rows = [seen.get((id(result), quote), (None, None)) for result, quote in zip(candidates, evidence)]
    return RerankRows([features for features, _ in rows], [targets for _, targets in rows])


def fit_reranker(template: EvidenceReranker, rows: RerankRows,
                 chosen: list[int] | None = None) -> EvidenceReranker | None:
    """A clone of ``template`` fit on the candidates of the chosen claims (all by default) that have a gold quote
    (target: the candidate contains it); None when there is nothing to learn from."""
    chosen = range(len(rows.features)) if chosen is None else chosen
    kept = [i for i in chosen if rows.features[i] is not None]
    if not kept:
        return None
    targets = np.concatenate([rows.targets[i] for i in kept])
    if targets.all() or not targets.any():
        return None
    return clone(template).fit(np.vstack([rows.features[i] for i in kept]), targets.astype(int))


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
                                   settings.review_precision, checker.optional_verdict_columns())
    classifier.validate(labels, groups)  # before any work: too few examples is a one-line error
    template = EvidenceReranker(settings.regularisation)
    normalised = [analyse_post(text, config.posts).normalised for text in texts]
    depth, k = config.retrieval.rerank_depth, config.retrieval.k
    distinct = list(dict.fromkeys(normalised))  # repeated (weighted) claims are retrieved once
    written = index.written_claims
    vectors = written.query_vectors(distinct, checker.encoder) if written is not None else None
    found = dict(zip(distinct, retriever.search_many(distinct, max(k, depth), rerank=False, vectors=vectors)))
    candidates = [found[text] for text in normalised]
    evidence = evidence or [""] * len(texts)
    rows = rerank_rows(candidates, evidence, index) if depth else None
    reranker = fit_reranker(template, rows) if depth else None
    if reranker is None:
        ranked = candidates
    else:
        ranked = [None] * len(candidates)
        for fitted_on, held_out in evidence_group_folds(groups or list(range(len(texts))), settings.calibration_folds):
            fold_reranker = fit_reranker(template, rows, fitted_on)
            held = [candidates[i] for i in held_out]
            reordered = retriever.rerank(held, fold_reranker) if fold_reranker is not None else held
            for row, result in zip(held_out, reordered):
                ranked[row] = result
    ranked = [RetrievalResult(r.claim, r.claim_vector, r.hits[:k]) for r in ranked]
    if reranker is not None:
        ranked = checker.read_and_reorder(ranked)
    assessments = checker.assess(ranked)
    features = np.vstack([a.features for a in assessments])
    classifier.fit(features, labels, groups, claim_fingerprints=[claim_fingerprint(text) for text in normalised])
    return TrainedModels(classifier, reranker)


def with_written_pairs(config, labelled):
    """The labelled claims plus, when ``verdict.train_on_pairs``, the written pairs as training claims, and
    the claims of the labelled posts of the training splits, ``verdict.post_claims_weight`` times each.
    Each labelled claim then counts ``verdict.labelled_weight`` times (repeated rows share their evidence
    group, so no fold splits them): the pairs outnumber the claims ten to one."""
    import pandas as pd

    from .nli import even_share
    from .pairs import as_training_claims, read_pairs

    extra = []
    if config.verdict.train_on_pairs:
        pairs = as_training_claims(read_pairs(config.path("training_pairs")))
        extra.append(pairs.iloc[even_share(list(range(len(pairs))), config.verdict.pairs_share)])
    if config.verdict.post_claims_weight:
        claims = post_claims(config, config.verdict.training_splits, config.verdict.post_claims_as_read)
        extra += [without_held_out_claims(config, claims)] * config.verdict.post_claims_weight
    extra = [frame for frame in extra if len(frame)]
    if not extra:
        return labelled
    return pd.concat([labelled] * config.verdict.labelled_weight + extra, ignore_index=True)


def without_held_out_claims(config, claims):
    """``claims`` less those that repeat, word for word, a labelled claim of a split the models are not trained
    on: a training post's claim as ``check`` reads it can come out exactly as such a claim."""
    from .posts import claim_fingerprint, normalise_post
    from .report import read_labelled

    labelled = read_labelled(config.path("labelled_claims"))
    held_out = labelled.loc[~labelled["split"].isin(config.verdict.training_splits), "claim"]
    seen = {claim_fingerprint(normalise_post(claim)) for claim in held_out}
    return claims[[claim_fingerprint(normalise_post(claim)) not in seen for claim in claims["claim"]]]


def post_claims(config, splits: list[str], as_read: bool = False):
    """The checkable sentences of the labelled posts of ``splits``, as labelled claims with their label
    against the corpus: the claim as the labeller wrote it plainly, or with ``as_read`` as ``check`` takes it
    from the posted sentence (``post_reading.claims_as_read``: often a fragment in the poster's words)."""
    import pandas as pd

    from .labelled_posts import CHECKABLE, read_posts
    from .post_reading import claims_as_read
    from .posts import post_sentence

    posts = read_posts(config.path("labelled_posts"))
    rows = posts[posts["split"].isin(splits)].copy()
    if as_read:
        rows["claim"] = ""
        for _, post in rows.sort_values(["post_id", "sentence_no"]).groupby("post_id", sort=False):
            read = claims_as_read([post_sentence(raw).text for raw in post["sentence"]],
                                  list(post["sentence_class"].isin(CHECKABLE)))
            rows.loc[post.index, "claim"] = [claim[0] if claim else "" for claim in read]
    rows = rows[rows["sentence_class"].isin(CHECKABLE)]
    return pd.DataFrame({"claim": rows["claim"], "label": rows["claim_label"], "evidence": rows["evidence"],
                         "group": "post:" + rows["post_id"], "kind": "post claim", "split": "posts"})


def train(checker, texts: list[str], labels: list[str], evidence: list[str] | None = None,
          groups: list[str] | None = None) -> TrainedModels:
    """``fit_models``, save both models to ``paths.verifier_model``, and let ``checker`` use them (with the
    pair memory when ``verdict.pair_memory``)."""
    prepare_pair_memory(checker)
    models = fit_models(checker, texts, labels, evidence, groups)
    save_models(checker.config.path("verifier_model"), models.classifier, models.reranker,
                checker.current_feature_config())
    checker.use_models(models.classifier, models.reranker)
    return models


def prepare_pair_memory(checker):
    """Build the pair memory from the index's written claims when ``verdict.pair_memory`` (else none) and let
    ``checker`` use it: the verdict model is then fitted with its features."""
    from .pair_memory import build_pair_memory

    config = checker.config
    checker.pair_memory = build_pair_memory(checker.index) if config.verdict.pair_memory else None
    return checker.pair_memory


# --------------------------------------------------------------------------- the post reader
@dataclass
class ReaderData:
    """Labelled post sentences in reading order, with their posts' boundaries and (optionally) embeddings."""

    posts: list[list]                 # PostSentence lists, one per post
    post_ids: list[str]
    classes: list[str]                # one per sentence, in order
    stances: list[str]                # "" where the sentence is not checkable
    vectors: np.ndarray | None = None  # query embeddings of the normalised sentences, in order

    def sentence_posts(self) -> list[str]:
        return [post_id for post_id, post in zip(self.post_ids, self.posts) for _ in post]


def reader_data(posts, plain_claims: list[str] = (), encoder=None) -> ReaderData:
    """``posts``: rows of ``labelled_posts.read_posts``; each plain claim joins as a one-sentence post
    that asserts it. With ``encoder``, the sentences are embedded as ``check`` embeds them."""
    from .posts import post_sentence

    data = ReaderData([], [], [], [])
    for post_id, rows in posts.groupby("post_id", sort=False):
        data.posts.append([post_sentence(raw) for raw in rows["sentence"]])
        data.post_ids.append(str(post_id))
        data.classes += list(rows["sentence_class"])
        data.stances += list(rows["stance"])
    for number, claim in enumerate(plain_claims):
        data.posts.append([post_sentence(claim)])
        data.post_ids.append(f"claim:{number}")
        data.classes.append("claim")
        data.stances.append("asserts")
    if encoder is not None:
        data.vectors = encoder.encode_queries([s.text for post in data.posts for s in post])
    return data


def reader_matrix(reader, data: ReaderData, posts: list[int] | None = None) -> np.ndarray:
    """The reader's features for the given posts (all by default), one row per sentence, post by post."""
    chosen = range(len(data.posts)) if posts is None else posts
    starts = np.cumsum([0] + [len(post) for post in data.posts])
    blocks = [reader.features([s.raw for s in data.posts[i]],
                              data.vectors[starts[i]:starts[i + 1]] if data.vectors is not None else None)
              for i in chosen]
    return np.vstack(blocks) if blocks else np.zeros((0, 0))


def sentence_rows(data: ReaderData, posts: list[int]) -> np.ndarray:
    """Indices of the sentences of the given posts, in the order ``reader_matrix`` stacks them."""
    starts = np.cumsum([0] + [len(post) for post in data.posts])
    return np.concatenate([np.arange(starts[i], starts[i + 1]) for i in posts]) if posts else np.zeros(0, int)


def fit_post_reader(template, data: ReaderData, posts: list[int] | None = None):
    """A clone of ``template`` fitted on the given posts (all by default)."""
    chosen = list(range(len(data.posts))) if posts is None else list(posts)
    rows = sentence_rows(data, chosen)
    return clone(template).fit(reader_matrix(template, data, chosen), np.asarray(data.classes)[rows],
                               np.asarray(data.stances)[rows])


def train_post_reader(checker) -> str:
    """Fit the post reader on the configured splits of ``paths.labelled_posts`` (plus the labelled plain
    claims of the same splits, where configured), save it, and let ``checker`` use it. Returns a summary."""
    from .labelled_posts import read_posts
    from .post_reading import PostReader, reader_identity, save_reader
    from .report import read_labelled

    settings, path = checker.config.posts, checker.config.path("post_reader")
    posts = read_posts(checker.config.path("labelled_posts"))
    if not settings.reader or not len(posts):
        checker.post_reader = None
        if path.exists():
            path.unlink()  # a reader from other data must not outlive it
        return "post reader off: posts are read by the sentence rules"
    splits = settings.reader_training_splits
    posts = posts[posts["split"].isin(splits)]
    plain = []
    if settings.reader_plain_claims:
        labelled = read_labelled(checker.config.path("labelled_claims"), splits)
        plain = list(labelled.loc[labelled["kind"] != "social-media post", "claim"])
    template = PostReader(settings.reader_regularisation, settings.reader_embeddings)
    data = reader_data(posts, plain, checker.encoder if settings.reader_embeddings else None)
    reader = fit_post_reader(template, data)
    save_reader(path, reader, reader_identity(reader, checker.encoder.identity))
    checker.post_reader = reader
    return (f"post reader trained on {posts['post_id'].nunique()} posts ({len(posts)} sentences, "
            f"{'+'.join(splits)}) and {len(plain)} plain claims; saved to {path}")
