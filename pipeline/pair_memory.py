"""What the written pairs say of a new claim: is it worded like a claim the passage entails, contradicts, or
leaves open?

Every passage that states something has written claims about it, in other people's words, labelled relative to
the passage (``corpus/pairs``). A new claim whose best passage is P is compared (cosine of query embeddings)
with P's written claims; the closest entailed, contradicted and neutral ones become verdict features. A claim
that fills the passage's slot with another value ("vooral als pillen" against "vrijwel uitsluitend poeder") then
meets a written contradiction that did the same, where words and numbers alone see only low overlap.

Built by ``factcheck train`` and stored beside the verdict model (numpy arrays, no pickles).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .pairs import PAIR_LABELS, pairs_fingerprint, read_pairs
from .posts import claim_fingerprint, normalise_post
from .storage import atomic_file, loading_artefact

# The closest written claim of each label, and how much closer the closest contradiction is than the closest
# entailment; zeros where the passage has no written claims.
MEMORY_FEATURES = ("memory_entails", "memory_contradicts", "memory_neutral", "memory_contradiction_margin")


@dataclass
class PairMemory:
    passage_ids: np.ndarray   # one per written claim
    labels: np.ndarray        # index into PAIR_LABELS, one per written claim
    fingerprints: np.ndarray  # claim_fingerprint of the normalised claim: a claim never meets itself
    vectors: np.ndarray       # query embeddings, one row per written claim
    identity: str             # pairs and encoder it was built from

    def __post_init__(self):
        self._rows: dict[str, np.ndarray] = {}
        for row, passage_id in enumerate(self.passage_ids):
            self._rows.setdefault(str(passage_id), []).append(row)
        self._rows = {key: np.asarray(rows) for key, rows in self._rows.items()}

    def features(self, claim: str, claim_vector: np.ndarray, passage_id: str) -> np.ndarray:
        rows = self._rows.get(passage_id)
        values = np.zeros(len(MEMORY_FEATURES), dtype=np.float32)
        if rows is None:
            return values
        if (self.fingerprints[rows] == claim_fingerprint(claim)).any():
            # A written claim in training meets only its writer's other claims about the passage, worded alike:
            # it would teach the model to trust the memory more than claims from other writers deserve.
            return values
        similarities = self.vectors[rows] @ claim_vector
        for label in range(len(PAIR_LABELS)):
            chosen = similarities[self.labels[rows] == label]
            values[label] = chosen.max() if len(chosen) else 0.0
        values[3] = values[1] - values[0] if values[0] and values[1] else 0.0
        return values


def build_pair_memory(folder: Path, encoder) -> PairMemory | None:
    """The written pairs of ``folder``, embedded as claims are; None when there are none."""
    pairs = read_pairs(folder)
    if not len(pairs):
        return None
    normalised = [normalise_post(text) for text in pairs["hypothesis"]]
    return PairMemory(np.asarray(pairs["passage_id"], dtype=str),
                      np.asarray([PAIR_LABELS.index(label) for label in pairs["label"]], dtype=np.int8),
                      np.asarray([claim_fingerprint(text) for text in normalised], dtype=str),
                      encoder.encode_queries(normalised, progress=False),
                      f"{pairs_fingerprint(pairs)}|{encoder.identity}")


def save_pair_memory(path: Path, memory: PairMemory) -> None:
    with atomic_file(path) as tmp:
        with open(tmp, "wb") as handle:
            np.savez(handle, passage_ids=memory.passage_ids, labels=memory.labels,
                     fingerprints=memory.fingerprints, vectors=memory.vectors,
                     identity=np.asarray(json.dumps(memory.identity)))


def load_pair_memory(path: Path) -> PairMemory:
    with loading_artefact(path, "run `factcheck train` to rebuild it"):
        with np.load(path, allow_pickle=False) as data:
            return PairMemory(data["passage_ids"], data["labels"], data["fingerprints"], data["vectors"],
                              json.loads(str(data["identity"])))
