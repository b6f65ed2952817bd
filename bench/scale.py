"""Scale benchmark: retrieval over 100k and 1M passages, exact against approximate dense search.

    .venv/bin/python bench/scale.py [--sizes 100000 1000000] [--claims 499] [--out out/scale]

The corpora are made from the real corpus (build/index, so `make setup` first): each passage is two or
three of the real passages' sentences, drawn at random (seeded). Embedding a million passages with the
real model would take hours on 2 cores, so the passage vectors are perturbed, not embedded: each
sentence is embedded once with the real model, and a passage's vector is the mean of its sentences'
vectors plus Gaussian noise of norm ``--noise``, renormalised. The claims are the labelled claims,
embedded with the real model; that encoder time is measured on its own and excluded from the rest.

For each size it reports build time, peak memory (the process's peak resident memory during the step)
and size on disk of BM25 (bm25s, loaded memory-mapped) and of the HNSW graph (faiss), and per claim,
one claim at a time as `factcheck check` does: p50 and p95 of the exact dense search, of the HNSW search
at several search depths with its recall@10 against the exact search, of BM25 alone, and of the whole
retrieval (BM25 + dense + fusion + the trained reranker, as `Retriever.search` runs it) with either
dense search. Results go to OUT/scale-N.json and OUT/report.md.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from pipeline.chunk import Passage  # noqa: E402
from pipeline.config import load_config  # noqa: E402
from pipeline.dense import ExactSearch, FaissSearch, top_rows  # noqa: E402
from pipeline.index import Index, load_index_files  # noqa: E402
from pipeline.posts import normalise_post  # noqa: E402
from pipeline.report import read_labelled  # noqa: E402
from pipeline.retrieve import EvidenceReranker, Retriever  # noqa: E402
from pipeline.runtime import configure_runtime  # noqa: E402
from pipeline.text import LexicalAnalyzer, split_sentences  # noqa: E402

PASSAGES_PER_DOCUMENT = 20  # synthetic documents, so that passages have neighbours as in the real index
SEARCH_DEPTHS = (64, 128, 256, 512)


def _status_mib(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def peak_reset() -> float:
    """Start a new peak-memory measurement (Linux: reset VmHWM to the current resident size); the
    resident size now, in MiB."""
    Path("/proc/self/clear_refs").write_text("5")
    return _status_mib("VmRSS")


def peak_above(start_mib: float) -> int:
    """How far the peak resident memory rose above ``start_mib`` since ``peak_reset``, in MiB."""
    return round(_status_mib("VmHWM") - start_mib)


def folder_mib(path: Path) -> float:
    files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
    return sum(p.stat().st_size for p in files) / 2**20


def percentiles(seconds: list[float]) -> dict:
    ms = np.array(seconds) * 1000
    return {"p50_ms": round(float(np.percentile(ms, 50)), 3), "p95_ms": round(float(np.percentile(ms, 95)), 3)}


def per_claim(function, items) -> list[float]:
    times = []
    for item in items:
        started = time.perf_counter()
        function(item)
        times.append(time.perf_counter() - started)
    return times


class KnownVectors:
    """Stands in for the encoder inside the retriever: each claim's vector was computed beforehand, so the
    retrieval timings exclude the encoder."""

    def __init__(self, claims: list[str], vectors: np.ndarray):
        self.rows = {claim: row for row, claim in enumerate(claims)}
        self.vectors = vectors

    def encode_queries(self, texts: list[str], progress: bool = False) -> np.ndarray:
        return self.vectors[[self.rows[text] for text in texts]]


def real_sentences(index_dir: Path) -> list[str]:
    passages = load_index_files(index_dir)["passages"]
    sentences = {p.text[a:b] for p in passages for a, b in split_sentences(p.text)}
    return sorted(sentences)


def synthetic_corpus(size: int, sentence_count: int, seed: int) -> np.ndarray:
    """Row i: the sentences of passage i, three distinct ones, the third dropped (-1) in about half."""
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, sentence_count, size=(size, 3))
    while True:
        clash = (picks[:, 1] == picks[:, 0]) | (picks[:, 2] == picks[:, 0]) | (picks[:, 2] == picks[:, 1])
        if not clash.any():
            break
        picks[clash] = rng.integers(0, sentence_count, size=(int(clash.sum()), 3))
    picks[rng.random(size) < 0.5, 2] = -1
    return picks


def passage_vectors(picks: np.ndarray, sentence_vectors: np.ndarray, noise: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed + 1)
    dimension = sentence_vectors.shape[1]
    out = np.empty((len(picks), dimension), dtype=np.float32)
    for start in range(0, len(picks), 100_000):
        block = picks[start:start + 100_000]
        used = block >= 0
        summed = (sentence_vectors[np.where(used, block, 0)] * used[..., None]).sum(axis=1)
        mean = summed / used.sum(axis=1, keepdims=True)
        mean /= np.linalg.norm(mean, axis=1, keepdims=True)
        mean += rng.normal(0, noise / np.sqrt(dimension), size=mean.shape).astype(np.float32)
        out[start:start + len(block)] = mean / np.linalg.norm(mean, axis=1, keepdims=True)
    return out


def run_size(size: int, sentences: list[str], sentence_vectors: np.ndarray, claims: list[str], claim_vectors,
             reranker, config, args, work: Path) -> dict:
    import bm25s

    result: dict = {"passages": size, "noise": args.noise, "seed": args.seed}
    print(f"\n== {size:,} passages", flush=True)
    started = time.perf_counter()
    picks = synthetic_corpus(size, len(sentences), args.seed)
    texts = [" ".join(sentences[i] for i in row if i >= 0) for row in picks]
    vectors = passage_vectors(picks, sentence_vectors, args.noise, args.seed)
    result["corpus_seconds"] = round(time.perf_counter() - started, 1)
    result["mean_passage_chars"] = round(float(np.mean([len(t) for t in texts])), 1)
    print(f"corpus made in {result['corpus_seconds']} s", flush=True)

    # BM25: the project's analyzer and bm25s, as pipeline/index.py builds it; loaded memory-mapped.
    analyzer = LexicalAnalyzer(LexicalAnalyzer.build_vocabulary(sentences), config.retrieval.split_compounds)
    memory = peak_reset()
    started = time.perf_counter()
    terms = [analyzer.terms(text) or ["<empty>"] for text in texts]
    analysed = time.perf_counter() - started
    bm25 = bm25s.BM25(method="lucene")
    bm25.index(terms, show_progress=False)
    bm25.save(str(work / "bm25"), show_progress=False)
    result["bm25_build"] = {"analysis_seconds": round(analysed, 1),
                            "index_seconds": round(time.perf_counter() - started - analysed, 1),
                            "peak_mib": peak_above(memory), "disk_mib": round(folder_mib(work / "bm25"))}
    frequency = Counter(term for passage_terms in terms for term in set(passage_terms))
    del bm25, terms
    bm25 = bm25s.BM25.load(str(work / "bm25"), mmap=True, show_progress=False, verbosity=0)
    print(f"BM25: {result['bm25_build']}", flush=True)

    # HNSW graph, with the configured settings.
    memory = peak_reset()
    started = time.perf_counter()
    graph = FaissSearch.build(vectors, config.retrieval)
    built = time.perf_counter() - started
    graph.save(work / "dense.faiss")
    result["hnsw_build"] = {"seconds": round(built, 1), "peak_mib": peak_above(memory),
                            "disk_mib": round(folder_mib(work / "dense.faiss")),
                            "neighbours": config.retrieval.hnsw_neighbours,
                            "build_depth": config.retrieval.hnsw_build_depth}
    result["embeddings_mib"] = round(vectors.nbytes / 2**20)
    print(f"HNSW: {result['hnsw_build']}", flush=True)

    exact = ExactSearch(vectors)
    depth = max(config.retrieval.candidates, config.retrieval.rerank_depth, config.retrieval.k)
    rows = range(len(claims))
    truth = [exact.search(claim_vectors[[row]], 10)[0].rows for row in rows]
    result["exact_dense"] = percentiles(per_claim(lambda row: exact.search(claim_vectors[[row]], depth), rows))
    print(f"exact dense: {result['exact_dense']}", flush=True)
    result["hnsw_dense"] = []
    for search_depth in SEARCH_DEPTHS:
        graph.search_depth = search_depth
        found = [graph.search(claim_vectors[[row]], depth)[0].rows for row in rows]
        recall = np.mean([len(set(f[:10]) & set(t)) / 10 for f, t in zip(found, truth)])
        timing = percentiles(per_claim(lambda row: graph.search(claim_vectors[[row]], depth), rows))
        result["hnsw_dense"].append({"search_depth": search_depth, "recall_at_10": round(float(recall), 4), **timing})
        print(f"HNSW efSearch {search_depth}: {result['hnsw_dense'][-1]}", flush=True)
    graph.search_depth = config.retrieval.hnsw_search_depth

    # The whole retrieval, as Retriever.search runs it for one claim, encoder excluded.
    passages = [Passage(f"synthetic-{row // PASSAGES_PER_DOCUMENT}#{row % PASSAGES_PER_DOCUMENT}",
                        f"synthetic-{row // PASSAGES_PER_DOCUMENT}", 0, len(text), text, None, "paragraph")
                for row, text in enumerate(texts)]
    term_idf = {term: float(np.log(1 + size / count)) for term, count in frequency.items()}
    known = KnownVectors(claims, claim_vectors)
    lexical_only = Retriever(Index(passages, vectors, vectors, bm25, analyzer, {}, {}, term_idf), known,
                             config.retrieval)
    result["bm25_query"] = percentiles(per_claim(
        lambda claim: top_rows(lexical_only.lexical_scores(claim), config.retrieval.candidates), claims))
    print(f"BM25 query: {result['bm25_query']}", flush=True)
    result["retrieval"] = {}
    top = {}
    for name, dense in (("exact", exact), ("faiss", graph)):
        retriever = Retriever(Index(passages, vectors, vectors, bm25, analyzer, {}, {}, term_idf, dense), known,
                              config.retrieval, reranker)
        top[name] = [[h.row for h in retriever.search(claim).hits] for claim in claims]
        result["retrieval"][name] = percentiles(per_claim(lambda claim: retriever.search(claim), claims))
        print(f"retrieval with {name} dense search: {result['retrieval'][name]}", flush=True)
    same = [a == b for a, b in zip(top["exact"], top["faiss"])]
    result["retrieval"]["same_top_k_share"] = round(float(np.mean(same)), 4)
    result["load_average"] = [round(load, 1) for load in os.getloadavg()]  # a shared machine: how busy it was
    return result


def markdown(results: list[dict], encoder: dict, config) -> str:
    loads = ", ".join(f"{r['passages']:,}: {r['load_average'][1]}" for r in results)
    lines = [f"Claims: {encoder['claims']} labelled claims, one at a time. Encoder (real model, not part of the "
             f"figures below): p50 {encoder['p50_ms']} ms, p95 {encoder['p95_ms']} ms per claim.",
             f"Passage vectors: mean of the real sentence embeddings + Gaussian noise of norm {results[0]['noise']}, "
             "renormalised (not embedded).",
             f"HNSW: M {config.retrieval.hnsw_neighbours}, efConstruction {config.retrieval.hnsw_build_depth}; "
             f"retrieval uses efSearch {config.retrieval.hnsw_search_depth}. Peak MiB: how far the process's peak "
             "resident memory rose during the step. 2 CPU cores; load average over the last 5 minutes at the end of "
             f"each size ({loads}).", "",
             "| passages | BM25 build s (analysis + index) | BM25 peak MiB | BM25 disk MiB | HNSW build s "
             "| HNSW peak MiB | HNSW disk MiB | embeddings MiB |", "|---|---|---|---|---|---|---|---|"]
    for r in results:
        b, h = r["bm25_build"], r["hnsw_build"]
        lines.append(f"| {r['passages']:,} | {b['analysis_seconds']} + {b['index_seconds']} | {b['peak_mib']} | "
                     f"{b['disk_mib']} | {h['seconds']} | {h['peak_mib']} | {h['disk_mib']} | {r['embeddings_mib']} |")
    lines += ["", "| passages | search | p50 ms | p95 ms | recall@10 vs exact |", "|---|---|---|---|---|"]
    for r in results:
        lines.append(f"| {r['passages']:,} | exact dense (numpy) | {r['exact_dense']['p50_ms']} | "
                     f"{r['exact_dense']['p95_ms']} | 1 |")
        for h in r["hnsw_dense"]:
            lines.append(f"| {r['passages']:,} | HNSW dense, efSearch {h['search_depth']} | {h['p50_ms']} | "
                         f"{h['p95_ms']} | {h['recall_at_10']} |")
        lines.append(f"| {r['passages']:,} | BM25 (bm25s, memory-mapped) | {r['bm25_query']['p50_ms']} | "
                     f"{r['bm25_query']['p95_ms']} | |")
        for name in ("exact", "faiss"):
            lines.append(f"| {r['passages']:,} | whole retrieval, {name} dense | {r['retrieval'][name]['p50_ms']} | "
                         f"{r['retrieval'][name]['p95_ms']} | |")
        lines.append(f"| {r['passages']:,} | same top {config.retrieval.k} passages, faiss vs exact | "
                     f"{r['retrieval']['same_top_k_share']:.1%} of claims | | |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--claims", type=int, default=499, help="labelled claims to query with (at most 499)")
    parser.add_argument("--noise", type=float, default=0.25, help="norm of the noise added to a passage vector")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--out", type=Path, default=ROOT / "out" / "scale")
    parser.add_argument("--config", default=None)
    args = parser.parse_args()
    config = load_config(args.config)
    configure_runtime(config)

    from pipeline.embed import Encoder
    from pipeline.verify import load_models

    encoder = Encoder(config)
    sentences = real_sentences(config.path("index_dir"))
    started = time.perf_counter()
    sentence_vectors = encoder.encode_passages(sentences)
    print(f"{len(sentences)} real sentences embedded in {time.perf_counter() - started:.1f} s", flush=True)
    claims = [normalise_post(c) for c in read_labelled(config.path("labelled_claims"), None)["claim"]][:args.claims]
    encoder.encode_queries(claims[:4])  # warm-up
    encoder_times = per_claim(lambda claim: encoder.encode_queries([claim]), claims)
    encoder_figures = {"claims": len(claims), **percentiles(encoder_times)}
    claim_vectors = encoder.encode_queries(claims)
    print(f"encoder per claim: {encoder_figures}", flush=True)
    try:
        _, _, fitted = load_models(config.path("verifier_model"))
        reranker = EvidenceReranker.from_fitted_pipeline(fitted) if fitted is not None else None
    except Exception as exc:  # a bench still runs without a trained model; it says so
        print(f"note: no reranker ({exc}); the whole-retrieval figures leave it out", flush=True)
        reranker = None
    del encoder

    args.out.mkdir(parents=True, exist_ok=True)
    results = []
    for size in args.sizes:
        work = Path(tempfile.mkdtemp(prefix=f"scale-{size}-", dir=args.out))
        try:
            result = run_size(size, sentences, sentence_vectors, claims, claim_vectors, reranker, config, args, work)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        result["encoder"] = encoder_figures
        result["reranker"] = reranker is not None
        (args.out / f"scale-{size}.json").write_text(json.dumps(result, indent=2))
        results.append(result)
    report = markdown(results, encoder_figures, config)
    (args.out / "report.md").write_text(report)
    print("\n" + report)


if __name__ == "__main__":
    main()
