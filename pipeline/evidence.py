"""Matching gold evidence against retrieved passages (shared by training, the benchmark and the reports).

A claim's gold evidence is one verbatim quote, or several separated by ``||`` where the corpus states
the deciding fact in more than one place (see corpus/labelled/GUIDELINES.md); a passage holding any
of them is a hit. A quote may also run over two or more sentences, while passages are single sentences
(``chunking.max_sentences``): a passage holding one whole sentence of such a quote is a hit too, else
no passage could ever be one.
"""
from __future__ import annotations

import re
from functools import lru_cache

from .text import fold, split_sentences

QUOTE_SEPARATOR = "||"


@lru_cache(maxsize=1 << 16)  # training matches every candidate passage against its claim's quote
def fold_for_match(text: str) -> str:
    """Fold case, accents, whitespace, hyphens and punctuation away."""
    return re.sub(r"[\W_]+", "", fold(text))


def quotes(evidence: str) -> list[str]:
    """The alternative quotes of one evidence cell, in order (the first is the one the claim was written from)."""
    return [quote.strip() for quote in evidence.split(QUOTE_SEPARATOR) if quote.strip()]


@lru_cache(maxsize=1 << 12)
def quote_parts(evidence: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """Each alternative quote folded, with its sentences folded where it has more than one."""
    parts = []
    for quote in quotes(evidence):
        sentences = [fold_for_match(quote[start:end]) for start, end in split_sentences(quote)]
        parts.append((fold_for_match(quote), tuple(s for s in sentences if s) if len(sentences) > 1 else ()))
    return tuple((key, sentences) for key, sentences in parts if key)


def contains_quote(passage_text: str, evidence: str) -> bool:
    """Whether the passage holds the evidence: any one of its alternative quotes, or (for a quote over several
    sentences) a part of the quote holding at least one of its whole sentences; a list item or a fragment that
    merely occurs inside the quote is not a hit."""
    passage_key = fold_for_match(passage_text)
    return bool(passage_key) and any(
        key in passage_key or (passage_key in key and any(sentence in passage_key for sentence in sentences))
        for key, sentences in quote_parts(evidence))


def first_hit_rank(passage_texts: list[str], evidence: str) -> int:
    """1-based rank of the first passage containing the evidence; 0 when none does."""
    for rank, text in enumerate(passage_texts, 1):
        if contains_quote(text, evidence):
            return rank
    return 0


def deciding_document(passages, evidence: str) -> str:
    """The document of the first passage holding the evidence ("" when there is no evidence or no such passage)."""
    return next((p.doc_id for p in passages if evidence and contains_quote(p.text, evidence)), "")


def recall_at(ranks: list[int], k: int) -> float:
    return sum(1 for r in ranks if 0 < r <= k) / max(1, len(ranks))


def mean_reciprocal_rank(ranks: list[int]) -> float:
    return sum(1.0 / r for r in ranks if r > 0) / max(1, len(ranks))
