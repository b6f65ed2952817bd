"""Ingest stage: read corpus files, clean PDF/web extraction artefacts, keep block structure.

The output of a document is its ``clean_text`` plus the blocks (headings,
paragraphs, bullets, table rows) it consists of, each as character offsets
into ``clean_text``. Later stages cut passages out of ``clean_text`` only, so
every passage can be shown in context.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from .config import read_yaml
from .errors import FactCheckError
from .lang import ELISION_CONJUNCTIONS, FUNCTION_WORDS
from .storage import file_sha256
from .text import is_dutch_word

SUPPORTED_SUFFIXES = (".txt", ".md", ".pdf")
METADATA_FILE = "metadata.yaml"
DOCUMENT_KINDS = ("news", "information page", "review article", "factsheet", "article")

_DATE_LINE = re.compile(r"^\s*date\s+(\d{4}-\d{2}-\d{2})\s*")
_URL_ONLY = re.compile(r"^\s*(?:https?://|www\.)\S+\s*$")
_PAGE_NUMBER = re.compile(r"^\s*\d{1,4}\s*$")
_BULLET = re.compile(r"^\s*[•▪●◦·]\s*")
_TAB_LABEL = re.compile(r"^\s*\t?\s*([A-Z][A-Z ]{2,})\t\s*(.*)$")
_TABLE_CAPTION = re.compile(r"^\s*TABEL\s+\d+\s*\t")
_TABLE_LEGEND_ITEM = re.compile(r"\b[A-Z][A-Za-z/-]{1,12}: ")
_TABLE_ROW_START = re.compile(r"^(?:[A-Z][A-Za-z-]+ \d{4}[a-z]?\b|Intraveneus|Oraal|Intranasaal|Intramusculair)")
_LINE_END_HYPHEN = re.compile(r"(\w+)[ \t]*-[ \t]*$")
_LEADING_WORD = re.compile(r"^\s*(\w+)")
_WORD = re.compile(r"\w+(?:-\w+)*")
_TERMINAL = re.compile(r"[.!?:;)\]”’\"']\s*$")
_SPACES = re.compile(r"[ \t\u00a0\u2009\u202f]+")


@dataclass(frozen=True)
class DocumentMeta:
    id: str
    file: str
    title: str
    kind: str
    date: str | None
    language: str
    original_file: str | None = None


@dataclass(frozen=True)
class Block:
    """A heading, paragraph, bullet or table row: ``clean_text[start:end]``."""

    kind: str
    start: int
    end: int
    flags: tuple[str, ...] = ()


@dataclass(frozen=True)
class Document:
    meta: DocumentMeta
    clean_text: str
    blocks: tuple[Block, ...]
    source_sha256: str

    def section_of(self, offset: int) -> str | None:
        """The heading in force at ``offset`` (the last heading block before it)."""
        heading = None
        for block in self.blocks:
            if block.start > offset:
                break
            if block.kind == "heading":
                heading = self.clean_text[block.start:block.end]
        return heading


@dataclass(frozen=True)
class IngestProblem:
    file: str
    reason: str

    def __str__(self) -> str:
        return f"{self.file}: {self.reason}"


@dataclass
class IngestResult:
    documents: list[Document] = field(default_factory=list)
    problems: list[IngestProblem] = field(default_factory=list)


# --------------------------------------------------------------------------- reading

def read_metadata(corpus_dir: Path) -> list[DocumentMeta]:
    path = corpus_dir / METADATA_FILE
    raw = read_yaml(path, "corpus metadata")
    entries = (raw or {}).get("documents") if isinstance(raw, dict) else None
    if not isinstance(entries, list) or not entries:
        raise FactCheckError(f"corpus metadata {path} needs a non-empty 'documents' list")
    metas, seen = [], set()
    for number, entry in enumerate(entries, 1):
        missing = [key for key in ("id", "file", "title", "kind", "language") if not (entry or {}).get(key)]
        if missing:
            raise FactCheckError(f"{path}: document #{number} lacks {', '.join(missing)}")
        if entry["id"] in seen:
            raise FactCheckError(f"{path}: duplicate document id '{entry['id']}'")
        if entry["kind"] not in DOCUMENT_KINDS:
            raise FactCheckError(f"{path}: document '{entry['id']}' has unknown kind '{entry['kind']}' "
                                 f"(expected one of: {', '.join(DOCUMENT_KINDS)})")
        seen.add(entry["id"])
        date = entry.get("date")
        metas.append(DocumentMeta(entry["id"], entry["file"], entry["title"], entry["kind"],
                                  str(date) if date else None, entry["language"],
                                  entry.get("original_file")))
    return metas


def read_source_text(path: Path) -> str:
    """The raw text of a .txt/.md/.pdf file; raises ValueError with a readable reason."""
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise ValueError(f"unsupported file type '{suffix}' (supported: {', '.join(SUPPORTED_SUFFIXES)})")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ValueError(f"cannot be read ({exc.strerror})") from None
    if suffix == ".pdf":
        return _pdf_text(data)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValueError(f"is not valid UTF-8 (byte 0x{data[exc.start]:02x} at position {exc.start})") from None


def _pdf_text(data: bytes) -> str:
    import io
    import logging

    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    logging.getLogger("pypdf").setLevel(logging.ERROR)
    try:
        reader = PdfReader(io.BytesIO(data))
        pages = [page.extract_text() or "" for page in reader.pages]
    except (PdfReadError, ValueError, KeyError, OSError) as exc:
        raise ValueError(f"is not a readable PDF ({exc})") from None
    return "\n\n".join(pages)


def ingest_corpus(corpus_dir: Path) -> IngestResult:
    """Read and clean every document listed in ``metadata.yaml``; collect problems instead of failing."""
    result = IngestResult()
    metas = read_metadata(corpus_dir)
    listed = {meta.file for meta in metas}
    for path in sorted(corpus_dir.iterdir()):
        if path.is_file() and path.suffix.lower() in SUPPORTED_SUFFIXES and path.name not in listed:
            result.problems.append(IngestProblem(path.name, f"has no entry in {METADATA_FILE}; skipped"))
    for meta in metas:
        path = corpus_dir / meta.file
        if not path.exists():
            result.problems.append(IngestProblem(meta.file, "is listed in metadata but does not exist"))
            continue
        try:
            raw = read_source_text(path)
            document = clean_document(meta, raw, file_sha256(path))
        except ValueError as exc:
            result.problems.append(IngestProblem(meta.file, str(exc)))
            continue
        result.documents.append(document)
    return result


def ingest_readable_corpus(corpus_dir: Path) -> IngestResult:
    """``ingest_corpus``, or a FactCheckError when the folder is missing or no document could be read."""
    if not corpus_dir.is_dir():
        raise FactCheckError(f"corpus directory {corpus_dir} does not exist")
    ingested = ingest_corpus(corpus_dir)
    if not ingested.documents:
        reasons = "; ".join(str(p) for p in ingested.problems) or "no documents listed"
        raise FactCheckError(f"no readable documents in {corpus_dir} ({reasons})")
    return ingested


# --------------------------------------------------------------------------- vocabulary

class Vocabulary:
    """Is this a Dutch word? Asks the document itself, spaCy's lookups and simplemma."""

    def __init__(self, text: str):
        self.document_words = set()
        # Words that end a line before a hyphen are fragments, not evidence of a word.
        unbroken = re.sub(r"\w+[ \t]*-[ \t]*\n[ \t]*\w+", " ", text)
        self._flat = " " + _SPACES.sub(" ", re.sub(r"\s+", " ", unbroken.lower())) + " "
        for token in _WORD.findall(unbroken.lower()):
            self.document_words.add(token)
            self.document_words.update(token.split("-"))

    def __contains__(self, word: str) -> bool:
        word = word.lower()
        return word in self.document_words or is_dutch_word(word)

    def seen_in_document(self, word: str) -> bool:
        """Whether the document itself uses ``word`` (or a two-word phrase, on one line)."""
        word = word.lower()
        return word in self.document_words if " " not in word else f" {word} " in self._flat


