"""Matching gold evidence quotes against retrieved passages (shared by the benchmark and the reports)."""
from __future__ import annotations

import re

from .text import fold


def fold_for_match(text: str) -> str:
    """Fold case, accents, whitespace, hyphens and punctuation away."""
    return re.sub(r"[\W_]+", "", fold(text))


def contains_quote(passage_text: str, quote: str) -> bool:
    quote_key = fold_for_match(quote)
    return bool(quote_key) and quote_key in fold_for_match(passage_text)


def first_hit_rank(passage_texts: list[str], quote: str) -> int:
    """1-based rank of the first passage containing ``quote``; 0 when none does."""
    for rank, text in enumerate(passage_texts, 1):
        if contains_quote(text, quote):
            return rank
    return 0


def recall_at(ranks: list[int], k: int) -> float:
    return sum(1 for r in ranks if 0 < r <= k) / max(1, len(ranks))


def mean_reciprocal_rank(ranks: list[int]) -> float:
    return sum(1.0 / r for r in ranks if r > 0) / max(1, len(ranks))
