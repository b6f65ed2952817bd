"""The Python API and social-media post handling."""
from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import pytest

from pipeline.errors import FactCheckError
from pipeline.post_reading import rule_reading
from pipeline.posts import analyse_post, normalise_post, post_verdict


def test_normalisation_keeps_meaning_and_drops_noise():
    text = "RT @jan: Microdoseren met K geeft GEEN bijwerkingen, echttt!!! #ketamine #microdosing https://t.co/x 🙌"
    normalised = normalise_post(text)
    assert "ketamine" in normalised and "geen bijwerkingen" in normalised and "echt!" in normalised
    for noise in ("RT", "@jan", "https", "🙌", "#"):
        assert noise not in normalised
    assert normalise_post("Verscheen in 2000 bij 280.000 mensen") == "Verscheen in 2000 bij 280.000 mensen"
    assert normalise_post("Special K helpt echt niet tegen stress") == "ketamine helpt echt niet tegen stress"


def test_post_with_three_sentences(checker):
    post = ("Hoi allemaal! De halfwaardetijd van ketamine is twee dagen. "
            "Ketamine is sinds 2019 in Nederland goedgekeurd bij therapieresistente depressie. Wat vinden jullie?")
    result = checker.check(post)
    assert [c.claim for c in result.claims] == [
        "De halfwaardetijd van ketamine is twee dagen.",
        "Ketamine is sinds 2019 in Nederland goedgekeurd bij therapieresistente depressie."]
    assert [(s.text, s.reason) for s in result.skipped] == [("Hoi allemaal!", "groet, te kort of overig"), ("Wat vinden jullie?", "vraag")]
    by_claim = {c.claim: c.verdict for c in result.claims}
    assert by_claim["De halfwaardetijd van ketamine is twee dagen."] == "contradicted"
    # The post follows the aggregation rule over its claims' verdicts, and its explanation names the deciding claim.
    verdict, deciding = post_verdict([(c.verdict, c.confidence) for c in result.claims],
                                     checker.config.verdict.post_contradicted_margin)
    assert result.verdict == verdict
    assert result.explanation.startswith(f"bewering '{result.claims[deciding].claim}'")


def test_non_dutch_post_is_never_confidently_judged(checker):
    for text in ("Ketamine cures depression, microdosing works!", "Ketamin heilt Depressionen schnell und sicher."):
        result = checker.check(text)
        assert result.verdict == "unsupported" and result.confidence == 0.0
        assert "taal niet gedekt" in result.explanation and result.language != "nl"


def test_pure_question_and_opinion_are_skipped(checker):
    result = checker.check("Ik vind het echt bizar. Is ketamine gevaarlijk?")
    assert result.verdict == "unsupported" and not result.claims
    assert {s.reason for s in result.skipped} == {"mening", "vraag"}


def test_results_are_plain_data(checker):
    result = checker.check("Ketamine verhoogt de bloeddruk en de hartslag.")
    data = json.loads(result.to_json())
    assert data["verdict"] == "supported" and data == result.to_dict()
    evidence = data["evidence"][0]
    assert {"text", "doc_id", "title", "start", "end", "score", "source"} <= set(evidence)


def test_check_many_matches_check_and_is_thread_safe(checker):
    texts = ["Ketamine verhoogt de bloeddruk.", "Ketamine is legaal in Nederland.",
             "Snuiven is de meest voorkomende manier van gebruik.", "Amsterdam is de hoofdstad van Nederland."]
    batch = [r.verdict for r in checker.check_many(texts, batch_size=2)]
    with ThreadPoolExecutor(max_workers=4) as pool:
        threaded = [r.verdict for r in pool.map(checker.check, texts * 2)]
    assert threaded == batch * 2
    assert [r.verdict for r in checker.check_many(text for text in texts)] == batch  # any iterable
    with pytest.raises(FactCheckError, match="use check\\(\\) for a single text"):
        checker.check_many(texts[0])  # a string is not a list of one-character posts
    with pytest.raises(FactCheckError, match="batch_size must be 1 or more"):
        checker.check_many(texts, batch_size=0)


def test_long_post_is_truncated_and_says_so(checker, config):
    analysis = analyse_post("Ketamine verhoogt de bloeddruk. " * 40_000, config.posts)
    assert analysis.truncated and len(analysis.normalised) <= config.posts.max_chars


def test_an_emoji_closes_a_sentence_but_hashtags_stay(config):
    analysis = analyse_post("K brandt als een gek in je neus 🔥 iemand tips? Ik doe het voor mijn focus 🧠✨ #microdosing",
                            config.posts)
    assert [s.raw for s in analysis.sentences] == ["K brandt als een gek in je neus 🔥", "iemand tips?",
                                                   "Ik doe het voor mijn focus 🧠✨ #microdosing"]


