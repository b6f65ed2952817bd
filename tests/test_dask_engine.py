"""`factcheck batch --engine dask`: the Dask engine writes exactly what the local engine writes.

The fast tests run a Dask cluster inside this process (two worker threads) whose workers load the
fake-encoder checker through the engine's ``load`` hook; scheduler, plugin, partitions, ordering, the
writer and --resume are the real ones. The integration test starts the engine's own cluster of two worker
processes, each loading the real model, and compares its output with the local engine's byte for byte.
"""
from __future__ import annotations

import csv
import json
import shutil

import pytest
from distributed import LocalCluster
from typer.testing import CliRunner

import pipeline.cli as cli
import pipeline.distributed as distributed
from pipeline.batch import run_batch
from pipeline.distributed import DaskEngine
from pipeline.errors import FactCheckError

from conftest import ROOT

runner = CliRunner()
_IN_PROCESS: dict = {}  # what the in-process workers load: the session's fake checker


def _shared_fake_checker(config):
    """The ``load`` of the in-process workers (a module function, so the plugin pickles it by name)."""
    return _IN_PROCESS["checker"]


def _refuse_to_load(config):
    raise FactCheckError(f"no index at {config.path('index_dir')}; build it with `factcheck index`")


@pytest.fixture(scope="module")
def in_process_cluster():
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address="127.0.0.1:0") as cluster:
        yield cluster


@pytest.fixture()
def small_chunks(fake_checker, monkeypatch):
    """The fake checker with four rows a chunk, so a dozen rows make several partitions."""
    small = fake_checker.config.model_copy(
        update={"batch": fake_checker.config.batch.model_copy(update={"chunk_rows": 4})})
    monkeypatch.setattr(fake_checker, "config", small)
    monkeypatch.setitem(_IN_PROCESS, "checker", fake_checker)
    return fake_checker


