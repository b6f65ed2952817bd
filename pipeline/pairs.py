"""Claim–passage pairs written for training (``corpus/pairs/*.csv``; see corpus/labelled/GUIDELINES.md).

Each row names a passage of the index by id and a claim about it, in other people's words, labelled
entailment, contradiction or neutral relative to that passage alone. Each file has one writer. They lead
claims to their passages (``pipeline/written_claims.py``), feed the pair memory, train the NLI cross-encoder
and are added as training claims for the reranker and the verdict model; they are never evaluated on.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from .storage import read_csv_folder, short_hash_of

PAIR_LABELS = ("entailment", "contradiction", "neutral")
# As a training claim for the whole pipeline: what the passage says of the claim becomes its verdict.
VERDICT_OF = {"entailment": "supported", "contradiction": "contradicted", "neutral": "unsupported"}
COLUMNS = ("passage_id", "premise", "hypothesis", "label", "form", "voice", "edit")


def read_pairs(folder: Path) -> pd.DataFrame:
    """All pair files of ``folder``, in file order; an empty frame when there are none."""
    def unknown_labels(frame: pd.DataFrame) -> str | None:
        unknown = sorted(set(frame["label"]) - set(PAIR_LABELS))
        return f"unknown label value(s) {', '.join(map(repr, unknown))}" if unknown else None

    return read_csv_folder(folder, COLUMNS, "pairs", unknown_labels)


def pairs_fingerprint(pairs: pd.DataFrame) -> str:
    return short_hash_of(f"{row.passage_id}\x00{row.hypothesis}\x00{row.label}\x00"
                         for row in pairs.itertuples())


def as_training_claims(pairs: pd.DataFrame) -> pd.DataFrame:
    """The pairs in the shape of labelled claims: claim, label, evidence (the passage, for the reranker;
    none for a neutral pair), group (the passage, so no fold splits it), kind, split."""
    return pd.DataFrame({
        "claim": pairs["hypothesis"], "label": pairs["label"].map(VERDICT_OF),
        "evidence": pairs["premise"].where(pairs["label"] != "neutral", ""),
        "group": "pair:" + pairs["passage_id"], "kind": "written pair", "split": "pairs"})
