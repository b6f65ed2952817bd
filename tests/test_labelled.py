"""The labelled claim set keeps its own rules (corpus/labelled/GUIDELINES.md) against the real corpus."""
from __future__ import annotations

import pandas as pd
import pytest

from pipeline.evidence import contains_quote, first_hit_rank, quotes
from pipeline.verify import LABELS


@pytest.fixture(scope="module")
def claims(config):
    return pd.read_csv(config.path("labelled_claims"), keep_default_na=False)


def test_alternative_quotes_each_count_as_a_hit():
    evidence = "de bloeddruk gaan omhoog || Ketamine verhoogt de bloeddruk"
    assert quotes(evidence) == ["de bloeddruk gaan omhoog", "Ketamine verhoogt de bloeddruk"]
    assert contains_quote("Ketamine verhoogt de bloeddruk en de hartslag (46).", evidence)
    assert contains_quote("Ook gaan de hartslag en de Bloed-druk... gaan omhoog", "bloeddruk gaan omhoog")
    assert not contains_quote("Ketamine verlaagt de bloeddruk.", evidence)
    assert first_hit_rank(["iets anders", "ketamine VERHOOGT de bloeddruk"], evidence) == 2
    assert not contains_quote("een passage", "") and quotes(" || ") == []


def test_a_quote_over_two_sentences_is_found_in_either_one_sentence_passage(fake_checker):
    """Passages are single sentences, so a quote that runs on into the next sentence lies in no one passage;
    each of its sentences is a hit, a list item that only occurs inside it is not."""
    index = fake_checker.index
    texts = [passage.text for passage in index.passages]
    row = next(row for row in range(1, len(texts) - 2)
               if len({passage.doc_id for passage in index.passages[row - 1:row + 3]}) == 1
               and len(texts[row]) > 60 and len(texts[row + 1]) > 60 and texts[row].endswith("."))
    quote = f"{texts[row]} {texts[row + 1]}"
    assert [contains_quote(text, quote) for text in texts[row - 1:row + 3]] == [False, True, True, False]
    assert first_hit_rank([texts[row + 1], texts[row]], quote) == 1
    words = texts[row].split()
    list_item = " ".join(words[1:3])  # a fragment of the quote, as a short list item passage would be
    assert not contains_quote(list_item, quote)
    assert not contains_quote(f"{texts[row + 1]} En iets anders.", texts[row])  # a one-sentence quote as before


def test_labels_kinds_and_evidence_follow_the_guidelines(claims):
    kinds = {"paraphrase", "negation", "number", "entity swap", "quantifier", "scope or time",
             "social-media post", "unsupported on topic", "off topic"}
    assert len(claims) >= 450 and set(claims["label"]) == set(LABELS)
    assert set(claims["kind"]) <= kinds and (claims["kind"] == "social-media post").sum() >= 60
    needs_evidence = claims["label"] != "unsupported"
    assert (claims.loc[needs_evidence, "evidence"] != "").all()
    assert (claims.loc[~needs_evidence, "evidence"] == "").all()


def test_every_quote_is_verbatim_in_the_indexed_corpus(claims, fake_checker):
    passages = [passage.text for passage in fake_checker.index.passages]  # the real corpus, however embedded
    missing = [quote for evidence in set(claims["evidence"]) - {""} for quote in quotes(evidence)
               if not any(contains_quote(text, quote) for text in passages)]
    assert not missing, f"quotes not found in any passage: {missing[:3]}"


def test_the_scale_probe_follows_the_same_rules_and_is_never_trained_on(config, fake_checker):
    """corpus/labelled/scale-probe.csv: claims whose truth turns on a quantifier, frequency, degree or certainty,
    written apart from the pairs; evaluated with `factcheck evaluate`, never a training split."""
    probe = pd.read_csv(config.path("labelled_claims").parent / "scale-probe.csv", keep_default_na=False)
    assert len(probe) >= 80 and set(probe["label"]) == set(LABELS) and set(probe["split"]) == {"probe"}
    assert set(probe["kind"]) == {"quantifier", "social-media post"} and probe["group"].is_unique
    assert not set(probe["split"]) & set(config.verdict.training_splits + config.posts.reader_training_splits)
    needs_evidence = probe["label"] != "unsupported"
    assert (probe.loc[needs_evidence, "evidence"] != "").all() and (probe.loc[~needs_evidence, "evidence"] == "").all()
    passages = [passage.text for passage in fake_checker.index.passages]
    assert all(any(contains_quote(text, quote) for text in passages) for quote in probe.loc[needs_evidence, "evidence"])


def test_an_evidence_group_never_straddles_splits_and_keeps_its_first_quote(claims):
    assert (claims.groupby("group")["split"].nunique() == 1).all()
    with_evidence = claims[claims["evidence"] != ""]
    first_quotes = with_evidence["evidence"].map(lambda evidence: quotes(evidence)[0])
    assert (first_quotes.groupby(with_evidence["group"]).nunique() == 1).all()


def test_training_reads_the_configured_splits_and_never_the_test_split(config, claims):
    from pipeline.report import read_labelled

    path = config.path("labelled_claims")
    assert config.verdict.training_splits and "test" not in config.verdict.training_splits
    training = read_labelled(path, config.verdict.training_splits)
    assert len(training) == claims["split"].isin(config.verdict.training_splits).sum()
    both = read_labelled(path, ["train", "dev"])
    assert set(both["split"]) == {"train", "dev"} and len(both) == len(read_labelled(path, "train")) + len(
        read_labelled(path, "dev"))


def test_ece_reference_shows_what_chance_alone_costs_a_calibrated_model():
    import numpy as np

    from pipeline.report import calibration_bins, ece_if_calibrated, expected_calibration_error

    confidence = np.linspace(0.4, 0.99, 128)
    right = np.random.default_rng(1).random(128) < confidence
    bins = calibration_bins(confidence, right)
    assert sum(count for _, _, count in bins) == 128
    assert expected_calibration_error(confidence, right) == pytest.approx(
        sum(count / 128 * abs(accuracy - mean) for mean, accuracy, count in bins))
    small, large = ece_if_calibrated(confidence), ece_if_calibrated(np.repeat(confidence, 40))
    # On 128 claims a perfectly calibrated model still scores an ECE of several points; on 40 times as
    # many the chance part shrinks, and a model that is always right with confidence 1 scores 0.
    assert 0.03 < small["mean"] < 0.10 and small["p05"] < small["mean"] < small["p95"]
    assert large["mean"] < small["mean"] / 3
    assert ece_if_calibrated(np.ones(50))["mean"] == 0.0
