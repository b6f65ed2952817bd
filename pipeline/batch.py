"""Batch checking of CSV and Excel files: streaming, resumable, atomic, spreadsheet-safe.

Input: CSV in UTF-8 (with or without BOM), UTF-16 with BOM or cp1252/latin-1, delimiter sniffed among
``,`` ``;`` and tab; or a sheet of an ``.xlsx`` workbook. Output keeps every input column in order and adds
the verdict columns. Rows are read, checked and written ``chunk_rows`` at a time, so memory stays flat
however long the file is. A row that cannot be read as a row (too many or too few fields, a quote that is
never closed) is not checked: it keeps its place in the output with empty verdict cells and an ``error``
naming its line, and the other rows are checked as usual. Work goes to ``OUT.partial`` with a small
progress record beside it; only a finished run is renamed to OUT, and ``--resume`` continues a partial run
without losing or repeating rows.
"""
from __future__ import annotations

import codecs
import csv
import io
import json
import os
import sys
from contextlib import closing
from dataclasses import dataclass
from itertools import islice, tee
from pathlib import Path
from typing import Iterator, NamedTuple, Protocol

import pandas as pd

from .config import Config
from .errors import FactCheckError
from .storage import loading_artefact, write_text_atomically

RESULT_COLUMNS = ("verdict", "confidence", "needs_review", "explanation", "stance", "checked_claim", "evidence",
                  "evidence_text", "evidence_source", "conflict", "error")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_SAMPLE_BYTES = 1 << 16
EXCEL_SUFFIXES = (".xlsx", ".xlsm")


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


# --------------------------------------------------------------------------- rows, for batch

class InputRow(NamedTuple):  # a tuple: one is made per row, and tuples are made fastest
    line: int               # where the row starts: the line of a CSV file, the row number of a sheet
    cells: list[str]        # one per column of the header
    problem: str | None     # why the row cannot be checked ("regel 7: 5 velden, verwacht 3"), else None


class _Record(NamedTuple):
    line: int               # the line (CSV) or row number (sheet) it starts on
    fields: list[str]
    unclosed_quote: bool    # the file ended inside a quoted field of this record


def _csv_records(path: Path) -> Iterator[_Record]:
    """Each non-blank record of a CSV file. The csv module parses the records (pandas' fast parser stops at the first ragged one and cannot tell
    a short row from empty cells)."""
    fmt = detect_format(path)
    # A field cannot be longer than the file; the module's default limit (128 KiB) would refuse a long post.
    csv.field_size_limit(max(csv.field_size_limit(), path.stat().st_size))
    ended = False

    def lines(handle) -> Iterator[str]:
        nonlocal ended
        for line in handle:
            yield line.replace("\x00", "\ufffd")  # NUL stays visible, so the row can be flagged
        # The reader asks for another line after a complete record only to find the next one, so reaching
        # the end while a record is still open means its quote was never closed.
        ended = True

    with open(path, encoding=fmt.encoding, newline="") as handle:
        reader = csv.reader(lines(handle), delimiter=fmt.delimiter)
        lines_before = 0
        for fields in reader:
            first_line, lines_before = lines_before + 1, reader.line_num
            if fields:  # a blank line is no row
                yield _Record(first_line, fields, ended)


def _sheet_records(path: Path, sheet: str | None) -> Iterator[_Record]:
    """Each non-empty row of a sheet of an .xlsx workbook, as cell texts, read in openpyxl's read-only mode
    (row by row, never the whole sheet in memory)."""
    from openpyxl import load_workbook

    _check_is_file(path)
    fix = "open it in Excel and save it again as .xlsx, or export it as CSV"
    with loading_artefact(path, fix):
        book = load_workbook(path, read_only=True, data_only=True)  # data_only: formulas give their values
    try:
        if sheet is not None and sheet not in book.sheetnames:
            raise FactCheckError(f"{path}: no sheet '{sheet}'; the sheets are: {', '.join(book.sheetnames)}")
        rows = (book[sheet] if sheet is not None else book.worksheets[0]).iter_rows(values_only=True)
        width = None
        with loading_artefact(path, fix):  # a damaged sheet shows only as its rows are read
            for number, values in enumerate(rows, 1):
                cells = ["" if value is None else str(value) for value in values]
                if not any(cell.strip() for cell in cells):
                    continue
                if width is None:  # the header ends at its last named column; read-only rows span the sheet
                    while not cells[-1].strip():
                        cells.pop()
                    width = len(cells)
                else:  # empty cells at the end of a row are empty fields, not missing ones
                    cells += [""] * (width - len(cells))
                yield _Record(number, cells, False)
    finally:
        book.close()


def _check_is_file(path: Path) -> None:
    if not path.exists():
        raise FactCheckError(f"{path}: file not found")
    if path.is_dir():
        raise FactCheckError(f"{path}: is a directory, not a CSV or Excel file")


