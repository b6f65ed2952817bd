"""Batch input as it comes from real people (issue #22, point 4): ragged CSV rows get an error naming
their line while the other rows are checked, and Excel workbooks are read directly. Runs over the
fake-encoder pipeline and compares with that checker's own API."""
from __future__ import annotations

import json
import time

import pytest
from openpyxl import Workbook

from pipeline.batch import read_rows, run_batch
from pipeline.errors import FactCheckError
from test_cli_batch import _serve, invoke, one_line_error, read_csv, write_csv

SUPPORTED = "Ketamine verhoogt de bloeddruk en de hartslag."
OTHER = "Snuiven is de meest voorkomende manier van gebruik."
RESULT_CELLS = ("verdict", "confidence", "needs_review", "explanation", "evidence", "evidence_text",
                "evidence_source", "conflict")


@pytest.fixture()
def served(fake_checker, monkeypatch):
    return _serve(monkeypatch, fake_checker)


@pytest.fixture()
def small_chunks(fake_checker, monkeypatch):
    """Two rows per chunk, so that good and bad rows meet chunk boundaries."""
    batch = fake_checker.config.batch.model_copy(update={"chunk_rows": 2})
    monkeypatch.setattr(fake_checker, "config", fake_checker.config.model_copy(update={"batch": batch}))
    return fake_checker


def assert_unreadable(row, error):
    assert row["error"] == error and all(row[cell] == "" for cell in RESULT_CELLS), row


def ragged_file(tmp_path):
    """Line numbers: 1 header, 2-3 a quoted post over two lines, 4 blank, 5 too many fields, 6 too few,
    7 a trailing delimiter (harmless), 8 good."""
    source = tmp_path / "ragged.csv"
    source.write_text("id,post,author\n"
                      f"1,\"{SUPPORTED}\nTweede regel.\",anna\n"
                      "\n"
                      "2,Ketamine is, echt, veilig,bob\n"
                      "3,Ketamine is legaal\n"
                      f"4,{OTHER},carla,\n"
                      f"5,{SUPPORTED},dirk\n", encoding="utf-8")
    return source


def test_ragged_rows_get_an_error_naming_their_line_and_the_rest_is_checked(tmp_path, served):
    result = invoke("batch", ragged_file(tmp_path), "-o", tmp_path / "out.csv")
    assert result.exit_code == 0, result.output
    assert "5 rows checked" in result.output and "2 unreadable (see the error column)" in result.output
    rows = read_csv(tmp_path / "out.csv")
    assert [row["id"] for row in rows] == ["1", "2", "3", "4", "5"]
    assert_unreadable(rows[1], "regel 5: 5 velden, verwacht 3")
    assert_unreadable(rows[2], "regel 6: 2 velden, verwacht 3")
    assert rows[1]["post"] == "Ketamine is" and rows[2]["post"] == "Ketamine is legaal" and rows[2]["author"] == ""
    for row, text in ((rows[0], f"{SUPPORTED}\nTweede regel."), (rows[3], OTHER), (rows[4], SUPPORTED)):
        assert row["post"] == text and row["verdict"] == served.check(text).verdict and row["error"] == ""


def test_a_quote_never_closed_at_the_end_is_one_bad_row(tmp_path, served):
    source = tmp_path / "open.csv"
    source.write_text(f"claim,bron\n{SUPPORTED},a\n{OTHER},b\n\"Ketamine is legaal,c\nen nog iets\n",
                      encoding="utf-8")
    result = invoke("batch", source, "-o", tmp_path / "out.csv")
    assert result.exit_code == 0, result.output
    rows = read_csv(tmp_path / "out.csv")
    assert [row["verdict"] for row in rows[:2]] == [served.check(SUPPORTED).verdict, served.check(OTHER).verdict]
    assert len(rows) == 3 and rows[2]["claim"].startswith("Ketamine is legaal,c")
    assert_unreadable(rows[2], "regel 4: aanhalingsteken niet gesloten")


def test_a_quote_never_closed_in_the_header_is_one_line(tmp_path, served):
    source = tmp_path / "in.csv"
    source.write_text(f"\"claim,bron\n{SUPPORTED},a\n", encoding="utf-8")
    one_line_error(invoke("batch", source, "-o", tmp_path / "out.csv"), "a quote in the header (line 1) is never closed")


