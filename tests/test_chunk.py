"""Passages keep exact provenance and Dutch abbreviations do not split sentences."""
from __future__ import annotations

import pytest

from pipeline.chunk import chunk_document
from pipeline.text import split_sentences


def test_every_passage_round_trips_to_clean_text(corpus_documents, config):
    total = 0
    for document in corpus_documents.values():
        for passage in chunk_document(document, config.chunking):
            assert document.clean_text[passage.start:passage.end] == passage.text
            assert passage.doc_id == document.meta.id and passage.text.strip() == passage.text
            total += 1
    assert total > 300


def test_passages_carry_section_headings(corpus_documents, config):
    passages = chunk_document(corpus_documents["info-ketamine-depressie"], config.chunking)
    esketamine = next(p for p in passages if p.text.startswith("Die vorm van ketamine heet esketamine"))
    assert esketamine.section == "Esketamine"


@pytest.mark.parametrize("text", [
    "Zo heeft S-ketamine een tot 4 keer grotere affiniteit voor de nmda-r dan R-ketamine (Moaddel e.a. 2013).",
    "Binnen enkele uren na eenmalige i.v. toediening werd een effect gemeten.",
    "Daarna kregen zij i.v. S-ketamine toegediend.",
    "Dit geldt o.a. voor Aan het Rot e.a. 2010 en Singh e.a. 2016b.",
    "Het effect van rs-ketamine (d.w.z. het racemisch mengsel bestaande uit R- en S-ketamine) werd gemeten.",
    "Geen vereisten m.b.t. therapieresistentie werden gesteld.",
    "Bij i.n. toediening wordt ketamine, mits juist toegediend, snel geabsorbeerd.",
    "Een significante verbetering (p < 0,001) ten opzichte van de placebogroep.",
    "Het onderzoek van S.Y. Smith-Apeldoorn verscheen in 2020.",
])
def test_abbreviations_stay_in_one_sentence(text):
    assert split_sentences(text) == [(0, len(text))]


def test_abbreviation_sentences_in_the_real_corpus_are_whole(corpus_documents, config):
    review = corpus_documents["review-ketamine-tvp-2020"]
    texts = [p.text for p in chunk_document(review, config.chunking)]
    assert "Zo heeft S-ketamine een tot 4 keer grotere affiniteit voor de nmda-r dan R-ketamine (Moaddel e.a. 2013)." in texts
    assert any("i.v. toediening van rs-ketamine" in t and t.startswith("Dat een eenmalige") for t in texts)


def test_sentences_split_at_real_boundaries():
    text = 'Mythe: "Microdosering kan depressie genezen." Er is geen bewijs. Klopt dat? Ja!'
    pieces = [text[a:b] for a, b in split_sentences(text)]
    assert pieces == ['Mythe: "Microdosering kan depressie genezen."', "Er is geen bewijs.", "Klopt dat?", "Ja!"]
