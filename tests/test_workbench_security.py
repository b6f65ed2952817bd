"""The workbench's safety rules, driven for real: where it may listen, logins with argon2 hashes,
sessions, CSRF tokens on every state-changing request, escaping, and upload limits."""
from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

import pipeline.cli as cli
from pipeline.errors import FactCheckError
from pipeline.workbench.app import create_app
from pipeline.workbench.security import check_bind, hash_password, is_local, verify_login

POST = "Ketamine verhoogt de bloeddruk."
runner = CliRunner()


def _with_workbench(config, **changes):
    return config.model_copy(update={"workbench": config.workbench.model_copy(update=changes)})


@pytest.fixture()
def client(fake_checker, tmp_path):
    with TestClient(create_app(fake_checker.config, checker=fake_checker, database=str(tmp_path / "w.db"))) as client:
        yield client


def token(client) -> str:
    return client.get("/api/session").json()["csrf_token"]


def one_line_error(result, fragment: str):
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and fragment in lines[0], result.output


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "localhost", "::1", "[::1]"])
def test_loopback_addresses_are_local(host):
    assert is_local(host)
    check_bind(host, {})


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.20", "10.0.0.5", "werkbank.example.nl"])
def test_a_non_local_bind_without_a_login_refuses_to_start(host):
    with pytest.raises(FactCheckError, match=f"refusing to listen on {host} without a moderator login"):
        check_bind(host, {})
    check_bind(host, {"anna": hash_password("een lang wachtwoord")})


def test_serve_on_all_addresses_without_a_login_stops_with_one_line(tmp_path):
    result = runner.invoke(cli.app, ["serve", "--host", "0.0.0.0", "--database", str(tmp_path / "w.db")])
    one_line_error(result, "refusing to listen on 0.0.0.0 without a moderator login")
    assert not (tmp_path / "w.db").exists()  # refused before anything was opened


def test_a_plain_password_in_the_config_is_refused():
    with pytest.raises(FactCheckError, match="workbench.logins.anna is not an argon2 hash"):
        check_bind("127.0.0.1", {"anna": "geheim123"})


def test_passwords_are_stored_as_argon2_hashes():
    stored = hash_password("correct paard batterij")
    assert stored.startswith("$argon2id$") and "correct" not in stored
    logins = {"anna": stored}
    assert verify_login(logins, "anna", "correct paard batterij")
    assert not verify_login(logins, "anna", "fout wachtwoord")
    assert not verify_login(logins, "bram", "correct paard batterij")
    with pytest.raises(FactCheckError, match="at least 8 characters"):
        hash_password("kort")


def test_hash_password_prints_a_hash_that_logs_in():
    result = runner.invoke(cli.app, ["serve", "--hash-password"], input="mijn wachtwoord\nmijn wachtwoord\n")
    assert result.exit_code == 0, result.output
    stored = result.output.strip().splitlines()[-1]
    assert verify_login({"anna": stored}, "anna", "mijn wachtwoord")


def test_a_post_without_a_csrf_token_is_refused_and_nothing_is_stored(client):
    token(client)  # a session exists; the form just does not carry its token
    response = client.post("/posts", data={"text": POST}, follow_redirects=False)
    assert response.status_code == 403 and "CSRF" in response.text
    response = client.post("/posts", data={"text": POST, "csrf_token": "geraden"}, follow_redirects=False)
    assert response.status_code == 403
    response = client.post("/api/posts", json={"text": POST})
    assert response.status_code == 403 and "CSRF" in response.json()["error"]
    assert client.get("/api/posts").json()["total"] == 0


def test_a_token_of_another_session_is_refused(client, fake_checker, tmp_path):
    stolen = token(client)
    with TestClient(create_app(fake_checker.config, checker=fake_checker, database=str(tmp_path / "w.db"))) as other:
        token(other)
        assert other.post("/api/posts", json={"text": POST}, headers={"X-CSRF-Token": stolen}).status_code == 403


