"""Embed/index stage: passages, their embeddings and a BM25 index, on disk, with a manifest.

Layout of the index directory::

    manifest.json      corpus file hashes, model identity, chunking and lexical settings, versions
    documents.json     document metadata and clean text (to show passages in context)
    passages.jsonl     one passage per line, in embedding-row order
    embeddings.npy     float32, unit-length rows: each passage with its title/section context
    sentence_embeddings.npy   the same for the passage text alone (a second view for the reranker)
    lexicon.json       compound-part vocabulary of the lexical analyzer
    bm25/              bm25s index over the analyzer's terms (memory-mapped when loaded)
    dense.faiss        the approximate dense search (HNSW graph), when retrieval.dense_backend picks faiss

A build writes a sibling temporary directory and swaps it in only when complete,
so an interrupted build never leaves a half index that loads as valid.
"""
from __future__ import annotations

import json
import math
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from importlib import metadata
from pathlib import Path

import numpy as np

from .chunk import Passage, chunk_document, indexed_text
from .config import Config
from .dense import DenseSearch, dense_fingerprint, load_dense, resolved_backend, write_dense
from .errors import FactCheckError
from .ingest import DocumentMeta, IngestProblem, ingest_readable_corpus
from .storage import atomic_folder, file_sha256, read_json
from .text import LexicalAnalyzer
from .written_claims import WrittenClaims, build_written_claims, load_written_claims, pair_files_fingerprint, \
    save_written_claims

FORMAT_VERSION = 2
_VERSIONED_PACKAGES = ("sentence-transformers", "transformers", "torch", "bm25s", "numpy", "spacy",
                       "snowballstemmer", "simplemma", "pypdf")


@dataclass
class BuildReport:
    status: str  # "up to date" | "built"
    passages: int
    documents: int
    reused_documents: list[str] = field(default_factory=list)
    embedded_documents: list[str] = field(default_factory=list)
    problems: list[IngestProblem] = field(default_factory=list)
    seconds: float = 0.0
    written_claims: int = 0  # written claims embedded (paths.training_pairs) whose passage is in the index
    unwritten_documents: list[str] = field(default_factory=list)  # documents no written claim is about (restated)


@dataclass
class Index:
    """A loaded index: everything retrieval and display need."""

    passages: list[Passage]
    embeddings: np.ndarray
    sentence_embeddings: np.ndarray
    bm25: object
    analyzer: LexicalAnalyzer
    documents: dict[str, dict]
    manifest: dict
    term_idf: dict[str, float] = field(default_factory=dict)  # over the passages, for weighted coverage
    dense_search: DenseSearch | None = None  # None: exact search over ``embeddings``
    written_claims: WrittenClaims | None = None  # the written pairs' claims, as ways into their passages

    def __post_init__(self):
        self._unseen_idf = _rarity(len(self.passages), 1)
        # A claim's total rarity is the denominator for each of its candidates (and their neighbours).
        self._total_rarity = lru_cache(maxsize=8192)(lambda terms: sum(self.idf(term) for term in terms))

    def idf(self, term: str) -> float:
        """How rare ``term`` is among the passages; a term in none counts as if in one."""
        return self.term_idf.get(term, self._unseen_idf)

    def weighted_coverage(self, claim_terms: frozenset[str], passage_terms: frozenset[str]) -> float:
        """Share of the claim's terms found in the passage, each weighted by its rarity."""
        return sum(self.idf(term) for term in claim_terms & passage_terms) / (self._total_rarity(claim_terms) or 1.0)

    def rarest_missing(self, claim_terms: frozenset[str], passage_terms: frozenset[str]) -> float:
        """Rarity of the rarest claim term the passage lacks, on a 0-1 scale (1: a term no passage has):
        a claim about coffee or nitrous oxide keeps its subject out of every ketamine passage."""
        missing = claim_terms - passage_terms
        return max((self.idf(term) for term in missing), default=0.0) / self._unseen_idf

    def neighbours(self, row: int) -> tuple[int | None, int | None]:
        """Rows of the passages just before and after ``row`` in its document (None at either end);
        rows follow document order."""
        before = row - 1 if row > 0 and self.passages[row - 1].doc_id == self.passages[row].doc_id else None
        after = (row + 1 if row + 1 < len(self.passages) and self.passages[row + 1].doc_id == self.passages[row].doc_id
                 else None)
        return before, after

    def context(self, passage: Passage, chars: int = 200) -> str:
        text = self.documents[passage.doc_id]["clean_text"]
        return text[max(0, passage.start - chars):passage.end + chars]


