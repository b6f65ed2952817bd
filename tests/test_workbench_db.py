"""The workbench's database layer on SQLite and, where WORKBENCH_TEST_POSTGRES_URL names one (.ci/run
starts PostgreSQL and sets it), on PostgreSQL: migrations, posts and decisions that persist, the queue's
filters in SQL, the claim memory and the export."""
from __future__ import annotations

import csv
import io
import os

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, inspect, text

from pipeline.errors import FactCheckError
from pipeline.workbench.app import create_app
from pipeline.workbench.db import Claim, Post, database_url, open_database, schema_revision, utc_now
from pipeline.workbench.memory import ClaimMemory, MemoryKey, memory_text
from pipeline.workbench.store import QueueFilter, export_decisions, queue, record_decision, submit

POSTGRES_URL = os.environ.get("WORKBENCH_TEST_POSTGRES_URL")
POST = "Microdoseren met K geneest depressie 🙌 #ketamine"


def _empty_postgres() -> str:
    engine = create_engine(database_url(POSTGRES_URL))
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    return POSTGRES_URL


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'werkbank.db'}"
    if not POSTGRES_URL:
        pytest.skip("WORKBENCH_TEST_POSTGRES_URL is not set (.ci/run sets it after starting PostgreSQL)")
    return _empty_postgres()


@pytest.fixture()
def database(url):
    database = open_database(url)
    yield database
    database.close()


@pytest.fixture()
def memory(database, fake_checker):
    return ClaimMemory(database, fake_checker)


def test_the_migrations_build_the_schema_once(url):
    first = open_database(url)
    assert schema_revision(first) == "0001"
    assert {"posts", "claims", "decisions", "alembic_version"} <= set(inspect(first.engine).get_table_names())
    first.close()
    again = open_database(url)  # an up-to-date database is left as it is
    assert schema_revision(again) == "0001"
    again.close()


def test_posts_and_decisions_persist_across_connections(url, fake_checker):
    database = open_database(url)
    memory = ClaimMemory(database, fake_checker)
    [post_id] = submit(database, memory, [POST], "api", "anna")
    with database.reading() as session:
        claim = session.get(Post, post_id).claims[0]
    record_decision(database, claim.id, "unsupported", "te stellig", "bram")
    database.close()
    reopened = open_database(url)
    with reopened.reading() as session:
        post = session.get(Post, post_id)
        assert post.text == POST and post.submitted_by == "anna" and post.source == "api"
        stored = post.claims[0]
        assert stored.normalised == memory_text(stored.checked_claim)
        assert len(np.frombuffer(stored.embedding, dtype=np.float32)) == fake_checker.encoder.dimension
        [decision] = stored.decisions
        assert (decision.verdict, decision.moderator, decision.note, decision.system_verdict) == (
            "unsupported", "bram", "te stellig", stored.verdict)
        assert post.reviewed
    reopened.close()


def test_the_queue_filters_and_orders_in_the_database(database, memory):
    texts = ["Ketamine verhoogt de bloeddruk.", POST, "Ketamine is een verdovingsmiddel.", "Koffie maakt je slim."]
    ids = submit(database, memory, texts, "form")
    with database.reading() as session:
        posts = [session.get(Post, post_id) for post_id in ids]
        first_claim = posts[0].claims[0].id
    least_sure = queue(database, QueueFilter(), 1, 10).posts
    assert [p.confidence for p in least_sure] == sorted(p.confidence for p in posts)
    assert [p.id for p in queue(database, QueueFilter(order="newest"), 1, 10).posts] == sorted(ids, reverse=True)
    record_decision(database, first_claim, "supported", "", "anna")
    assert [p.id for p in queue(database, QueueFilter(reviewed=True), 1, 10).posts] == [ids[0]]
    assert queue(database, QueueFilter(reviewed=False), 1, 10).total == 3
    verdict = posts[1].verdict
    assert {p.id for p in queue(database, QueueFilter(verdict=verdict), 1, 10).posts} == {
        p.id for p in posts if p.verdict == verdict}
    paged = queue(database, QueueFilter(), 2, 3)
    assert (paged.total, paged.pages, paged.page, len(paged.posts)) == (4, 2, 2, 1)
    assert queue(database, QueueFilter(), 99, 3).page == 2  # past the end: the last page


def _reviewed_claim(database, normalised: str, vector, verdict: str, stance: str = "asserts",
                    system_verdict: str = "contradicted", moderator: str = "anna") -> int:
    """A reviewed claim stored directly, to test the memory's rules one by one."""
    with database.transaction() as session:
        post = Post(text=normalised, source="api", submitted_at=utc_now(),
                    verdict=system_verdict, confidence=0.5, needs_review=False, conflict=False, explanation="",
                    result="{}")
        claim = Claim(position=0, text=normalised, checked_claim=normalised, checkable=True, verdict=system_verdict,
                      claim_verdict=system_verdict, stance=stance, confidence=0.5, explanation="", evidence="[]",
                      normalised=normalised, embedding=np.asarray(vector, dtype=np.float32).tobytes(),
                      embedding_model="fake-bag-of-words-64")
        post.claims.append(claim)
        session.add(post)
        session.flush()
        claim_id = claim.id
    record_decision(database, claim_id, verdict, "", moderator)
    return claim_id


