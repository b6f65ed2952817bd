"""NLI stage: a cross-encoder that reads a passage and a claim together and says whether the passage
entails it, contradicts it or leaves it open (``factcheck train-nli``; on by default, off in the fast
profile ``configs/fast.yaml``).

It starts from the converted multilingual-e5-small weights (its first ``nli.layers`` layers, word
embeddings frozen) and is trained on the written claim–passage pairs of ``corpus/pairs`` and, where
``nli.sick_nl`` names it, on SICK-NL TRAIN and TRIAL (read in place, never copied), each SICK premise led by
``nli.sick_marker`` so that SICK's everyday sentences stay apart from our passages. Its probabilities
are features of the verdict model, never the verdict itself. The folder is an ordinary sentence-transformers
``CrossEncoder`` with ``nli.json`` naming the base model, the data fingerprints and the settings.
"""
from __future__ import annotations

import json
import random
import time
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .config import Config, Nli
from .errors import FactCheckError
from .pairs import PAIR_LABELS, pairs_fingerprint, read_pairs
from .adapt import fine_tuning
from .runtime import training_precision
from .storage import atomic_folder, file_sha256, loading_artefact, read_json, shown_path

RECORD = "nli.json"
_CACHE_PAIRS = 50_000
_VERIFICATION_PAIRS = 256  # written pairs both runtimes score when the model is exported to ONNX
_COLLAPSED_SPREAD = 0.05  # no label's probability varies more than this over the sample: the model diverged
_REBUILD = "run `factcheck train-nli --force` (with the same --config) to rebuild it"
_INERT_SETTINGS = {"sick_share": 1.0, "frozen_layers": 0}
SICK_LABELS = {"ENTAILMENT": "entailment", "CONTRADICTION": "contradiction", "NEUTRAL": "neutral"}


@dataclass(frozen=True)
class NliReport:
    status: str                 # "trained" | "up to date" | "disabled"
    folder: Path
    pairs: int = 0
    seconds: float = 0.0
    notes: tuple[str, ...] = ()


def nli_dir(config: Config) -> Path:
    return config.path("models_dir") / "nli-e5-small"


def read_sick(path: Path, splits: list[str]) -> list[tuple[str, str, str]]:
    """(premise, hypothesis, label) of the chosen SICK-NL splits."""
    import pandas as pd

    frame = pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False, quoting=3)
    frame = frame[frame["SemEval_set"].isin(splits)]
    return [(a, b, SICK_LABELS[label]) for a, b, label in
            zip(frame["sentence_A"], frame["sentence_B"], frame["entailment_label"])]


def even_share(rows: list, share: float) -> list:
    """About ``share`` of ``rows``, spread evenly over them (the same rows every run)."""
    if share >= 1 or not rows:
        return rows
    return [rows[int(j / share)] for j in range(max(1, round(len(rows) * share)))]


def marked_sick_premise(premise: str, settings: Nli) -> str:
    """A SICK premise as the cross-encoder was trained to read it."""
    return settings.sick_marker + premise


def training_data(config: Config) -> tuple[list[tuple[str, str, str]], dict, list[str]]:
    """The training triples, their fingerprints, and notes on what was missing."""
    from .posts import normalise_post

    settings, notes, fingerprints = config.nli, [], {}
    triples: list[tuple[str, str, str]] = []
    sick = config.resolve(settings.sick_nl) if settings.sick_nl is not None else None
    if sick is None:
        notes.append("SICK-NL not used (nli.sick_nl is empty); trained on the written pairs only")
    elif sick.exists():
        sick_pairs = read_sick(sick, settings.sick_splits)
        triples += [(marked_sick_premise(premise, settings), hypothesis, label)
                    for premise, hypothesis, label in even_share(sick_pairs, settings.sick_share)]
        fingerprints["sick_nl"] = file_sha256(sick)
    else:
        notes.append(f"SICK-NL not found at {sick} (nli.sick_nl); trained on the written pairs only")
    pairs = read_pairs(config.path("training_pairs"))
    triples += [(premise, normalise_post(hypothesis), label)
                for premise, hypothesis, label in zip(pairs["premise"], pairs["hypothesis"], pairs["label"])]
    fingerprints["pairs"] = pairs_fingerprint(pairs)
    if not triples:
        raise FactCheckError("no NLI training data: neither SICK-NL (nli.sick_nl) nor written pairs were found")
    return triples, fingerprints, notes


