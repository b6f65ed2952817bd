"""Report stage: evaluate the pipeline on a labelled CSV and write metrics.json and report.html."""
from __future__ import annotations

import base64
import io
import json
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import FactCheckError
from .evidence import first_hit_rank, mean_reciprocal_rank, recall_at
from .results import STANCE_WORDS
from .storage import write_text_atomically
from .verify import LABELS

REQUIRED_COLUMNS = ("claim", "label")


def read_labelled(path: Path, split: str | list[str] | None = None) -> pd.DataFrame:
    """Read a labelled CSV (claim, label, optional evidence/kind/split) with one-line errors; ``split``
    keeps the rows of one split, or of any of several."""
    from .batch import read_table

    frame = read_table(path)
    missing = [column for column in REQUIRED_COLUMNS if column not in frame.columns]
    if missing:
        raise FactCheckError(f"{path}: missing column(s) {', '.join(missing)} (found: {', '.join(frame.columns)})")
    frame = frame.fillna("")
    frame["label"] = frame["label"].astype(str).str.strip().str.lower()
    unknown = sorted(set(frame["label"]) - set(LABELS))
    if unknown:
        raise FactCheckError(f"{path}: unknown label value(s) {', '.join(repr(u) for u in unknown[:5])} "
                             f"(expected: {', '.join(LABELS)})")
    splits = [split] if isinstance(split, str) else list(split or [])
    named = "+".join(splits)
    if splits:
        if "split" not in frame.columns:
            raise FactCheckError(f"{path}: split {named} asked for but the file has no 'split' column")
        frame = frame[frame["split"].isin(splits)]
    if frame.empty:
        raise FactCheckError(f"{path}: no labelled rows" + (f" in split {named}" if splits else ""))
    for column in ("evidence", "kind"):
        if column not in frame.columns:
            frame[column] = ""
    return frame.reset_index(drop=True)


def calibration_bins(confidence: np.ndarray, correct: np.ndarray, bins: int = 10) -> list[tuple[float, float, int]]:
    """(mean confidence, accuracy, count) of each non-empty equal-width confidence bin; 0 joins the first."""
    edges = np.linspace(0.0, 1.0, bins + 1)
    found = []
    for low, high in zip(edges[:-1], edges[1:]):
        inside = (confidence > low) & (confidence <= high) if low > 0 else (confidence >= low) & (confidence <= high)
        if inside.any():
            found.append((float(confidence[inside].mean()), float(correct[inside].mean()), int(inside.sum())))
    return found


def expected_calibration_error(confidence: np.ndarray, correct: np.ndarray, bins: int = 10) -> float:
    total = max(1, len(confidence))
    return float(sum(count / total * abs(accuracy - mean) for mean, accuracy, count in
                     calibration_bins(confidence, correct, bins)))


def ece_if_calibrated(confidence: np.ndarray, draws: int = 1000, seed: int = 0) -> dict[str, float]:
    """The ECE a perfectly calibrated model would score with these confidences on this many claims
    (each verdict right with probability equal to its confidence): small sets score well above 0
    by chance alone, so a measured ECE is read against this. Mean and 90% range over ``draws``."""
    rng = np.random.default_rng(seed)
    scores = [expected_calibration_error(confidence, rng.random(len(confidence)) < confidence)
              for _ in range(draws)]
    low, high = np.quantile(scores, [0.05, 0.95])
    return {"mean": float(np.mean(scores)), "p05": float(low), "p95": float(high)}


COVERAGES = (0.3, 0.5, 0.8, 1.0)


def accuracy_of_most_confident(confidence: np.ndarray, correct: np.ndarray, share: float) -> float:
    """Accuracy of the ``share`` most confident verdicts (at least one): what a moderator gets who
    trusts only those."""
    keep = max(1, int(round(share * len(confidence))))
    order = np.argsort(-confidence, kind="stable")[:keep]
    return float(np.mean(correct[order])) if len(order) else 0.0


def review_summary(needs_review: np.ndarray, correct: np.ndarray) -> dict[str, float]:
    """How many verdicts are flagged for review, and how often the flagged and unflagged ones are right."""
    flagged, unflagged = correct[needs_review], correct[~needs_review]
    return {"share_flagged": float(needs_review.mean()) if len(needs_review) else 0.0,
            "accuracy_unflagged": float(unflagged.mean()) if len(unflagged) else float("nan"),
            "accuracy_flagged": float(flagged.mean()) if len(flagged) else float("nan")}


