"""The command line and batch CSV checking, driven for real. Tests of verdicts use the real model
(``real_cli``); tests of CSV handling, errors and reports run the same commands over the fake-encoder
pipeline (``fake_cli``) and compare the batch output with that checker's own API."""
from __future__ import annotations

import codecs
import csv
import json

import pandas as pd
import pytest
from typer.testing import CliRunner

import pipeline.cli as cli
from pipeline.batch import neutralise_formula, run_batch
from pipeline.errors import FactCheckError

csv.field_size_limit(1 << 24)  # the 1 MB post comes back in the output

runner = CliRunner()


def _serve(monkeypatch, checker):
    """Commands use this FactChecker instead of loading one."""
    monkeypatch.setattr(cli, "_checker", lambda config, require_model=True, overrides=None: checker)
    return checker


@pytest.fixture()
def real_cli(checker, monkeypatch):
    return _serve(monkeypatch, checker)


@pytest.fixture()
def fake_cli(fake_checker, monkeypatch):
    return _serve(monkeypatch, fake_checker)


def invoke(*args):
    return runner.invoke(cli.app, [str(a) for a in args])


def one_line_error(result, fragment: str):
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and fragment in lines[0], result.output
    assert "Traceback" not in result.output


def write_csv(path, rows, delimiter=",", encoding="utf-8"):
    with open(path, "w", encoding=encoding, newline="") as handle:
        csv.writer(handle, delimiter=delimiter).writerows(rows)
    return path


def read_csv(path):
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_help_lists_the_subcommands():
    result = invoke("--help")
    for command in ("index", "check", "batch", "evaluate", "train", "prepare-model", "retrieve"):
        assert command in result.output


def test_check_prints_verdict_and_json(real_cli):
    plain = invoke("check", "Ketamine verhoogt de bloeddruk en de hartslag.")
    assert plain.exit_code == 0 and plain.output.startswith("supported (zekerheid ")
    assert "bewijs 1:" in plain.output and "uitleg: bron bevestigt:" in plain.output
    data = json.loads(invoke("check", "--json", "Ketamine verhoogt de bloeddruk.").output)
    assert data["verdict"] == "supported" and "bloeddruk" in data["evidence"][0]["text"]
    assert data == real_cli.check("Ketamine verhoogt de bloeddruk.").to_dict()


def test_retrieve_ranks_as_check_does(checker, config, tmp_path, monkeypatch):
    claim = "Zonder recept ketamine op zak hebben is in Nederland gewoon legaal hoor"
    reranked = [evidence.text for evidence in checker.retrieve(claim, 3)]
    fused = [hit.passage.text for hit in checker.retriever.search(claim, 3, rerank=False).hits]
    assert reranked != fused, "pick a claim whose two orders differ, or this test proves nothing"

    def shown(result):
        assert result.exit_code == 0, result.output
        return [line.strip() for line in result.output.splitlines() if line.startswith("   ")]

    # `retrieve` gets a checker without the verdict model, as the real _checker gives it, and loads the reranker.
    fresh = type(checker)(config, encoder=checker.encoder, index=checker.index)
    monkeypatch.setattr(cli, "_checker", lambda config, require_model=True, overrides=None: fresh)
    assert shown(invoke("retrieve", claim, "-k", 3)) == reranked
    one_line_error(invoke("retrieve", " "), "the claim is empty")
    one_line_error(invoke("retrieve", claim, "-k", 0), "k must be 1 or more")
    # Without a trained model the fused order is shown, and a note says why.
    missing = config.model_copy(update={"paths": config.paths.model_copy(
        update={"verifier_model": tmp_path / "absent.skops"})})
    bare = type(checker)(missing, encoder=checker.encoder, index=checker.index)
    monkeypatch.setattr(cli, "_checker", lambda config, require_model=True, overrides=None: bare)
    result = invoke("retrieve", claim, "-k", 3)
    assert shown(result) == fused and "note: fused order, not reranked (no trained verdict model" in result.output


