"""What the written pairs say of a new claim: is it worded like a claim the passage entails, contradicts, or
leaves open?

Every passage that states something has written claims about it, in other people's words, labelled relative to
the passage (``corpus/pairs``). A new claim whose best passage is P is compared (cosine of query embeddings)
with P's written claims; the closest entailed, contradicted and neutral ones become verdict features. A claim
that fills the passage's slot with another value ("vooral als pillen" against "vrijwel uitsluitend poeder") then
meets a written contradiction that did the same, where words and numbers alone see only low overlap.

Read from the index's written claims (``pipeline/written_claims.py``); the verdict model records its identity.
"""
from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np

from .pairs import PAIR_LABELS
from .written_claims import WrittenClaims

# The closest written claim of each label, and how much closer the closest contradiction is than the closest
# entailment; zeros where the passage has no written claims.
MEMORY_FEATURES = ("memory_entails", "memory_contradicts", "memory_neutral", "memory_contradiction_margin")


@dataclass
class PairMemory:
    written: WrittenClaims  # the index's written claims
    identity: str           # pairs and encoder they were built from

    def __post_init__(self):
        self._members: dict[int, np.ndarray] = {}
        restated = self.written.restated_mask
        for member, row in enumerate(self.written.rows.tolist()):
            if not restated[member]:
                self._members.setdefault(row, []).append(member)
        self._members = {row: np.asarray(members) for row, members in self._members.items()}

    def features(self, claim: str, claim_vector: np.ndarray, passage_row: int) -> np.ndarray:
        """MEMORY_FEATURES of ``claim`` against the written claims of the passage at ``passage_row``; a written
        claim meets only other writers' claims (``WrittenClaims.others``)."""
        values = np.zeros(len(MEMORY_FEATURES), dtype=np.float32)
        members = self._members.get(passage_row)
        allowed = self.written.others(claim)
        if members is not None and allowed is not None:
            members = members[allowed[members]]
        if members is None or not len(members):
            return values
        similarities = self.written.vectors[members] @ claim_vector
        labels = self.written.labels[members]
        for label in range(len(PAIR_LABELS)):
            chosen = similarities[labels == label]
            values[label] = chosen.max() if len(chosen) else 0.0
        values[3] = values[1] - values[0] if values[0] and values[1] else 0.0
        return values


def build_pair_memory(index) -> PairMemory | None:
    """The written claims of ``index`` (``pipeline/written_claims.py``), by passage; None when it has none."""
    if index.written_claims is None:
        return None
    identity = json.dumps([index.manifest.get("written_claims"), index.manifest.get("model")], sort_keys=True)
    return PairMemory(index.written_claims, identity)
