"""Batch checking of CSV files: streaming, resumable, atomic, spreadsheet-safe.

Input: UTF-8 (with or without BOM) or cp1252/latin-1, delimiter sniffed among
``,`` ``;`` and tab. Output keeps every input column in order and adds the
verdict columns. Rows are read, checked and written ``chunk_rows`` at a time,
so memory stays flat however long the file is. Work goes to ``OUT.partial``
with a small progress record beside it; only a finished run is renamed to OUT,
and ``--resume`` continues a partial run without losing or repeating rows.
"""
from __future__ import annotations

import codecs
import csv
import io
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .errors import FactCheckError
from .storage import write_text_atomically

RESULT_COLUMNS = ("verdict", "confidence", "needs_review", "explanation", "evidence", "evidence_text",
                  "evidence_source", "conflict", "error")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_SAMPLE_BYTES = 1 << 16


@dataclass(frozen=True)
class InputFormat:
    encoding: str
    delimiter: str


def detect_format(path: Path) -> InputFormat:
    """Encoding (UTF-8 with/without BOM, UTF-16 with BOM, else cp1252, else latin-1) and delimiter of a CSV file."""
    if not path.exists():
        raise FactCheckError(f"{path}: file not found")
    if path.is_dir():
        raise FactCheckError(f"{path}: is a directory, not a CSV file")
    try:
        with open(path, "rb") as handle:
            head = handle.read(_SAMPLE_BYTES)
            if not head.strip():
                raise FactCheckError(f"{path}: file is empty")
            if head.startswith(codecs.BOM_UTF8):
                encoding = "utf-8-sig"
            elif head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
                encoding = "utf-16"  # Excel's "Unicode text" export; the codec reads the byte order from the BOM
            else:
                encoding = _whole_file_encoding(handle, head)
    except OSError as exc:
        raise FactCheckError(f"{path}: cannot be read ({exc.strerror})") from None
    # An odd-length UTF-16 sample would end in half a character; drop it.
    sample = head[: len(head) - len(head) % 2 if encoding == "utf-16" else None]
    sample = sample.decode(encoding, errors="replace").replace("\x00", "")
    try:
        delimiter = csv.Sniffer().sniff("\n".join(sample.split("\n")[:20]), delimiters=",;\t").delimiter
    except csv.Error:
        delimiter = ","
    return InputFormat(encoding, delimiter)


def _whole_file_encoding(handle, head: bytes) -> str:
    """UTF-8 when every byte of the file decodes as UTF-8 (checked incrementally), else cp1252/latin-1."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        decoder.decode(head)
        for block in iter(lambda: handle.read(1 << 20), b""):
            decoder.decode(block)
        decoder.decode(b"", final=True)
        return "utf-8"
    except UnicodeDecodeError:
        handle.seek(0)
        try:
            for block in iter(lambda: handle.read(1 << 20), b""):
                block.decode("cp1252")
            return "cp1252"
        except UnicodeDecodeError:
            return "latin-1"


class _NulFilter(io.TextIOBase):
    """Text stream that turns NUL characters into U+FFFD, so the CSV parser never chokes on them
    and the affected rows can still be recognised and flagged."""

    def __init__(self, raw):
        self.raw = raw

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> str:
        return self.raw.read(size).replace("\x00", "\ufffd")

    def readline(self, size: int = -1) -> str:
        return self.raw.readline(size).replace("\x00", "\ufffd")


def _reader(path: Path, fmt: InputFormat, chunk_rows: int | None):
    stream = _NulFilter(open(path, encoding=fmt.encoding, newline=""))
    return pd.read_csv(stream, sep=fmt.delimiter, dtype=str, keep_default_na=False, chunksize=chunk_rows,
                       engine="python" if len(fmt.delimiter) != 1 else "c")


def read_table(path: Path) -> pd.DataFrame:
    """Read a whole (small) CSV with the same encoding and delimiter rules as batch input."""
    fmt = detect_format(path)
    try:
        frame = _reader(path, fmt, None)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise FactCheckError(f"{path}: not a readable CSV ({str(exc).splitlines()[0]})") from None
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame


def choose_text_column(columns: list[str], requested: str | None, candidates: list[str]) -> str:
    """--column when given; otherwise the first column named like a text column
    (claim, text, post, tekst, bericht, message, content, in that order); otherwise the only column."""
    if requested is not None:
        if requested not in columns:
            raise FactCheckError(f"column '{requested}' not found; columns are: {', '.join(columns)}")
        return requested
    lowered = {c.strip().lower(): c for c in columns}
    for candidate in candidates:
        if candidate in lowered:
            return lowered[candidate]
    if len(columns) == 1:
        return columns[0]
    raise FactCheckError(f"cannot tell which column holds the text; pass --column (columns: {', '.join(columns)})")


def neutralise_formula(value):
    """Spreadsheet safety: a cell starting with = + - @ (or tab/CR) is prefixed with ' so it stays text."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