def _key(memory, claim: str, system_verdict: str = "contradicted", denied: bool = False) -> MemoryKey:
    return memory.keys([claim], [system_verdict], [denied])[0]


def test_the_memory_matches_the_same_claim_and_proposes_the_latest_decision(database, memory):
    claim = "microdoseren met ketamine geneest depressie"
    stored = _reviewed_claim(database, claim, _key(memory, claim).vector, "contradicted")
    record_decision(database, stored, "unsupported", "na overleg", "bram")
    [match] = memory.lookup([_key(memory, "Microdoseren met K geneest depressie!! 🙌")])
    assert match is not None and match.claim_id == stored
    assert (match.verdict, match.moderator) == ("unsupported", "bram")
    assert match.describe().startswith("eerder beoordeeld: unsupported door bram op ")


def test_the_memory_keeps_claims_apart_that_differ_in_figures_negation_or_verdict(database, memory):
    claim = "in 2020 raakten twee op de vijf patiënten bewusteloos"
    _reviewed_claim(database, claim, _key(memory, claim).vector, "supported", system_verdict="supported")
    found = memory.lookup([_key(memory, "In 2020 raakten vier op de vijf patiënten bewusteloos", "supported"),
                           _key(memory, "In 2020 raakten twee op de vijf patiënten niet bewusteloos", "supported"),
                           _key(memory, "In 2020 raakten twee op de vijf patiënten bewusteloos.", "contradicted"),
                           _key(memory, "In 2020 raakten twee op de vijf patiënten bewusteloos.", "supported")])
    assert found[:3] == [None, None, None]
    assert found[3] is not None and found[3].verdict == "supported"


def test_a_post_that_denies_a_reviewed_claim_gets_the_verdict_turned_round(database, memory):
    claim = "ketamine is sinds 2019 goedgekeurd als medicijn"
    _reviewed_claim(database, claim, _key(memory, claim).vector, "supported", system_verdict="supported")
    [match] = memory.lookup([_key(memory, claim, "supported", denied=True)])
    assert match.verdict == "contradicted"


def test_the_export_lists_every_decision_on_both_databases(database, memory):
    [post_id] = submit(database, memory, [POST], "form")
    with database.reading() as session:
        claim_id = session.get(Post, post_id).claims[0].id
    record_decision(database, claim_id, "supported", "+31 6 123", "anna")
    record_decision(database, claim_id, "contradicted", "", "bram")
    rows = list(csv.DictReader(io.StringIO("".join(export_decisions(database)))))
    assert [(r["moderator"], r["verdict"], r["note"]) for r in rows] == [("anna", "supported", "'+31 6 123"),
                                                                          ("bram", "contradicted", "")]


def test_the_app_runs_on_the_database(url, fake_checker):
    with TestClient(create_app(fake_checker.config, checker=fake_checker, database=url)) as client:
        csrf = client.get("/api/session").json()["csrf_token"]
        post = client.post("/api/posts", json={"text": POST}, headers={"X-CSRF-Token": csrf}).json()["posts"][0]
        response = client.post(f"/api/claims/{post['claims'][0]['id']}/decisions", headers={"X-CSRF-Token": csrf},
                               json={"verdict": "unsupported", "note": "", "moderator": "anna"})
        assert response.status_code == 201
        assert client.get("/api/posts?reviewed=yes").json()["posts"][0]["id"] == post["id"]
        assert client.get("/health").json()["database"] == make_dialect(url)


def make_dialect(url: str) -> str:
    return "postgresql" if url.startswith("postgres") else "sqlite"


def test_a_database_that_cannot_be_reached_is_one_line():
    with pytest.raises(FactCheckError, match=r"cannot open database postgresql\+psycopg://werkbank:\*\*\*@127.0.0.1:9/"):
        open_database("postgresql://werkbank:geheim@127.0.0.1:9/werkbank")
    with pytest.raises(FactCheckError, match="only sqlite and postgresql are supported"):
        open_database("mysql://x@localhost/y")


def test_a_relative_sqlite_path_is_relative_to_the_project_root():
    from pipeline.config import PROJECT_ROOT

    assert database_url("sqlite:///build/workbench.db") == f"sqlite:///{PROJECT_ROOT / 'build/workbench.db'}"
    assert database_url("/tmp/x.db") == "sqlite:////tmp/x.db"
    assert database_url("postgresql://u:p@h/d").startswith("postgresql+psycopg://u:p@h/d")
