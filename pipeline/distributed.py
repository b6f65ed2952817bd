"""`factcheck batch --engine dask`: the rows of a batch checked by the workers of a Dask cluster, with the
same output as the local engine (same rows, order and values).

How it runs. The client reads the input exactly as the local engine does (``batch.read_rows``: encodings,
delimiters, ragged rows, .xlsx), ``batch.chunk_rows`` rows at a time. Each chunk's readable texts become
one pandas DataFrame partition, sent to a worker, where ``check_partition`` turns it into a DataFrame of
the result columns. Each worker loads its own ``FactChecker`` once, in a ``WorkerPlugin``, from the
config it is given; tasks carry only text, never the model.

Why futures over partitions rather than a dask DataFrame: a dask DataFrame built from the client's reader
holds the whole input in its task graph, and writing one output file in input order means collecting the
partitions in order anyway. Keeping ``batch.dask_partitions_in_flight`` partitions per worker thread
queued keeps every worker busy and the client's memory flat, and the local engine's writer (``OUT.partial``,
its progress record, ``--resume``) stays the same for both engines: a chunk is appended only when it and
every chunk before it are checked.
"""
from __future__ import annotations

import asyncio
import gc
import json
from collections import deque
from typing import Callable, Iterator

import pandas as pd
from distributed import WorkerPlugin

from .batch import RESULT_COLUMNS, _row_results
from .config import Config
from .errors import FactCheckError

PLUGIN_NAME = "factcheck-checker"
TEXT = "text"  # the one column of a partition sent to a worker
THREAD_CAPS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")  # set to 1 by dask's nannies


def _load_checker(config: Config):
    """A worker's FactChecker with its verdict model, set up as the CLI sets up its own process."""
    from .checker import FactChecker
    from .runtime import configure_runtime

    configure_runtime(config)
    checker = FactChecker(config)
    checker.load_classifier()
    return checker


def checker_identity(checker) -> str:
    """What makes two checkers give the same verdicts: the encoder's runtime (torch or ONNX), feature
    settings, index manifest (corpus, model, package versions) and the trained model files. Workers that
    disagree would write mixed output."""
    from .storage import file_sha256, short_hash

    models = [checker.config.path(name) for name in ("verifier_model", "post_reader")
              if hasattr(checker.config.paths, name)]
    record = {"encoder": type(checker.encoder).__name__, "features": checker.feature_config,
              "index": checker.index.manifest,
              "models": {path.name: file_sha256(path) for path in models if path.exists()}}
    return short_hash(json.dumps(record, sort_keys=True, default=str))


class CheckerPlugin(WorkerPlugin):
    """Loads one FactChecker per worker when registered (and on workers that join later). Paths in the
    config resolve on the worker, so each worker reads its own models and index folders (or a shared
    path). A problem loading them is kept as a one-line message, not raised: the client reports it.
    ``load`` builds the checker from the config: the real models unless a test passes a lighter one."""

    name = PLUGIN_NAME

    def __init__(self, config: Config, load: Callable[[Config], object] = _load_checker):
        self.config, self.load = config, load
        self.checker = None
        self.identity: str | None = None
        self.problem: str | None = None

    def __getstate__(self) -> dict:  # only the config (and the loader, by name) travel; never a model
        return {"config": self.config, "load": self.load}

    def __setstate__(self, state: dict) -> None:
        self.__init__(state["config"], state["load"])

    async def setup(self, worker) -> None:
        # Loading takes seconds; a thread keeps the worker's event loop answering the scheduler meanwhile.
        try:
            self.checker = await asyncio.to_thread(self.load, self.config)
            self.identity = await asyncio.to_thread(checker_identity, self.checker)
        except FactCheckError as exc:
            self.problem = str(exc)
        # The model lives as long as the worker: kept out of the garbage collector's scans, it costs no GC
        # time, and the process exits in under a second (scanning it took about 4 s on 2 cores, past the
        # moment a nanny gives up waiting and kills its worker with a warning).
        gc.freeze()

    def teardown(self, worker) -> None:
        self.checker = None
        from distributed.core import Status

        if worker.status not in (Status.closing, Status.closed):  # the worker lives on: collect the model
            gc.unfreeze()


def _worker_plugin() -> CheckerPlugin:
    from distributed import get_worker

    plugin = get_worker().plugins.get(PLUGIN_NAME)
    if plugin is None:
        raise FactCheckError("this dask worker has no fact-checker loaded; run the batch again")
    if plugin.problem is not None:
        raise FactCheckError(plugin.problem)
    return plugin


def check_partition(frame: pd.DataFrame) -> pd.DataFrame:
    """On a worker: the result columns for each text of ``frame`` (one row per input row, same index),
    computed by that worker's FactChecker exactly as the local engine computes a chunk."""
    texts = frame[TEXT].tolist()
    rows = _row_results(_worker_plugin().checker, texts) if texts else []
    return pd.DataFrame(rows, columns=list(RESULT_COLUMNS), index=frame.index)


def _worker_status(dask_worker) -> dict:
    plugin = dask_worker.plugins.get(PLUGIN_NAME)
    if plugin is None:
        return {"problem": "the fact-checker plugin is missing", "identity": None}
    return {"problem": plugin.problem, "identity": plugin.identity}