def _record(config: Config, fingerprints: dict) -> dict:
    from .embed import base_model_dir

    base = read_json(base_model_dir(config) / "conversion.json") or {}
    return {"base_model": base.get("source_sha256", config.embedding.model), "data": fingerprints,
            "settings": _settings_record(config),
            "labels": list(PAIR_LABELS)}


def _settings_record(config: Config) -> dict:
    """The settings that shape the trained model (not whether or how widely it is used)."""
    unused = {"sick_marker", "sick_share"} if config.nli.sick_nl is None else set()  # nothing to mark or share
    # settings at the value that adds nothing: a model trained before they existed stays current
    unused |= {key for key, inert in _INERT_SETTINGS.items() if getattr(config.nli, key) == inert}
    used_only = {"enabled", "top_passages", "rerank_depth", "rerank_weight", "runtime", "onnx_max_difference"}
    return config.nli.model_dump(mode="json", exclude=used_only | unused)


def read_record(folder: Path) -> dict | None:
    return read_json(folder / RECORD)


def train_nli(config: Config, force: bool = False, progress: bool = False) -> NliReport:
    """Train the cross-encoder unless one for the same base model, data and settings is there."""
    folder = nli_dir(config)
    if not config.nli.enabled:
        return NliReport("disabled", folder)
    from .embed import prepare_model

    base = prepare_model(config)
    triples, fingerprints, notes = training_data(config)
    record = _record(config, fingerprints)
    found = read_record(folder)
    if not force and found is not None and {k: found.get(k) for k in record} == record:
        return NliReport("up to date", folder, len(triples), notes=tuple(notes))
    started = time.perf_counter()
    precision = training_precision(config.nli.training_precision)
    model = _fit(base, triples, config, precision, progress)
    fit_accuracy = _check_not_collapsed(model, triples, config.nli.max_length)
    with atomic_folder(folder) as work:
        model.save_pretrained(str(work))
        model.tokenizer.save_pretrained(str(work))
        record["seconds"] = round(time.perf_counter() - started, 1)
        record["examples"] = len(triples)
        record["trained_in"] = precision
        record["fit_accuracy"] = fit_accuracy
        (work / RECORD).write_text(json.dumps(record, indent=2, ensure_ascii=False), encoding="utf-8")
    return NliReport("trained", folder, len(triples), time.perf_counter() - started, tuple(notes))


