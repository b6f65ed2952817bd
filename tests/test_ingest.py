"""Cleaning the real corpus: hyphenation, running headers, metadata, tables, provenance."""
from __future__ import annotations

import re

import pytest

from pipeline.ingest import Vocabulary, join_broken_word


@pytest.fixture(scope="module")
def review(corpus_documents):
    return corpus_documents["review-ketamine-tvp-2020"]


@pytest.fixture(scope="module")
def factsheet(corpus_documents):
    return corpus_documents["factsheet-ketamine"]


@pytest.mark.parametrize("broken, joined", [
    ("hui-\ndige", "huidige"),                       # review: "de hui-\ndige stand van zaken"
    ("keta-\nmine", "ketamine"),                     # review: "onderzoeken naar keta-\nmine"
    ("antago-\nnist", "antagonist"),
    ("serotoninere-\nceptoren", "serotoninereceptoren"),
    ("beschik-\nbaarheid", "beschikbaarheid"),
])
def test_syllable_breaks_are_joined(review, broken, joined):
    assert joined in review.clean_text
    left = broken.split("-")[0]
    assert not re.search(rf"\b{left}- ", review.clean_text), f"'{left}- ' survived"


def test_no_syllable_break_hyphen_survives_anywhere(corpus_documents):
    # A hyphen followed by a space is legitimate only before "en"/"of" ("maag- en leverfuncties")
    # or in lists of compounds ("acetylcholine-, opiaat-"); nothing else may remain.
    for document in corpus_documents.values():
        for match in re.finditer(r"(\w+)- (\w+)", document.clean_text):
            assert match.group(2) in {"en", "of", "tot"}, (document.meta.id, match.group(0))


def test_real_compound_hyphens_stay(review, factsheet):
    assert "‘ketamine-geïnduceerde uropathie’" in factsheet.clean_text  # "ketamine-\ngeïnduceerde"
    assert "rs-ketamine (0,5 mg/kg)" in review.clean_text                # "rs-\nketamine"
    assert "Ketamine-intoxicaties" in factsheet.clean_text


def test_hyphen_rule_uses_vocabulary():
    vocabulary = Vocabulary("de huidige stand en rs-ketamine")
    assert join_broken_word("hui", "dige", vocabulary, hyphenated=True) == "huidige"
    assert join_broken_word("rs", "ketamine", vocabulary, hyphenated=True) == "rs-ketamine"
    assert join_broken_word("maag", "en", vocabulary, hyphenated=True) == "maag- en"


def test_vertical_running_header_is_gone(review):
    text = review.clean_text
    assert "TIJDSCHRIFT VOOR PSYCHIATRIE" not in text and "JAARGANG 62" not in text
    assert not re.search(r"\b(TI|JD|IF T|VO|O R|P S)\b\s*\n", text)
    assert "Het doel van dit TI" not in text
    # Every line of the cleaned text is real prose, not one-to-three-letter header fragments.
    short_blocks = [text[b.start:b.end] for b in review.blocks
                    if len(text[b.start:b.end]) <= 3 and b.kind != "heading"]
    assert short_blocks == []


def test_date_line_becomes_metadata(corpus_documents):
    news = corpus_documents["nieuws-cleveland-pijnstudie"]
    assert news.meta.date == "2025-11-24"
    assert not news.clean_text.lstrip().startswith("date")
    assert news.clean_text.startswith("Ketamine is vooral bekend als partydrug")


def test_page_numbers_and_loose_urls_are_removed(review, factsheet):
    assert not any(review.clean_text[b.start:b.end].strip().isdigit() for b in review.blocks)
    assert "https://www.nationaledrugmonitor.nl" not in factsheet.clean_text
    assert "www.ketaminestudie.umcg.nl" in review.clean_text  # an inline URL inside a sentence stays


def test_bullets_continued_over_lines_are_one_block(factsheet):
    bullets = [factsheet.clean_text[b.start:b.end] for b in factsheet.blocks if b.kind == "bullet"]
    assert "In 2020 had 2,0% van de volwassenen in Nederland ooit ketamine als drug gebruikt." in \
        " ".join(bullets)
    assert any(b.startswith("Snuiven is de meest voorkomende manier van gebruik") and "ongeveer een uur aan" in b
               for b in bullets)


def test_table_is_marked_and_not_glued_to_prose(review):
    tables = [review.clean_text[b.start:b.end] for b in review.blocks if b.kind == "table"]
    assert any(row.startswith("Han 2016") for row in tables)
    assert sum("Klinische bevindingen van studies" in row for row in tables) == 1  # the repeated table is dropped
    prose = [review.clean_text[b.start:b.end] for b in review.blocks if b.kind == "paragraph"]
    assert not any("Syst. review en meta-analyse" in p for p in prose)


def test_interleaved_columns_are_flagged_not_invented(review):
    cut = [review.clean_text[b.start:b.end] for b in review.blocks if "cut_off" in b.flags]
    assert any(text.endswith("Het doel van dit") for text in cut)
    continued = [review.clean_text[b.start:b.end] for b in review.blocks if "continues_elsewhere" in b.flags]
    assert any(text.startswith("0,088). In transform-2") for text in continued)


def test_unreadable_and_undecodable_files_are_reported(tmp_path):
    from conftest import small_corpus
    from pipeline.ingest import ingest_corpus

    corpus = small_corpus(tmp_path, ("nieuws-cleveland-pijnstudie", "info-ketamine-depressie"))
    (corpus / "info-ketamine-depressie.txt").write_bytes(b"\xff\xfe\x00broken \x81\x8d")
    (corpus / "stray.pdf").write_bytes(b"not a pdf")
    result = ingest_corpus(corpus)
    assert [d.meta.id for d in result.documents] == ["nieuws-cleveland-pijnstudie"]
    reasons = {p.file: p.reason for p in result.problems}
    assert "not valid UTF-8" in reasons["info-ketamine-depressie.txt"]
    assert "no entry in metadata.yaml" in reasons["stray.pdf"]