def _rarity(passages: int, containing: int) -> float:
    """Inverse document frequency that never goes negative."""
    return math.log(1 + passages / containing)


def _package_versions() -> dict[str, str]:
    versions = {}
    for name in _VERSIONED_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "absent"
    return versions


def _corpus_hashes(corpus_dir: Path) -> dict[str, str]:
    hashes = {}
    for path in sorted(corpus_dir.iterdir()):
        if path.is_file() and path.suffix.lower() in (".txt", ".md", ".pdf", ".yaml"):
            try:
                hashes[path.name] = file_sha256(path)
            except OSError as exc:
                hashes[path.name] = f"unreadable: {exc.strerror}"
    return hashes


def expected_manifest(config: Config, model_identity: str, passages: int = 0) -> dict:
    """What the manifest of an up-to-date index of ``passages`` passages must say (apart from build facts);
    the count decides the dense search where ``retrieval.dense_backend`` is auto."""
    return {
        "format_version": FORMAT_VERSION,
        "corpus_files": _corpus_hashes(config.path("corpus_dir")),
        "model": model_identity,
        "chunking": config.chunking.model_dump(),
        "lexical": {"split_compounds": config.retrieval.split_compounds, "analyzer": LexicalAnalyzer.fingerprint()},
        "packages": _package_versions(),
        "dense": dense_fingerprint(config.retrieval, passages),
        "written_claims": pair_files_fingerprint(config.path("training_pairs")),
    }


_COMPARED_KEYS = ("format_version", "corpus_files", "model", "chunking", "lexical", "packages", "dense",
                  "written_claims")
# What a manifest written before a key existed meant by its absence.
_ABSENT_MEANS = {"dense": {"backend": "exact"}}


def manifest_difference(found: dict, expected: dict) -> str | None:
    """A short human reason why ``found`` does not match, or None when it does."""
    for key in _COMPARED_KEYS:
        if found.get(key, _ABSENT_MEANS.get(key)) == expected[key]:
            continue
        if key == "corpus_files":
            old, new = found.get(key, {}), expected[key]
            changed = sorted(set(old) ^ set(new) | {n for n in set(old) & set(new) if old[n] != new[n]})
            return "corpus changed: " + ", ".join(changed[:5])
        if key == "dense":
            built, wanted = found.get(key, _ABSENT_MEANS[key]), expected[key]
            return ("dense search changed: built " + built["backend"] + ", configured " + wanted["backend"]
                    if built.get("backend") != wanted["backend"] else "dense search changed: other graph settings")
        if key == "written_claims":
            return "written claims (paths.training_pairs) changed"
        return f"{key} changed"
    return None


def read_manifest(index_dir: Path) -> dict | None:
    return read_json(index_dir / "manifest.json")


