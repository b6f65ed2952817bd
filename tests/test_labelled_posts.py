"""The labelled posts (corpus/posts): their shape, their quotes, and the rules that tie post labels to sentences."""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from pipeline.errors import FactCheckError
from pipeline.evidence import contains_quote, quotes
from pipeline.labelled_posts import (CHECKABLE, COLUMNS, post_split, post_text, read_posts,
                                     stance_verdict, whole_posts)
from pipeline.posts import analyse_post, post_sentence, post_verdict


@pytest.fixture(scope="module")
def posts(config):
    return read_posts(config.path("labelled_posts"))


def test_there_are_enough_posts_and_sentences_in_every_class(posts):
    whole = whole_posts(posts)
    assert len(whole) >= 200 and len(posts) >= 400
    assert posts.groupby("sentence_class").size().min() >= 20
    assert set(posts.loc[posts["sentence_class"].isin(CHECKABLE), "stance"]) == {"asserts", "denies", "reports"}
    assert whole["post_label"].value_counts().min() >= 50
    assert set(whole["split"]) == {"train", "dev", "test"}


def test_the_post_splitter_finds_the_labelled_sentences(posts, config):
    """A post is checked sentence by sentence, so its sentences must be the ones the labels were written for:
    whole posts, split again by the checker, give the labelled sentences (emojis closing a sentence included)."""
    agreeing = 0
    for _, sentences in posts.groupby("post_id", sort=False)["sentence"]:
        labelled = [s.text for s in map(post_sentence, sentences) if s.text]
        agreeing += [s.text for s in analyse_post(post_text(list(sentences)), config.posts).sentences] == labelled
    assert agreeing / posts["post_id"].nunique() >= 0.9  # 0.80 (177 of 220) before emojis closed sentences; 0.96 after


def test_every_quote_is_verbatim_in_the_indexed_corpus(posts, fake_checker):
    missing = _quotes_in_no_passage(posts, fake_checker.index)
    assert not missing, f"quotes not found in any passage: {missing[:3]}"


def _quotes_in_no_passage(posts, index) -> list[str]:
    passages = [passage.text for passage in index.passages]
    return [quote for evidence in set(posts["evidence"]) - {""} for quote in quotes(evidence)
            if not any(contains_quote(text, quote) for text in passages)]


@pytest.fixture(scope="module")
def holdout(config):
    return read_posts(config.path("holdout_posts"), split="holdout")


def test_the_held_out_writer_is_valid_and_apart_from_the_labelled_posts(holdout, posts, fake_checker):
    """The held-out writer's posts pass the same checks as the others (read_posts refuses a label that breaks
    the aggregation rule), share no post id with them, and quote the corpus verbatim."""
    whole = whole_posts(holdout)
    assert len(whole) >= 45 and set(whole["split"]) == {"holdout"}
    assert set(whole["post_label"]) == {"supported", "contradicted", "unsupported"}
    assert not set(holdout["post_id"]) & set(posts["post_id"])
    missing = _quotes_in_no_passage(holdout, fake_checker.index)
    assert not missing, f"quotes not found in any passage: {missing[:3]}"


def test_nothing_trains_on_the_held_out_writer(holdout, posts, fake_checker):
    """The post reader is fitted on paths.labelled_posts only, and the verdict model on the labelled claims and
    the written pairs: no held-out claim sentence is among the reader's (short greetings and questions such as
    "Iemand ervaring mee?" may recur), and the verdict model saw no held-out post or claim sentence as posted.
    (A labeller's plain claim may match a labelled claim word for word: "Bij S-ketamine staan de hallucinogene
    effecten meer op de voorgrond dan bij R-ketamine." is both pf015's and a training claim.)"""
    checkable = holdout[holdout["sentence_class"].isin(CHECKABLE)]
    assert not set(checkable["sentence"]) & set(posts["sentence"])
    texts = list(whole_posts(holdout)["text"]) + list(checkable["sentence"])
    assert not any(fake_checker.seen_in_training(texts))


def test_a_post_never_straddles_splits(posts):
    assert (posts.groupby("post_id")["split"].nunique() == 1).all()
    assert post_split("pa001") == post_split("pa001")


@pytest.mark.parametrize("claim_label, stance, verdict", [
    ("supported", "asserts", "supported"), ("supported", "reports", "supported"),
    ("supported", "denies", "contradicted"), ("contradicted", "denies", "supported"),
    ("unsupported", "denies", "unsupported"),
])
def test_a_denied_claim_gets_the_opposite_verdict(claim_label, stance, verdict):
    assert stance_verdict(claim_label, stance) == verdict


