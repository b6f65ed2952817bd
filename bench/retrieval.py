"""Evidence retrieval benchmark: BM25-only, dense-only, hybrid and hybrid + trained rerank, in one run.

    .venv/bin/python bench/retrieval.py [--split test] [--k 5] [--per-kind] [--misses]

A retrieved passage is a hit when it contains the claim's gold evidence quote, or one
of its alternative quotes where the corpus states the fact twice (compared after folding
case, whitespace, hyphens and punctuation). A second table counts the first quote only,
the stricter measure used before alternatives were labelled. Only supported and
contradicted claims have evidence. Fusion settings come from
configs/default.yaml and were chosen on the train and dev splits only; the reranker is
fit by `factcheck train` on verdict.training_splits (the train split); bench/cv.py
cross-validates it on train and dev.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import pandas as pd  # noqa: E402

from pipeline.checker import FactChecker  # noqa: E402
from pipeline.config import load_config  # noqa: E402
from pipeline.runtime import configure_runtime  # noqa: E402
from pipeline.evidence import first_hit_rank, mean_reciprocal_rank, quotes, recall_at  # noqa: E402
from pipeline.posts import normalise_post  # noqa: E402


def run(split: str, k: int, config_path: str | None, show_misses: bool, per_kind: bool = False) -> None:
    config = load_config(config_path)
    configure_runtime(config)
    checker = FactChecker(config)
    checker.load_classifier()  # brings the trained reranker (fit on verdict.training_splits)
    claims = pd.read_csv(config.path("labelled_claims"), keep_default_na=False)
    chosen = {"all": claims["split"] != "", "trainval": claims["split"] != "test"}.get(split, claims["split"] == split)
    claims = claims[(claims["evidence"] != "") & chosen]
    texts = [normalise_post(text) for text in claims["claim"]]
    print(f"{len(texts)} claims with evidence (split: {split}); corpus: {len(checker.index.passages)} passages\n")
    checker.encoder.encode_queries(texts[:4])  # warm-up, so the first method is not charged for it
    rows, first_quote_rows, misses, ranks_by_method = [], [], {}, {}
    for method, name in METHODS.items():
        started = time.perf_counter()
        results = method_results(checker, texts, k, method)
        per_query_ms = 1000 * (time.perf_counter() - started) / max(1, len(texts))
        ranks = evidence_ranks(results, claims["evidence"])
        first_ranks = evidence_ranks(results, [quotes(evidence)[0] for evidence in claims["evidence"]])
        misses[method] = [(t, q, r.hits[0].passage.text) for t, q, r, rank in
                          zip(claims["claim"], claims["evidence"], results, ranks) if rank != 1]
        rows.append({"method": name, **scores(ranks), "ms/query": per_query_ms})
        ranks_by_method[method] = ranks
        first_quote_rows.append({"method": name, **scores(first_ranks)})
    print(pd.DataFrame(rows).to_markdown(index=False, floatfmt=".3f"))
    print("\nFirst quote only (alternative quotes not counted):\n")
    print(pd.DataFrame(first_quote_rows).to_markdown(index=False, floatfmt=".3f"))
    if per_kind:
        print("\nRecall@3 per kind of claim:\n")
        print(per_kind_markdown(recall3_by_kind(ranks_by_method, list(claims["kind"]))))
    if show_misses:
        print("\nHybrid + rerank misses at rank 1:")
        for claim, quote, top in misses["rerank"]:
            print(f"- {claim}\n    gold: {quote[:100]}\n    top:  {top[:100]}")


METHODS = {"lexical": "BM25 only", "dense": "dense only", "written": "written claims only", "rrf": "hybrid (RRF)",
           "rerank": "hybrid + trained rerank"}


def method_results(checker: FactChecker, texts: list[str], k: int, method: str):
    """Each text ranked by one of ``METHODS``: a single retriever, their fusion, or the fusion reranked."""
    fusion = "rrf" if method == "rerank" else method
    return [checker.retriever.search(text, k, fusion=fusion, rerank=method == "rerank") for text in texts]


def evidence_ranks(results, evidence) -> list[int]:
    return [first_hit_rank([h.passage.text for h in r.hits], quote) for r, quote in zip(results, evidence)]


def recall3_by_kind(ranks_by_method: dict[str, list[int]], kinds: list[str]) -> pd.DataFrame:
    """Per kind of claim: how many claims, and each method's recall@3 (columns named as in ``METHODS``)."""
    by_kind = pd.DataFrame({METHODS[method]: [0 < rank <= 3 for rank in ranks]
                            for method, ranks in ranks_by_method.items()}, index=kinds).groupby(level=0)
    table = by_kind.mean()
    table.insert(0, "claims", by_kind.size())
    return table


def per_kind_markdown(table: pd.DataFrame) -> str:
    return table.to_markdown(floatfmt=["", "g"] + [".3f"] * (len(table.columns) - 1))


def scores(ranks: list[int]) -> dict[str, float]:
    return {"recall@1": recall_at(ranks, 1), "recall@3": recall_at(ranks, 3), "recall@5": recall_at(ranks, 5),
            "MRR": mean_reciprocal_rank(ranks)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--split", default="test", choices=["train", "dev", "test", "trainval", "all"])
    parser.add_argument("--k", type=int, default=5)
    parser.add_argument("--config", default=None)
    parser.add_argument("--misses", action="store_true", help="list the claims whose evidence is not ranked first")
    parser.add_argument("--per-kind", action="store_true", help="also print recall@3 per kind of claim")
    args = parser.parse_args()
    run(args.split, args.k, args.config, args.misses, args.per_kind)


if __name__ == "__main__":
    main()
