"""Claim–passage pairs written for training (``corpus/pairs/*.csv``; see corpus/labelled/GUIDELINES.md).

Each row names a passage of the index by id and a claim about it, in other people's words, labelled
entailment, contradiction or neutral relative to that passage alone. They train the NLI cross-encoder
and are added as training claims for the reranker and the verdict model; they are never evaluated on.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from .errors import FactCheckError
from .storage import short_hash_of

PAIR_LABELS = ("entailment", "contradiction", "neutral")
# As a training claim for the whole pipeline: what the passage says of the claim becomes its verdict.
VERDICT_OF = {"entailment": "supported", "contradiction": "contradicted", "neutral": "unsupported"}
COLUMNS = ("passage_id", "premise", "hypothesis", "label", "form", "voice", "edit")


def read_pairs(folder: Path) -> pd.DataFrame:
    """All pair files of ``folder``, in file order; an empty frame when there are none."""
    files = sorted(folder.glob("*.csv")) if folder.is_dir() else []
    frames = []
    for path in files:
        try:
            frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        except (OSError, ValueError, UnicodeDecodeError) as exc:
            raise FactCheckError(f"cannot read pairs file {path}: {exc}".splitlines()[0]) from None
        missing = [column for column in COLUMNS if column not in frame.columns]
        if missing:
            raise FactCheckError(f"pairs file {path}: missing column(s) {', '.join(missing)}")
        unknown = sorted(set(frame["label"]) - set(PAIR_LABELS))
        if unknown:
            raise FactCheckError(f"pairs file {path}: unknown label value(s) {', '.join(map(repr, unknown))}")
        frames.append(frame.assign(file=path.name))
    if not frames:
        return pd.DataFrame(columns=[*COLUMNS, "file"])
    return pd.concat(frames, ignore_index=True)


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
