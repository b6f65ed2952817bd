"""Adapt the embedding model to the corpus before indexing (``factcheck adapt``, run once at setup).

No labelled claim is used. Each passage yields a pseudo-query: a random run, or an ordered random
subset, of its own words, without the title/section context. The model learns to pick the passage
for its pseudo-query among the other passages of its batch (contrastive loss, in-batch negatives),
which spreads apart the many similar sentences of a corpus that all speak of ketamine. Because the
claims stay unseen, the reranker and verdict model trained on them later meet similarity scores
like those of new claims.

The result is a sentence-transformers folder beside the base model, with ``adaptation.json`` naming
the base model, the corpus it was adapted to, the settings and the hash of the new weights.
"""
from __future__ import annotations

import json
import random
import re
import time
from dataclasses import dataclass
from pathlib import Path

from .config import Adaptation, Config
from .errors import FactCheckError
from .storage import atomic_folder, file_sha256, loading_artefact, read_json, short_hash_of

RECORD = "adaptation.json"


@dataclass(frozen=True)
class TrainingPair:
    query: str      # pseudo-query, drawn from the passage text alone
    passage: str    # the passage as the index embeds it (with its title/section context)


@dataclass
class AdaptationReport:
    status: str                     # "adapted" | "up to date" | "disabled"
    folder: Path
    pairs: int = 0
    seconds: float = 0.0
    final_loss: float = float("nan")


def pseudo_query(text: str, share: float, rng: random.Random) -> str:
    """A query a reader might type from this passage: half the time a contiguous run of about
    ``share`` of its words, otherwise that many words picked at random, in their order."""
    words = text.split()
    if len(words) <= 4:
        return text
    keep = max(3, round(len(words) * share))
    if rng.random() < 0.5:
        start = rng.randint(0, len(words) - keep)
        return " ".join(words[start:start + keep])
    return " ".join(words[i] for i in sorted(rng.sample(range(len(words)), keep)))


