"""The on-disk index: manifest, incremental rebuilds, atomic writes, mismatch detection."""
from __future__ import annotations

import json

import pytest

from conftest import small_corpus, write_config
from pipeline.config import load_config
from pipeline.errors import FactCheckError
from pipeline.index import build_index, load_index

DOCS = ("nieuws-cleveland-pijnstudie", "info-ketamine-depressie")


@pytest.fixture()
def small_setup(tmp_path, config):
    corpus = small_corpus(tmp_path, DOCS)
    path = write_config(tmp_path, **{"paths.corpus_dir": str(corpus), "paths.index_dir": str(tmp_path / "index"),
                                     "paths.models_dir": str(config.path("models_dir"))})
    return load_config(path), corpus


def test_build_writes_manifest_and_reuses_unchanged_documents(small_setup, fake_encoder):
    settings, corpus = small_setup
    first = build_index(settings, fake_encoder)
    assert first.status == "built" and sorted(first.embedded_documents) == sorted(DOCS)
    manifest = json.loads((settings.path("index_dir") / "manifest.json").read_text())
    assert set(manifest["corpus_files"]) == {"metadata.yaml", *(f"{d}.txt" for d in DOCS)}
    assert manifest["model"] == fake_encoder.identity
    assert manifest["chunking"]["max_sentences"] == settings.chunking.max_sentences
    assert "sentence-transformers" in manifest["packages"]

    again = build_index(settings, fake_encoder)
    assert again.status == "up to date" and again.embedded_documents == []

    news = corpus / "nieuws-cleveland-pijnstudie.txt"
    news.write_text(news.read_text(encoding="utf-8") + "\n\nKetamine wordt ook onderzocht bij migraine.\n",
                    encoding="utf-8")
    third = build_index(settings, fake_encoder)
    assert third.status == "built"
    assert third.embedded_documents == ["nieuws-cleveland-pijnstudie"]
    assert third.reused_documents == ["info-ketamine-depressie"]
    index = load_index(settings, fake_encoder.identity)
    assert any("migraine" in p.text for p in index.passages)
    assert len(index.passages) == len(index.embeddings) == len(index.sentence_embeddings) == third.passages
    migraine = next(row for row, p in enumerate(index.passages) if "migraine" in p.text)
    alone = fake_encoder.encode_passages([index.passages[migraine].text])[0]
    assert float(alone @ index.sentence_embeddings[migraine]) > 0.999  # the passage text without context
    assert float(alone @ index.embeddings[migraine]) < 0.999           # with its title/section context


def test_corrupt_file_is_reported_and_the_rest_indexed(small_setup, fake_encoder):
    settings, corpus = small_setup
    (corpus / "info-ketamine-depressie.txt").write_bytes(b"\x00\x9f\x92\x96 kapot")
    report = build_index(settings, fake_encoder)
    assert report.documents == 1 and report.passages > 5
    assert any(p.file == "info-ketamine-depressie.txt" and "UTF-8" in p.reason for p in report.problems)


def test_index_that_does_not_match_the_corpus_is_refused(small_setup, fake_encoder):
    settings, corpus = small_setup
    build_index(settings, fake_encoder)
    (corpus / "info-ketamine-depressie.txt").write_text("Ketamine is een middel.\n", encoding="utf-8")
    with pytest.raises(FactCheckError, match="out of date .*corpus changed: info-ketamine-depressie.txt"):
        load_index(settings, fake_encoder.identity)
    with pytest.raises(FactCheckError, match="model changed"):
        build_index(settings, fake_encoder)  # brings it up to date
        load_index(settings, "another-model@0")


def test_changed_analyzer_word_lists_rebuild_the_index_reusing_embeddings(small_setup, fake_encoder, monkeypatch):
    from pipeline import text

    settings, _ = small_setup
    build_index(settings, fake_encoder)
    monkeypatch.setitem(text.ALIASES, "tvp", "tijdschrift voor psychiatrie")
    with pytest.raises(FactCheckError, match="out of date"):
        load_index(settings, fake_encoder.identity)
    rebuilt = build_index(settings, fake_encoder)
    assert rebuilt.status == "built" and rebuilt.embedded_documents == []
    assert sorted(rebuilt.reused_documents) == sorted(DOCS)


def test_interrupted_build_leaves_the_old_index_valid(small_setup, fake_encoder, monkeypatch):
    settings, corpus = small_setup
    build_index(settings, fake_encoder)
    before = (settings.path("index_dir") / "manifest.json").read_text()
    (corpus / "nieuws-cleveland-pijnstudie.txt").write_text("Ketamine is een verdovingsmiddel.\n", encoding="utf-8")

    import pipeline.index as index_module

    def crash(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(index_module.np, "save", crash)
    with pytest.raises(KeyboardInterrupt):
        build_index(settings, fake_encoder)
    assert (settings.path("index_dir") / "manifest.json").read_text() == before
    assert not list(settings.path("index_dir").parent.glob(".index.building.*"))


def test_missing_index_gives_a_clear_message(tmp_path, config):
    path = write_config(tmp_path, **{"paths.index_dir": str(tmp_path / "nowhere")})
    with pytest.raises(FactCheckError, match="no index at .*factcheck index"):
        load_index(load_config(path), "x")
