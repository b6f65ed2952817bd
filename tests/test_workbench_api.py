"""The workbench's pages and JSON API, driven with FastAPI's test client over the fake-encoder pipeline
(real corpus, real labelled claims): what a moderator submits, sees, decides and exports."""
from __future__ import annotations

import csv
import io
import re
import time
from html import unescape

import pytest
from fastapi.testclient import TestClient

from pipeline.workbench.app import create_app
from pipeline.workbench.memory import dutch_date

CONTRADICTED_POST = "Microdoseren met K geneest depressie 🙌 #ketamine"


@pytest.fixture()
def client(fake_checker, tmp_path):
    app = create_app(fake_checker.config, checker=fake_checker, database=str(tmp_path / "werkbank.db"))
    with TestClient(app) as client:
        yield client


def token(client) -> str:
    return client.get("/api/session").json()["csrf_token"]


def submit(client, text: str) -> int:
    response = client.post("/posts", data={"text": text, "csrf_token": token(client)}, follow_redirects=False)
    assert response.status_code == 303, response.text
    return int(response.headers["location"].rsplit("/", 1)[1])


def api_post(client, texts: list[str]) -> list[dict]:
    response = client.post("/api/posts", json={"texts": texts}, headers={"X-CSRF-Token": token(client)})
    assert response.status_code == 201, response.text
    return response.json()["posts"]


def decide(client, claim_id: int, verdict: str, note: str = "", moderator: str = "anna", post_id: int = 0):
    return client.post(f"/claims/{claim_id}/decision", follow_redirects=False,
                       data={"verdict": verdict, "note": note, "moderator": moderator, "post_id": post_id,
                             "csrf_token": token(client)})


def page_text(html: str) -> str:
    return unescape(re.sub(r"<[^>]+>", " ", html))


def test_health_says_ready_when_the_checker_is_loaded(client):
    response = client.get("/health")
    assert response.status_code == 200 and response.json()["status"] == "ready"
    assert response.json()["database"] == "sqlite"


def test_a_submitted_post_shows_the_checkers_verdict_and_its_passage_in_the_document(client, fake_checker):
    expected = fake_checker.check(CONTRADICTED_POST)
    post_id = submit(client, CONTRADICTED_POST)
    html = client.get(f"/posts/{post_id}").text
    assert f'id="post-verdict">{expected.verdict}<' in html
    evidence = expected.claims[0].evidence[0]
    document = fake_checker.index.documents[evidence.doc_id]
    # The passage is highlighted among its neighbours, cut from the document at the stored offsets.
    marked = re.findall(r"<mark>(.*?)</mark>", html, re.S)
    assert unescape(marked[0]) == document["clean_text"][evidence.start:evidence.end]
    before = document["clean_text"][:evidence.start]
    context = re.search(r'<p class="context">(.*?)<mark>', html, re.S).group(1)
    assert before.endswith(unescape(context)) and unescape(context).strip()
    assert document["meta"]["title"] in page_text(html)
    if document["meta"]["date"]:
        assert dutch_date(document["meta"]["date"]) in page_text(html)
    link = f'/documents/{evidence.doc_id}?start={evidence.start}&amp;end={evidence.end}#t-{evidence.start}-{evidence.end}'
    assert link in html


def test_the_document_page_has_an_anchor_on_every_passage_and_marks_the_linked_one(client, fake_checker):
    passage = next(p for p in fake_checker.index.passages if p.doc_id == "factsheet-ketamine" and p.start > 0)
    html = client.get(f"/documents/{passage.doc_id}?start={passage.start}&end={passage.end}").text
    anchors = re.findall(r'<span id="t-(\d+)-(\d+)" class="passage( marked)?">', html)
    expected = [(p.start, p.end) for p in fake_checker.index.passages if p.doc_id == passage.doc_id]
    assert [(int(a), int(b)) for a, b, _ in anchors] == expected
    assert [(int(a), int(b)) for a, b, marked in anchors if marked] == [(passage.start, passage.end)]
    # The page holds the whole clean text, in order.
    article = re.search(r'<article class="document">(.*)</article>', html, re.S).group(1)
    assert unescape(re.sub(r"<[^>]+>", "", article)) == fake_checker.index.documents[passage.doc_id]["clean_text"]