def _records(path: Path, sheet: str | None) -> Iterator[_Record]:
    if path.suffix.lower() in EXCEL_SUFFIXES:
        return _sheet_records(path, sheet)
    if sheet is not None:
        raise FactCheckError(f"--sheet is for .xlsx input; {path} is read as CSV")
    if path.suffix.lower() == ".xls":
        raise FactCheckError(f"{path}: the old Excel format (.xls) is not read; save it as .xlsx or CSV")
    return _csv_records(path)


def _column_names(header: list[str]) -> list[str]:
    """Header cells as column names: a blank one becomes ``Unnamed: i`` and a repeated one gets ``.1``,
    ``.2`` (as pandas names them), so that every column can be addressed."""
    names: list[str] = []
    for position, cell in enumerate(header):
        name = cell if cell.strip() else f"Unnamed: {position}"
        base, repeat = name, 0
        while name in names:
            repeat += 1
            name = f"{base}.{repeat}"
        names.append(name)
    return names


def read_columns(path: Path, sheet: str | None = None) -> list[str]:
    """The input's column names; a one-line error when it is empty or has no row under its header."""
    try:
        with closing(_records(path, sheet)) as records:
            header = next(records, None)
            if header is None:
                raise FactCheckError(f"{path}: file is empty")
            if header.unclosed_quote:
                raise FactCheckError(f"{path}: a quote in the header (line {header.line}) is never closed")
            if next(records, None) is None:
                raise FactCheckError(f"{path}: has a header but no rows")
    except (csv.Error, UnicodeDecodeError) as exc:
        raise FactCheckError(f"{path}: not a readable CSV ({str(exc).splitlines()[0]})") from None
    return _column_names(header.fields)


def read_rows(path: Path, sheet: str | None = None) -> Iterator[InputRow]:
    """Every row under the header, in order, as many cells as the header has; a row that does not fit the
    header is marked with its problem instead of being guessed at."""
    with closing(_records(path, sheet)) as records:
        header = next(records, None)
        width = len(header.fields) if header is not None else 0
        for line, fields, unclosed_quote in records:
            problem = None
            if unclosed_quote:
                problem = f"regel {line}: aanhalingsteken niet gesloten"
            # Blank fields past the header (a trailing delimiter) lose nothing; other extra or missing ones
            # mean the fields cannot be matched to the columns.
            elif len(fields) < width or any(field.strip() for field in fields[width:]):
                problem = f"regel {line}: {len(fields)} velden, verwacht {width}"
            yield InputRow(line, fields if len(fields) == width else (fields + [""] * width)[:width], problem)


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
    unreadable: int = 0     # rows written with an error instead of a verdict (this run)


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
            "stance": result.stance or "", "checked_claim": result.checked_claim or "",
            "evidence": json.dumps(evidence, ensure_ascii=False),
            "evidence_text": evidence[0]["text"] if evidence else "",
            "evidence_source": evidence[0]["source"] if evidence else "",
            "conflict": json.dumps({"supporting": _evidence_cell(conflict.supporting),
                                    "contradicting": _evidence_cell(conflict.contradicting)}, ensure_ascii=False)
            if conflict else "",
            "error": "; ".join(note + result.notes),
        })
    return rows


def _unreadable_row(problem: str) -> dict:
    """The result cells of a row that could not be read: empty, but for the error naming its line."""
    return dict.fromkeys(RESULT_COLUMNS) | {"error": problem}


def _in_chunks(rows: Iterator[InputRow], size: int) -> Iterator[list[InputRow]]:
    while chunk := list(islice(rows, size)):
        yield chunk


class ChunkEngine(Protocol):
    """Checks chunks of texts: the result rows of each chunk, in order (``LocalEngine`` here, or
    ``distributed.DaskEngine``, which checks later chunks on other processes meanwhile)."""
    config: Config

    def check_chunks(self, texts_per_chunk: Iterator[list[str]]) -> Iterator[list[dict]]: ...


class LocalEngine:
    """The default engine: this process's FactChecker, one chunk after the other."""

    def __init__(self, checker):
        self.checker, self.config = checker, checker.config

    def check_chunks(self, texts_per_chunk: Iterator[list[str]]) -> Iterator[list[dict]]:
        return (_row_results(self.checker, texts) if texts else [] for texts in texts_per_chunk)


