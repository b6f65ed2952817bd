"""A document added without written claims: how the claims about it fare, and what the two defences for it give:
its passages restated as their own claims (``written_claims.restated``) and the fallback verdict model
(``verdict.memory_fallback``).

    .venv/bin/python bench/new_document.py [--sets corpus/labelled/claims.csv:dev,test ../shared/data/external-dev/claims.csv]

Every passage of the shipped corpus has claims written about it in other people's words (``corpus/pairs``); a
document a user adds has none until someone writes them. Two scenarios, each measured on held-out claims with the
shipped models, side by side in one run (``FactChecker.as_if_unwritten``, in memory):

- **one document without pairs**: each document in turn loses its written claims, and the supported and
  contradicted claims whose gold passage lies in it are checked (macro-F1 is left out: no unsupported claim can be
  placed in a document);
- **no pairs at all**: every written claim is gone (as with no pair files: no third ranking, nothing restated) and
  every claim is checked.

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
from pipeline.evidence import deciding_document, recall_at  # noqa: E402
from pipeline.report import classification_metrics, evaluate, read_labelled  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SETS = [f"{ROOT / 'corpus/labelled/claims.csv'}:dev,test",
                str(ROOT.parent / "shared/data/external-dev/claims.csv")]


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
    if checker.index.written_claims is None or checker.pair_memory is None or checker.classifier.fallback_ is None:
        sys.exit("error: this bench needs written claims in the index, verdict.pair_memory and "
                 "verdict.memory_fallback (then `factcheck train`)")
    passages = checker.index.passages
    documents = sorted({p.doc_id for p in passages})
    ways = (("every pair (as shipped)", False, False, True),
            ("no pairs, as before: verdict model alone", True, False, False),
            ("no pairs, the fallback", True, False, True),
            ("no pairs, passages restated + the fallback (default)", True, True, True))
    print("| set | scenario | way | claims | accuracy | macro-F1 | evidence recall@3 | answered unsupported | flagged |")
    print("|---|---|---|---|---|---|---|---|---|")
    for spec in args.sets:
        name, frame = read_set(spec)
        frame = frame.assign(document=[deciding_document(passages, quote) for quote in frame["evidence"]])
        decided = frame[(frame["label"] != "unsupported") & (frame["document"] != "")]
        for way, unpaired, restate, fallback in ways:
            # One document at a time loses its pairs; its decided claims are pooled over the documents.
            parts = []
            for document in documents:
                own = decided[decided["document"] == document]
                if len(own):
                    with checker.as_if_unwritten({document} if unpaired else set(), restate, fallback):
                        parts.append(evaluate(checker, own).rows)
            print(f"| {name} | one document without pairs | {way} | {summary(pd.concat(parts), True)} |", flush=True)
        for way, unpaired, restate, fallback in ways[:3]:  # with no pairs at all nothing is restated
            with checker.as_if_unwritten(set(documents) if unpaired else set(), restate, fallback):
                rows = evaluate(checker, frame).rows
            print(f"| {name} | no pairs at all | {way} | {summary(rows, False)} |", flush=True)


if __name__ == "__main__":
    main()