def test_the_json_api_returns_what_the_checker_says(client, fake_checker):
    texts = ["Ketamine verhoogt de bloeddruk.", "Ketamine is sinds 2019 in Nederland goedgekeurd bij depressie."]
    posts = api_post(client, texts)
    for post, result in zip(posts, fake_checker.check_many(texts)):
        assert (post["verdict"], post["confidence"]) == (result.verdict, result.confidence)
        assert [c["claim"] for c in post["claims"]] == [c.claim for c in result.claims]
        assert post["claims"][0]["evidence"][0]["passage_id"] == result.claims[0].evidence[0].passage_id
        assert post["reviewed"] is False
    again = client.get(f"/api/posts/{posts[0]['id']}").json()
    assert again["verdict"] == posts[0]["verdict"] and again["text"] == texts[0]


def test_an_override_is_stored_with_name_time_and_note_and_shown_as_history(client, fake_checker):
    post_id = submit(client, CONTRADICTED_POST)
    claim = client.get(f"/api/posts/{post_id}").json()["claims"][0]
    other = next(v for v in ("supported", "unsupported", "contradicted") if v != claim["verdict"])
    assert decide(client, claim["id"], claim["verdict"], "klopt", "anna", post_id).status_code == 303
    response = decide(client, claim["id"], other, "bron is ouder", "bram", post_id)
    assert response.headers["location"] == f"/posts/{post_id}#claim-{claim['id']}"
    decisions = client.get(f"/api/posts/{post_id}").json()["claims"][0]["decisions"]
    assert [(d["action"], d["verdict"], d["moderator"], d["note"]) for d in decisions] == [
        ("accepted", claim["verdict"], "anna", "klopt"), ("overridden", other, "bram", "bron is ouder")]
    assert decisions[0]["decided_at"] <= decisions[1]["decided_at"]
    html = client.get(f"/posts/{post_id}").text
    history = re.search(r'<table class="history">(.*?)</table>', html, re.S).group(1)
    rows = re.findall(r"<tr><td>", history)
    assert len(rows) == 2 and history.index("bram") < history.index("anna")  # newest first
    assert client.get(f"/api/posts/{post_id}").json()["reviewed"] is True


def test_a_decision_needs_a_known_verdict_and_a_name(client):
    post_id = submit(client, CONTRADICTED_POST)
    claim_id = client.get(f"/api/posts/{post_id}").json()["claims"][0]["id"]
    response = decide(client, claim_id, "misschien")
    assert response.status_code == 400 and "onbekend oordeel 'misschien'" in page_text(response.text)
    response = decide(client, claim_id, "supported", moderator=" ")
    assert response.status_code == 400 and "vul je naam in" in page_text(response.text)
    assert decide(client, 999999, "supported").status_code == 404
    assert client.get(f"/api/posts/{post_id}").json()["claims"][0]["decisions"] == []