def test_tag_question_does_not_hide_a_claim(config):
    analysis = analyse_post("S-ketamine verdooft drie tot vier keer sterker dan R-ketamine, wist je dat?", config.posts)
    readings = rule_reading(analysis.sentences, config.posts)
    assert [r.claim for r in readings] == ["S-ketamine verdooft drie tot vier keer sterker dan R-ketamine."]


def test_explanation_quotes_the_first_evidence_passage(checker):
    result = checker.check("Ketamine verlaagt de bloeddruk en de hartslag.")
    quoted = result.explanation.split("'")[-2].rstrip("…")
    assert result.evidence[0].text.startswith(quoted[:40])


def _claim(text: str, verdict: str, confidence: float):
    from pipeline.results import ClaimResult
    from pipeline.verify import LABELS

    rest = (1.0 - confidence) / 2
    probabilities = {label: (confidence if label == verdict else rest) for label in LABELS}
    return ClaimResult(text, verdict, confidence, probabilities, f"uitleg bij {text}", [])


@pytest.mark.parametrize("claims, verdict, deciding", [
    ([("a", "supported", 0.6)], "supported", "a"),
    ([("a", "contradicted", 0.4)], "contradicted", "a"),             # one claim: its own verdict, however sure
    ([("a", "supported", 0.7), ("b", "contradicted", 0.9)], "contradicted", "b"),
    ([("a", "supported", 0.9), ("b", "contradicted", 0.7)], "supported", "a"),   # more than the margin (0.15) surer
    ([("a", "supported", 0.9), ("b", "contradicted", 0.8)], "contradicted", "b"),
    ([("a", "unsupported", 0.9), ("b", "contradicted", 0.4)], "contradicted", "b"),
    ([("a", "supported", 0.6), ("b", "supported", 0.8)], "supported", "b"),
    ([("a", "unsupported", 0.6), ("b", "unsupported", 0.9)], "unsupported", "b"),
])
def test_post_verdict_follows_the_documented_rule(fake_checker, claims, verdict, deciding):
    analysis = analyse_post(" ".join(f"Bewering {text} over ketamine." for text, _, _ in claims), fake_checker.config.posts)
    results = [_claim(*claim) for claim in claims]
    post = fake_checker._aggregate(analysis, rule_reading(analysis.sentences, fake_checker.config.posts), results)
    decisive = next(c for c in results if c.claim == deciding)
    assert (post.verdict, post.confidence) == (verdict, decisive.probabilities[verdict])
    assert post.explanation.endswith(decisive.explanation)
    assert post.explanation.startswith(f"bewering '{deciding}': ") == (len(claims) > 1)


def test_an_unsupported_post_takes_the_surest_unsupported_claim_and_its_review_flag(fake_checker):
    analysis = analyse_post("Bewering a over ketamine. Bewering b over ketamine.", fake_checker.config.posts)
    results = [replace(_claim("a", "unsupported", 0.5), needs_review=True), _claim("b", "unsupported", 0.8)]
    post = fake_checker._aggregate(analysis, rule_reading(analysis.sentences, fake_checker.config.posts), results)
    assert (post.verdict, post.confidence, post.needs_review) == ("unsupported", 0.8, False)
    results[1] = replace(results[1], needs_review=True)
    post = fake_checker._aggregate(analysis, rule_reading(analysis.sentences, fake_checker.config.posts), results)
    assert post.needs_review


def test_checking_as_if_documents_were_unwritten_needs_a_model_and_says_so(fake_checker):
    from pipeline.checker import FactChecker

    untrained = FactChecker(fake_checker.config, encoder=fake_checker.encoder, index=fake_checker.index)
    with pytest.raises(FactCheckError, match="needs a trained verdict model"):
        with untrained.as_if_unwritten({"factsheet-ketamine"}):
            pass
    written = fake_checker.index.written_claims
    with fake_checker.as_if_unwritten({"factsheet-ketamine"}, restate=False, fallback=False):
        assert len(fake_checker.index.written_claims) < len(written) and fake_checker.classifier.fallback_ is None
    assert fake_checker.index.written_claims is written and fake_checker.classifier.fallback_ is not None


def test_post_without_a_checkable_claim_says_why(fake_checker):
    analysis = analyse_post("Hoi allemaal! Is ketamine gevaarlijk?", fake_checker.config.posts)
    post = fake_checker._aggregate(analysis, rule_reading(analysis.sentences, fake_checker.config.posts), [])
    assert (post.verdict, post.confidence) == ("unsupported", 0.0)
    assert post.explanation == "geen controleerbare bewering gevonden (groet, te kort of overig, vraag)"
