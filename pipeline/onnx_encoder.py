"""The embedding model on ONNX Runtime: the torch model's embeddings (cosine 0.999 or closer, checked
when exported) without importing torch, transformers or sentence-transformers, which was most of the
start-up of `factcheck check`.

`factcheck export-onnx` (part of `make setup`) exports the model folder the encoder loads
(``embed.model_dir``: the adapted model, made locally; nothing is downloaded) into a sibling folder
``models/NAME.onnx/``: ``model.onnx`` (transformer, mean pooling and normalisation in one graph), its
weights in ``model.onnx.data`` (memory-mapped when loaded: only the rows of the word table that a text
uses are read, so the encoder starts in a fraction of a second and with little memory) and
``export.json`` (the model it was made from, and how close its embeddings came to the torch model's on
the labelled claims and the corpus passages). An export whose embeddings come less close than
``embedding.onnx_min_cosine`` is not written.

``load_encoder`` picks the encoder for checking: with ``embedding.runtime: auto`` the ONNX one when a
current export exists, else the torch one; ``onnx`` and ``torch`` insist. Building the index keeps the
torch encoder, so the index is the same either way.
"""
from __future__ import annotations

import json
import threading
import time
import warnings
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Callable

import numpy as np

from .config import Config
from .embed import encoder_identity, folder_prompts, load_sentence_model, model_dir
from .errors import FactCheckError
from .storage import atomic_folder, file_sha256, loading_artefact, read_json, shown_path

MODEL_FILE = "model.onnx"
WEIGHTS_FILE = "model.onnx.data"  # the weights beside the graph: ONNX Runtime maps them instead of copying
RECORD = "export.json"
_VERIFICATION_TEXTS = 300  # at least this many claims and passages both runtimes embed when the encoder is exported
EXPORT_FORMAT = 1  # raised when the exported graph changes, so that older exports are made again


@dataclass
class ExportReport:
    status: str        # "exported" | "up to date"
    folder: Path
    min_cosine: float = float("nan")
    texts: int = 0
    seconds: float = 0.0


def onnx_dir(config: Config) -> Path:
    """Where the export of the configured model lives: beside the converted models, named after its folder
    (outside it, so the model folder's own fingerprint does not change)."""
    return config.path("models_dir") / f"{model_dir(config).name}.onnx"


def export_problem(config: Config) -> str | None:
    """Why the ONNX export cannot serve the configured model (None when it can)."""
    source = model_dir(config)
    identity = encoder_identity(config, source) if (source / "modules.json").exists() else None
    return export_record_problem(onnx_dir(config), identity, "factcheck export-onnx",
                                 f"embedding model not found at {shown_path(source)}")


def export_record_problem(folder: Path, identity: str | None, command: str, no_model: str) -> str | None:
    """Why the export in ``folder`` is not a current export of the model named ``identity`` (None: the
    model itself is missing, said by ``no_model``); None when it is current."""
    record = read_json(folder / RECORD)
    if record is None or not all((folder / name).is_file() for name in (MODEL_FILE, WEIGHTS_FILE)):
        return f"no ONNX export at {shown_path(folder)}; run `{command}`"
    if identity is None:
        return no_model
    if record.get("identity") != identity:
        return f"the ONNX export at {shown_path(folder)} was made from another model; run `{command}` to export it again"
    if record.get("format") != EXPORT_FORMAT:
        return (f"the ONNX export at {shown_path(folder)} was made by an older version; "
                f"run `{command}` to export it again")
    return None


def _pooling_supported(source: Path) -> bool:
    """The export reproduces sentence-transformers' mean pooling followed by normalisation, nothing else."""
    modules = [module.get("type", "") for module in json.loads((source / "modules.json").read_text())]
    pooling = read_json(source / "1_Pooling" / "config.json") or {}
    mean = pooling.get("pooling_mode") == "mean" or pooling.get("pooling_mode_mean_tokens") is True
    return len(modules) == 3 and modules[1].endswith("Pooling") and modules[2].endswith("Normalize") and mean