class DaskEngine:
    """Checks chunks of texts on a Dask cluster: a new local one (``workers`` processes) or the one whose
    scheduler listens at ``scheduler``. Nothing starts until the first chunk, so bad input is reported
    before any worker loads a model. Use it as a context manager; leaving it takes the checker off the workers
    of an existing cluster and stops a local one."""

    def __init__(self, config: Config, scheduler: str | None = None, workers: int | None = None,
                 load: Callable[[Config], object] = _load_checker):
        if scheduler is not None and workers is not None:
            raise FactCheckError("--workers sizes a local cluster; with --scheduler the cluster's own workers "
                                 "are used")
        if workers is not None and workers < 1:
            raise FactCheckError(f"--workers must be 1 or more, got {workers}")
        self.config, self.load = config, load
        self.scheduler = scheduler
        self.workers = workers or config.batch.dask_workers
        self.client = None
        self.cluster = None
        self.registered = False  # whether our plugin is on the cluster's workers

    def __enter__(self) -> "DaskEngine":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def start(self) -> None:
        """Connect (or start a local cluster), load a FactChecker on every worker and check that all
        workers loaded the same one."""
        if self.client is not None:
            return
        import dask
        from distributed import Client, LocalCluster

        timeout = self.config.batch.dask_timeout_s
        if self.scheduler is None:
            # One thread per worker process: the checker serialises its model calls, so more threads in one
            # process would only wait. The scheduler's HTTP endpoints take a free port on this machine only
            # (its default, 8787, may be taken by another run).
            # Dask caps numpy's and OpenMP's threads at one in worker processes; the local engine does not,
            # and the thread count changes the last digits of sums (a score 0.61625 against 0.616249).
            # Local workers keep this process's settings, so both engines write the same values.
            uncapped = {f"distributed.nanny.pre-spawn-environ.{name}": None for name in THREAD_CAPS}
            with dask.config.set(uncapped):
                self.cluster = LocalCluster(n_workers=self.workers, threads_per_worker=1, processes=True,
                                            host="127.0.0.1", dashboard_address="127.0.0.1:0")
            self.client = Client(self.cluster)
        else:
            try:
                self.client = Client(self.scheduler, timeout=timeout)
            except (OSError, ValueError, TypeError) as exc:
                raise FactCheckError(f"cannot reach the dask scheduler at {self.scheduler} "
                                     f"({str(exc).splitlines()[0]})") from None
            try:
                self.client.wait_for_workers(1, timeout=timeout)
            except (TimeoutError, asyncio.TimeoutError):
                self.close()
                raise FactCheckError(f"the dask scheduler at {self.scheduler} has no workers (waited "
                                     f"{timeout:g} s); start some with `dask worker {self.scheduler}`") from None
        self.client.register_plugin(CheckerPlugin(self.config, self.load), name=PLUGIN_NAME)
        self.registered = True
        self._check_workers()

    def _check_workers(self) -> None:
        statuses = self.client.run(_worker_status)
        for address, status in sorted(statuses.items()):
            if status["problem"]:
                raise FactCheckError(f"dask worker {address}: {status['problem']}")
        identities = {status["identity"] for status in statuses.values()}
        if len(identities) > 1:
            raise FactCheckError("the dask workers loaded different models or indexes ("
                                 + ", ".join(f"{a}: {s['identity']}" for a, s in sorted(statuses.items()))
                                 + "); give every worker the same models/ and build/ folders")

    def close(self) -> None:
        if self.client is not None:
            try:
                if self.registered and self.cluster is None and self.client.status == "running":
                    self.client.unregister_worker_plugin(PLUGIN_NAME)
            finally:
                self.client.close()
                self.client, self.registered = None, False
        if self.cluster is not None:
            self.cluster.close()
            self.cluster = None

    def check_chunks(self, texts_per_chunk: Iterator[list[str]]) -> Iterator[list[dict]]:
        """The result rows of each chunk of texts, in input order, while later chunks are being checked."""
        self.start()
        threads = sum(self.client.nthreads().values())
        window = max(1, threads) * self.config.batch.dask_partitions_in_flight
        pending: deque = deque()  # futures, or [] for a chunk with nothing to check
        try:
            for texts in texts_per_chunk:
                pending.append(self.client.submit(check_partition, pd.DataFrame({TEXT: texts}), pure=False)
                               if texts else [])
                if len(pending) >= window:
                    yield self._rows(pending.popleft())
            while pending:
                yield self._rows(pending.popleft())
        finally:
            for future in pending:
                if not isinstance(future, list):
                    future.cancel()

    @staticmethod
    def _rows(future) -> list[dict]:
        if isinstance(future, list):
            return future
        from distributed.scheduler import KilledWorker

        try:
            frame = future.result()
        except KilledWorker:
            raise FactCheckError("dask workers kept dying while checking a chunk (out of memory?); the rows "
                                 "written so far are kept: run again with --resume") from None
        # to_dict gives Python floats and booleans, as the local engine's rows hold.
        return frame.to_dict("records")