def test_decisions_and_uploads_need_the_token_too(client):
    posted = client.post("/api/posts", json={"text": POST}, headers={"X-CSRF-Token": token(client)}).json()
    claim_id = posted["posts"][0]["claims"][0]["id"]
    response = client.post(f"/claims/{claim_id}/decision", data={"verdict": "supported", "moderator": "anna"})
    assert response.status_code == 403
    response = client.post(f"/api/claims/{claim_id}/decisions", json={"verdict": "supported", "moderator": "anna"})
    assert response.status_code == 403
    response = client.post("/upload", files={"file": ("b.csv", b"bericht\nKetamine is veilig.\n", "text/csv")})
    assert response.status_code == 403
    assert client.get(f"/api/posts/{posted['posts'][0]['id']}").json()["claims"][0]["decisions"] == []
    assert client.get("/api/posts").json()["total"] == 1


def test_a_post_containing_script_is_shown_as_text(client):
    text = '<script>alert("x")</script> Ketamine verhoogt de bloeddruk. <img src=x onerror=alert(1)>'
    response = client.post("/posts", data={"text": text, "csrf_token": token(client)})
    assert response.status_code == 200
    for page in (response.text, client.get("/").text):
        assert "<script>alert" not in page and "<img src=x" not in page
        assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page
    assert "Content-Security-Policy" in response.headers
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Frame-Options"] == "DENY"


def test_an_uploaded_cell_with_markup_is_shown_as_text(client):
    content = 'bericht\n"<b onmouseover=alert(1)>Ketamine</b> is veilig"\n'.encode()
    client.post("/upload", data={"csrf_token": token(client)}, files={"file": ("b.csv", content, "text/csv")})
    page = client.get("/").text
    assert "<b onmouseover" not in page and "&lt;b onmouseover=alert(1)&gt;Ketamine&lt;/b&gt;" in page


def test_an_upload_over_the_size_limit_is_refused(fake_checker, tmp_path):
    config = _with_workbench(fake_checker.config, max_upload_bytes=2048)
    with TestClient(create_app(config, checker=fake_checker, database=str(tmp_path / "w.db"))) as client:
        big = ("bericht\n" + "Ketamine verhoogt de bloeddruk.\n" * 200).encode()
        response = client.post("/upload", data={"csrf_token": token(client)}, files={"file": ("b.csv", big, "text/csv")})
        assert response.status_code == 400 and "groter dan 2048 bytes" in response.text
        huge = b"x" * (2048 + (1 << 17))
        response = client.post("/upload", data={"csrf_token": token(client)}, files={"file": ("b.csv", huge, "text/csv")})
        assert response.status_code == 413
        assert client.get("/api/posts").json()["total"] == 0


def test_with_logins_every_page_needs_a_session(fake_checker, tmp_path):
    config = _with_workbench(fake_checker.config, logins={"anna": hash_password("een lang wachtwoord")})
    with TestClient(create_app(config, checker=fake_checker, database=str(tmp_path / "w.db"))) as client:
        assert client.get("/health").status_code == 200
        response = client.get("/", follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"].startswith("/login")
        assert client.get("/api/posts").status_code == 401
        assert client.get("/export.csv", follow_redirects=False).status_code == 303
        csrf = token(client)
        wrong = client.post("/login", data={"name": "anna", "password": "fout", "csrf_token": csrf}, follow_redirects=True)
        assert "naam of wachtwoord klopt niet" in wrong.text
        assert client.get("/api/posts").status_code == 401
        response = client.post("/login", data={"name": "anna", "password": "een lang wachtwoord", "csrf_token": csrf},
                               follow_redirects=False)
        assert response.status_code == 303
        assert client.get("/api/session").json()["moderator"] == "anna"
        new_token = token(client)
        assert new_token != csrf  # a new session at login
        posted = client.post("/api/posts", json={"text": POST}, headers={"X-CSRF-Token": new_token}).json()
        claim_id = posted["posts"][0]["claims"][0]["id"]
        # The name typed in a request does not count: the decision is the logged-in moderator's.
        decision = client.post(f"/api/claims/{claim_id}/decisions", headers={"X-CSRF-Token": new_token},
                               json={"verdict": "supported", "moderator": "mallory"}).json()
        assert decision["moderator"] == "anna"
        client.post("/logout", data={"csrf_token": new_token})
        assert client.get("/api/posts").status_code == 401
