"""Dutch language data: one definition per list, general Dutch apart from the corpus's subject, and a
fingerprint that reports a verdict model trained with other lists."""
from __future__ import annotations

import subprocess
import sys

import pytest

import pipeline.lang as lang
from pipeline.lang import antonyms, cue_words, ketamine, negation, numbers, orthography, social
from pipeline.text import stop_words

GENERAL_DUTCH = (negation, cue_words, antonyms, numbers, orthography, social)


def _words(value) -> set[str]:
    if isinstance(value, str):
        return {value}
    if isinstance(value, dict):
        return _words(list(value)) | _words(list(value.values()))
    if isinstance(value, (set, frozenset, tuple, list)):
        return set().union(*(_words(item) for item in value)) if value else set()
    return set()


def test_general_dutch_lists_name_no_drug():
    for module in GENERAL_DUTCH:
        for name in (n for n in dir(module) if n.isupper()):
            assert not {w for w in _words(getattr(module, name)) if "ketamine" in w.lower()}, (module.__name__, name)


def test_negations_quantifiers_and_hedges_are_never_stop_words():
    assert not stop_words() & (lang.NEGATIONS | lang.QUANTIFIERS | lang.HEDGES)
    assert {"niet", "geen", "nooit", "zonder"} <= lang.NEGATIONS


def test_patterns_are_assembled_from_the_lists():
    assert lang.UNIVERSAL.search("Het werkt voor altijd") and lang.LIMITING.search("niet voor iedereen")
    assert lang.NEGATED_BEFORE.search("werkt niet ") and lang.NO_EVIDENCE.search("Er is geen wetenschappelijk bewijs")
    assert lang.GREETING.match("Hoi allemaal!") and not lang.GREETING.match("Hoi, ketamine is legaal")
    assert lang.TAG_QUESTION.search("Ketamine is legaal, toch?")
    # Sarcastic agreement denies where it closes a clause; plain "ja" does not.
    assert all(lang.DENIAL.search(text) for text in ("Ja ja, tuurlijk 🙄", "jaja hoor", "Ja, tuurlijk."))
    assert not any(lang.DENIAL.search(text) for text in ("Ja, dat klopt.", "Ja, tuurlijk helpt ketamine."))


def test_patterns_that_lead_with_separators_start_only_where_a_run_starts():
    """A search that may start anywhere inside a long run of spaces or commas tries every start and takes
    quadratic time (5 s on a 5,000-character post before); these start only where the run does."""
    run = " ," * 2000
    assert lang.DENIAL_SUFFIX.search(f"Ketamine{run} wat een onzin").start() == len("Ketamine")
    assert lang.TAG_QUESTION.search(f"Ketamine is legaal{run} toch?").start() == len("Ketamine is legaal")
    assert lang.QUESTION_PARTICLE_END.search(f"is ketamine legaal{' ' * 4000}dan?").start() == len("is ketamine legaal")
    assert lang.DENIAL_SUFFIX.search("Ketamine is veilig, wat een onzin.").start() == len("Ketamine is veilig")
    assert lang.POST_ALIASES["k"] == "ketamine" and lang.POST_ALIASES["gwn"] == "gewoon"
    assert lang.ALIASES.keys() == {*ketamine.DRUG_SLANG, *ketamine.DOMAIN_ABBREVIATIONS, *social.CHAT_ABBREVIATIONS}


def test_fingerprint_changes_with_any_list_and_not_with_the_hash_seed(monkeypatch):
    before = lang.fingerprint()
    command = [sys.executable, "-c", "import pipeline.lang as l; print(l.fingerprint())"]
    for seed in ("1", "2"):
        done = subprocess.run(command, capture_output=True, text=True, env={"PYTHONHASHSEED": seed}, check=True)
        assert done.stdout.strip() == before
    monkeypatch.setattr(negation, "NEGATIONS", negation.NEGATIONS | {"nimmer"})
    lang.fingerprint.cache_clear()
    try:
        assert lang.fingerprint() != before
    finally:
        monkeypatch.undo()
        lang.fingerprint.cache_clear()
    assert lang.fingerprint() == before


def test_a_model_trained_with_other_word_lists_is_reported(fake_checker, monkeypatch):
    from pipeline.checker import FactChecker

    assert fake_checker.feature_config["language"] == lang.fingerprint()
    monkeypatch.setattr("pipeline.checker.language_fingerprint", lambda: "other-lists")
    fresh = FactChecker(fake_checker.config, encoder=fake_checker.encoder, index=fake_checker.index)
    reason = fresh.load_classifier(optional=True)
    assert reason and "does not match" in reason and fresh.classifier is None
