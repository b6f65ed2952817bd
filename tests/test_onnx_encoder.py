"""A short start for `factcheck check`: the encoder on ONNX Runtime (the torch model's embeddings, the same
verdicts) and no torch imported on the way to a verdict."""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from conftest import ROOT, write_config
from pipeline.config import load_config
from pipeline.errors import FactCheckError
from pipeline.onnx_encoder import MODEL_FILE, RECORD, WEIGHTS_FILE, OnnxEncoder, export_onnx, export_problem, \
    load_encoder, onnx_dir
from pipeline.report import read_labelled


def test_without_an_export_onnx_runtime_names_the_command(tmp_path):
    settings = load_config(write_config(tmp_path, **{"paths.models_dir": str(tmp_path / "models"),
                                                     "embedding.runtime": "onnx"}))
    assert "run `factcheck export-onnx`" in export_problem(settings)
    with pytest.raises(FactCheckError, match=r"no ONNX export at .*e5-small-nl-adapted\.onnx; run `factcheck "
                                             r"export-onnx` \(embedding.runtime is onnx\)"):
        load_encoder(settings)


def test_an_export_of_another_model_or_by_an_older_version_is_not_used(tmp_path):
    """The export is used only while it matches the model folder it was made from, and the export format."""
    import json

    from pipeline.embed import encoder_identity
    from pipeline.onnx_encoder import EXPORT_FORMAT

    settings = load_config(write_config(tmp_path, **{"paths.models_dir": str(tmp_path / "models")}))
    source = tmp_path / "models" / "e5-small-nl-adapted"
    source.mkdir(parents=True)
    (source / "modules.json").write_text("[]")
    (source / "adaptation.json").write_text(json.dumps({"weights_sha256": "a"}))
    folder = onnx_dir(settings)
    folder.mkdir()
    (folder / MODEL_FILE).write_bytes(b"graph")
    (folder / WEIGHTS_FILE).write_bytes(b"weights")
    record = {"format": EXPORT_FORMAT, "identity": encoder_identity(settings, source)}
    (folder / RECORD).write_text(json.dumps(record))
    assert export_problem(settings) is None

    (source / "adaptation.json").write_text(json.dumps({"weights_sha256": "b"}))  # adapted again
    assert "was made from another model; run `factcheck export-onnx`" in export_problem(settings)
    (folder / RECORD).write_text(json.dumps({**record, "format": EXPORT_FORMAT - 1,
                                             "identity": encoder_identity(settings, source)}))
    assert "was made by an older version; run `factcheck export-onnx`" in export_problem(settings)
    (folder / WEIGHTS_FILE).unlink()
    assert "no ONNX export" in export_problem(settings)


def test_unknown_runtime_is_refused_with_the_key(tmp_path):
    with pytest.raises(FactCheckError, match=r"bad key 'embedding.runtime'"):
        load_config(write_config(tmp_path, **{"embedding.runtime": "tensorflow"}))


def test_the_way_to_a_verdict_imports_no_torch_and_torch_still_works_after(fake_checker):
    """spaCy's word lists, the BM25 analyzer and the skops models load without importing torch (a second of
    start-up); torch imports normally afterwards, with the configured thread count."""
    script = f"""
import sys
from pathlib import Path
import pipeline.cli
from pipeline.config import load_config
from pipeline.runtime import configure_runtime
from pipeline.text import abbreviations, load_dutch_lexicon, stop_words
from pipeline.verify import load_models
configure_runtime(load_config(None, ["embedding.threads=1"]))
stop_words(); abbreviations(); load_dutch_lexicon()
load_models(Path({str(fake_checker.config.path("verifier_model"))!r}))
print("torch" in sys.modules)
import torch
print(torch.get_num_threads())
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["False", "1"]


@pytest.fixture(scope="session")
def onnx_encoder(config, encoder):
    """The export of the real adapted model (made once, as `make setup` makes it)."""
    export_onnx(config)
    return OnnxEncoder(config)


def test_export_is_recorded_and_up_to_date(config, onnx_encoder, encoder):
    assert export_problem(config) is None
    folder = onnx_dir(config)
    assert (folder / MODEL_FILE).is_file() and (folder / WEIGHTS_FILE).is_file() and (folder / RECORD).is_file()
    assert export_onnx(config).status == "up to date"
    assert onnx_encoder.identity == encoder.identity  # the index and the verdict model accept it
    assert type(load_encoder(config)).__name__ == "OnnxEncoder"  # embedding.runtime: auto


def test_onnx_embeddings_match_the_torch_model(config, onnx_encoder, encoder):
    claims = list(read_labelled(config.path("labelled_claims"), None)["claim"])[::5]
    long_text = " ".join(claims)  # longer than embedding.max_seq_length tokens: cut the same way
    for method in ("encode_queries", "encode_passages"):
        exported = getattr(onnx_encoder, method)(claims + [long_text])
        reference = getattr(encoder, method)(claims + [long_text])
        assert np.min(np.sum(exported * reference, axis=1)) >= config.embedding.onnx_min_cosine
    assert onnx_encoder.encode_queries([]).shape == (0, encoder.dimension)


def test_onnx_checker_gives_the_same_verdicts(config, checker, onnx_encoder):
    from pipeline.checker import FactChecker

    fast = FactChecker(config, encoder=onnx_encoder, index=checker.index)
    fast.load_classifier()
    texts = list(read_labelled(config.path("labelled_claims"), ["test"])["claim"])
    before, after = checker.check_many(texts), fast.check_many(texts)
    assert [r.verdict for r in after] == [r.verdict for r in before]
    assert [[e.passage_id for e in r.evidence] for r in after] == [[e.passage_id for e in r.evidence] for r in before]
    assert max(abs(a.confidence - b.confidence) for a, b in zip(after, before)) <= 1e-3


def test_damaged_export_is_one_line_with_the_fix(config, onnx_encoder, tmp_path):
    import shutil

    copy = tmp_path / "export"
    shutil.copytree(onnx_dir(config), copy)
    (copy / WEIGHTS_FILE).write_bytes(b"\0" * 1000)
    with pytest.raises(FactCheckError, match=r"is damaged .*`factcheck export-onnx --force`") as caught:
        OnnxEncoder(config, copy)
    assert "\n" not in str(caught.value)