def _posts_with_a_ragged_row(tmp_path, rows: int = 12):
    """The first ``rows`` example posts, with one row of too many fields and one empty text among them."""
    with open(ROOT / "examples" / "posts.csv", encoding="utf-8", newline="") as handle:
        table = list(csv.reader(handle))
    header, body = table[0], table[1:rows + 1]
    body[3] = body[3] + ["een veld te veel"]
    body[6][2] = ""
    path = tmp_path / "posts.csv"
    with open(path, "w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows([header] + body)
    return path


@pytest.mark.parametrize("output_format", ["csv", "jsonl"])
def test_dask_output_is_the_local_output(tmp_path, small_chunks, in_process_cluster, output_format):
    source = _posts_with_a_ragged_row(tmp_path)
    local, dask = tmp_path / f"local.{output_format}", tmp_path / f"dask.{output_format}"
    expected = run_batch(small_chunks, source, local, output_format=output_format, progress=False)
    with DaskEngine(small_chunks.config, in_process_cluster.scheduler_address, load=_shared_fake_checker) as engine:
        summary = run_batch(None, source, dask, output_format=output_format, progress=False, engine=engine)
        loaded = engine.client.run(lambda dask_worker: distributed.PLUGIN_NAME in dask_worker.plugins)
        assert list(loaded.values()) == [True, True]
    assert dask.read_bytes() == local.read_bytes()
    assert (summary.rows, summary.counts, summary.unreadable) == (expected.rows, expected.counts, expected.unreadable)
    assert summary.rows == 12 and summary.unreadable == 1
    lines = dask.read_text(encoding="utf-8").splitlines()
    assert len(lines) == (13 if output_format == "csv" else 12)
    if output_format == "jsonl":
        assert [json.loads(line)["id"] for line in lines] == [str(i) for i in range(1, 13)]
        assert "regel 5: 4 velden, verwacht 3" in json.loads(lines[3])["error"]
        assert json.loads(lines[6])["error"] == "lege tekst"
    # Leaving the engine takes the checker off the workers of a cluster it did not start.
    assert distributed.PLUGIN_NAME not in in_process_cluster.scheduler.worker_plugins


def test_dask_run_resumes_where_it_stopped(tmp_path, small_chunks, in_process_cluster):
    source = _posts_with_a_ragged_row(tmp_path)
    local, out = tmp_path / "local.csv", tmp_path / "out.csv"
    run_batch(small_chunks, source, local, progress=False)

    class StopsAfterTwoChunks(DaskEngine):
        def check_chunks(self, texts_per_chunk):
            for number, rows in enumerate(super().check_chunks(texts_per_chunk)):
                if number == 2:
                    raise KeyboardInterrupt
                yield rows

    with StopsAfterTwoChunks(small_chunks.config, in_process_cluster.scheduler_address,
                             load=_shared_fake_checker) as engine:
        with pytest.raises(KeyboardInterrupt):
            run_batch(None, source, out, progress=False, engine=engine)
    assert not out.exists()
    partial = tmp_path / "out.csv.partial"
    assert len(list(csv.reader(partial.open(encoding="utf-8", newline="")))) == 1 + 8

    with DaskEngine(small_chunks.config, in_process_cluster.scheduler_address, load=_shared_fake_checker) as engine:
        summary = run_batch(None, source, out, resume=True, progress=False, engine=engine)
    assert (summary.resumed_from, summary.rows) == (8, 12)
    assert out.read_bytes() == local.read_bytes() and not partial.exists()


def test_a_worker_that_cannot_load_the_checker_is_one_line(tmp_path, small_chunks, in_process_cluster):
    source = _posts_with_a_ragged_row(tmp_path)
    with DaskEngine(small_chunks.config, in_process_cluster.scheduler_address, load=_refuse_to_load) as engine:
        with pytest.raises(FactCheckError, match=r"^dask worker \S+: no index at .*factcheck index"):
            run_batch(None, source, tmp_path / "out.csv", progress=False, engine=engine)
    assert not (tmp_path / "out.csv").exists()


def test_workers_with_different_models_are_refused(tmp_path, small_chunks, in_process_cluster, monkeypatch):
    identities = iter(["built-on-machine-a", "built-on-machine-b"])
    monkeypatch.setattr(distributed, "checker_identity", lambda checker: next(identities))
    source = _posts_with_a_ragged_row(tmp_path)
    with DaskEngine(small_chunks.config, in_process_cluster.scheduler_address, load=_shared_fake_checker) as engine:
        with pytest.raises(FactCheckError, match="loaded different models or indexes"):
            run_batch(None, source, tmp_path / "out.csv", progress=False, engine=engine)


def test_checker_identity_follows_the_trained_model(fake_checker, tmp_path, monkeypatch):
    before = distributed.checker_identity(fake_checker)
    assert before == distributed.checker_identity(fake_checker)
    copy = tmp_path / "verifier.skops"
    shutil.copy(fake_checker.config.path("verifier_model"), copy)
    with open(copy, "ab") as handle:
        handle.write(b"\0")
    paths = fake_checker.config.paths.model_copy(update={"verifier_model": copy})
    monkeypatch.setattr(fake_checker, "config", fake_checker.config.model_copy(update={"paths": paths}))
    assert distributed.checker_identity(fake_checker) != before


def _one_line_error(args, fragment):
    result = runner.invoke(cli.app, [str(a) for a in args])
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and fragment in lines[0], result.output


def test_engine_options_fail_in_one_line(tmp_path):
    source = _posts_with_a_ragged_row(tmp_path)
    out = tmp_path / "out.csv"
    _one_line_error(["batch", source, "-o", out, "--engine", "spark"], "unknown engine 'spark' (use local or dask)")
    _one_line_error(["batch", source, "-o", out, "--workers", "2"], "--scheduler and --workers are for --engine dask")
    _one_line_error(["batch", source, "-o", out, "--engine", "dask", "--workers", "0"], "--workers must be 1 or more")
    _one_line_error(["batch", source, "-o", out, "--engine", "dask", "--workers", "2", "--scheduler",
                     "tcp://127.0.0.1:9"], "--workers sizes a local cluster")
    # Input problems are found before any cluster is reached: this scheduler does not exist.
    _one_line_error(["batch", source, "-o", out, "--engine", "dask", "--scheduler", "tcp://127.0.0.1:9",
                     "--column", "tekst"], "column 'tekst' not found; columns are: id, platform, post")


def test_a_scheduler_without_workers_is_one_line(tmp_path, small_chunks):
    source = _posts_with_a_ragged_row(tmp_path)
    quick = small_chunks.config.model_copy(
        update={"batch": small_chunks.config.batch.model_copy(update={"dask_timeout_s": 1})})
    with LocalCluster(n_workers=0, processes=False, dashboard_address="127.0.0.1:0") as empty:
        with DaskEngine(quick, empty.scheduler_address, load=_shared_fake_checker) as engine:
            with pytest.raises(FactCheckError, match=r"has no workers \(waited 1 s\); start some with `dask worker"):
                run_batch(None, source, tmp_path / "out.csv", progress=False, engine=engine)


def test_an_unreachable_scheduler_is_one_line(tmp_path):
    source = _posts_with_a_ragged_row(tmp_path)
    _one_line_error(["batch", source, "-o", tmp_path / "out.csv", "--engine", "dask", "--scheduler",
                     "tcp://127.0.0.1:9", "--set", "batch.dask_timeout_s=2"],
                    "cannot reach the dask scheduler at tcp://127.0.0.1:9")
    assert not (tmp_path / "out.csv").exists()


@pytest.mark.integration
def test_two_worker_processes_write_what_the_local_engine_writes(tmp_path, checker):
    """Each worker process loads the real model from the config's folders; twelve example posts in three
    partitions of four. The local engine runs the checker the CLI builds (ONNX encoder where exported), not the
    session's torch-encoder fixture: the two encoders agree only to cosine 0.999999, which showed in the last
    digit of a score."""
    small = checker.config.model_copy(update={"batch": checker.config.batch.model_copy(update={"chunk_rows": 4})})
    source = _posts_with_a_ragged_row(tmp_path)
    local, dask = tmp_path / "local.csv", tmp_path / "dask.csv"
    run_batch(distributed._load_checker(small), source, local, progress=False)
    with DaskEngine(small, workers=2) as engine:
        run_batch(None, source, dask, progress=False, engine=engine)
        assert len(engine.client.nthreads()) == 2
    assert dask.read_bytes() == local.read_bytes()
