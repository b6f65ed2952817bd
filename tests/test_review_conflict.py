"""When to look: review flags, conflicting sources and dated figures."""
from __future__ import annotations

import numpy as np
import pytest

from pipeline.checker import FactChecker, _cross_encoder_agrees, _with_context
from pipeline.posts import normalise_post
from pipeline.results import Evidence
from pipeline.text import figure_year
from pipeline.verify import review_threshold


def test_review_threshold_is_the_lowest_confidence_that_keeps_the_target_precision():
    confidence = np.array([0.95, 0.9, 0.85, 0.8, 0.7, 0.6])
    correct = np.array([True, True, True, False, True, False])
    # the top three are all right; adding 0.8 gives 3/4, adding 0.7 gives 4/5
    assert review_threshold(confidence, correct, 1.0) == 0.85
    assert review_threshold(confidence, correct, 0.8) == 0.7
    assert review_threshold(confidence, correct, 0.75) == 0.7
    assert review_threshold(confidence, ~correct & False, 0.9) > 0.95  # never reached: everything is flagged


@pytest.mark.parametrize("text, year", [
    ("In 2020 had 2,0% van de volwassenen in Nederland ooit ketamine als drug gebruikt.", 2020),
    ("Het gebruik steeg van 0,4% in 2016 tot 0,9% in 2019.", 2019),
    ("Ketamine is sinds 2019 in Nederland goedgekeurd als medicijn.", None),  # a year, but no figure
    ("De halfwaardetijd is twee tot drie uur.", None),                      # a figure, but no year
])
def test_the_year_a_figure_refers_to(text, year):
    assert figure_year(text) == year


def _evidence(text: str, year: int | None) -> Evidence:
    return Evidence(text, "doc", "Titel", None, 0, len(text), 1.0, 0.5, 1.0, "doc#0", "Titel [doc]", None, year)


def test_a_claim_about_the_present_names_the_year_of_its_figure():
    evidence = [_evidence("In 2020 had 2,0% ooit ketamine gebruikt.", 2020)]
    assert _with_context("bron bevestigt: 'x'", "Nu heeft 2% ooit ketamine gebruikt.", "supported", evidence, None) \
        == "bron bevestigt: 'x' (volgens cijfers uit 2020)"
    assert _with_context("bron bevestigt: 'x'", "In 2020 had 2% het gebruikt.", "supported", evidence, None) \
        == "bron bevestigt: 'x'"
    assert _with_context("niet behandeld", "Nu gebruikt 2% het.", "unsupported", evidence, None) == "niet behandeld"


def test_conflicting_passages_are_named_and_flagged(fake_checker):
    claim = "Ketamine is in Nederland goedgekeurd als medicijn bij depressie."
    settings = fake_checker.config

    def checker_with(depth: int, floor: float) -> FactChecker:
        verdict = settings.verdict.model_copy(update={"conflict_depth": depth, "conflict_min_confidence": floor})
        checker = FactChecker(settings.model_copy(update={"verdict": verdict}), encoder=fake_checker.encoder,
                              index=fake_checker.index)
        checker.load_classifier()
        return checker

    assert checker_with(0, 0.0).check(claim).conflict is None
    assert checker_with(3, 1.0).check(claim).conflict is None
    # With no confidence floor, any claim whose best passages come from two documents has a conflict.
    spread = checker_with(settings.retrieval.k, 0.0)
    claim = next(text for text in ("Ketamine is een verdovingsmiddel dat ook tegen depressie wordt gebruikt.",
                                   "Ketamine wordt gebruikt als medicijn en als drug.", claim)
                 if len({h.passage.doc_id for h in spread.retriever.search(normalise_post(text)).hits}) > 1)
    result = spread.check(claim)
    conflict = result.conflict
    assert conflict is not None and conflict.supporting.doc_id != conflict.contradicting.doc_id
    assert result.needs_review and result.explanation.startswith("bronnen spreken elkaar tegen: '")
    assert result.to_dict()["conflict"]["supporting"]["text"] == conflict.supporting.text


def test_a_conflict_needs_the_cross_encoder_to_read_both_passages_the_same_way():
    entails, contradicts = np.array([0.8, 0.15, 0.05]), np.array([0.2, 0.75, 0.05])
    undecided = np.array([0.51, 0.44, 0.05])  # a passage on a neighbouring fact
    assert _cross_encoder_agrees(entails, contradicts, 0.7)
    assert not _cross_encoder_agrees(entails, undecided, 0.7)
    assert not _cross_encoder_agrees(contradicts, contradicts, 0.7)
    assert _cross_encoder_agrees(None, None, 0.7)  # no cross-encoder (fast profile): the verdict model decides


def test_a_passage_on_a_neighbouring_fact_is_no_conflict(checker):
    # The factsheet's "Sinds 2000 wordt de effectiviteit ... onderzocht" is among the best passages of this
    # claim; the verdict model alone reads its other year as a contradiction.
    claim = "Ketamine is sinds 2019 in Nederland goedgekeurd als medicijn bij therapieresistente depressie."
    assert checker.nli is not None
    result = checker.check(claim)
    assert result.verdict == "supported" and result.conflict is None and result.claims[0].conflict is None


def test_the_known_conflict_between_two_documents_is_found(checker):
    # The Cleveland news item says ketamine is officially approved only as an anaesthetic; the depression page
    # describes its 2019 approval for treatment-resistant depression. A claim taking one side meets both.
    result = checker.check("Ketamine is uitsluitend goedgekeurd als verdovingsmiddel en niet als medicijn tegen depressie.")
    assert result.conflict is not None and result.needs_review
    assert {result.conflict.supporting.doc_id, result.conflict.contradicting.doc_id} == {
        "nieuws-cleveland-pijnstudie", "info-ketamine-depressie"}
    assert "bronnen spreken elkaar tegen" in result.explanation