def build_index(config: Config, encoder, force: bool = False, progress: bool = False) -> BuildReport:
    """Build (or confirm) the index for the configured corpus and model."""
    started = time.perf_counter()
    index_dir = config.path("index_dir")
    corpus_dir = config.path("corpus_dir")
    if not corpus_dir.is_dir():
        raise FactCheckError(f"corpus directory {corpus_dir} does not exist")
    current = read_manifest(index_dir)
    expected = expected_manifest(config, encoder.identity, current.get("passages", 0) if current else 0)
    if current and not force and manifest_difference(current, expected) is None:
        return BuildReport("up to date", current["passages"], len(current["documents"]),
                           problems=[IngestProblem(**p) for p in current.get("problems", [])],
                           seconds=time.perf_counter() - started)

    ingested = ingest_readable_corpus(corpus_dir)
    reusable = _reusable_embeddings(index_dir, current, expected) if current and not force else {}

    passages: list[Passage] = []
    vectors: list[np.ndarray] = []
    sentence_vectors: list[np.ndarray] = []
    report = BuildReport("built", 0, len(ingested.documents), problems=ingested.problems)
    for document in ingested.documents:
        doc_passages = chunk_document(document, config.chunking)
        cached = reusable.get(document.meta.id)
        if cached is not None and cached[0] == document.source_sha256 and len(cached[1]) == len(doc_passages):
            vectors.append(cached[1])
            sentence_vectors.append(cached[2])
            report.reused_documents.append(document.meta.id)
        else:
            texts = [indexed_text(p, document.meta.title, config.chunking.context) for p in doc_passages]
            both = encoder.encode_passages(texts + [p.text for p in doc_passages], progress=progress)
            vectors.append(both[:len(texts)])
            sentence_vectors.append(both[len(texts):])
            report.embedded_documents.append(document.meta.id)
        passages.extend(doc_passages)
    embeddings = np.vstack(vectors).astype(np.float32)
    sentence_embeddings = np.vstack(sentence_vectors).astype(np.float32)

    analyzer = LexicalAnalyzer(LexicalAnalyzer.build_vocabulary([p.text for p in passages]),
                               config.retrieval.split_compounds)
    manifest = {
        **expected,
        "dense": dense_fingerprint(config.retrieval, len(passages)),
        "passages": len(passages),
        "documents": {d.meta.id: d.source_sha256 for d in ingested.documents},
        "problems": [asdict(p) for p in ingested.problems],
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "embedding_dimension": int(embeddings.shape[1]),
    }
    titles = {d.meta.id: d.meta.title for d in ingested.documents}
    lexical_context = config.chunking.context if config.chunking.lexical_context else "none"
    lexical_texts = [indexed_text(p, titles[p.doc_id], lexical_context) for p in passages]
    written = build_written_claims(config.path("training_pairs"), passages, encoder, progress=progress)
    _write_atomically(index_dir, passages, embeddings, sentence_embeddings, analyzer, lexical_texts,
                      ingested.documents, manifest, config, written)
    if written is not None:
        report.written_claims = int((~written.restated_mask).sum())
        report.unwritten_documents = sorted({passages[row].doc_id for row in written.rows[written.restated_mask]})
    report.passages = len(passages)
    report.seconds = time.perf_counter() - started
    return report


def _reusable_embeddings(index_dir: Path, current: dict, expected: dict
                         ) -> dict[str, tuple[str, np.ndarray, np.ndarray]]:
    """Per-document embeddings of the old index, when model and chunking are unchanged."""
    if any(current.get(key) != expected[key] for key in ("format_version", "model", "chunking")):
        return {}
    try:
        old = load_index_files(index_dir)
    except (OSError, ValueError, KeyError):
        return {}
    rows: dict[str, list[int]] = {}
    for row, passage in enumerate(old["passages"]):
        rows.setdefault(passage.doc_id, []).append(row)
    return {doc_id: (current["documents"].get(doc_id, ""), old["embeddings"][idx], old["sentence_embeddings"][idx])
            for doc_id, idx in rows.items()}