# --------------------------------------------------------------------------- the job

@dataclass
class BatchSummary:
    rows: int
    resumed_from: int
    output: Path
    counts: dict[str, int]
    text_column: str


def _progress_path(partial: Path) -> Path:
    return partial.with_name(partial.name + ".progress.json")


def _fingerprint(path: Path) -> dict:
    stat = path.stat()
    return {"size": stat.st_size, "mtime": stat.st_mtime}


def _result_columns(input_columns: list[str]) -> dict[str, str]:
    """Our column names; prefixed when the input already uses one."""
    return {name: (f"factcheck_{name}" if name in input_columns else name) for name in RESULT_COLUMNS}


def _evidence_cell(evidence) -> dict:
    return {"text": evidence.text, "source": evidence.source, "doc_id": evidence.doc_id, "start": evidence.start,
            "end": evidence.end, "score": evidence.score, "date": evidence.date, "figure_year": evidence.figure_year}


def _row_results(checker, texts: list[str]) -> list[dict]:
    cleaned, notes = [], []
    for text in texts:
        note = []
        if "\ufffd" in text:
            note.append("NUL- of ongeldige tekens verwijderd")
            text = text.replace("\ufffd", " ")
        if not text.strip():
            note.append("lege tekst")
        cleaned.append(text)
        notes.append(note)
    results = checker.check_many(cleaned, batch_size=len(cleaned) or 1)
    rows = []
    for result, note in zip(results, notes):
        evidence = [_evidence_cell(e) for e in result.evidence]
        conflict = result.conflict
        rows.append({
            "verdict": result.verdict, "confidence": result.confidence, "needs_review": result.needs_review,
            "explanation": result.explanation,
            "evidence": json.dumps(evidence, ensure_ascii=False),
            "evidence_text": evidence[0]["text"] if evidence else "",
            "evidence_source": evidence[0]["source"] if evidence else "",
            "conflict": json.dumps({"supporting": _evidence_cell(conflict.supporting),
                                    "contradicting": _evidence_cell(conflict.contradicting)}, ensure_ascii=False)
            if conflict else "",
            "error": "; ".join(note + result.notes),
        })
    return rows