def _check_not_collapsed(model, triples: list[tuple[str, str, str]], max_length: int) -> float:
    """Accuracy on an even sample of the training pairs; a model that gives every pair (nearly) the same
    probabilities has diverged and is not saved."""
    import torch

    sample = triples[::max(1, len(triples) // _VERIFICATION_PAIRS)]
    with torch.no_grad():
        inputs = model.tokenizer([p for p, _, _ in sample], [h for _, h, _ in sample], truncation=True,
                                 max_length=max_length, padding=True, return_tensors="pt")
        probabilities = torch.softmax(model(**inputs).logits, dim=-1).numpy()
    accuracy = float(np.mean([PAIR_LABELS[i] == label for i, (_, _, label) in zip(probabilities.argmax(1), sample)]))
    if float((probabilities.max(0) - probabilities.min(0)).max()) < _COLLAPSED_SPREAD:
        raise FactCheckError(f"the NLI cross-encoder's training diverged: it gives every pair about the same "
                             f"probabilities (accuracy {accuracy:.2f} on its own training pairs); not saved. "
                             "Lower nli.learning_rate and run `factcheck train-nli` again")
    return round(accuracy, 4)


def _length_bucketed_batches(lengths: list[int], batch_size: int, bucket_batches: int,
                             rng: random.Random) -> list[list[int]]:
    """One epoch's batches: the examples shuffled, each run of ``bucket_batches`` batches sorted by length
    before it is cut into batches, and the batches shuffled. A batch pads to its longest pair, so pairs of
    like length together cut the padded tokens by about 40 % on the written pairs (1: plain random batches)."""
    order = list(range(len(lengths)))
    rng.shuffle(order)
    span = batch_size * bucket_batches
    batches = []
    for start in range(0, len(order), span):
        bucket = order[start:start + span]
        if bucket_batches > 1:
            bucket.sort(key=lambda i: lengths[i])
        batches += [bucket[i:i + batch_size] for i in range(0, len(bucket), batch_size)]
    if bucket_batches > 1:
        rng.shuffle(batches)
    return batches


def _fit(base: Path, triples: list[tuple[str, str, str]], config: Config, precision: str, progress: bool):
    import torch
    import transformers
    from tqdm import tqdm
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    transformers.utils.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()
    settings = config.nli
    torch.manual_seed(settings.seed)
    from .embed import rebuild_fix

    with loading_artefact(base, rebuild_fix(config, base)):
        tokenizer = AutoTokenizer.from_pretrained(str(base))
        model = AutoModelForSequenceClassification.from_pretrained(
            str(base), num_labels=len(PAIR_LABELS), num_hidden_layers=settings.layers,
            id2label=dict(enumerate(PAIR_LABELS)), label2id={label: i for i, label in enumerate(PAIR_LABELS)})
    model.tokenizer = tokenizer
    steps = settings.epochs * -(-len(triples) // settings.batch_size)
    optimiser, schedule = fine_tuning(model, settings.learning_rate, steps, settings.frozen_layers)
    rng = random.Random(settings.seed)
    label_index = {label: i for i, label in enumerate(PAIR_LABELS)}
    lengths = [len(encoding) for encoding in tokenizer([p for p, _, _ in triples], [h for _, h, _ in triples],
                                                         truncation=True, max_length=settings.max_length)["input_ids"]]
    model.train()
    with tqdm(total=steps, desc="training NLI cross-encoder", unit="batch", disable=not progress) as bar:
        for _ in range(settings.epochs):
            for rows in _length_bucketed_batches(lengths, settings.batch_size, settings.bucket_batches, rng):
                batch = [triples[i] for i in rows]
                inputs = tokenizer([p for p, _, _ in batch], [h for _, h, _ in batch], truncation=True,
                                   max_length=settings.max_length, padding=True, return_tensors="pt")
                targets = torch.tensor([label_index[label] for _, _, label in batch])
                with torch.autocast("cpu", dtype=torch.bfloat16, enabled=precision == "bfloat16"):
                    loss = model(**inputs, labels=targets).loss
                optimiser.zero_grad()
                loss.backward()
                optimiser.step()
                schedule.step()
                bar.update(1)
                bar.set_postfix(loss=f"{float(loss.item()):.3f}")
    model.eval()
    return model


def _checked_record(config: Config) -> dict:
    """The trained cross-encoder's record, refused when it is missing, damaged or trained with other
    settings than the config's."""
    folder = nli_dir(config)
    record = read_record(folder)
    if record is None and (folder / RECORD).exists():
        raise FactCheckError(f"{shown_path(folder / RECORD)} is damaged (not a JSON record); {_REBUILD}")
    if record is None:
        raise FactCheckError(f"NLI model not found at {folder}; run `factcheck train-nli`")
    if record.get("settings") != _settings_record(config):
        raise FactCheckError(f"the NLI model at {folder} was trained with other nli settings; "
                             "run `factcheck train-nli`")
    return record


def nli_identity(folder: Path) -> str:
    return f"nli@{file_sha256(folder / RECORD)[:16]}"


class _CachedPairs:
    """``predict`` for both runtimes: each (passage, claim) pair is scored once, since a claim meets the
    same passages again (conflict checks read each passage as the best one)."""

    def _start_cache(self) -> None:
        import threading

        self._lock = threading.Lock()
        self._seen: OrderedDict[tuple[str, str], np.ndarray] = OrderedDict()

    def _score(self, pairs: list[tuple[str, str]]) -> np.ndarray:
        raise NotImplementedError

    def predict(self, pairs: list[tuple[str, str]]) -> np.ndarray:
        """One row per (passage, claim): entailment, contradiction, neutral."""
        with self._lock:
            missing = list(dict.fromkeys(pair for pair in pairs if pair not in self._seen))
            if missing:
                self._seen.update(zip(missing, np.asarray(self._score(missing), dtype=np.float32)))
                while len(self._seen) > _CACHE_PAIRS:
                    self._seen.popitem(last=False)
            rows = [self._seen[pair] for pair in pairs]
        return np.vstack(rows) if rows else np.zeros((0, len(PAIR_LABELS)), dtype=np.float32)


class NliModel(_CachedPairs):
    """The trained cross-encoder on torch (sentence-transformers' ``CrossEncoder``), loaded once."""

    def __init__(self, config: Config):
        from sentence_transformers import CrossEncoder

        _checked_record(config)
        folder = nli_dir(config)
        import transformers

        transformers.utils.logging.disable_progress_bar()  # no "Loading weights" bar on every start
        with loading_artefact(folder, _REBUILD):
            self.model = CrossEncoder(str(folder), device="cpu", local_files_only=True,
                                      max_length=config.nli.max_length)
        self.batch_size = config.nli.batch_size * 4
        self.identity = nli_identity(folder)
        self._start_cache()

    def _score(self, pairs: list[tuple[str, str]]) -> np.ndarray:
        return self.model.predict([list(pair) for pair in pairs], batch_size=self.batch_size, apply_softmax=True,
                                  convert_to_numpy=True, show_progress_bar=False)


class OnnxNliModel(_CachedPairs):
    """The same cross-encoder on ONNX Runtime (``factcheck export-onnx``): its probabilities within
    ``nli.onnx_max_difference`` of torch's, checked when exported, without importing torch."""

    def __init__(self, config: Config, folder: Path | None = None):
        from .onnx_encoder import MODEL_FILE, SharedTokenizer, inference_session

        _checked_record(config)
        source, folder = nli_dir(config), folder or nli_onnx_dir(config)
        self.tokenizer = SharedTokenizer(source / "tokenizer.json", config.nli.max_length, _REBUILD)
        self.session = inference_session(folder / MODEL_FILE, config.embedding.threads,
                                         "run `factcheck export-onnx --force` to rebuild it")
        self.batch_size = config.nli.batch_size * 4
        self.identity = nli_identity(source)
        self._start_cache()

    def _score(self, pairs: list[tuple[str, str]]) -> np.ndarray:
        scores = np.zeros((len(pairs), len(PAIR_LABELS)), dtype=np.float32)
        order = sorted(range(len(pairs)), key=lambda i: len(pairs[i][0]) + len(pairs[i][1]))  # little padding
        for start in range(0, len(order), self.batch_size):
            rows = order[start:start + self.batch_size]
            scores[rows] = self.session.run(None, self.tokenizer.feed([pairs[i] for i in rows]))[0]
        return scores


def nli_onnx_dir(config: Config) -> Path:
    """Beside the cross-encoder's folder, so that its record's fingerprint (the model's identity) stays."""
    return config.path("models_dir") / f"{nli_dir(config).name}.onnx"


def nli_export_problem(config: Config) -> str | None:
    """Why the ONNX export cannot serve the configured cross-encoder (None when it can)."""
    from .onnx_encoder import export_record_problem

    folder = nli_dir(config)
    identity = nli_identity(folder) if (folder / RECORD).is_file() else None
    return export_record_problem(nli_onnx_dir(config), identity, "factcheck export-onnx",
                                 f"NLI model not found at {shown_path(folder)}; run `factcheck train-nli`")


def load_nli(config: Config) -> NliModel | OnnxNliModel:
    """The cross-encoder for checking: on ONNX Runtime where ``nli.runtime`` allows it and a current export
    exists (no torch import: seconds off the start), else on torch."""
    from .onnx_encoder import choose_runtime

    return choose_runtime(config.nli.runtime, "nli.runtime", lambda: nli_export_problem(config),
                          lambda: OnnxNliModel(config), lambda: NliModel(config))


@dataclass(frozen=True)
class NliExportReport:
    status: str                 # "exported" | "up to date" | "disabled" | "not trained"
    folder: Path
    max_difference: float = float("nan")
    pairs: int = 0
    seconds: float = 0.0


def _verification_pairs(config: Config) -> list[tuple[str, str]]:
    """What both runtimes score to compare them: an even sample of the written pairs, as training reads them,
    and one pair far longer than ``nli.max_length`` (cut the same way)."""
    from .posts import normalise_post

    pairs = read_pairs(config.path("training_pairs"))
    step = max(1, len(pairs) // _VERIFICATION_PAIRS)
    sample = [(premise, normalise_post(hypothesis)) for premise, hypothesis in
              zip(pairs["premise"][::step], pairs["hypothesis"][::step])]
    if sample:
        sample.append((" ".join(premise for premise, _ in sample[:40]), " ".join(h for _, h in sample[:10])))
    return sample


def export_nli_onnx(config: Config, force: bool = False) -> NliExportReport:
    """Export the trained cross-encoder to ONNX and keep it only if its probabilities stay within
    ``nli.onnx_max_difference`` of the torch model's on the verification pairs."""
    from .onnx_encoder import EXPORT_FORMAT, MODEL_FILE, RECORD as EXPORT_RECORD

    folder = nli_onnx_dir(config)
    if not config.nli.enabled:
        return NliExportReport("disabled", folder)
    if not (nli_dir(config) / RECORD).is_file():  # setup exports the encoder before the cross-encoder is trained
        return NliExportReport("not trained", folder)
    if not force and nli_export_problem(config) is None:
        record = read_json(folder / EXPORT_RECORD) or {}
        return NliExportReport("up to date", folder, record.get("max_difference", float("nan")),
                               record.get("pairs", 0))
    started = time.perf_counter()
    reference_model = NliModel(config)
    pairs = _verification_pairs(config)
    reference = reference_model.predict(pairs)
    with atomic_folder(folder) as work:
        _write_nli_graph(reference_model.model.model, reference_model.model.tokenizer, work / MODEL_FILE)
        exported = OnnxNliModel(config, work).predict(pairs)
        difference = float(np.abs(exported - reference).max()) if pairs else 0.0
        if difference > config.nli.onnx_max_difference:
            raise FactCheckError(f"the ONNX export's NLI probabilities differ by up to {difference:.2g} from the torch "
                                 f"model's (nli.onnx_max_difference is {config.nli.onnx_max_difference:g}); not kept, "
                                 "the torch model stays in use")
        from importlib import metadata

        (work / EXPORT_RECORD).write_text(json.dumps({
            "format": EXPORT_FORMAT, "identity": reference_model.identity, "source": str(shown_path(nli_dir(config))),
            "max_difference": difference, "pairs": len(pairs), "max_length": config.nli.max_length,
            "torch": metadata.version("torch"), "onnxruntime": metadata.version("onnxruntime"),
        }, indent=2), encoding="utf-8")
    return NliExportReport("exported", folder, difference, len(pairs), time.perf_counter() - started)


def _write_nli_graph(model, tokenizer, path: Path) -> None:
    """Trace the classifier with a softmax over its logits into one ONNX graph with a free batch size and
    length; its weights go to one file beside it."""
    import torch

    from .onnx_encoder import trace_to_onnx

    class Probabilities(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask):
            logits = self.model(input_ids=input_ids, attention_mask=attention_mask).logits
            return torch.softmax(logits, dim=-1)

    example = tokenizer(["een passage", "nog een iets langere passage"], ["een bewering", "nog een"],
                        padding=True, return_tensors="pt")
    trace_to_onnx(Probabilities(), example, path, "probabilities")