def test_batch_keeps_columns_and_adds_results(tmp_path, fake_cli):
    source = write_csv(tmp_path / "in.csv", [["id", "post", "author"],
                                             ["1", "Ketamine verhoogt de bloeddruk.", "a"],
                                             ["2", "=HYPERLINK(\"http://x\") ketamine is legaal", "+31"],
                                             ["3", "", "@bot"]])
    result = invoke("batch", source, "-o", tmp_path / "out.csv")
    assert result.exit_code == 0, result.output
    rows = read_csv(tmp_path / "out.csv")
    assert list(rows[0])[:3] == ["id", "post", "author"]
    assert list(rows[0])[3:] == ["verdict", "confidence", "needs_review", "explanation", "stance", "checked_claim",
                                 "evidence", "evidence_text",
                                 "evidence_source", "conflict", "error"]
    assert [r["id"] for r in rows] == ["1", "2", "3"]
    evidence = json.loads(rows[0]["evidence"])
    assert evidence and {"text", "source", "score"} <= set(evidence[0])
    assert rows[0]["evidence_text"] == evidence[0]["text"]
    expected = fake_cli.check("Ketamine verhoogt de bloeddruk.")
    assert rows[0]["verdict"] == expected.verdict and evidence[0]["text"] == expected.evidence[0].text
    # Formula injection: cells that start with = + - @ are neutralised.
    assert rows[1]["post"].startswith("'=HYPERLINK") and rows[1]["author"] == "'+31" and rows[2]["author"] == "'@bot"
    assert rows[2]["verdict"] == "unsupported" and "lege tekst" in rows[2]["error"]
    assert not (tmp_path / "out.csv.partial").exists()


def test_formula_neutralisation_covers_every_trigger():
    for value in ("=1+1", "+1", "-1", "@SUM(A1)", "\tx"):
        assert neutralise_formula(value).startswith("'")
    assert neutralise_formula("veilig") == "veilig" and neutralise_formula(3) == 3


def test_encodings_delimiters_and_bom(tmp_path, fake_cli):
    text = "Ketamine is in Nederland géén medicijn."
    for name, delimiter, encoding in (("semicolon.csv", ";", "cp1252"), ("tab.csv", "\t", "utf-8-sig"),
                                      ("latin.csv", ",", "latin-1")):
        source = write_csv(tmp_path / name, [["tekst", "bron"], [text, "x"]], delimiter, encoding)
        out = tmp_path / f"out-{name}"
        result = invoke("batch", source, "-o", out)
        assert result.exit_code == 0, result.output
        row = read_csv(out)[0]
        assert row["tekst"] == text and row["verdict"] == fake_cli.check(text).verdict


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be"])
def test_excel_unicode_text_export_is_read(tmp_path, fake_cli, encoding):
    """Excel's "Unicode text" export: UTF-16 with a byte-order mark, tab-separated."""
    text = "Ketamine verhoogt de bloeddruk één keer per dag."
    source = tmp_path / "export.txt"
    body = "bericht\tauteur\r\n" + text + "\tanna\r\n"
    source.write_bytes((codecs.BOM_UTF16_BE + body.encode("utf-16-be")) if encoding == "utf-16-be"
                       else body.encode("utf-16"))
    result = invoke("batch", source, "-o", tmp_path / "out.csv")
    assert result.exit_code == 0, result.output
    row = read_csv(tmp_path / "out.csv")[0]
    assert list(row)[:2] == ["bericht", "auteur"] and row["bericht"] == text and row["auteur"] == "anna"
    assert row["verdict"] == fake_cli.check(text).verdict


def test_jsonl_output(tmp_path, fake_cli):
    source = write_csv(tmp_path / "in.csv", [["claim"], ["Ketamine verhoogt de bloeddruk."]])
    result = invoke("batch", source, "-o", tmp_path / "out.jsonl", "--format", "jsonl")
    assert result.exit_code == 0
    record = json.loads((tmp_path / "out.jsonl").read_text(encoding="utf-8").splitlines()[0])
    assert record["claim"] == "Ketamine verhoogt de bloeddruk."
    assert record["verdict"] == fake_cli.check("Ketamine verhoogt de bloeddruk.").verdict