def classification_metrics(gold: list[str], predicted: list[str]) -> dict:
    from sklearn.metrics import accuracy_score, confusion_matrix, precision_recall_fscore_support

    precision, recall, f1, support = precision_recall_fscore_support(
        gold, predicted, labels=list(LABELS), zero_division=0)
    return {
        "accuracy": float(accuracy_score(gold, predicted)),
        "macro_f1": float(np.mean(f1)),
        "per_class": {label: {"precision": float(p), "recall": float(r), "f1": float(f), "support": int(s)}
                      for label, p, r, f, s in zip(LABELS, precision, recall, f1, support)},
        "confusion_matrix": {"labels": list(LABELS),
                             "matrix": confusion_matrix(gold, predicted, labels=list(LABELS)).tolist()},
    }


@dataclass
class Evaluation:
    metrics: dict
    rows: pd.DataFrame


def evaluate(checker, frame: pd.DataFrame, baseline_frame: pd.DataFrame | None = None,
             progress=None) -> Evaluation:
    """Run the full pipeline (retrieval included) over ``frame`` and compute every metric."""
    started = time.perf_counter()
    results = checker.check_many(list(frame["claim"].astype(str)), progress=progress)
    elapsed = time.perf_counter() - started
    rows = frame.copy()
    rows["predicted"] = [r.verdict for r in results]
    rows["confidence"] = [r.confidence for r in results]
    rows["explanation"] = [r.explanation for r in results]
    rows["stance"] = [r.stance or "" for r in results]
    rows["top_evidence"] = [r.evidence[0].text if r.evidence else "" for r in results]
    rows["top_source"] = [r.evidence[0].source if r.evidence else "" for r in results]
    rows["needs_review"] = [r.needs_review for r in results]
    rows["conflict"] = [r.conflict is not None for r in results]
    rows["evidence_rank"] = [
        first_hit_rank([e.text for e in r.evidence], quote) if quote else -1
        for r, quote in zip(results, rows["evidence"])]

    gold, predicted = list(rows["label"]), list(rows["predicted"])
    metrics = classification_metrics(gold, predicted)
    correct = (rows["label"] == rows["predicted"]).to_numpy()
    # A verdict's confidence is the probability of the label it gives.
    confidence = rows["confidence"].to_numpy(dtype=float)
    metrics["ece"] = expected_calibration_error(confidence, correct)
    metrics["ece_if_calibrated"] = ece_if_calibrated(confidence)
    metrics["accuracy_of_most_confident"] = {f"{share:.0%}": accuracy_of_most_confident(confidence, correct, share)
                                             for share in COVERAGES}
    metrics["review"] = review_summary(rows["needs_review"].to_numpy(dtype=bool), correct)
    metrics["conflicts"] = int(rows["conflict"].sum())
    with_evidence = rows[rows["evidence_rank"] >= 0]
    ranks = list(with_evidence["evidence_rank"])
    if ranks:
        metrics.update({f"evidence_recall@{k}": recall_at(ranks, k) for k in (1, 3, 5)})
        metrics["evidence_mrr"] = mean_reciprocal_rank(ranks)
    evidence_ok = (rows["evidence_rank"] < 0) | rows["evidence_rank"].between(1, 3)
    metrics["strict_accuracy"] = float((correct & evidence_ok.to_numpy()).mean())
    metrics["accuracy_per_kind"] = {kind or "(none)": {"accuracy": float(group_correct.mean()), "n": int(len(group_correct))}
                                    for kind, group_correct in pd.Series(correct).groupby(rows["kind"].to_numpy())}
    metrics["n"] = int(len(rows))
    metrics["claims_seen_in_training"] = int(sum(checker.seen_in_training(list(frame["claim"].astype(str)))))
    metrics["seconds"] = round(elapsed, 2)
    if baseline_frame is not None:
        metrics["baselines"] = baselines(checker, baseline_frame, rows)
    return Evaluation(metrics, rows)


def baselines(checker, train: pd.DataFrame, rows: pd.DataFrame) -> dict:
    """Majority class and a claim-only model (cues in the claim, no evidence), both fit on ``train``."""
    majority = majority_label(train)
    return {"majority": {"label": majority, **verdict_summary(rows["label"], [majority] * len(rows))},
            "claim_only": verdict_summary(rows["label"], claim_only_predictions(train, rows))}


def majority_label(train: pd.DataFrame) -> str:
    return train["label"].value_counts().idxmax()


def claim_only_predictions(train: pd.DataFrame, rows: pd.DataFrame) -> list[str]:
    """Labels from a logistic regression on cues of the claim alone, fit on ``train``."""
    from sklearn.linear_model import LogisticRegression

    from .posts import normalise_post
    from .verify import claim_only_features

    x_train = np.vstack([claim_only_features(normalise_post(t)) for t in train["claim"]])
    x_eval = np.vstack([claim_only_features(normalise_post(t)) for t in rows["claim"]])
    return list(LogisticRegression(max_iter=2000).fit(x_train, train["label"]).predict(x_eval))


