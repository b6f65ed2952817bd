"""Grouped cross-validation of everything `factcheck train` fits, on the train and dev splits.

    .venv/bin/python bench/cv.py [--folds 5] [--repeats 3] [--config PATH]

Design choices are made here, never on the test split. Each fold fits the evidence
reranker and the verdict model (train.fit_models, nothing saved) on the other folds'
evidence groups and runs the full pipeline (report.evaluate) on its own, so
paraphrases of one source sentence never straddle a fold. The encoder and index are
shared by all folds: adapting the encoder sees passages only, never a claim. Each
repeat shuffles the groups into new folds; the tables give the mean over repeats of
the metrics pooled over all held-out claims, and the spread (max - min) across
repeats. The claim-only baseline is fit per fold like the model.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from bench.retrieval import (METHODS, evidence_ranks, method_results, per_kind_markdown,  # noqa: E402
                             recall3_by_kind, scores)
from pipeline.checker import FactChecker  # noqa: E402
from pipeline.runtime import configure_runtime  # noqa: E402
from pipeline.train import fit_models, prepare_pair_memory, with_written_pairs  # noqa: E402
from pipeline.config import load_config  # noqa: E402
from pipeline.posts import normalise_post  # noqa: E402
from pipeline.report import (claim_only_predictions, ece_if_calibrated, evaluate,  # noqa: E402
                             expected_calibration_error, majority_label, read_labelled, verdict_summary)


def folds(groups: pd.Series, count: int, seed: int) -> list[np.ndarray]:
    """Row indices of each fold; whole evidence groups, shuffled by ``seed``."""
    names = np.array(sorted(set(groups)))
    np.random.default_rng(seed).shuffle(names)
    fold_of = {name: number % count for number, name in enumerate(names)}
    assignment = groups.map(fold_of).to_numpy()
    return [np.flatnonzero(assignment == number) for number in range(count)]


def summary(rows: pd.DataFrame, column: str = "predicted") -> dict[str, float]:
    return verdict_summary(rows["label"], rows[column])


def run_repeat(checker: FactChecker, frame: pd.DataFrame, fold_count: int, seed: int, k: int) -> dict:
    """One partition into folds: pooled held-out verdicts, baselines and evidence ranks per method."""
    held_rows, ranks, kinds = [], {method: [] for method in METHODS}, []
    for held in folds(frame["group"], fold_count, seed):
        fit_on = frame.drop(index=held)
        training = with_written_pairs(checker.config, fit_on)  # pairs are training data in every fold
        models = fit_models(checker, list(training["claim"]), list(training["label"]), list(training["evidence"]),
                            list(training["group"]))
        checker.use_models(models.classifier, models.reranker)
        held_frame = frame.loc[held]
        rows = evaluate(checker, held_frame).rows
        rows["majority"] = majority_label(fit_on)
        rows["claim_only"] = claim_only_predictions(fit_on, held_frame)
        held_rows.append(rows)
        with_evidence = held_frame[held_frame["evidence"] != ""]
        texts = [normalise_post(text) for text in with_evidence["claim"]]
        kinds += list(with_evidence["kind"])
        for method in METHODS:
            ranks[method] += evidence_ranks(method_results(checker, texts, k, method), with_evidence["evidence"])
    rows = pd.concat(held_rows)
    correct = (rows["label"] == rows["predicted"]).to_numpy()
    confidence = rows["confidence"].to_numpy(float)
    model = summary(rows) | {"ece": expected_calibration_error(confidence, correct),
                             "ece_if_calibrated": ece_if_calibrated(confidence)["mean"]}
    return {"model": model, "rows": rows, "ranks": {method: scores(r) for method, r in ranks.items()},
            "recall3_by_kind": recall3_by_kind(ranks, kinds)}


def mean_and_spread(values: list[dict]) -> dict[str, str]:
    table = pd.DataFrame(values)
    return {column: f"{table[column].mean():.3f} ± {(table[column].max() - table[column].min()) / 2:.3f}"
            for column in table.columns}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--k", type=int, default=5)
    parser.add_argument("--config", default=None)
    parser.add_argument("--splits", default="train,dev", help="labelled splits to cross-validate over (never test)")
    parser.add_argument("--per-kind", action="store_true",
                        help="also print verdict accuracy (first repeat) and evidence recall@3 (all repeats) per kind")
    args = parser.parse_args()

    started = time.perf_counter()
    config = load_config(args.config)
    configure_runtime(config)
    splits = args.splits.split(",")
    frame = read_labelled(config.path("labelled_claims"), splits)
    checker = FactChecker(config)
    prepare_pair_memory(checker)  # fitted per fold from the written pairs only, which every fold trains on
    repeats = [run_repeat(checker, frame, args.folds, seed, args.k) for seed in range(args.repeats)]
    print(f"{len(frame)} claims ({'+'.join(splits)}), {frame['group'].nunique()} evidence groups, {args.folds} folds, "
          f"{args.repeats} repeats, {time.perf_counter() - started:.0f} s\n")
    verdicts = {"majority class": mean_and_spread([summary(r["rows"], "majority") for r in repeats]),
                "claim-only baseline": mean_and_spread([summary(r["rows"], "claim_only") for r in repeats]),
                "model": mean_and_spread([r["model"] for r in repeats])}
    headings = {"macro_f1": "macro-F1", "contradicted_f1": "contradicted F1", "ece": "ECE",
                "ece_if_calibrated": "ECE of a calibrated model by chance"}
    print(pd.DataFrame(verdicts).T.fillna("–").rename(columns=headings).to_markdown())
    print()
    retrieval = {METHODS[method]: mean_and_spread([r["ranks"][method] for r in repeats]) for method in METHODS}
    print(pd.DataFrame(retrieval).T.to_markdown())
    if args.per_kind:
        rows = repeats[0]["rows"]
        correct = rows["label"] == rows["predicted"]
        print()
        print(correct.groupby(rows["kind"]).agg(["mean", "size"]).to_markdown(floatfmt=".2f"))
        print("\nEvidence recall@3 per kind, mean over repeats:\n")
        print(per_kind_markdown(sum(r["recall3_by_kind"] for r in repeats).div(len(repeats))))


if __name__ == "__main__":
    main()