def _verification_texts(config: Config, query_prefix: str, passage_prefix: str) -> list[str]:
    """The texts both encoders embed to compare them: an even sample of the labelled claims as queries and the
    corpus passages as the index embeds them, and one text longer than ``embedding.max_seq_length`` (cut the
    same way)."""
    from .chunk import chunk_document, indexed_text
    from .ingest import ingest_readable_corpus
    from .report import read_labelled

    claims = list(read_labelled(config.path("labelled_claims"), None)["claim"])
    passages = []
    for document in ingest_readable_corpus(config.path("corpus_dir")).documents:
        for passage in chunk_document(document, config.chunking):
            passages.append(indexed_text(passage, document.meta.title, config.chunking.context))
    long_text = " ".join(passages[:60])
    texts = [query_prefix + claim for claim in claims] + [passage_prefix + text for text in passages]
    return texts[::max(1, len(texts) // _VERIFICATION_TEXTS)] + [query_prefix + long_text]


def export_onnx(config: Config, force: bool = False) -> ExportReport:
    """Export the configured embedding model to ONNX and keep it only if its embeddings match the torch
    model's to ``embedding.onnx_min_cosine`` on the labelled claims and the corpus passages."""
    started = time.perf_counter()
    folder, source = onnx_dir(config), model_dir(config)
    if not (source / "modules.json").exists():
        step = "adapt" if config.adaptation.enabled else "prepare-model"
        raise FactCheckError(f"embedding model not found at {shown_path(source)}; run `factcheck {step}` first")
    if not force and export_problem(config) is None:
        record = read_json(folder / RECORD) or {}
        return ExportReport("up to date", folder, record.get("min_cosine", float("nan")), record.get("texts", 0))
    if not _pooling_supported(source):
        raise FactCheckError(f"{shown_path(source)} does not pool by mean and normalise; only such models are "
                             "exported to ONNX (set embedding.runtime: torch)")
    import torch
    import transformers

    transformers.utils.logging.disable_progress_bar()
    model = load_sentence_model(config, source)
    model.max_seq_length = config.embedding.max_seq_length
    prompts = folder_prompts(source, config.embedding.symmetric_prefix)
    texts = _verification_texts(config, prompts.query, prompts.passage)
    reference = model.encode(texts, batch_size=config.embedding.batch_size, normalize_embeddings=True,
                             convert_to_numpy=True)
    with atomic_folder(folder) as work:
        _write_graph(model, work / MODEL_FILE, torch)
        encoder = OnnxEncoder(config, work)
        exported = encoder.encode_texts(texts)
        cosine = np.sum(exported * reference, axis=1)
        min_cosine = float(cosine.min())
        if min_cosine < config.embedding.onnx_min_cosine:
            raise FactCheckError(f"the ONNX export's embeddings come only to cosine {min_cosine:.6f} of the torch "
                                 f"model's (embedding.onnx_min_cosine is {config.embedding.onnx_min_cosine}); "
                                 "not kept, the torch model stays in use")
        (work / RECORD).write_text(json.dumps({
            "format": EXPORT_FORMAT, "identity": encoder_identity(config, source), "source": str(shown_path(source)),
            "min_cosine": min_cosine, "mean_cosine": float(cosine.mean()), "texts": len(texts),
            "max_seq_length": config.embedding.max_seq_length,
            "torch": metadata.version("torch"), "onnxruntime": metadata.version("onnxruntime"),
        }, indent=2), encoding="utf-8")
    return ExportReport("exported", folder, min_cosine, len(texts), time.perf_counter() - started)


def _write_graph(model, path: Path, torch) -> None:
    """Trace the transformer with sentence-transformers' mean pooling and normalisation into one ONNX graph
    with a free batch size and text length; its weights go to one file beside it."""
    transformer = model[0].auto_model

    class Embedder(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.transformer = transformer

        def forward(self, input_ids, attention_mask):
            tokens = self.transformer(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(tokens.dtype)
            mean = (tokens * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)
            return torch.nn.functional.normalize(mean, p=2, dim=1)

    example = model.tokenizer(["query: een voorbeeld", "passage: nog een iets langer voorbeeld"],
                              padding=True, return_tensors="pt")
    trace_to_onnx(Embedder(), example, path, "embedding")


def trace_to_onnx(module, example, path: Path, output: str) -> None:
    """Trace ``module`` (input_ids, attention_mask -> ``output``) on the tokenised ``example`` into an ONNX
    graph with a free batch size and length; its weights go to ``WEIGHTS_FILE`` beside it, which ONNX Runtime
    maps instead of copying."""
    import onnx
    import torch

    axes = {0: "batch", 1: "tokens"}
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the tracer's notes on shapes and deprecations are not the user's concern
        torch.onnx.export(module.eval(), (example["input_ids"], example["attention_mask"]), str(path),
                          dynamo=False, opset_version=17, input_names=["input_ids", "attention_mask"],
                          output_names=[output], external_data=False,
                          dynamic_axes={"input_ids": axes, "attention_mask": axes, output: {0: "batch"}})
    onnx.save_model(onnx.load(str(path)), str(path), save_as_external_data=True, all_tensors_to_one_file=True,
                    location=WEIGHTS_FILE, size_threshold=1024)


def inference_session(path: Path, threads: int, fix: str):
    """An ONNX Runtime session on the CPU with ``threads`` intra-op threads; a damaged file stops with one
    line naming it and ``fix``."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3  # warnings about unused initialisers are not the user's concern
    with loading_artefact(path, fix):
        return onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


_TOKENIZERS: dict[str, object] = {}  # loaded tokenizer.json files by content hash
_TOKENIZER_LOCK = threading.Lock()


class SharedTokenizer:
    """A model folder's ``tokenizer.json`` as the model's inputs (``feed``), cut at ``max_length`` tokens (a
    pair longest first, as transformers cuts it) and padded to the longest in a batch. The encoder and the
    cross-encoder start from the same e5 tokenizer, whose loading takes half a second: one file is loaded
    once, and each user sets its own cut under one lock."""

    def __init__(self, path: Path, max_length: int, fix: str):
        from tokenizers import Tokenizer

        key = file_sha256(path) if path.is_file() else str(path)
        with _TOKENIZER_LOCK:
            if key not in _TOKENIZERS:
                with loading_artefact(path, fix):
                    _TOKENIZERS[key] = Tokenizer.from_file(str(path))
            self.tokenizer = _TOKENIZERS[key]
            # The pad token is masked out, so which one pads does not change the result.
            pad = self.tokenizer.padding or {"pad_id": 0, "pad_token": self.tokenizer.id_to_token(0)}
        self.max_length, self.pad_id, self.pad_token = max_length, pad["pad_id"], pad["pad_token"]

    def feed(self, inputs: list) -> dict[str, np.ndarray]:
        """``input_ids`` and ``attention_mask`` of texts, or of (first, second) pairs."""
        with _TOKENIZER_LOCK:
            self.tokenizer.enable_truncation(self.max_length, strategy="longest_first")
            self.tokenizer.enable_padding(pad_id=self.pad_id, pad_token=self.pad_token)
            encodings = self.tokenizer.encode_batch(inputs)
        return {"input_ids": np.array([e.ids for e in encodings], dtype=np.int64),
                "attention_mask": np.array([e.attention_mask for e in encodings], dtype=np.int64)}


class OnnxEncoder:
    """Encodes claims (query prefix) and passages (passage prefix) into unit vectors with ONNX Runtime;
    the same interface and identity as ``embed.Encoder``, whose model it was exported from."""

    def __init__(self, config: Config, folder: Path | None = None):
        source = model_dir(config)
        folder = folder or onnx_dir(config)
        self.batch_size = config.embedding.batch_size
        self.prompts = folder_prompts(source, config.embedding.symmetric_prefix)
        self.identity = encoder_identity(config, source)
        fix = "run `factcheck export-onnx --force` to rebuild it"
        # As sentence-transformers cuts and pads: at max_seq_length tokens, padded to the longest in a batch.
        self.tokenizer = SharedTokenizer(source / "tokenizer.json", config.embedding.max_seq_length,
                                         "run `factcheck adapt --force` to rebuild it")
        self.session = inference_session(folder / MODEL_FILE, config.embedding.threads, fix)
        self.dimension = int(self.session.get_outputs()[0].shape[1])
        self._lock = threading.Lock()

    def encode_texts(self, texts: list[str]) -> np.ndarray:
        """Unit vectors of ``texts`` as given (prefixes included), ``batch_size`` at a time, shortest first
        so that a batch pads little."""
        vectors = np.zeros((len(texts), self.dimension), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        with self._lock:
            for start in range(0, len(order), self.batch_size):
                rows = order[start:start + self.batch_size]
                vectors[rows] = self.session.run(None, self.tokenizer.feed([texts[i] for i in rows]))[0]
        return vectors

    def encode_queries(self, texts: list[str], progress: bool = False) -> np.ndarray:
        return self.encode_texts([self.prompts.query + text for text in texts])

    def encode_passages(self, texts: list[str], progress: bool = False) -> np.ndarray:
        return self.encode_texts([self.prompts.passage + text for text in texts])


def load_encoder(config: Config):
    """The encoder for checking: ONNX Runtime where ``embedding.runtime`` allows it and a current export
    exists (a start-up seconds shorter), else the torch model."""
    from .embed import Encoder

    return choose_runtime(config.embedding.runtime, "embedding.runtime", lambda: export_problem(config),
                          lambda: OnnxEncoder(config), lambda: Encoder(config))


def choose_runtime(runtime: str, key: str, problem: Callable[[], str | None], onnx: Callable, torch: Callable):
    """``onnx()`` where ``runtime`` (the config's ``key``) allows it and ``problem()`` finds the export
    current; else ``torch()``; ``onnx`` insists, with the problem and the key in one line."""
    if runtime != "torch":
        found = problem()
        if found is None:
            return onnx()
        if runtime == "onnx":
            raise FactCheckError(f"{found} ({key} is onnx)")
    return torch()