def verdict_summary(gold, predicted) -> dict:
    """Accuracy, macro-F1 and contradicted F1: the figures every baseline and table reports."""
    metrics = classification_metrics(list(gold), list(predicted))
    return {"accuracy": metrics["accuracy"], "macro_f1": metrics["macro_f1"],
            "contradicted_f1": metrics["per_class"]["contradicted"]["f1"]}


# --------------------------------------------------------------------------- writing

def report_folder(out_dir: Path) -> Path:
    """Create the output folder, or stop with one line, before any evaluation work is done."""
    if out_dir.exists() and not out_dir.is_dir():
        raise FactCheckError(f"{out_dir} is a file; --out needs a folder for metrics.json and report.html")
    out_dir.mkdir(parents=True, exist_ok=True)
    return out_dir


def write_report(evaluation: Evaluation, out_dir: Path, title: str) -> tuple[Path, Path]:
    report_folder(out_dir)
    metrics_path = out_dir / "metrics.json"
    write_text_atomically(metrics_path, json.dumps(evaluation.metrics, indent=2, ensure_ascii=False))
    report_path = out_dir / "report.html"
    write_text_atomically(report_path, render_html(evaluation, title))
    return metrics_path, report_path


def _png(figure) -> str:
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    plt.close(figure)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _charts(evaluation: Evaluation) -> dict[str, str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    metrics, rows = evaluation.metrics, evaluation.rows
    charts = {}
    matrix = np.array(metrics["confusion_matrix"]["matrix"])
    fig, ax = plt.subplots(figsize=(4.6, 3.8))
    ax.imshow(matrix, cmap="Blues")
    ax.set_xticks(range(3), LABELS, rotation=20)
    ax.set_yticks(range(3), LABELS)
    ax.set_xlabel("voorspeld")
    ax.set_ylabel("gold")
    for i in range(3):
        for j in range(3):
            ax.text(j, i, str(matrix[i, j]), ha="center", va="center",
                    color="white" if matrix[i, j] > matrix.max() / 2 else "black")
    charts["confusion"] = _png(fig)

    confidence = rows["confidence"].to_numpy(dtype=float)
    correct = (rows["label"] == rows["predicted"]).to_numpy(dtype=float)
    centres, accuracy, counts = zip(*calibration_bins(confidence, correct)) if len(rows) else ((), (), ())
    fig, ax = plt.subplots(figsize=(4.6, 3.8))
    ax.plot([0, 1], [0, 1], linestyle="--", color="grey", label="perfect kalibratie")
    ax.plot(centres, accuracy, marker="o", label=f"model (ECE {metrics['ece']:.3f}; perfect gekalibreerd bij "
                                                 f"n={len(rows)}: {metrics['ece_if_calibrated']['mean']:.3f})")
    for x, y, n in zip(centres, accuracy, counts):
        ax.annotate(str(n), (x, y), textcoords="offset points", xytext=(4, -10), fontsize=7)
    ax.set_xlabel("gemiddelde zekerheid")
    ax.set_ylabel("nauwkeurigheid")
    ax.legend(loc="upper left", fontsize=8)
    charts["reliability"] = _png(fig)

    fig, ax = plt.subplots(figsize=(4.6, 3.8))
    shares = np.linspace(0.05, 1.0, 20)
    ax.plot(shares * 100, [accuracy_of_most_confident(confidence, correct, share) for share in shares], marker=".")
    ax.set_xlabel("% meest zekere oordelen")
    ax.set_ylabel("nauwkeurigheid")
    ax.set_ylim(0, 1.02)
    charts["risk_coverage"] = _png(fig)

    kinds = metrics["accuracy_per_kind"]
    fig, ax = plt.subplots(figsize=(6.4, 3.8))
    names = sorted(kinds, key=lambda k: kinds[k]["accuracy"])
    ax.barh(names, [kinds[k]["accuracy"] for k in names], color="#4a7ab5")
    for i, name in enumerate(names):
        ax.text(kinds[name]["accuracy"] + 0.01, i, f"n={kinds[name]['n']}", va="center", fontsize=8)
    ax.set_xlim(0, 1.15)
    ax.set_xlabel("nauwkeurigheid")
    charts["kinds"] = _png(fig)
    return charts


def render_html(evaluation: Evaluation, title: str) -> str:
    """Self-contained HTML; every string from the data passes through autoescaping."""
    from jinja2 import Environment, PackageLoader, select_autoescape

    environment = Environment(loader=PackageLoader("pipeline", "templates"),
                              autoescape=select_autoescape(["html", "j2"], default=True))
    errors = evaluation.rows[evaluation.rows["label"] != evaluation.rows["predicted"]]
    return environment.get_template("report.html.j2").render(
        title=title, metrics=evaluation.metrics, charts=_charts(evaluation),
        errors=errors.to_dict("records"), labels=LABELS, stance_words=STANCE_WORDS,
        generated=time.strftime("%Y-%m-%d %H:%M"))