def run_batch(checker, input_path: Path, output_path: Path, column: str | None = None,
              output_format: str = "csv", resume: bool = False, progress: bool | None = None) -> BatchSummary:
    """Check every row of ``input_path`` and write ``output_path`` (csv or jsonl)."""
    if output_format not in ("csv", "jsonl"):
        raise FactCheckError(f"unknown output format '{output_format}' (use csv or jsonl)")
    if output_path.is_dir():
        raise FactCheckError(f"{output_path} is a folder; give a file name for the output")
    if output_path.resolve() == input_path.resolve():
        raise FactCheckError(f"{output_path}: the output would replace the input; write to another file")
    fmt = detect_format(input_path)
    chunk_rows = checker.config.batch.chunk_rows
    try:
        header = next(iter(_reader(input_path, fmt, 1)), None)
    except pd.errors.EmptyDataError:
        raise FactCheckError(f"{input_path}: file is empty") from None
    except pd.errors.ParserError as exc:
        raise FactCheckError(f"{input_path}: not a readable CSV ({str(exc).splitlines()[0]})") from None
    if header is None or header.empty:
        raise FactCheckError(f"{input_path}: has a header but no rows")
    columns = [str(c) for c in header.columns]
    text_column = choose_text_column(columns, column, checker.config.batch.text_column_candidates)
    names = _result_columns(columns)

    output_path.parent.mkdir(parents=True, exist_ok=True)
    partial = output_path.with_name(output_path.name + ".partial")
    progress_file = _progress_path(partial)
    state = {"input": str(input_path.resolve()), "fingerprint": _fingerprint(input_path), "column": text_column,
             "format": output_format, "rows_done": 0, "bytes_done": 0}
    if resume and partial.exists() and progress_file.exists():
        saved = json.loads(progress_file.read_text(encoding="utf-8"))
        if {k: saved.get(k) for k in ("input", "fingerprint", "column", "format")} != \
                {k: state[k] for k in ("input", "fingerprint", "column", "format")}:
            raise FactCheckError("cannot resume: the input file, column or format changed since the interrupted run")
        state = saved
        with open(partial, "r+b") as handle:  # drop anything written after the last recorded chunk
            handle.truncate(state["bytes_done"])
    elif resume:
        raise FactCheckError(f"nothing to resume: no interrupted run for {output_path}")
    else:
        partial.unlink(missing_ok=True)
    resumed_from = state["rows_done"]

    show = sys.stderr.isatty() if progress is None else progress
    bar = None
    if show:
        from tqdm import tqdm

        bar = tqdm(total=_estimate_rows(input_path), initial=resumed_from, unit="rij", desc="controleren",
                   file=sys.stderr, dynamic_ncols=True)
    counts: dict[str, int] = {}
    to_skip = state["rows_done"]  # rows already in the partial output
    try:
        for chunk in _reader(input_path, fmt, chunk_rows):
            if to_skip >= len(chunk):
                to_skip -= len(chunk)
                continue
            chunk, to_skip = chunk.iloc[to_skip:], 0
            results = _row_results(checker, list(chunk[text_column].astype(str)))
            out = chunk.copy()
            for key, name in names.items():
                out[name] = [row[key] for row in results]
            for row in results:
                counts[row["verdict"]] = counts.get(row["verdict"], 0) + 1
            _append(partial, out, output_format, write_header=state["rows_done"] == 0)
            state["rows_done"] += len(out)
            state["bytes_done"] = partial.stat().st_size
            write_text_atomically(progress_file, json.dumps(state))
            if bar is not None:
                bar.update(len(out))
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise FactCheckError(f"{input_path}: unreadable near row {state['rows_done'] + 1} "
                             f"({str(exc).splitlines()[0]}); {state['rows_done']} rows are saved, "
                             f"fix the file and run again with --resume") from None
    finally:
        if bar is not None:
            bar.close()
    if state["rows_done"] == 0:
        raise FactCheckError(f"{input_path}: has a header but no rows")
    os.replace(partial, output_path)
    progress_file.unlink(missing_ok=True)
    return BatchSummary(state["rows_done"], resumed_from, output_path, counts, text_column)


def _append(partial: Path, frame: pd.DataFrame, output_format: str, write_header: bool) -> None:
    with open(partial, "a", encoding="utf-8", newline="") as handle:
        if output_format == "csv":
            frame.map(neutralise_formula).to_csv(handle, index=False, header=write_header)
        else:
            for record in frame.to_dict("records"):
                handle.write(json.dumps(record, ensure_ascii=False) + "\n")
        handle.flush()
        os.fsync(handle.fileno())


def _estimate_rows(path: Path) -> int | None:
    """Line count as a row estimate for the progress bar (quoted newlines make it a slight overcount)."""
    try:
        with open(path, "rb") as handle:
            return max(0, sum(block.count(b"\n") for block in iter(lambda: handle.read(1 << 20), b"")) - 1)
    except OSError:
        return None
