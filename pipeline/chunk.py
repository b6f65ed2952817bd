"""Chunk stage: cut each cleaned document into passages a moderator would quote.

A passage is one to ``max_sentences`` sentences of one block, and its text is
exactly ``document.clean_text[start:end]``. Table rows stay whole.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

from .config import Chunking
from .ingest import Document
from .text import split_sentences


@dataclass(frozen=True)
class Passage:
    passage_id: str
    doc_id: str
    start: int
    end: int
    text: str
    section: str | None
    block_kind: str
    flags: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "Passage":
        return cls(**{**data, "flags": tuple(data.get("flags", ()))})


def indexed_text(passage: Passage, title: str, context: str) -> str:
    """What the retrievers see of a passage: its text, optionally led by document title and section,
    so a sentence like "Tijdens de behandeling wordt je bloeddruk gemeten." keeps its subject."""
    parts = []
    if context == "title_section":
        parts.append(title)
    if context in ("section", "title_section") and passage.section:
        parts.append(passage.section)
    return ". ".join(parts + [passage.text])


def chunk_document(document: Document, settings: Chunking) -> list[Passage]:
    """Passages of one document, in reading order."""
    spans: list[tuple[int, int, str, tuple[str, ...]]] = []
    for block in document.blocks:
        if block.kind == "heading":
            continue
        if block.kind == "table":
            spans.append((block.start, block.end, block.kind, block.flags))
            continue
        body = document.clean_text[block.start:block.end]
        sentences = [(block.start + a, block.start + b) for a, b in split_sentences(body)]
        for start, end in _group(sentences, settings):
            spans.append((start, end, block.kind, block.flags))
    passages = []
    for number, (start, end, kind, flags) in enumerate(spans):
        passages.append(Passage(
            passage_id=f"{document.meta.id}#{number}", doc_id=document.meta.id, start=start, end=end,
            text=document.clean_text[start:end], section=document.section_of(start),
            block_kind=kind, flags=flags))
    return passages


def _group(sentences: list[tuple[int, int]], settings: Chunking) -> list[tuple[int, int]]:
    """Greedy grouping: up to max_sentences per passage, never past max_chars, and a
    fragment shorter than min_chars is never left on its own when it has a neighbour."""
    groups: list[list[tuple[int, int]]] = []
    for sentence in sentences:
        current = groups[-1] if groups else None
        if current is not None:
            length = sentence[1] - current[0][0]
            too_short = (current[-1][1] - current[-1][0]) < settings.min_chars \
                or (sentence[1] - sentence[0]) < settings.min_chars
            fits = len(current) < settings.max_sentences and length <= settings.max_chars
            if fits or (too_short and length <= settings.max_chars * 1.5):
                current.append(sentence)
                continue
        groups.append([sentence])
    return [(group[0][0], group[-1][1]) for group in groups]
