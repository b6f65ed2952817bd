"""External check on data nobody here wrote: the NLI cross-encoder and the verdict classifier on SICK-NL.

    .venv/bin/python bench/sick_nl.py [--path ../shared/data/sick-nl/SICK_NL.txt] [--split TEST]

SICK-NL (Wijnholds & Moortgat, EACL 2021; MIT) is read from ../shared and never
copied into the project. Sentence A plays the passage, sentence B the claim;
ENTAILMENT -> supported, CONTRADICTION -> contradicted, NEUTRAL -> unsupported.
There is no retrieval here: the single passage is given, so the retrieval
features describe a one-passage result (its dense score; BM25 rank 1). The
cross-encoder was trained on SICK-NL TRAIN and TRIAL (and the written pairs), never TEST.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from pipeline.checker import FactChecker  # noqa: E402
from pipeline.chunk import Passage  # noqa: E402
from pipeline.index import Index  # noqa: E402
from pipeline.nli import marked_sick_premise  # noqa: E402
from pipeline.report import classification_metrics  # noqa: E402
from pipeline.retrieve import Hit, RetrievalResult  # noqa: E402
from pipeline.pair_memory import MEMORY_FEATURES  # noqa: E402
from pipeline.verify import LABELS, assess  # noqa: E402

MAPPING = {"ENTAILMENT": "supported", "CONTRADICTION": "contradicted", "NEUTRAL": "unsupported"}
DEFAULT_PATH = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "sick-nl" / "SICK_NL.txt"


class NoWrittenClaims:
    """Stands in for the pair memory where the passage has no written claims."""

    def features(self, claim: str, claim_vector, passage_row: int) -> np.ndarray:
        return np.zeros(len(MEMORY_FEATURES), dtype=np.float32)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--path", type=Path, default=DEFAULT_PATH)
    parser.add_argument("--split", default="TEST", choices=["TRAIN", "TRIAL", "TEST"])
    parser.add_argument("--limit", type=int, default=0, help="only the first N pairs (0: all)")
    parser.add_argument("--config", default=None, help="YAML config (default: configs/default.yaml)")
    args = parser.parse_args()
    if not args.path.exists():
        sys.exit(f"error: SICK-NL not found at {args.path}")
    pairs = pd.read_csv(args.path, sep="\t", dtype=str, keep_default_na=False, quoting=3)
    pairs = pairs[pairs["SemEval_set"] == args.split]
    if args.limit:
        pairs = pairs.head(args.limit)
    checker = FactChecker.from_config(args.config)
    started = time.perf_counter()
    claims, passages = list(pairs["sentence_B"]), list(pairs["sentence_A"])
    claim_vectors = checker.encoder.encode_queries(claims)
    passage_vectors = checker.encoder.encode_passages(passages)
    # Sentence A stands in for the retrieved passage: an index of the A sentences, each its claim's only hit.
    items = [Passage(f"sick#{number}", "sick-nl", 0, len(passage), passage, None, "paragraph")
             for number, passage in enumerate(passages)]
    index = Index(items, passage_vectors, passage_vectors, None, checker.index.analyzer, {}, {})
    settings = checker.config.nli
    nli = (checker.nli.predict([(marked_sick_premise(p, settings), c) for p, c in zip(passages, claims)])
           if checker.nli is not None else None)
    # A SICK sentence has no written claims: the pair memory's features are zeros, as for an unpaired passage.
    memory = NoWrittenClaims() if checker.pair_memory is not None else None
    features = []
    for number, (claim, u, v) in enumerate(zip(claims, claim_vectors, passage_vectors)):
        hit = Hit(items[number], 1.0, float(u @ v), 0.0, 1, 1, number)
        features.append(assess(RetrievalResult(claim, u, [hit]), index,
                               checker.feature_config["embedding_pair_features"],
                               nli[number:number + 1] if nli is not None else None, use_nli=nli is not None,
                               memory=memory).features)
    predicted = checker.classifier.predict(np.vstack(features))
    gold = [MAPPING[label] for label in pairs["entailment_label"]]
    if nli is not None:
        cross = classification_metrics(gold, [LABELS[i] for i in nli.argmax(axis=1)])
    metrics = classification_metrics(gold, predicted)
    majority = pd.Series(gold).value_counts().idxmax()
    baseline = classification_metrics(gold, [majority] * len(gold))
    print(f"SICK-NL {args.split}: {len(gold)} pairs, {time.perf_counter() - started:.1f} s")
    print("| system | accuracy | macro-F1 |\n|---|---|---|")
    print(f"| majority ({majority}) | {baseline['accuracy']:.3f} | {baseline['macro_f1']:.3f} |")
    if nli is not None:
        from pipeline.nli import nli_dir, read_record

        trained_on = " and ".join({"sick_nl": "SICK-NL TRAIN+TRIAL", "pairs": "the written pairs"}[key]
                                  for key in read_record(nli_dir(checker.config))["data"])
        print(f"| NLI cross-encoder alone (trained on {trained_on}) | "
              f"{cross['accuracy']:.3f} | {cross['macro_f1']:.3f} |")
    reads = ", with the cross-encoder's probabilities" if nli is not None else ""
    print(f"| verdict classifier (trained on our claims and written pairs{reads}) | "
          f"{metrics['accuracy']:.3f} | {metrics['macro_f1']:.3f} |")
    for label in LABELS:
        c = metrics["per_class"][label]
        print(f"  {label:13s} P {c['precision']:.3f} R {c['recall']:.3f} F1 {c['f1']:.3f} n {c['support']}")
    print("confusion (rows gold, columns predicted):", metrics["confusion_matrix"]["matrix"])


if __name__ == "__main__":
    main()