def test_with_certain_verdicts_the_aggregation_rule_lets_any_contradicted_sentence_decide():
    """The labelled posts' rule is the checker's with every verdict certain: the first of equals decides."""
    def certain(verdicts):
        return post_verdict([(verdict, 1.0) for verdict in verdicts])

    assert certain(["supported", "contradicted", "supported"]) == ("contradicted", 1)
    assert certain(["unsupported", "supported", "supported"]) == ("supported", 1)
    assert certain(["unsupported", "unsupported"]) == ("unsupported", 0)
    assert certain([]) == ("unsupported", None)


@pytest.mark.parametrize("claims, margin, expected", [
    ([("supported", 0.9), ("contradicted", 0.7)], 0.0, ("supported", 0)),     # the surer decides
    ([("supported", 0.9), ("contradicted", 0.7)], 0.25, ("contradicted", 1)),  # within the margin
    ([("supported", 0.9), ("contradicted", 0.7)], 0.1, ("supported", 0)),
    ([("supported", 0.44), ("contradicted", 0.29)], 0.15, ("contradicted", 1)),  # exactly the margin
    ([("supported", 0.8), ("contradicted", 0.8)], 0.0, ("contradicted", 1)),    # equally sure
    ([("unsupported", 0.95), ("contradicted", 0.4)], 0.0, ("contradicted", 1)),  # unsupported never decides over it
    ([("unsupported", 0.6), ("unsupported", 0.8)], 0.0, ("unsupported", 1)),
    ([("supported", 0.6), ("supported", 0.8), ("unsupported", 0.99)], 0.0, ("supported", 1)),
])
def test_the_aggregation_rule_lets_the_surest_deciding_claim_decide(claims, margin, expected):
    assert post_verdict(claims, margin) == expected


def _write(folder, rows: list[dict]) -> None:
    pd.DataFrame(rows, columns=COLUMNS).to_csv(folder / "posts.csv", index=False)


def test_a_post_label_that_breaks_the_rule_is_a_one_line_error(tmp_path):
    row = dict(post_id="x1", platform="x", voice="raver", sentence_no="1", sentence="mensen die denken dat K legaal is 😂",
               sentence_class="claim", stance="denies", claim="Ketamine is legaal.", claim_label="contradicted",
               evidence="strafbaar", post_label="contradicted")
    _write(tmp_path, [row])
    with pytest.raises(FactCheckError, match=r"post x1: post_label contradicted but the rule gives supported") as caught:
        read_posts(tmp_path)
    assert "\n" not in str(caught.value)


def test_a_stance_on_an_advice_sentence_is_refused(tmp_path):
    row = dict(post_id="x2", platform="x", voice="parent", sentence_no="1", sentence="wees voorzichtig mensen",
               sentence_class="advice", stance="asserts", claim="", claim_label="", evidence="", post_label="unsupported")
    _write(tmp_path, [row])
    with pytest.raises(FactCheckError, match="stance set on a advice sentence"):
        read_posts(tmp_path)


EXTERNAL_CLAIMS = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "external-dev" / "claims.csv"


@pytest.mark.skipif(not EXTERNAL_CLAIMS.is_file(), reason="the external set is not beside the project")
def test_no_training_text_repeats_a_claim_of_the_external_set(posts, holdout, config):
    """The external set measures wording the team did not write: none of its claims may return, word for word
    (case and punctuation aside), as a labelled post's sentence or claim, a labelled claim or a written pair."""
    import re

    from pipeline.pairs import read_pairs

    def plain(text: str) -> str:
        return re.sub(r"[\W_]+", " ", text.lower()).strip()

    external = {plain(claim) for claim in pd.read_csv(EXTERNAL_CLAIMS, dtype=str, keep_default_na=False)["claim"]}
    labelled = pd.read_csv(config.path("labelled_claims"), dtype=str, keep_default_na=False)
    ours = (list(posts["sentence"]) + list(posts["claim"]) + list(holdout["sentence"]) + list(holdout["claim"])
            + list(labelled["claim"]) + list(read_pairs(config.path("training_pairs"))["hypothesis"]))
    repeated = sorted({text for text in ours if text and plain(text) in external})
    assert not repeated, f"{len(repeated)} external claim(s) in our data, e.g. {repeated[0]!r}"