def fine_tuning(model, learning_rate: float, steps: int, frozen_layers: int = 0):
    """AdamW over every weight but the word-embedding table, with a linear warm-up over the first tenth
    of ``steps`` and a linear decay after. The table is most of the weights and sees only the training
    texts' own words; leaving it fixed keeps other words where the base model put them. With
    ``frozen_layers``, the embeddings and that many lowest layers stay fixed too: no gradient flows below
    them, which cuts the backward pass."""
    import torch

    for name, parameter in model.named_parameters():
        layer = re.search(r"\.layer\.(\d+)\.", name)
        frozen_below = frozen_layers and ("embeddings." in name or (layer and int(layer.group(1)) < frozen_layers))
        parameter.requires_grad = "word_embeddings" not in name and not frozen_below
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimiser = torch.optim.AdamW(trainable, lr=learning_rate, weight_decay=0.01)
    warmup = max(1, steps // 10)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimiser, lambda step: min(1.0, (step + 1) / warmup) * max(0.0, (steps - step) / steps))
    return optimiser, schedule


def training_pairs(passages: list[tuple[str, str]], share: float, seed: int) -> list[TrainingPair]:
    """One pair per (passage text, indexed text); deterministic for a seed."""
    rng = random.Random(seed)
    return [TrainingPair(pseudo_query(text, share, rng), indexed) for text, indexed in passages]


def corpus_fingerprint(passages: list[tuple[str, str]]) -> str:
    return short_hash_of(indexed + "\x00" for _, indexed in passages)


def read_record(folder: Path) -> dict | None:
    return read_json(folder / RECORD)


def adapt_encoder(base_folder: Path, out_folder: Path, passages: list[tuple[str, str]], settings: Adaptation,
                  query_prefix: str, passage_prefix: str, threads: int, progress: bool = False,
                  written: tuple[TrainingPair, ...] = (), written_fingerprint: str | None = None, *,
                  base_fix: str) -> AdaptationReport:
    """Fine-tune a copy of the model in ``base_folder`` on the corpus and write it to ``out_folder`` (atomically).
    ``base_fix`` says how to rebuild the base model when its folder is damaged."""
    import torch
    import transformers
    from sentence_transformers import SentenceTransformer
    from tqdm import tqdm

    transformers.utils.logging.disable_progress_bar()

    if len(passages) < settings.batch_size:
        raise FactCheckError(f"adaptation needs at least {settings.batch_size} passages (adaptation.batch_size); "
                             f"the corpus has {len(passages)}")
    started = time.perf_counter()
    torch.manual_seed(settings.seed)
    torch.set_num_threads(threads)
    with loading_artefact(base_folder, base_fix):
        model = SentenceTransformer(str(base_folder), device="cpu", local_files_only=True)
    model.max_seq_length = settings.max_seq_length
    batches_per_epoch = -(-(len(passages) + len(written)) // settings.batch_size)
    total = settings.epochs * batches_per_epoch
    optimiser, schedule = fine_tuning(model, settings.learning_rate, total)

    def embed(texts: list[str]):
        return model(model.preprocess(texts))["sentence_embedding"]

    rng = random.Random(settings.seed)
    model.train()
    loss_value = float("nan")
    with tqdm(total=total, desc="adapting encoder", unit="batch", disable=not progress) as bar:
        for epoch in range(settings.epochs):
            pairs = training_pairs(passages, settings.query_share, settings.seed + epoch) + list(written)
            rng.shuffle(pairs)
            for start in range(0, len(pairs), settings.batch_size):
                batch = pairs[start:start + settings.batch_size]
                queries = embed([query_prefix + pair.query for pair in batch])
                targets = embed([passage_prefix + pair.passage for pair in batch])
                scores = settings.scale * queries @ targets.T
                # A passage repeated in the corpus is no negative for its twin.
                twins = torch.tensor([[a.passage == b.passage for b in batch] for a in batch])
                scores = scores.masked_fill(twins & ~torch.eye(len(batch), dtype=torch.bool), -1e4)
                loss = torch.nn.functional.cross_entropy(scores, torch.arange(len(batch)))
                optimiser.zero_grad()
                loss.backward()
                optimiser.step()
                schedule.step()
                loss_value = float(loss.item())
                bar.update(1)
                bar.set_postfix(loss=f"{loss_value:.3f}")
    model.eval()
    _save(model, out_folder, {
        "base_model": base_folder.name,
        "base_record": read_base_record(base_folder),
        "corpus_fingerprint": corpus_fingerprint(passages),
        "written_pairs": written_fingerprint,
        "passages": len(passages),
        "settings": settings.model_dump(),
        "final_batch_loss": round(loss_value, 4),
        "seconds": round(time.perf_counter() - started, 1),
        "method": "contrastive fine-tuning on pseudo-queries drawn from the corpus passages "
                  "(in-batch negatives); word embeddings frozen; no labelled claims",
    })
    return AdaptationReport("adapted", out_folder, len(passages), time.perf_counter() - started, loss_value)


def corpus_passages(config: Config) -> list[tuple[str, str]]:
    """(passage text, text as indexed) for every passage of the configured corpus."""
    from .chunk import chunk_document, indexed_text
    from .ingest import ingest_readable_corpus

    ingested = ingest_readable_corpus(config.path("corpus_dir"))
    return [(passage.text, indexed_text(passage, document.meta.title, config.chunking.context))
            for document in ingested.documents for passage in chunk_document(document, config.chunking)]


def written_queries(config: Config) -> tuple[tuple[TrainingPair, ...], str | None]:
    """The written claims that a passage decides (entailed or contradicted), each with that passage as the
    index embeds it, when ``adaptation.use_pairs``; and their fingerprint."""
    if not config.adaptation.use_pairs:
        return (), None
    from .chunk import chunk_document, indexed_text
    from .ingest import ingest_readable_corpus
    from .pairs import pairs_fingerprint, read_pairs
    from .posts import normalise_post

    pairs = read_pairs(config.path("training_pairs"))
    pairs = pairs[pairs["label"] != "neutral"]
    ingested = ingest_readable_corpus(config.path("corpus_dir"))
    indexed = {passage.passage_id: indexed_text(passage, document.meta.title, config.chunking.context)
               for document in ingested.documents for passage in chunk_document(document, config.chunking)}
    queries = tuple(TrainingPair(normalise_post(claim), indexed[pid])
                    for pid, claim in zip(pairs["passage_id"], pairs["hypothesis"]) if pid in indexed)
    return queries, pairs_fingerprint(pairs)


def adapt_for_config(config: Config, force: bool = False, progress: bool = False) -> AdaptationReport:
    """Adapt the configured base model to the configured corpus, unless an adapted copy for the same
    base model, corpus and settings is already there."""
    from .embed import folder_prompts, model_dir, prepare_model, rebuild_fix

    folder = model_dir(config)
    if not config.adaptation.enabled:
        return AdaptationReport("disabled", folder)
    base = prepare_model(config)
    passages = corpus_passages(config)
    record = read_record(folder)
    written, written_fingerprint = written_queries(config)
    if (not force and record is not None and (folder / "modules.json").exists()
            and record.get("corpus_fingerprint") == corpus_fingerprint(passages)
            and record.get("written_pairs") == written_fingerprint
            and record.get("settings") == config.adaptation.model_dump()
            and record.get("base_record") == read_base_record(base)):
        return AdaptationReport("up to date", folder, len(passages))
    prompts = folder_prompts(base, config.embedding.symmetric_prefix)
    return adapt_encoder(base, folder, passages, config.adaptation, prompts.query, prompts.passage,
                         config.embedding.threads, progress, written, written_fingerprint,
                         base_fix=rebuild_fix(config, base))


def read_base_record(base_folder: Path) -> dict:
    return read_json(base_folder / "conversion.json") or {"folder": str(base_folder)}


def _save(model, out_folder: Path, record: dict) -> None:
    with atomic_folder(out_folder) as work:
        model.save(str(work))
        weights = work / "model.safetensors"
        record["weights_sha256"] = file_sha256(weights) if weights.exists() else None
        (work / RECORD).write_text(json.dumps(record, indent=2, ensure_ascii=False), encoding="utf-8")