def test_the_queue_puts_the_least_sure_first_filters_and_pages(fake_checker, tmp_path):
    config = fake_checker.config.model_copy(update={"workbench": fake_checker.config.workbench.model_copy(
        update={"page_size": 2})})
    app = create_app(config, checker=fake_checker, database=str(tmp_path / "queue.db"))
    with TestClient(app) as client:
        texts = ["Ketamine verhoogt de bloeddruk.", CONTRADICTED_POST, "Ketamine is een verdovingsmiddel.",
                 "Ketamine veroorzaakt blaasproblemen bij frequente gebruikers.", "Koffie maakt je slim."]
        posts = api_post(client, texts)
        listed = client.get("/api/posts").json()
        assert listed["total"] == 5 and listed["pages"] == 3 and len(listed["posts"]) == 2
        everything = [p for n in (1, 2, 3) for p in client.get(f"/api/posts?page_number={n}").json()["posts"]]
        assert [p["confidence"] for p in everything] == sorted(p["confidence"] for p in posts)
        verdict = posts[0]["verdict"]
        wanted = {p["id"] for p in posts if p["verdict"] == verdict}
        found = {p["id"] for n in (1, 2, 3) for p in client.get(f"/api/posts?verdict={verdict}&page_number={n}").json()["posts"]}
        assert found == wanted
        claim = posts[0]["claims"][0]
        for c in posts[0]["claims"]:
            decide(client, c["id"], c["verdict"])
        reviewed = client.get("/api/posts?reviewed=yes").json()
        assert [p["id"] for p in reviewed["posts"]] == [posts[0]["id"]] and claim
        assert client.get("/api/posts?reviewed=no").json()["total"] == 4
        assert client.get("/api/posts?conflict=yes").json()["total"] == sum(p["conflict"] for p in posts)
        html = client.get("/?verdict=" + verdict + "&reviewed=all&conflict=all&order=newest").text
        assert f'<option value="{verdict}" selected>' in html
        response = client.get("/api/posts?verdict=waar")
        assert response.status_code == 400 and "onbekend oordeel 'waar'" in response.json()["error"]


def test_an_uploaded_csv_goes_through_the_batch_reader(client, fake_checker):
    # cp1252, semicolons, a row with a field too many and an empty text, as a spreadsheet exports them.
    content = ('id;bericht\n1;"Ketamine verhoogt de bloeddruk."\n2;"te";"veel"\n3;""\n'
               '4;"Ketamine wordt geïnjecteerd als verdovingsmiddel."\n')
    response = client.post("/upload", data={"csrf_token": token(client)}, follow_redirects=True,
                           files={"file": ("berichten.csv", content.encode("cp1252"), "text/csv")})
    assert response.status_code == 200
    text = page_text(response.text)
    assert "2 berichten uit berichten.csv gecontroleerd (kolom 'bericht')" in text
    assert "regel 3: 3 velden, verwacht 2" in text and "regel 4: lege tekst" in text
    listed = client.get("/api/posts?order=newest").json()["posts"]
    assert sorted(p["text"] for p in listed) == ["Ketamine verhoogt de bloeddruk.",
                                                 "Ketamine wordt geïnjecteerd als verdovingsmiddel."]
    assert all(p["source"] == "upload" for p in listed)


def test_an_upload_that_is_not_a_table_is_refused_with_a_reason(client):
    response = client.post("/upload", data={"csrf_token": token(client)},
                           files={"file": ("foto.png", b"\x89PNG....", "image/png")})
    assert response.status_code == 400 and "upload een .csv- of .xlsx-bestand" in page_text(response.text)
    response = client.post("/upload", data={"csrf_token": token(client)},
                           files={"file": ("leeg.csv", b"bericht\n", "text/csv")})
    assert response.status_code == 400 and "has a header but no rows" in page_text(response.text)


def test_the_export_holds_every_decision_and_is_formula_safe(client):
    post_id = submit(client, CONTRADICTED_POST)
    claim = client.get(f"/api/posts/{post_id}").json()["claims"][0]
    decide(client, claim["id"], "supported", "=HYPERLINK(\"http://x\")", "@bram", post_id)
    decide(client, claim["id"], claim["verdict"], "toch niet", "anna", post_id)
    response = client.get("/export.csv")
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [(r["moderator"], r["verdict"], r["note"]) for r in rows] == [
        ("'@bram", "supported", "'=HYPERLINK(\"http://x\")"), ("anna", claim["verdict"], "toch niet")]
    assert rows[0]["post"] == CONTRADICTED_POST and rows[0]["claim_id"] == str(claim["id"])
    assert rows[1]["action"] == "accepted"