def test_nul_bytes_and_a_one_megabyte_post_get_a_verdict(tmp_path, fake_cli):
    huge = "Ketamine verhoogt de bloeddruk. " * 33_000  # ~1 MB
    source = tmp_path / "in.csv"
    source.write_bytes(b"claim\n\"Ketamine\x00 is legaal\"\n\"" + huge.encode() + b"\"\nSnuiven is gangbaar.\n")
    result = invoke("batch", source, "-o", tmp_path / "out.csv")
    assert result.exit_code == 0, result.output
    rows = read_csv(tmp_path / "out.csv")
    assert len(rows) == 3
    assert [r["verdict"] for r in rows] == [r.verdict for r in fake_cli.check_many(
        ["Ketamine  is legaal", huge, "Snuiven is gangbaar."])]
    assert "NUL" in rows[0]["error"] and "ingekort" in rows[1]["error"]


@pytest.mark.parametrize("content, fragment", [
    (None, "file not found"),
    (b"", "file is empty"),
    (b"claim\n", "no rows"),
])
def test_bad_input_files_fail_in_one_line(tmp_path, content, fragment, fake_cli):
    source = tmp_path / "in.csv"
    if content is not None:
        source.write_bytes(content)
    one_line_error(invoke("batch", source, "-o", tmp_path / "out.csv"), fragment)


def test_unknown_or_ambiguous_column_lists_the_columns(tmp_path, fake_cli):
    source = write_csv(tmp_path / "in.csv", [["id", "body"], ["1", "Ketamine is legaal"]])
    one_line_error(invoke("batch", source, "-o", tmp_path / "o.csv", "--column", "tweet"), "columns are: id, body")
    one_line_error(invoke("batch", source, "-o", tmp_path / "o.csv"), "pass --column (columns: id, body)")


def test_resume_after_interruption_loses_and_repeats_nothing(tmp_path, fake_checker, monkeypatch):
    checker = fake_checker
    rows = [["n", "claim"]] + [[str(i), f"Ketamine verhoogt de bloeddruk ({i})."] for i in range(10)]
    source = write_csv(tmp_path / "in.csv", rows)
    out = tmp_path / "out.csv"
    original = checker.check_many
    calls = {"n": 0}

    def flaky(texts, batch_size=64, progress=None):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return original(texts, batch_size=batch_size)

    small = checker.config.model_copy(update={"batch": checker.config.batch.model_copy(update={"chunk_rows": 3})})
    monkeypatch.setattr(checker, "config", small)
    monkeypatch.setattr(checker, "check_many", flaky)
    with pytest.raises(KeyboardInterrupt):
        run_batch(checker, source, out, progress=False)
    assert not out.exists() and (tmp_path / "out.csv.partial").exists()

    monkeypatch.setattr(checker, "check_many", original)
    summary = run_batch(checker, source, out, resume=True, progress=False)
    assert summary.resumed_from == 6 and summary.rows == 10
    assert [r["n"] for r in read_csv(out)] == [str(i) for i in range(10)]
    with pytest.raises(FactCheckError, match="nothing to resume"):
        run_batch(checker, source, out, resume=True, progress=False)


@pytest.mark.parametrize("rows, fragment", [
    ([["claim"], ["Ketamine is legaal"]], "missing column(s) label"),
    ([["claim", "label"], ["Ketamine is legaal", "waar"]], "unknown label value(s) 'waar'"),
    ([["claim", "label"]], "no labelled rows"),
])
def test_evaluate_rejects_bad_labelled_files(tmp_path, rows, fragment, fake_cli):
    source = write_csv(tmp_path / "labelled.csv", rows)
    one_line_error(invoke("evaluate", source, "--out", tmp_path / "eval"), fragment)


def test_evaluate_to_a_file_fails_before_any_work(tmp_path, monkeypatch, fake_cli):
    import pipeline.report

    source = write_csv(tmp_path / "labelled.csv", [["claim", "label"], ["Ketamine is legaal", "contradicted"]])
    blocker = tmp_path / "eval"
    blocker.write_text("x")
    monkeypatch.setattr(pipeline.report, "evaluate", lambda *args: pytest.fail("evaluated before checking --out"))
    one_line_error(invoke("evaluate", source, "--out", blocker), "is a file; --out needs a folder")