def test_ragged_rows_in_jsonl_are_null_and_the_table_shows_their_error(tmp_path, served):
    result = invoke("batch", ragged_file(tmp_path), "-o", tmp_path / "out.jsonl", "--format", "jsonl", "--table")
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text(encoding="utf-8").splitlines()]
    assert records[1]["verdict"] is None and records[1]["confidence"] is None
    assert records[1]["error"] == "regel 5: 5 velden, verwacht 3"
    assert isinstance(records[0]["confidence"], float)
    assert "regel 6: 2 velden" in result.output and "nan" not in result.output


def test_ragged_rows_keep_their_place_across_chunks_and_resume(tmp_path, small_chunks, monkeypatch):
    checker = small_chunks
    lines = ["n,claim"] + [f"{i},{SUPPORTED} ({i})" if i % 3 else f"{i},te,veel" for i in range(9)]
    source = tmp_path / "in.csv"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    whole = run_batch(checker, source, tmp_path / "whole.csv", progress=False)
    assert whole.unreadable == 3 and whole.rows == 9

    original, calls = checker.check_many, {"n": 0}

    def interrupted_on_the_third_chunk(texts, batch_size=64, progress=None):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return original(texts, batch_size=batch_size)

    monkeypatch.setattr(checker, "check_many", interrupted_on_the_third_chunk)
    with pytest.raises(KeyboardInterrupt):
        run_batch(checker, source, tmp_path / "out.csv", progress=False)
    monkeypatch.setattr(checker, "check_many", original)
    resumed = run_batch(checker, source, tmp_path / "out.csv", resume=True, progress=False)
    assert resumed.resumed_from == 4 and resumed.rows == 9
    assert (tmp_path / "out.csv").read_bytes() == (tmp_path / "whole.csv").read_bytes()
    rows = read_csv(tmp_path / "out.csv")
    assert [row["n"] for row in rows] == [str(i) for i in range(9)]
    assert [row["error"] for row in rows if row["verdict"] == ""] == \
        [f"regel {i + 2}: 3 velden, verwacht 2" for i in (0, 3, 6)]


def test_the_row_reader_is_not_noticeably_slower_than_pandas(tmp_path):
    """The csv module reads every row (pandas stops at the first ragged one); for an ordinary file it
    must stay far below the time the rows take to check (over 100 rows a second at best)."""
    import pandas as pd

    rows = 20_000
    source = write_csv(tmp_path / "big.csv", [["id", "post", "author"]]
                       + [[str(i), f"{SUPPORTED} {i}, echt waar", "anna"] for i in range(rows)])
    started = time.perf_counter()
    assert sum(len(chunk) for chunk in pd.read_csv(source, dtype=str, keep_default_na=False, chunksize=256)) == rows
    pandas_seconds = time.perf_counter() - started
    started = time.perf_counter()
    assert sum(1 for row in read_rows(source) if row.problem is None) == rows
    ours = time.perf_counter() - started
    assert ours < max(5 * pandas_seconds, 0.5), (ours, pandas_seconds)


# --------------------------------------------------------------------------- Excel

def workbook(path, sheets: dict[str, list[list]]):
    book = Workbook()
    book.remove(book.active)
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append(row)
    book.save(path)
    return path


def test_xlsx_first_sheet_is_read_by_default(tmp_path, served):
    source = workbook(tmp_path / "posts.xlsx", {
        "Berichten": [["id", "bericht", "datum"], [1, SUPPORTED, None], [], [2, OTHER, 2024], [3, "@moderator " + OTHER]],
        "Anders": [["bericht"], ["Niet deze."]]})
    result = invoke("batch", source, "-o", tmp_path / "out.csv")
    assert result.exit_code == 0, result.output
    rows = read_csv(tmp_path / "out.csv")
    assert list(rows[0])[:3] == ["id", "bericht", "datum"]
    assert [(row["id"], row["datum"]) for row in rows] == [("1", ""), ("2", "2024"), ("3", "")]
    assert rows[0]["verdict"] == served.check(SUPPORTED).verdict and rows[1]["verdict"] == served.check(OTHER).verdict
    assert rows[2]["bericht"].startswith("'@moderator")  # still spreadsheet-safe in the CSV output


