"""What a claim and a passage share: their terms and their quantities.

Computed once per (claim, passage) pair and shared by the evidence reranker (which compares a
claim with each candidate) and the verdict features (which compare it with the chosen ones).
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from .text import LexicalAnalyzer, Quantity, cached_quantities


@dataclass(frozen=True)
class Overlap:
    coverage: float                 # share of the claim's terms found in the passage
    passage_coverage: float         # share of the passage's terms found in the claim
    numbers_matched: int            # the claim's quantities the passage states alike
    number_conflicts: tuple[tuple[str, str], ...]       # stated differently, with a unit
    bare_number_conflicts: tuple[tuple[str, str], ...]  # stated differently, bare numbers


def _closest(quantity: Quantity, candidates: list[Quantity]) -> Quantity:
    """The candidate nearest in magnitude: what a reader would take the claim's number to be about."""
    return min(candidates, key=lambda q: abs(np.log((abs(q.high) + 1e-9) / (abs(quantity.high) + 1e-9))))


def compare_quantities(claim_q: tuple[Quantity, ...], passage_q: tuple[Quantity, ...]
                       ) -> tuple[int, tuple[tuple[str, str], ...], tuple[tuple[str, str], ...]]:
    """How many of the claim's quantities the passage states, and which it states differently:
    with a unit ("5 mg/kg" against "0,5 mg/kg"), and bare ("660" against "66"). Only quantities of
    a comparable unit are compared; a bare number only meets a bare number. Bare conflicts are
    kept apart: study names and citation numbers make them a weaker cue."""
    matched, conflicts, bare_conflicts = 0, [], []
    for quantity in claim_q:
        candidates = [q for q in passage_q if quantity.comparable(q)]
        if not candidates:
            continue
        if any(quantity.agrees(q) for q in candidates):
            matched += 1
        else:
            pair = (quantity.text, _closest(quantity, candidates).text)
            (conflicts if quantity.unit else bare_conflicts).append(pair)
    return matched, tuple(conflicts), tuple(bare_conflicts)


@lru_cache(maxsize=65536)
def overlap(claim: str, passage: str, analyzer: LexicalAnalyzer) -> Overlap:
    claim_terms, passage_terms = analyzer.term_set(claim), analyzer.term_set(passage)
    shared = len(claim_terms & passage_terms)
    matched, conflicts, bare = compare_quantities(cached_quantities(claim), cached_quantities(passage))
    return Overlap(shared / max(1, len(claim_terms)), shared / max(1, len(passage_terms)), matched, conflicts, bare)
