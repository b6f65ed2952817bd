"""`factcheck batch --memory DB`: each row says what moderators decided before on the same claim, read
from a workbench database (the fake-encoder pipeline stands in for the model)."""
from __future__ import annotations

import csv

from typer.testing import CliRunner

import pipeline.cli as cli
from pipeline.workbench.db import Post, open_database
from pipeline.workbench.memory import ClaimMemory, dutch_date
from pipeline.workbench.store import record_decision, submit

runner = CliRunner()
REVIEWED = "Microdoseren met K geneest depressie 🙌 #ketamine"


def test_batch_with_memory_adds_the_earlier_decision(fake_checker, monkeypatch, tmp_path):
    monkeypatch.setattr(cli, "_checker", lambda config, require_model=True, overrides=None: fake_checker)
    database_path = tmp_path / "werkbank.db"
    database = open_database(str(database_path))
    [post_id] = submit(database, ClaimMemory(database, fake_checker), [REVIEWED], "form")
    with database.reading() as session:
        claim_id = session.get(Post, post_id).claims[0].id
    decision = record_decision(database, claim_id, "unsupported", "", "anna")
    database.close()
    source = tmp_path / "posts.csv"
    with open(source, "w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows([["post"], ["microdoseren met ketamine geneest depressie!!"],
                                      ["Ketamine is sinds 2019 goedgekeurd bij depressie."], ["a,b"]])
    output = tmp_path / "out.csv"
    result = runner.invoke(cli.app, ["batch", str(source), "-o", str(output), "--memory", str(database_path)])
    assert result.exit_code == 0, result.output
    with open(output, encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    when = dutch_date(decision.decided_at)
    assert [row["memory"] for row in rows] == [f"eerder beoordeeld: unsupported door anna op {when}", "", ""]


def test_batch_memory_that_cannot_be_opened_is_one_line(fake_checker, monkeypatch, tmp_path):
    monkeypatch.setattr(cli, "_checker", lambda config, require_model=True, overrides=None: fake_checker)
    source = tmp_path / "posts.csv"
    source.write_text("post\nKetamine verhoogt de bloeddruk.\n", encoding="utf-8")
    result = runner.invoke(cli.app, ["batch", str(source), "-o", str(tmp_path / "o.csv"),
                                     "--memory", "postgresql://x:y@127.0.0.1:9/nee"])
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: cannot open database postgresql+psycopg://x:***@")