def test_evaluate_says_when_the_model_has_seen_the_claims(tmp_path, config, fake_cli):
    from pipeline.report import read_labelled

    labelled = read_labelled(config.path("labelled_claims"))
    trained_on = labelled[labelled["split"].isin(config.verdict.training_splits)].head(3)
    held_out = labelled[labelled["split"] == "test"].head(2)
    for frame, seen in ((held_out, 0), (pd.concat([trained_on, held_out]), 3)):
        frame[["claim", "label", "evidence"]].to_csv(tmp_path / "labelled.csv", index=False)
        result = invoke("evaluate", tmp_path / "labelled.csv", "--out", tmp_path / "eval")
        assert result.exit_code == 0, result.output
        metrics = json.loads((tmp_path / "eval" / "metrics.json").read_text())
        assert metrics["claims_seen_in_training"] == seen
        assert ("warning: the model was trained on 3 of these 5 claims" in result.output) == bool(seen)


def test_train_on_too_few_examples_fails_in_one_line_and_keeps_the_model(tmp_path, fake_cli, monkeypatch):
    checker = fake_cli
    # Only the labelled file: no written pairs and no claims of the labelled posts beside it.
    alone = checker.config.verdict.model_copy(update={"train_on_pairs": False, "post_claims_weight": 0})
    monkeypatch.setattr(checker, "config", checker.config.model_copy(update={"verdict": alone}))
    rows = [["claim", "label"], ["Ketamine is een verdovingsmiddel", "supported"],
            ["Ketamine is onschadelijk", "contradicted"], ["Ketamine groeit op Mars", "unsupported"]]
    source = write_csv(tmp_path / "labelled.csv", rows)
    model = checker.config.path("verifier_model")
    before = model.stat().st_mtime_ns
    one_line_error(invoke("train", "--labelled", source, "--split", "all"), "training needs at least 10 examples")
    assert model.stat().st_mtime_ns == before


def test_evaluate_writes_metrics_and_an_escaped_report(tmp_path, fake_cli):
    rows = [["claim", "label", "evidence", "kind"],
            ["<script>alert(1)</script> Ketamine verhoogt de bloeddruk.", "supported",
             "Ook gaan de hartslag en de bloeddruk omhoog.", "paraphrase"],
            ["Ketamine verlaagt de bloeddruk.", "contradicted", "Ook gaan de hartslag en de bloeddruk omhoog.",
             "negation"],
            ["Amsterdam is de hoofdstad van Nederland.", "unsupported", "", "off topic"]]
    source = write_csv(tmp_path / "labelled.csv", rows)
    result = invoke("evaluate", source, "--out", tmp_path / "eval")
    assert result.exit_code == 0, result.output
    metrics = json.loads((tmp_path / "eval" / "metrics.json").read_text())
    for key in ("accuracy", "macro_f1", "per_class", "confusion_matrix", "evidence_recall@1", "evidence_recall@3",
                "evidence_recall@5", "evidence_mrr", "strict_accuracy", "ece", "ece_if_calibrated",
                "accuracy_per_kind", "baselines"):
        assert key in metrics
    reference = metrics["ece_if_calibrated"]
    assert 0 <= reference["p05"] <= reference["mean"] <= reference["p95"] <= 1
    report = (tmp_path / "eval" / "report.html").read_text()
    assert "<script>alert(1)</script>" not in report
    assert report.count("data:image/png;base64,") == 4


def test_unwritable_output_is_one_line(tmp_path, fake_cli):
    source = write_csv(tmp_path / "in.csv", [["claim"], ["Ketamine is legaal"]])
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    one_line_error(invoke("batch", source, "-o", blocker / "out.csv"), "cannot read or write")
    one_line_error(invoke("batch", source, "-o", tmp_path), "is a folder")


def test_output_never_replaces_the_input(tmp_path, fake_cli):
    source = write_csv(tmp_path / "in.csv", [["claim"], ["Ketamine is legaal"]])
    before = source.read_bytes()
    one_line_error(invoke("batch", source, "-o", tmp_path / "." / "in.csv"), "the output would replace the input")
    assert source.read_bytes() == before