def test_xlsx_sheet_option_chunks_and_a_cell_outside_the_header(tmp_path, small_chunks, monkeypatch):
    _serve(monkeypatch, small_chunks)
    rows = [["claim", "bron"]] + [[f"{SUPPORTED} ({i})", "x"] for i in range(5)] + [[OTHER, "y", "los"]]
    source = workbook(tmp_path / "posts.xlsx", {"Eerste": [["tekst"], ["Niet deze."]], "Tweede": rows})
    result = invoke("batch", source, "-o", tmp_path / "out.jsonl", "--format", "jsonl", "--sheet", "Tweede")
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [r["claim"] for r in records[:5]] == [f"{SUPPORTED} ({i})" for i in range(5)]
    assert all(r["verdict"] == small_chunks.check(r["claim"]).verdict for r in records[:5])
    assert records[5]["verdict"] is None and records[5]["error"] == "regel 7: 3 velden, verwacht 2"


def test_a_missing_sheet_names_the_sheets_there_are(tmp_path, served):
    source = workbook(tmp_path / "posts.xlsx", {"Blad1": [["claim"], [SUPPORTED]], "Blad2": [["claim"], [OTHER]]})
    one_line_error(invoke("batch", source, "-o", tmp_path / "out.csv", "--sheet", "Blad3"),
                   "no sheet 'Blad3'; the sheets are: Blad1, Blad2")


@pytest.mark.parametrize("name, content, fragment", [
    ("broken.xlsx", b"PK\x03\x04 not really a workbook", "broken.xlsx is damaged"),
    ("old.xls", b"\xd0\xcf\x11\xe0", "the old Excel format (.xls) is not read"),
    ("empty.xlsx", None, "file is empty"),
    ("header.xlsx", [["claim"]], "has a header but no rows"),
])
def test_bad_workbooks_fail_in_one_line(tmp_path, served, name, content, fragment):
    source = tmp_path / name
    if content is None or isinstance(content, list):
        workbook(source, {"Blad1": content or []})
    else:
        source.write_bytes(content)
    one_line_error(invoke("batch", source, "-o", tmp_path / "out.csv"), fragment)


def test_sheet_is_refused_for_csv_input(tmp_path, served):
    source = write_csv(tmp_path / "in.csv", [["claim"], [SUPPORTED]])
    one_line_error(invoke("batch", source, "-o", tmp_path / "out.csv", "--sheet", "Blad1"), "--sheet is for .xlsx input")


def test_resume_refuses_another_sheet(tmp_path, fake_checker):
    source = workbook(tmp_path / "posts.xlsx", {"A": [["claim"], [SUPPORTED]], "B": [["claim"], [OTHER]]})
    out = tmp_path / "out.csv"
    partial = tmp_path / "out.csv.partial"
    partial.write_text("")
    (tmp_path / "out.csv.partial.progress.json").write_text(json.dumps({
        "input": str(source.resolve()), "fingerprint": {"size": source.stat().st_size, "mtime": source.stat().st_mtime},
        "column": "claim", "format": "csv", "sheet": "A", "rows_done": 0, "bytes_done": 0}))
    with pytest.raises(FactCheckError, match="sheet, column or format changed"):
        run_batch(fake_checker, source, out, resume=True, progress=False, sheet="B")


def test_a_sheet_damaged_partway_is_one_line(tmp_path, served):
    import zipfile

    whole = workbook(tmp_path / "whole.xlsx", {"Blad1": [["claim"]] + [[f"{SUPPORTED} {i}"] for i in range(500)]})
    damaged = tmp_path / "damaged.xlsx"
    with zipfile.ZipFile(whole) as source, zipfile.ZipFile(damaged, "w") as target:
        for name in source.namelist():
            data = source.read(name)
            target.writestr(name, data[: len(data) // 2] if name == "xl/worksheets/sheet1.xml" else data)
    one_line_error(invoke("batch", damaged, "-o", tmp_path / "out.csv"),
                   "damaged.xlsx is damaged (")
