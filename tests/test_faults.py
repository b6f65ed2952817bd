"""Faults beyond the CSV (issue #22, point 5): a damaged model file or folder ends in one line naming it and
the command that rebuilds it, and a small config file or ``--set`` names only what it changes. Damage is
done to copies in tmp_path, or to tiny hand-made model folders that fail before any real weight is needed."""
from __future__ import annotations

import json
import shutil

import pytest
import yaml

import pipeline.embed
import pipeline.index
import pipeline.onnx_encoder
import pipeline.runtime
from pipeline.config import PROJECT_ROOT, load_config
from pipeline.errors import FactCheckError
from pipeline.storage import shown_path
from pipeline.verify import load_models
from test_cli_batch import invoke, one_line_error

CLAIM = "Ketamine verhoogt de bloeddruk en de hartslag."


def damage(path, how: str) -> None:
    data = path.read_bytes()
    if how == "truncated":
        path.write_bytes(data[: len(data) // 2])
    elif how == "empty":
        path.write_bytes(b"")
    elif how == "garbled":
        path.write_bytes(b"{this is not what was written")
    elif how == "bytes flipped":
        middle = len(data) // 2
        path.write_bytes(data[:middle] + bytes(b ^ 0xFF for b in data[middle:middle + 64]) + data[middle + 64:])


@pytest.fixture()
def cli_over_fakes(fake_checker, fake_encoder, monkeypatch, tmp_path):
    """The real command line (config loading, --set, FactChecker, model loading) over the fake encoder and
    its index; returns a config file equal to the fake checker's."""
    monkeypatch.setattr(pipeline.embed, "Encoder", lambda config: fake_encoder)
    monkeypatch.setattr(pipeline.onnx_encoder, "load_encoder", lambda config: fake_encoder)  # what FactChecker loads
    monkeypatch.setattr(pipeline.index, "load_index", lambda config, identity: fake_checker.index)
    monkeypatch.setattr(pipeline.runtime, "configure_runtime", lambda config: None)  # keep this process's threads
    path = tmp_path / "fake.yaml"
    path.write_text(yaml.safe_dump(fake_checker.config.model_dump(mode="json")), encoding="utf-8")
    return path


# --------------------------------------------------------------------------- the verdict model

@pytest.mark.parametrize("how, reason", [("truncated", "File is not a zip file"), ("empty", "File is not a zip file"),
                                         ("garbled", "File is not a zip file"), ("bytes flipped", "")])
def test_a_damaged_verdict_model_is_one_line_naming_file_and_fix(tmp_path, fake_checker, how, reason):
    copy = tmp_path / "verifier.skops"
    shutil.copy(fake_checker.config.path("verifier_model"), copy)
    damage(copy, how)
    with pytest.raises(FactCheckError) as caught:
        load_models(copy)
    message = str(caught.value)
    assert message.startswith(f"{copy} is damaged ({reason}") and message.endswith(
        "; run `factcheck train` to rebuild it") and "\n" not in message


def test_paths_inside_the_project_are_shown_as_the_user_knows_them(tmp_path):
    assert shown_path(PROJECT_ROOT / "build" / "verifier.skops") == "build/verifier.skops"
    assert shown_path(tmp_path / "x.skops") == str(tmp_path / "x.skops")


def test_the_cli_reports_a_damaged_verdict_model_in_one_line(tmp_path, fake_checker, cli_over_fakes):
    copy = tmp_path / "verifier.skops"
    shutil.copy(fake_checker.config.path("verifier_model"), copy)
    damage(copy, "truncated")
    damaged = ("--config", cli_over_fakes, "--set", f"paths.verifier_model={copy}")
    one_line_error(invoke("check", CLAIM, *damaged), f"{copy} is damaged (File is not a zip file); run `factcheck train`")
    # retrieve works without the model, in fused order, and says why
    result = invoke("retrieve", CLAIM, "-k", 2, *damaged)
    assert result.exit_code == 0 and "note: fused order, not reranked" in result.output and "is damaged" in result.output


# --------------------------------------------------------------------------- the encoders

def tiny_model_folder(folder) -> None:
    """A sentence-transformers folder whose weights are cut short: loading fails before any weight is used."""
    folder.mkdir(parents=True)
    (folder / "modules.json").write_text(json.dumps(
        [{"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"}]))
    (folder / "config.json").write_text(json.dumps(
        {"model_type": "bert", "hidden_size": 8, "num_hidden_layers": 1, "num_attention_heads": 1,
         "intermediate_size": 8, "vocab_size": 16, "num_labels": 3}))
    (folder / "model.safetensors").write_bytes(b"\x00" * 64)


@pytest.mark.parametrize("damaged_file", ["model.safetensors", "config.json"])
@pytest.mark.parametrize("adapted, folder_name, fix", [
    (True, "e5-small-nl-adapted", "run `factcheck adapt --force` to rebuild it"),
    (False, "e5-small-nl", "run `factcheck prepare-model --force` to rebuild it"),
])
def test_a_damaged_encoder_folder_is_one_line_naming_it_and_the_fix(tmp_path, adapted, folder_name, fix, damaged_file):
    config = load_config(None, [f"paths.models_dir={tmp_path}", f"adaptation.enabled={str(adapted).lower()}"])
    folder = tmp_path / folder_name
    tiny_model_folder(folder)
    if damaged_file == "config.json":
        damage(folder / "config.json", "garbled")
    with pytest.raises(FactCheckError) as caught:
        pipeline.embed.Encoder(config)
    message = str(caught.value)
    assert message.startswith(f"{folder} is damaged (") and message.endswith(fix) and "\n" not in message
    assert ("not a valid JSON file" in message) == (damaged_file == "config.json")


def test_adapting_from_a_damaged_base_model_is_one_line(tmp_path):
    from pipeline.adapt import adapt_for_config

    config = load_config(None, [f"paths.models_dir={tmp_path}"])
    base = tmp_path / "e5-small-nl"
    tiny_model_folder(base)
    (base / "conversion.json").write_text("{}")  # converted, as far as prepare_model can tell
    with pytest.raises(FactCheckError, match=r"e5-small-nl is damaged \(Error while deserializing header.*"
                                             r"run `factcheck prepare-model --force` to rebuild it$"):
        adapt_for_config(config)


# --------------------------------------------------------------------------- the NLI cross-encoder

@pytest.mark.parametrize("damaged_file, fragment", [
    ("model.safetensors", "nli-e5-small is damaged (Error while deserializing header"),
    ("config.json", "nli-e5-small is damaged (It looks like the config file"),
    ("nli.json", "nli-e5-small/nli.json is damaged (not a JSON record)"),
])
def test_a_damaged_nli_cross_encoder_is_one_line(tmp_path, damaged_file, fragment):
    from pipeline.nli import NliModel, _settings_record, nli_dir

    config = load_config(None, [f"paths.models_dir={tmp_path}", "nli.enabled=true"])
    folder = nli_dir(config)
    tiny_model_folder(folder)
    (folder / "nli.json").write_text(json.dumps({"settings": _settings_record(config)}), encoding="utf-8")
    if damaged_file != "model.safetensors":
        damage(folder / damaged_file, "garbled")
    with pytest.raises(FactCheckError) as caught:
        NliModel(config)
    message = str(caught.value)
    assert fragment in message and message.endswith("run `factcheck train-nli --force` (with the same --config) "
                                                    "to rebuild it") and "\n" not in message


# --------------------------------------------------------------------------- small configs and --set

def write(tmp_path, text: str, name: str = "small.yaml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_small_config_names_only_what_it_changes(tmp_path):
    default = load_config()
    small = load_config(write(tmp_path, "retrieval: {k: 3}\n"))
    assert small.retrieval.k == 3
    assert small.model_copy(update={"retrieval": default.retrieval}) == default
    assert load_config(write(tmp_path, "", "empty.yaml")) == default
    profile = load_config(PROJECT_ROOT / "configs" / "fast.yaml")  # `extends:` still works
    assert not profile.nli.enabled and profile.paths.verifier_model.name == "verifier-fast.skops"


def test_a_typo_in_a_small_config_names_the_key(tmp_path):
    with pytest.raises(FactCheckError, match=r"small.yaml: bad key 'retrieval.kk': Extra inputs"):
        load_config(write(tmp_path, "retrieval: {kk: 3}\n"))


def test_set_overrides_are_read_as_yaml_values(tmp_path):
    config = load_config(write(tmp_path, "retrieval: {k: 3}\n"), [
        "retrieval.k=7", "adaptation.enabled=false", "verdict.training_splits=[train, dev]",
        "nli.learning_rate=2.0e-4", "nli.sick_nl="])
    assert config.retrieval.k == 7 and config.adaptation.enabled is False
    assert config.verdict.training_splits == ["train", "dev"] and config.nli.learning_rate == 2.0e-4
    assert config.nli.sick_nl is None


@pytest.mark.parametrize("override, message", [
    ("retrieval.kk=3", "--set retrieval.kk=3: bad key 'retrieval.kk': Extra inputs are not permitted"),
    ("retreival.k=3", "--set retreival.k=3: bad key 'retreival': Extra inputs are not permitted"),
    ("retrieval.k=0", "--set retrieval.k=0: bad key 'retrieval.k': Input should be greater than or equal to 1"),
    ("retrieval.k=drie", "--set retrieval.k=drie: bad key 'retrieval.k': Input should be a valid integer"),
    ("retrieval.k", "--set retrieval.k: expected KEY=VALUE, e.g. --set retrieval.k=3"),
    ("retrieval.k.x=3", "--set retrieval.k.x=3: 'retrieval.k' is a value, not a section"),
    ("retrieval.k=[3", "--set retrieval.k=[3: the value is not valid YAML"),
])
def test_a_bad_override_names_it(override, message):
    with pytest.raises(FactCheckError) as caught:
        load_config(None, [override])
    assert str(caught.value).startswith(message)


def test_every_command_with_config_takes_set():
    import pipeline.cli as cli

    for command in cli.app.registered_commands:
        options = {opt for param in typer_params(command.callback) for opt in param}
        assert "--config" in options and "--set" in options, command.callback.__name__


def typer_params(callback):
    import inspect

    for parameter in inspect.signature(callback).parameters.values():
        default = parameter.default
        yield tuple(getattr(default, "param_decls", ()) or ())


def test_the_cli_takes_a_small_config_and_set(tmp_path, monkeypatch):
    monkeypatch.setattr(pipeline.runtime, "configure_runtime", lambda config: None)
    disabled = "adaptation is disabled in the config (adaptation.enabled)"
    result = invoke("adapt", "--config", write(tmp_path, "adaptation: {enabled: false}\n"))
    assert result.exit_code == 0 and disabled in result.output, result.output
    result = invoke("adapt", "--set", "adaptation.enabled=false")
    assert result.exit_code == 0 and disabled in result.output, result.output
    one_line_error(invoke("adapt", "--set", "retrieval.kk=3"), "bad key 'retrieval.kk'")
    one_line_error(invoke("adapt", "--config", write(tmp_path, "retrieval: {kk: 3}\n", "typo.yaml")),
                   "typo.yaml: bad key 'retrieval.kk'")


def test_set_reaches_the_checker(cli_over_fakes):
    def evidence_count(*extra):
        result = invoke("check", "--json", CLAIM, "--config", cli_over_fakes, *extra)
        assert result.exit_code == 0, result.output
        return len(json.loads(result.output)["evidence"])

    assert evidence_count() == load_config().retrieval.k != 2
    assert evidence_count("--set", "retrieval.k=2") == 2
    one_line_error(invoke("check", CLAIM, "--config", cli_over_fakes, "--set", "retrieval.kk=3"),
                   "bad key 'retrieval.kk'")