def join_broken_word(left: str, right: str, vocabulary: Vocabulary, hyphenated: bool) -> str:
    """Decide how two halves of a word broken over a line are glued back together.

    "hui-" + "dige" -> "huidige" (syllable break); "rs-" + "ketamine" -> "rs-ketamine"
    (a real hyphen). Without a hyphen ("toe" + "diening") halves join only when the
    document itself uses the joined word.
    """
    joined, with_hyphen = left + right, f"{left}-{right}"
    if hyphenated and right.lower() in ELISION_CONJUNCTIONS:  # "maag- en leverfuncties"
        return f"{left}- {right}"
    if not hyphenated:
        return joined if vocabulary.seen_in_document(joined) \
            and not vocabulary.seen_in_document(f"{left} {right}") else ""
    if vocabulary.seen_in_document(with_hyphen) or right[:1].isupper():
        return with_hyphen
    if joined.lower() in vocabulary:
        return joined
    if (left.lower() in vocabulary or len(left) <= 3) and right.lower() in vocabulary:
        return with_hyphen
    return joined


# --------------------------------------------------------------------------- cleaning

def _normalise_characters(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u00ad", "")
    text = re.sub(r"[\u200b\u200c\u200d\ufeff]", "", text)
    return unicodedata.normalize("NFC", text)


def _is_tiny(line: str) -> bool:
    stripped = line.strip()
    return 0 < len(stripped) <= 3 and not stripped.isdigit() or stripped in {"|"}


def _remove_vertical_headers(lines: list[str]) -> tuple[list[str], set[str]]:
    """Drop running headers printed one to three letters per line; return their first fragments."""
    keep = [True] * len(lines)
    fragments: set[str] = set()
    i = 0
    while i < len(lines):
        if not _is_tiny(lines[i]):
            i += 1
            continue
        j, tiny = i, 0
        while j < len(lines) and (_is_tiny(lines[j]) or not lines[j].strip()
                                  or (_PAGE_NUMBER.match(lines[j]) and len(lines[j].strip()) <= 2)):
            tiny += _is_tiny(lines[j])
            j += 1
        if tiny >= 6:
            fragments.add(lines[i].strip())
            for k in range(i, j):
                keep[k] = False
        i = max(j, i + 1)
    return [line for line, kept in zip(lines, keep) if kept], fragments


def _strip_glued_fragments(line: str, fragments: set[str]) -> str:
    """A header fragment can end up glued to a text line ("Het doel van dit TI")."""
    for fragment in fragments:
        if fragment.isupper() and line.rstrip().endswith(" " + fragment):
            return line.rstrip()[: -len(fragment) - 1]
    return line


@dataclass
class _RawBlock:
    kind: str
    lines: list[str]
    flags: set[str] = field(default_factory=set)
    block_start: bool = False  # began at a visible block boundary (blank line, column start, bullet)


def _mark_tables(lines: list[str]) -> list[tuple[str, str]]:
    """Tag each line 'table' or 'text'; drop a table that is an exact repeat of an earlier one."""
    tagged, seen_tables = [], set()
    i = 0
    while i < len(lines):
        if not _TABLE_CAPTION.match(lines[i]):
            tagged.append(("text", lines[i]))
            i += 1
            continue
        j = i + 1
        while j < len(lines) and len(_TABLE_LEGEND_ITEM.findall(lines[j])) < 3:
            j += 1
        while j + 1 < len(lines) and lines[j + 1].strip():  # the legend's continuation lines
            j += 1
        region = lines[i:j + 1]
        key = "\n".join(line.strip() for line in region)
        if key not in seen_tables:
            seen_tables.add(key)
            tagged.extend(("table", line) for line in region)
        i = j + 1
    return tagged


def _looks_like_heading(line: str, previous: str | None, following: str | None, unwrapped: bool) -> bool:
    text = line.strip()
    if not text or _BULLET.match(line) or len(text) > (70 if unwrapped else 45):
        return False
    if text[0].islower() or re.search(r"[.,;:]$", text):
        return False
    words = text.split()
    letters = [c for c in text if c.isalpha()]
    if letters and all(c.isupper() for c in letters) and len(letters) >= 5:
        return True
    if unwrapped:
        return len(words) <= 9 and not text.endswith("!")
    before_ok = previous is None or not previous.strip() or bool(_TERMINAL.search(previous)) \
        or previous.startswith(" ")
    after_ok = following is None or not following.strip() or following.lstrip()[:1].isupper()
    return len(words) <= 6 and before_ok and after_ok


def _starts_column(line: str, previous: str | None) -> bool:
    """A line indented by exactly one space starts a new text column in PDF extractions,
    unless the line before broke a word with a hyphen."""
    return line.startswith(" ") and not line.startswith("  ") \
        and not (previous and previous.rstrip().endswith("-"))


def _split_blocks(tagged: list[tuple[str, str]], unwrapped: bool) -> list[_RawBlock]:
    blocks: list[_RawBlock] = []
    current: _RawBlock | None = None
    after_blank = True

    def close():
        nonlocal current
        if current and any(line.strip() for line in current.lines):
            blocks.append(current)
        current = None

    for index, (tag, line) in enumerate(tagged):
        previous = tagged[index - 1][1] if index else None
        following = tagged[index + 1][1] if index + 1 < len(tagged) else None
        if tag == "table":
            text = line.strip()
            if not text:
                continue
            if current is None or current.kind != "table" or _TABLE_ROW_START.match(text) \
                    or _TABLE_CAPTION.match(line):
                close()
                current = _RawBlock("table", [], block_start=True)
            current.lines.append(text)
            continue
        if current is not None and current.kind == "table":
            close()
        if not line.strip():
            close()
            after_blank = True
            continue
        label = _TAB_LABEL.match(line)
        if label and "\t" in line:
            close()
            blocks.append(_RawBlock("heading", [label.group(1).strip()], block_start=True))
            current = _RawBlock("paragraph", [label.group(2)], block_start=True)
        elif _BULLET.match(line):
            close()
            current = _RawBlock("bullet", [_BULLET.sub("", line)], block_start=True)
        elif _looks_like_heading(line, previous, following, unwrapped):
            close()
            blocks.append(_RawBlock("heading", [line.strip()], block_start=True))
        elif current is None or unwrapped or _starts_column(line, previous):
            column_start = line.startswith(" ") and not after_blank and current is not None
            close()
            current = _RawBlock("paragraph", [line], block_start=after_blank or line.startswith(" "))
            if column_start:
                current.flags.add("column_start")
        else:
            current.lines.append(line)
        after_blank = False
    close()
    return blocks


def _join_lines(lines: list[str], vocabulary: Vocabulary) -> str:
    text = ""
    for line in lines:
        line = line.strip()
        if not line:
            continue
        if not text:
            text = line
            continue
        broken = _LINE_END_HYPHEN.search(text)
        head = _LEADING_WORD.match(line)
        if broken and head:
            glued = join_broken_word(broken.group(1), head.group(1), vocabulary, hyphenated=True)
            text = text[:broken.start()] + glued + line[head.end():]
            continue
        tail = re.search(r"(\w+)$", text)
        if tail and head:
            glued = join_broken_word(tail.group(1), head.group(1), vocabulary, hyphenated=False)
            if glued:
                text = text[:tail.start()] + glued + line[head.end():]
                continue
        text = text + ("" if text.endswith("/") else " ") + line
    return _SPACES.sub(" ", text).strip()


def _ends_with_function_word(line: str) -> bool:
    last_word = (re.findall(r"\w+|\S$", line.rstrip()) or [""])[-1].lower()
    return last_word in FUNCTION_WORDS or last_word in {"-", ","}


def _continues(last_line: str, next_line: str) -> bool:
    """Does ``next_line`` read as the rest of a sentence that ``last_line`` left open?"""
    first = next_line.lstrip()[:1]
    return first.islower() or first.isdigit() or _ends_with_function_word(last_line)


def _merge_split_paragraphs(blocks: list[_RawBlock]) -> list[_RawBlock]:
    """Re-join paragraphs that a page or column break cut mid-sentence.

    A paragraph that ends without closing punctuation continues in the next
    plain paragraph, unless that one starts a new column: then the text is left
    apart and flagged, since the continuation is somewhere we cannot know.
    """
    merged: list[_RawBlock] = []
    for block in blocks:
        last = merged[-1] if merged else None
        ends_mid_sentence = last is not None and last.kind in ("paragraph", "bullet") \
            and not _TERMINAL.search(last.lines[-1])
        if ends_mid_sentence and block.kind == "paragraph" and "column_start" not in block.flags \
                and not block.lines[0].startswith(" ") and _continues(last.lines[-1], block.lines[0]):
            last.lines.extend(block.lines)
            continue
        if ends_mid_sentence and ("column_start" in block.flags or _ends_with_function_word(last.lines[-1])):
            last.flags.add("cut_off")
            if block.kind == "paragraph":
                block.flags.add("continues_elsewhere")
        merged.append(block)
    return merged


def clean_document(meta: DocumentMeta, raw: str, source_sha256: str = "") -> Document:
    """Clean raw extracted text into ``clean_text`` and its blocks."""
    text = _normalise_characters(raw)
    date = meta.date
    found = _DATE_LINE.match(text)
    if found:
        date = date or found.group(1)
        text = text[found.end():]
    vocabulary = Vocabulary(text)
    lines = [line for line in text.split("\n") if not _URL_ONLY.match(line) and not _PAGE_NUMBER.match(line)]
    lines, fragments = _remove_vertical_headers(lines)
    lines = [_strip_glued_fragments(line, fragments) for line in lines]
    non_empty = [len(line) for line in lines if line.strip()]
    unwrapped = bool(non_empty) and sorted(non_empty)[len(non_empty) // 2] > 150
    raw_blocks = _merge_split_paragraphs(_split_blocks(_mark_tables(lines), unwrapped))

    parts, blocks, offset = [], [], 0
    for raw_block in raw_blocks:
        body = _join_lines(raw_block.lines, vocabulary)
        if not body:
            continue
        if parts:
            offset += 2
        blocks.append(Block(raw_block.kind, offset, offset + len(body), tuple(sorted(raw_block.flags))))
        parts.append(body)
        offset += len(body)
    clean_text = "\n\n".join(parts)
    if not clean_text.strip():
        raise ValueError("contains no text after cleaning")
    if date != meta.date:
        meta = DocumentMeta(meta.id, meta.file, meta.title, meta.kind, date, meta.language, meta.original_file)
    return Document(meta, clean_text, tuple(blocks), source_sha256)