def run_batch(checker, input_path: Path, output_path: Path, column: str | None = None,
              output_format: str = "csv", resume: bool = False, progress: bool | None = None,
              sheet: str | None = None, engine: ChunkEngine | None = None, memory=None) -> BatchSummary:
    """Check every row of ``input_path`` (CSV, or ``sheet`` of an .xlsx workbook, default its first) and
    write ``output_path`` (csv or jsonl). ``engine`` checks the texts (default: ``checker``, here); with
    one, ``checker`` may be None. ``memory`` (a workbench ``ClaimMemory``) adds a ``memory`` column: what
    moderators decided on the same claim before."""
    engine = engine or LocalEngine(checker)
    if output_format not in ("csv", "jsonl"):
        raise FactCheckError(f"unknown output format '{output_format}' (use csv or jsonl)")
    if output_path.is_dir():
        raise FactCheckError(f"{output_path} is a folder; give a file name for the output")
    if output_path.resolve() == input_path.resolve():
        raise FactCheckError(f"{output_path}: the output would replace the input; write to another file")
    chunk_rows = engine.config.batch.chunk_rows
    columns = read_columns(input_path, sheet)
    text_column = choose_text_column(columns, column, engine.config.batch.text_column_candidates)
    names = _result_columns(columns)
    if memory is not None:
        names["memory"] = "factcheck_memory" if "memory" in columns else "memory"

    output_path.parent.mkdir(parents=True, exist_ok=True)
    partial = output_path.with_name(output_path.name + ".partial")
    progress_file = _progress_path(partial)
    state = {"input": str(input_path.resolve()), "fingerprint": _fingerprint(input_path), "column": text_column,
             "format": output_format, "sheet": sheet, "rows_done": 0, "bytes_done": 0}
    if resume and partial.exists() and progress_file.exists():
        saved = json.loads(progress_file.read_text(encoding="utf-8"))
        same_job = ("input", "fingerprint", "column", "format", "sheet")
        if {k: saved.get(k) for k in same_job} != {k: state[k] for k in same_job}:
            raise FactCheckError("cannot resume: the input file, sheet, column or format changed since the "
                                 "interrupted run")
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

        bar = tqdm(total=_estimate_rows(input_path, sheet), initial=resumed_from, unit="rij", desc="controleren",
                   file=sys.stderr, dynamic_ncols=True)
    counts: dict[str, int] = {}
    unreadable = 0
    text_position = columns.index(text_column)
    rows = read_rows(input_path, sheet)
    # Rows already in the partial output are skipped; the reader is deterministic for an unchanged file.
    rows_to_check = islice(rows, state["rows_done"], None)
    try:
        # The engine may read chunks ahead (to keep other processes busy); tee keeps those rows for writing.
        chunks, chunks_to_check = tee(_in_chunks(rows_to_check, chunk_rows))
        texts = ([row.cells[text_position] for row in chunk if row.problem is None] for chunk in chunks_to_check)
        for chunk, checked_rows in zip(chunks, engine.check_chunks(texts)):
            checked = iter(checked_rows)
            results = [next(checked) if row.problem is None else _unreadable_row(row.problem) for row in chunk]
            if memory is not None:
                memory.annotate(results)
            out = pd.DataFrame([row.cells for row in chunk], columns=columns)
            for key, name in names.items():
                out[name] = [row[key] for row in results]
            for row in results:
                if row["verdict"] is None:
                    unreadable += 1
                else:
                    counts[row["verdict"]] = counts.get(row["verdict"], 0) + 1
            _append(partial, out, output_format, write_header=state["rows_done"] == 0)
            state["rows_done"] += len(out)
            state["bytes_done"] = partial.stat().st_size
            write_text_atomically(progress_file, json.dumps(state))
            if bar is not None:
                bar.update(len(out))
    except (csv.Error, UnicodeDecodeError) as exc:
        # Resuming needs the same file, so after a fix the run starts again.
        raise FactCheckError(f"{input_path}: unreadable near row {state['rows_done'] + 1} "
                             f"({str(exc).splitlines()[0]}); fix the file and run again") from None
    finally:
        rows.close()
        if bar is not None:
            bar.close()
    if state["rows_done"] == 0:
        raise FactCheckError(f"{input_path}: has a header but no rows")
    os.replace(partial, output_path)
    progress_file.unlink(missing_ok=True)
    return BatchSummary(state["rows_done"], resumed_from, output_path, counts, text_column, unreadable)


def _append(partial: Path, frame: pd.DataFrame, output_format: str, write_header: bool) -> None:
    with open(partial, "a", encoding="utf-8", newline="") as handle:
        if output_format == "csv":
            frame.map(neutralise_formula).to_csv(handle, index=False, header=write_header)
        else:
            # An unreadable row leaves numeric cells empty (NaN), which JSON writes as null.
            for record in frame.astype(object).where(frame.notna(), None).to_dict("records"):
                handle.write(json.dumps(record, ensure_ascii=False) + "\n")
        handle.flush()
        os.fsync(handle.fileno())


def _estimate_rows(path: Path, sheet: str | None = None) -> int | None:
    """Line count as a row estimate for the progress bar (quoted newlines make it a slight overcount);
    for a workbook, the sheet's recorded size."""
    if path.suffix.lower() in EXCEL_SUFFIXES:
        from openpyxl import load_workbook

        book = load_workbook(path, read_only=True)
        try:
            rows = (book[sheet] if sheet is not None else book.worksheets[0]).max_row
        finally:
            book.close()
        return max(0, rows - 1) if rows else None
    try:
        with open(path, "rb") as handle:
            return max(0, sum(block.count(b"\n") for block in iter(lambda: handle.read(1 << 20), b"")) - 1)
    except OSError:
        return None