def test_a_contradicted_post_gets_a_reply_citing_its_passage(client, fake_checker):
    result = next(r for r in fake_checker.check_many([CONTRADICTED_POST, "Ketamine verhoogt de bloeddruk.",
                                                     "Ketamine is onschadelijk voor de blaas."])
                  if r.verdict == "contradicted")
    post = api_post(client, [result.text])[0]
    evidence = result.evidence[0]
    assert post["reply"].startswith("Dank je voor je bericht!")
    assert f"Volgens {evidence.title}" in post["reply"] and "0900-1995" in post["reply"]
    assert evidence.text[:40] in post["reply"]
    html = client.get(f"/posts/{post['id']}").text
    assert 'id="reply-text"' in html and 'data-copy="reply-text"' in html
    # Once a moderator settles on supported, there is nothing to correct.
    for claim in post["claims"]:
        decide(client, claim["id"], "supported")
    assert client.get(f"/api/posts/{post['id']}").json()["reply"] is None


def test_a_claim_reviewed_before_is_recognised_and_its_verdict_proposed(client):
    first = api_post(client, [CONTRADICTED_POST])[0]
    claim = first["claims"][0]
    other = next(v for v in ("supported", "unsupported") if v != claim["verdict"])
    decide(client, claim["id"], other, "eerder besproken", "anna", first["id"])
    # The same claim in other words: shouting, an emoji, another hashtag.
    second = api_post(client, ["MICRODOSEREN met K geneest depressie!! 😍 #mentalhealth"])[0]
    match = second["claims"][0]["memory"]
    assert match is not None and match["claim_id"] == claim["id"] and match["verdict"] == other
    html = client.get(f"/posts/{second['id']}").text
    today = dutch_date(match["decided_at"][:10])
    assert f"eerder beoordeeld: {other} door anna op {today}" in page_text(html)
    assert f'<option value="{other}" selected>' in html
    # A different claim is not matched.
    third = api_post(client, ["Ketamine is sinds 2019 in Nederland goedgekeurd bij depressie."])[0]
    assert third["claims"][0]["memory"] is None


def test_the_memory_api_matches_a_text_against_reviewed_claims(client):
    first = api_post(client, [CONTRADICTED_POST])[0]
    decide(client, first["claims"][0]["id"], "contradicted", "", "anna", first["id"])
    response = client.post("/api/memory/match", json={"text": "microdoseren met ketamine geneest depressie"},
                           headers={"X-CSRF-Token": token(client)})
    assert response.status_code == 200
    assert response.json()["claims"][0]["match"]["verdict"] == "contradicted"
    bad = client.post("/api/posts", content=b"{nee", headers={"X-CSRF-Token": token(client),
                                                               "content-type": "application/json"})
    assert bad.status_code == 400 and "error" in bad.json()


def test_health_says_loading_then_why_the_model_could_not_load(fake_checker, tmp_path):
    # Without a checker the app loads one at start-up, in the background; here the index is missing.
    config = fake_checker.config.model_copy(update={"paths": fake_checker.config.paths.model_copy(
        update={"index_dir": tmp_path / "geen-index"})})
    with TestClient(create_app(config, database=str(tmp_path / "w.db"))) as client:
        deadline = time.monotonic() + 120
        while (health := client.get("/health")).json()["status"] == "loading":
            assert health.status_code == 503 and time.monotonic() < deadline
            time.sleep(0.1)
        assert health.status_code == 503 and health.json()["status"] == "failed"
        problem = health.json()["problem"]  # no index there (before `make setup`: no model), with the fix
        assert "`factcheck " in problem
        assert problem in page_text(client.get("/").text)  # the queue still opens, and says why
        response = client.post("/posts", data={"text": CONTRADICTED_POST, "csrf_token": token(client)})
        assert response.status_code == 503 and "het model kon niet laden" in page_text(response.text)