def _write_atomically(index_dir: Path, passages, embeddings, sentence_embeddings, analyzer, lexical_texts, documents,
                      manifest, config: Config, written_claims: WrittenClaims | None) -> None:
    import bm25s

    with atomic_folder(index_dir) as work:
        with open(work / "passages.jsonl", "w", encoding="utf-8") as handle:
            for passage in passages:
                handle.write(json.dumps(passage.to_dict(), ensure_ascii=False) + "\n")
        np.save(work / "embeddings.npy", embeddings)
        np.save(work / "sentence_embeddings.npy", sentence_embeddings)
        (work / "documents.json").write_text(json.dumps(
            {d.meta.id: {"meta": asdict(d.meta), "clean_text": d.clean_text} for d in documents},
            ensure_ascii=False), encoding="utf-8")
        (work / "lexicon.json").write_text(json.dumps(sorted(analyzer.vocabulary), ensure_ascii=False),
                                           encoding="utf-8")
        bm25 = bm25s.BM25(method="lucene")  # Lucene's IDF never goes negative ("ketamine" is everywhere)
        bm25.index([analyzer.terms(text) or ["<empty>"] for text in lexical_texts], show_progress=False)
        bm25.save(str(work / "bm25"), show_progress=False)
        write_dense(work, embeddings, config.retrieval)
        if written_claims is not None:
            save_written_claims(work, written_claims)
        # The manifest goes last: a directory without one is never taken for an index.
        (work / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False), encoding="utf-8")


def load_index_files(index_dir: Path, mmap: bool = False) -> dict:
    """Passages and embeddings; with ``mmap`` the embeddings stay on disk and only the rows read are loaded
    (the approximate search holds its own copy, so retrieval reads just the candidates' rows)."""
    with open(index_dir / "passages.jsonl", encoding="utf-8") as handle:
        passages = [Passage.from_dict(json.loads(line)) for line in handle]
    mode = "r" if mmap else None
    embeddings = np.load(index_dir / "embeddings.npy", mmap_mode=mode)
    sentence_embeddings = np.load(index_dir / "sentence_embeddings.npy", mmap_mode=mode)
    if not len(embeddings) == len(sentence_embeddings) == len(passages):
        raise ValueError("embeddings and passages disagree in length")
    return {"passages": passages, "embeddings": embeddings, "sentence_embeddings": sentence_embeddings}


def load_index(config: Config, model_identity: str) -> Index:
    """Load the index, refusing one that does not match the corpus, model or configuration."""
    import bm25s

    index_dir = config.path("index_dir")
    manifest = read_manifest(index_dir)
    if manifest is None:
        raise FactCheckError(f"no index at {index_dir}; build it with `factcheck index`")
    reason = manifest_difference(manifest, expected_manifest(config, model_identity, manifest.get("passages", 0)))
    if reason:
        raise FactCheckError(f"index at {index_dir} is out of date ({reason}); rebuild it with `factcheck index`")
    approximate = resolved_backend(config.retrieval, manifest.get("passages", 0)) == "faiss"
    try:
        files = load_index_files(index_dir, mmap=approximate)
        documents = json.loads((index_dir / "documents.json").read_text(encoding="utf-8"))
        vocabulary = frozenset(json.loads((index_dir / "lexicon.json").read_text(encoding="utf-8")))
        # Memory-mapped: a large corpus's BM25 matrix is paged in as queries touch it, not read whole.
        bm25 = bm25s.BM25.load(str(index_dir / "bm25"), mmap=True, show_progress=False, verbosity=0)
        written_claims = load_written_claims(index_dir)
    except (OSError, ValueError, KeyError) as exc:
        raise FactCheckError(f"index at {index_dir} is damaged ({exc}); rebuild it with `factcheck index --force`") from None
    dense = load_dense(index_dir, manifest.get("dense", _ABSENT_MEANS["dense"]), files["embeddings"], config.retrieval)
    analyzer = LexicalAnalyzer(vocabulary, config.retrieval.split_compounds)
    document_frequency = Counter(term for passage in files["passages"] for term in analyzer.term_set(passage.text))
    term_idf = {term: _rarity(len(files["passages"]), count) for term, count in document_frequency.items()}
    return Index(files["passages"], files["embeddings"], files["sentence_embeddings"], bm25, analyzer, documents,
                 manifest, term_idf, dense, written_claims)


def document_meta(index: Index, doc_id: str) -> DocumentMeta:
    return DocumentMeta(**index.documents[doc_id]["meta"])
