"""A document added without written claims: how the claims about it fare, with and without the fallback verdict
model (``verdict.memory_fallback``).

    .venv/bin/python bench/new_document.py [--sets corpus/labelled/claims.csv:dev,test ../shared/data/external-dev/claims.csv]

Every passage of the shipped corpus has claims written about it in other people's words (``corpus/pairs``); a
document a user adds has none until someone writes them. Two scenarios, each measured on held-out claims with the
shipped models, side by side in one run:

- **one document without pairs**: each document in turn loses its written claims (in memory: the retriever's
  third ranking and the pair memory no longer see them), and the supported and contradicted claims whose gold
  passage lies in it are checked;
- **no pairs at all**: every written claim is taken away and every claim is checked (unsupported ones too, which
  the first scenario cannot place in a document).

Each is checked three ways: with every pair (as shipped), without the pairs by the verdict model alone, and without
the pairs with the fallback judging the claims whose best passage has no written claims.

What this cannot show: the cross-encoder and the verdict model were trained with every document's pairs and the
train split's claims, so a document nobody has written anything about may fare worse still.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from pipeline.checker import FactChecker  # noqa: E402
from pipeline.evidence import contains_quote, recall_at  # noqa: E402
from pipeline.pair_memory import PairMemory  # noqa: E402
from pipeline.report import classification_metrics, evaluate, read_labelled  # noqa: E402
from pipeline.written_claims import WrittenClaims  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SETS = [f"{ROOT / 'corpus/labelled/claims.csv'}:dev,test",
                str(ROOT.parent / "shared/data/external-dev/claims.csv")]


def without_documents(written: WrittenClaims, passage_documents: np.ndarray, documents: set[str]) -> WrittenClaims:
    return written.subset(~np.isin(passage_documents[written.rows], sorted(documents)))


class Scenario:
    """Lets ``checker`` see only some written claims, and judge with or without the fallback, then restores it."""

    def __init__(self, checker: FactChecker, written: WrittenClaims | None, fallback: bool):
        self.checker, self.written, self.fallback = checker, written, fallback

    def __enter__(self):
        checker = self.checker
        self.saved = checker.index.written_claims, checker.pair_memory, checker.classifier.fallback_
        if self.written is not None:
            checker.index.written_claims = self.written
            checker.pair_memory = PairMemory(self.written, checker.pair_memory.identity)
        if not self.fallback:
            checker.classifier.fallback_ = None
        return checker

    def __exit__(self, *exc):
        checker = self.checker
        checker.index.written_claims, checker.pair_memory, checker.classifier.fallback_ = self.saved


def gold_documents(frame: pd.DataFrame, passages) -> list[str]:
    """The document holding each claim's gold quote ("" without one)."""
    found = []
    for quote in frame["evidence"]:
        found.append(next((p.doc_id for p in passages if quote and contains_quote(p.text, quote)), ""))
    return found


def summary(rows: pd.DataFrame, decided_only: bool) -> str:
    """One table row's figures from ``report.evaluate``'s rows; macro-F1 only where unsupported claims are in."""
    metrics = classification_metrics(list(rows["label"]), list(rows["predicted"]))
    ranks = [rank for rank in rows["evidence_rank"] if rank >= 0]
    macro_f1 = "–" if decided_only else f"{metrics['macro_f1']:.3f}"
    return (f"{len(rows)} | {metrics['accuracy']:.3f} | {macro_f1} | {recall_at(ranks, 3):.3f} | "
            f"{(rows['predicted'] == 'unsupported').mean():.0%} | {rows['needs_review'].mean():.0%}")


def read_set(spec: str) -> tuple[str, pd.DataFrame]:
    path, _, splits = spec.partition(":")
    frame = read_labelled(Path(path), splits.split(",") if splits else None)
    return f"{Path(path).parent.name}/{Path(path).name}" + (f" ({splits})" if splits else ""), frame


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sets", nargs="+", default=DEFAULT_SETS, help="labelled CSVs, each optionally :split,split")
    parser.add_argument("--config", default=None, help="YAML config (default: configs/default.yaml)")
    args = parser.parse_args()
    checker = FactChecker.from_config(args.config)
    written = checker.index.written_claims
    if written is None or checker.pair_memory is None or checker.classifier.fallback_ is None:
        sys.exit("error: this bench needs written claims in the index, verdict.pair_memory and "
                 "verdict.memory_fallback (then `factcheck train`)")
    passages = checker.index.passages
    passage_documents = np.asarray([p.doc_id for p in passages])
    documents = sorted(set(passage_documents))
    ways = (("every pair (shipped)", False, True), ("no pairs, verdict model alone", True, False),
            ("no pairs, with the fallback", True, True))
    print("| set | scenario | way | claims | accuracy | macro-F1 | evidence recall@3 | answered unsupported | flagged |")
    print("|---|---|---|---|---|---|---|---|---|")
    for spec in args.sets:
        name, frame = read_set(spec)
        frame = frame.assign(document=gold_documents(frame, passages))
        decided = frame[(frame["label"] != "unsupported") & (frame["document"] != "")]
        for way, unpaired, fallback in ways:
            # One document at a time loses its pairs; its decided claims are pooled over the documents.
            parts = []
            for document in documents:
                own = decided[decided["document"] == document]
                left = without_documents(written, passage_documents, {document}) if unpaired else None
                if len(own):
                    with Scenario(checker, left, fallback):
                        parts.append(evaluate(checker, own).rows)
            print(f"| {name} | one document without pairs | {way} | {summary(pd.concat(parts), True)} |", flush=True)
        for way, unpaired, fallback in ways:
            with Scenario(checker, without_documents(written, passage_documents, set(documents)) if unpaired
                          else None, fallback):
                rows = evaluate(checker, frame).rows
            print(f"| {name} | no pairs at all | {way} | {summary(rows, False)} |", flush=True)


if __name__ == "__main__":
    main()
