"""The NLI cross-encoder on ONNX Runtime: the torch model's probabilities (within nli.onnx_max_difference),
the same identity for the verdict model, and a real check that never imports torch."""
from __future__ import annotations

import shutil
import subprocess
import sys

import numpy as np
import pytest

from conftest import ROOT, write_config
from pipeline.config import load_config
from pipeline.errors import FactCheckError
from pipeline.nli import NliModel, OnnxNliModel, export_nli_onnx, load_nli, nli_export_problem, nli_onnx_dir
from pipeline.onnx_encoder import MODEL_FILE, RECORD, WEIGHTS_FILE
from pipeline.pairs import PAIR_LABELS, read_pairs


@pytest.fixture(scope="session")
def onnx_nli(config):
    """The export of the trained cross-encoder (made once, as `make setup` makes it)."""
    export_nli_onnx(config)
    return OnnxNliModel(config)


def test_without_an_export_onnx_runtime_names_the_command(tmp_path):
    settings = load_config(write_config(tmp_path, **{"paths.models_dir": str(tmp_path / "models"),
                                                     "nli.runtime": "onnx"}))
    with pytest.raises(FactCheckError, match=r"no ONNX export at .*nli-e5-small\.onnx; run `factcheck "
                                             r"export-onnx` \(nli.runtime is onnx\)"):
        load_nli(settings)


def test_before_the_cross_encoder_is_trained_export_says_so(tmp_path):
    """`make setup` exports the encoder before `train-nli` has run: the export must not fail there."""
    settings = load_config(write_config(tmp_path, **{"paths.models_dir": str(tmp_path / "models")}))
    assert export_nli_onnx(settings).status == "not trained"


def test_export_is_recorded_up_to_date_and_chosen(config, onnx_nli):
    folder = nli_onnx_dir(config)
    assert nli_export_problem(config) is None
    assert all((folder / name).is_file() for name in (MODEL_FILE, WEIGHTS_FILE, RECORD))
    assert export_nli_onnx(config).status == "up to date"
    assert isinstance(load_nli(config), OnnxNliModel)  # nli.runtime: auto
    assert isinstance(load_nli(config.model_copy(update={"nli": config.nli.model_copy(update={"runtime": "torch"})})),
                      NliModel)


def test_probabilities_match_the_torch_model(config, onnx_nli):
    """Written pairs other than those the export was checked on, and one pair far over nli.max_length."""
    from pipeline.posts import normalise_post

    pairs = read_pairs(config.path("training_pairs"))
    sample = [(premise, normalise_post(claim)) for premise, claim in
              zip(pairs["premise"][5::41], pairs["hypothesis"][5::41])]
    sample.append((" ".join(premise for premise, _ in sample[:30]), sample[0][1]))
    torch_model = NliModel(config)
    exported, reference = onnx_nli.predict(sample), torch_model.predict(sample)
    assert onnx_nli.identity == torch_model.identity  # the verdict model accepts either
    assert exported.shape == (len(sample), 3)
    assert np.allclose(exported.sum(axis=1), 1.0, atol=1e-5)
    assert np.abs(exported - reference).max() <= config.nli.onnx_max_difference
    assert onnx_nli.predict([]).shape == (0, 3)


def test_another_model_makes_the_export_stale(config, onnx_nli, tmp_path):
    """Retraining the cross-encoder changes its record, so the old export is not used."""
    import json

    models = tmp_path / "models"
    shutil.copytree(config.path("models_dir") / "nli-e5-small", models / "nli-e5-small")
    shutil.copytree(nli_onnx_dir(config), models / "nli-e5-small.onnx")
    settings = config.model_copy(update={"paths": config.paths.model_copy(update={"models_dir": models})})
    assert nli_export_problem(settings) is None
    record = json.loads((models / "nli-e5-small" / "nli.json").read_text())
    (models / "nli-e5-small" / "nli.json").write_text(json.dumps({**record, "seconds": -1}))
    assert "was made from another model; run `factcheck export-onnx`" in nli_export_problem(settings)


def test_damaged_export_is_one_line_with_the_fix(config, onnx_nli, tmp_path):
    copy = tmp_path / "export"
    shutil.copytree(nli_onnx_dir(config), copy)
    (copy / WEIGHTS_FILE).write_bytes(b"\0" * 1000)
    with pytest.raises(FactCheckError, match=r"is damaged .*`factcheck export-onnx --force`") as caught:
        OnnxNliModel(config, copy)
    assert "\n" not in str(caught.value)


def test_a_real_check_with_the_cross_encoder_imports_no_torch(checker, onnx_nli):
    """What `factcheck check` loads with the default config: both models on ONNX Runtime, no torch."""
    script = """
import sys
from pipeline.checker import FactChecker
checker = FactChecker.from_config()
result = checker.check("Ketamine verhoogt de bloeddruk en de hartslag.")
print(type(checker.encoder).__name__, type(checker.nli).__name__, "torch" in sys.modules, result.verdict)
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["OnnxEncoder", "OnnxNliModel", "False", "supported"]


def test_the_cross_encoder_tells_the_labels_apart(config, onnx_nli):
    """Guards against a diverged training run, which gave every pair the same probabilities: on an even sample
    of its own training pairs the model must beat always answering the commonest label by a clear margin."""
    from pipeline.posts import normalise_post

    pairs = read_pairs(config.path("training_pairs"))[::23]
    probabilities = onnx_nli.predict([(p, normalise_post(h)) for p, h in zip(pairs["premise"], pairs["hypothesis"])])
    predicted = np.array(PAIR_LABELS)[probabilities.argmax(1)]
    commonest = pairs["label"].value_counts(normalize=True).max()
    assert (predicted == pairs["label"].to_numpy()).mean() >= commonest + 0.15
    assert (probabilities.max(0) - probabilities.min(0)).min() >= 0.2  # the diverged runs varied by under 0.01
