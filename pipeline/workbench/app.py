"""The workbench web app: server-rendered pages (Jinja2, autoescaped) and a JSON API over one FactChecker.

``create_app(config, checker=None, database=None)`` builds the app. Without a checker, the model and the
index load once, in the background, when the server starts; ``GET /health`` answers 503 ``loading`` until
they are ready and 200 ``ready`` after. ``serve`` is what ``factcheck serve`` runs.

Pages: ``/`` the queue (submit, upload, filters, least sure first), ``/posts/{id}`` a post with its claims,
evidence in context, decisions and a suggested reply, ``/documents/{id}`` a source document with anchors,
``/export.csv`` the decisions. JSON: ``/api/session``, ``/api/login``, ``/api/posts``, ``/api/posts/{id}``,
``/api/claims/{id}/decisions``, ``/api/memory/match``.
"""
from __future__ import annotations

import asyncio
import json
import secrets
import socket
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import numpy as np
from fastapi import Depends, FastAPI, File, Form, HTTPException, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response, StreamingResponse
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from starlette.middleware.sessions import SessionMiddleware

from ..batch import EXCEL_SUFFIXES
from ..config import Config
from ..errors import FactCheckError
from ..posts import post_verdict
from .db import VERDICTS, Database, Post, as_utc, open_database
from .memory import ClaimMemory, MemoryKey, dutch_date
from .replies import suggest_reply
from .security import CSRF_FIELD, CSRF_HEADER, check_bind, csrf_token, csrf_valid, is_local, verify_login
from .store import Intake, QueueFilter, export_decisions, load_post, queue, record_decision, submit_file

HERE = Path(__file__).resolve().parent
VERDICT_WORDS = {"supported": "klopt", "contradicted": "klopt niet", "unsupported": "niet onderbouwd"}
STANCE_WORDS = {"asserts": "beweert", "denies": "ontkent", "reports": "geeft door"}
_OPEN_PATHS = ("/health", "/login", "/api/session", "/api/login", "/static/")
_UNSAFE_METHODS = ("POST", "PUT", "PATCH", "DELETE")


@dataclass
class WorkbenchState:
    """What the routes share: settings, the database and, once loaded, the checker and its memory."""

    config: Config
    database: Database
    checker: Any = None
    memory: ClaimMemory | None = None
    intake: Intake | None = None
    status: str = "loading"          # loading | ready | failed
    problem: str | None = None
    passages_by_doc: dict = field(default_factory=dict)

    @property
    def settings(self):
        return self.config.workbench

    def use(self, checker) -> None:
        self.checker = checker
        self.memory = ClaimMemory(self.database, checker)
        self.intake = Intake(self.database, self.memory)
        by_doc: dict[str, list] = {}
        for passage in checker.index.passages:
            by_doc.setdefault(passage.doc_id, []).append(passage)
        self.passages_by_doc = {doc: sorted(items, key=lambda p: p.start) for doc, items in by_doc.items()}
        self.status = "ready"

    def load(self) -> None:
        """Load model, index and verdict model (in a background thread at start-up)."""
        try:
            from ..checker import FactChecker

            checker = FactChecker(self.config)
            checker.load_classifier()
            self.use(checker)
        except FactCheckError as exc:
            self.status, self.problem = "failed", str(exc)
        except Exception as exc:  # noqa: BLE001 - reported by /health, not lost in a thread
            self.status, self.problem = "failed", f"{type(exc).__name__}: {exc}"

    def ready(self) -> tuple[Any, ClaimMemory]:
        if self.status != "ready":
            detail = ("het model wordt nog geladen; probeer het zo opnieuw" if self.status == "loading"
                      else f"het model kon niet laden: {self.problem}")
            raise HTTPException(503, detail)
        return self.checker, self.memory


# --------------------------------------------------------------------------- pages: helpers

def _templates() -> Environment:
    # autoescape=True for every template: select_autoescape would not match the .html.j2 names.
    environment = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=True,
                              undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    environment.filters["dutch_date"] = dutch_date
    environment.filters["verdict_word"] = lambda verdict: VERDICT_WORDS.get(verdict, verdict)
    environment.filters["stance_word"] = lambda stance: STANCE_WORDS.get(stance, stance)
    environment.filters["moment"] = lambda moment: as_utc(moment).strftime("%Y-%m-%d %H:%M UTC")
    return environment


def _moderator(request: Request) -> str | None:
    return request.session.get("moderator")


def _flash(request: Request, message: str) -> None:
    request.session.setdefault("flash", []).append(message)


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def _evidence_in_document(state: WorkbenchState, evidence: dict) -> dict:
    """An evidence passage with the passages around it in its document, cut from the document's clean text
    at the stored offsets: before, the passage itself (highlighted), after."""
    document = state.checker.index.documents.get(evidence["doc_id"]) if state.checker else None
    shown = dict(evidence, before="", after="", anchor=f"t-{evidence['start']}-{evidence['end']}", changed=False,
                 date_text=dutch_date(evidence.get("date")))
    if document is None:
        shown["changed"] = True
        return shown
    text = document["clean_text"]
    if text[evidence["start"]:evidence["end"]] != evidence["text"]:
        shown["changed"] = True  # the corpus was re-indexed since the check; show the stored passage alone
        return shown
    passages = state.passages_by_doc.get(evidence["doc_id"], [])
    around = state.settings.context_passages
    position = next((i for i, p in enumerate(passages) if p.start <= evidence["start"] < max(p.end, p.start + 1)), None)
    if position is None:
        return shown
    first = passages[max(0, position - around)].start
    last = passages[min(len(passages) - 1, position + around)].end
    shown["before"] = text[min(first, evidence["start"]):evidence["start"]]
    shown["after"] = text[evidence["end"]:max(last, evidence["end"])]
    return shown


def _effective_verdicts(post: Post) -> list[tuple[str, float]]:
    """Each claim's verdict as it stands: the latest decision's (certain), else the checker's."""
    return [(claim.latest_decision.verdict, 1.0) if claim.latest_decision else (claim.verdict, claim.confidence)
            for claim in post.claims]


def _post_reply(state: WorkbenchState, post: Post) -> tuple[str, str | None]:
    """The post's verdict as it stands (the checker's rule for posts, with decided claims counted as
    certain) and the suggested reply for it."""
    verdict, deciding = post_verdict(_effective_verdicts(post), state.config.verdict.post_contradicted_margin)
    if verdict == "supported":
        return "supported", None
    claim = post.claims[deciding] if deciding is not None else None
    evidence = claim.evidence_list[0] if claim is not None and claim.checkable and claim.evidence_list else None
    settings = state.settings
    return verdict, suggest_reply(verdict, evidence, settings.reply_footer, settings.reply_quote_chars)


def _claim_json(claim, match) -> dict:
    return {"id": claim.id, "claim": claim.text, "checked_claim": claim.checked_claim, "checkable": claim.checkable,
            "stance": claim.stance, "verdict": claim.verdict, "claim_verdict": claim.claim_verdict,
            "confidence": claim.confidence, "explanation": claim.explanation, "evidence": claim.evidence_list,
            "conflict": claim.conflict_dict, "memory": match.to_dict() if match else None,
            "decisions": [_decision_json(d) for d in claim.decisions]}


def _decision_json(decision) -> dict:
    return {"id": decision.id, "claim_id": decision.claim_id, "action": decision.action, "verdict": decision.verdict,
            "system_verdict": decision.system_verdict, "note": decision.note, "moderator": decision.moderator,
            "decided_at": as_utc(decision.decided_at).isoformat()}


def _post_json(state: WorkbenchState, post: Post, matches=None) -> dict:
    matches = matches or [None] * len(post.claims)
    current, reply = _post_reply(state, post)
    return {"id": post.id, "text": post.text, "source": post.source, "submitted_by": post.submitted_by,
            "submitted_at": as_utc(post.submitted_at).isoformat(), "verdict": post.verdict,
            "confidence": post.confidence, "needs_review": post.needs_review, "conflict": post.conflict,
            "explanation": post.explanation, "reviewed": post.reviewed, "current_verdict": current, "reply": reply,
            "claims": [_claim_json(claim, match) for claim, match in zip(post.claims, matches)]}


def _memory_matches(state: WorkbenchState, post: Post) -> list:
    """Each claim's match among claims reviewed in other posts (stored embeddings; no encoder call)."""
    if state.memory is None:
        return [None] * len(post.claims)
    keys = [MemoryKey(claim.normalised, np.frombuffer(claim.embedding, dtype=np.float32)
                      if claim.embedding is not None and claim.embedding_model == state.memory.model else None,
                      claim.claim_verdict, claim.stance == "denies")
            for claim in post.claims]
    found = state.memory.lookup(keys, exclude_post=post.id)
    return [match if claim.checkable else None for claim, match in zip(post.claims, found)]


def _queue_filter(verdict: str | None, reviewed: str | None, conflict: str | None, order: str | None) -> QueueFilter:
    def flag(value: str | None, name: str) -> bool | None:
        if value in (None, "", "all"):
            return None
        if value in ("yes", "no"):
            return value == "yes"
        raise FactCheckError(f"{name} moet yes, no of all zijn")

    return QueueFilter(verdict or None, flag(reviewed, "reviewed"), flag(conflict, "conflict"), order or "least_sure")


# --------------------------------------------------------------------------- the app

def create_app(config: Config, checker=None, database: str | None = None) -> FastAPI:
    """The workbench over ``checker`` (loaded in the background at start-up when None), storing in
    ``database`` (a URL or SQLite path; default ``workbench.database``)."""
    settings = config.workbench
    state = WorkbenchState(config, open_database(database or settings.database))
    if checker is not None:
        state.use(checker)
    templates = _templates()
    login_required = bool(settings.logins)

    async def guard(request: Request) -> None:
        """Login (where logins are configured) and CSRF, for every route."""
        path = request.url.path
        if login_required and not _moderator(request) and not path.startswith(_OPEN_PATHS):
            if _is_api(request) or request.method in _UNSAFE_METHODS:
                raise HTTPException(401, "log eerst in")
            raise HTTPException(303, headers={"Location": "/login?" + urlencode({"next": str(request.url.path)})})
        if request.method in _UNSAFE_METHODS:
            offered = request.headers.get(CSRF_HEADER)
            if offered is None and request.headers.get("content-type", "").startswith(
                    ("application/x-www-form-urlencoded", "multipart/form-data")):
                offered = (await request.form()).get(CSRF_FIELD)
            if not csrf_valid(request.session, offered):
                raise HTTPException(403, "CSRF-token ontbreekt of klopt niet; laad de pagina opnieuw")

    def lifespan(app: FastAPI):
        from contextlib import asynccontextmanager

        @asynccontextmanager
        async def run(_app):
            if state.status == "loading":
                threading.Thread(target=state.load, name="workbench-load", daemon=True).start()
            yield
            state.database.close()
        return run(app)

    app = FastAPI(title="Moderator-werkbank", dependencies=[Depends(guard)], lifespan=lifespan,
                  docs_url=None, redoc_url=None, openapi_url=None)
    app.state.workbench = state
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")

    @app.middleware("http")
    async def headers_and_limits(request: Request, call_next):
        length = request.headers.get("content-length")
        if length and length.isdigit() and int(length) > settings.max_upload_bytes + (1 << 16):
            return _problem(request, 413, f"het verzoek is groter dan {settings.max_upload_bytes} bytes")
        response = await call_next(request)
        response.headers["Content-Security-Policy"] = ("default-src 'self'; script-src 'self'; style-src 'self'; "
                                                       "img-src 'self' data:; frame-ancestors 'none'; form-action 'self'")
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Referrer-Policy"] = "same-origin"
        return response

    # Added last, so it runs first: every page, error pages included, has its session. A random key per
    # start: a restart ends every login (decisions are in the database, not in the session).
    app.add_middleware(SessionMiddleware, secret_key=secrets.token_urlsafe(32), session_cookie="werkbank",
                       max_age=int(settings.session_hours * 3600), same_site="strict")

    def _problem(request: Request, status: int, message: str, headers: dict | None = None) -> Response:
        if _is_api(request) or request.url.path == "/health":
            return JSONResponse({"error": message}, status_code=status, headers=headers)
        return HTMLResponse(render(request, "error.html.j2", status=status, message=message), status_code=status,
                            headers=headers)

    @app.exception_handler(HTTPException)
    async def http_problem(request: Request, exc: HTTPException):
        if exc.status_code == 303:
            return RedirectResponse(exc.headers["Location"], status_code=303)
        return _problem(request, exc.status_code, str(exc.detail), exc.headers)

    @app.exception_handler(FactCheckError)
    async def input_problem(request: Request, exc: FactCheckError):
        return _problem(request, 400, str(exc))

    @app.exception_handler(RequestValidationError)
    async def malformed(request: Request, exc: RequestValidationError):
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(part) for part in first.get("loc", ()))
        return _problem(request, 400, f"ongeldig verzoek: {where}: {first.get('msg', 'onleesbaar')}")

    @app.exception_handler(LookupError)
    async def missing(request: Request, exc: LookupError):
        return _problem(request, 404, str(exc.args[0]) if exc.args else "niet gevonden")

    def render(request: Request, name: str, **context) -> str:
        flashes = request.session.pop("flash", [])
        return templates.get_template(name).render(
            csrf_token=csrf_token(request.session), moderator=_moderator(request), login_required=login_required,
            flashes=flashes, verdicts=VERDICTS, status=context.pop("status", 200), **context)

    def page(request: Request, name: str, **context) -> HTMLResponse:
        return HTMLResponse(render(request, name, **context))

    def moderator_for(request: Request, typed: str | None) -> str:
        """Who decides: the logged-in moderator, else the name typed in the form (remembered)."""
        if login_required:
            return _moderator(request)
        name = (typed or "").strip()
        if name:
            request.session["moderator"] = name
        return name

    # ------------------------------------------------------------------ health and login
    @app.get("/health")
    def health():
        body = {"status": state.status, "database": state.database.engine.dialect.name}
        if state.problem:
            body["problem"] = state.problem
        return JSONResponse(body, status_code=200 if state.status == "ready" else 503)

    @app.get("/login", response_class=HTMLResponse)
    def login_page(request: Request, next: str = "/"):
        return page(request, "login.html.j2", next=next if next.startswith("/") and not next.startswith("//") else "/")

    def _log_in(request: Request, name: str, password: str) -> bool:
        if not login_required or not verify_login(settings.logins, name, password):
            return False
        request.session.clear()  # a new session (and CSRF token) at login
        request.session["moderator"] = name
        return True

    @app.post("/login")
    def login(request: Request, name: str = Form(""), password: str = Form(""), next: str = Form("/")):
        if not _log_in(request, name.strip(), password):
            _flash(request, "naam of wachtwoord klopt niet" if login_required else "inloggen is hier niet ingesteld")
            return RedirectResponse("/login", status_code=303)
        return RedirectResponse(next if next.startswith("/") and not next.startswith("//") else "/", status_code=303)

    @app.post("/logout")
    def logout(request: Request):
        request.session.clear()
        return RedirectResponse("/login" if login_required else "/", status_code=303)

    # ------------------------------------------------------------------ pages
    @app.get("/", response_class=HTMLResponse)
    def queue_page(request: Request, verdict: str | None = None, reviewed: str | None = None,
                   conflict: str | None = None, order: str | None = None, page_number: int = 1):
        wanted = _queue_filter(verdict, reviewed, conflict, order)
        found = queue(state.database, wanted, page_number, settings.page_size)
        filters = {"verdict": verdict or "", "reviewed": reviewed or "all", "conflict": conflict or "all",
                   "order": wanted.order}
        links = {number: "/?" + urlencode({**filters, "page_number": number}) for number in range(1, found.pages + 1)}
        return page(request, "queue.html.j2", found=found, filters=filters, links=links, state=state)

    @app.post("/posts")
    async def submit_form(request: Request, text: str = Form("")):
        state.ready()
        ids = await asyncio.wrap_future(state.intake.enqueue([text], "form", _moderator(request)))
        return RedirectResponse(f"/posts/{ids[0]}", status_code=303)

    @app.post("/upload")
    def upload_form(request: Request, file: UploadFile = File(...), column: str = Form(""), sheet: str = Form("")):
        state.ready()
        report = _upload(file, column or None, sheet or None, _moderator(request))
        _flash(request, f"{len(report.post_ids)} berichten uit {file.filename} gecontroleerd (kolom "
                        f"'{report.text_column}')" + (f"; {len(report.skipped)} regels overgeslagen: "
                                                       + "; ".join(report.skipped[:5]) if report.skipped else ""))
        return RedirectResponse("/", status_code=303)

    def _upload(file: UploadFile, column: str | None, sheet: str | None, by: str | None):
        suffix = Path(file.filename or "").suffix.lower()
        if suffix not in (".csv", ".tsv", ".txt") + EXCEL_SUFFIXES:
            raise FactCheckError("upload een .csv- of .xlsx-bestand")
        with tempfile.TemporaryDirectory(prefix="werkbank-") as folder:
            path = Path(folder) / f"upload{suffix}"
            size = 0
            with open(path, "wb") as handle:
                while block := file.file.read(1 << 16):
                    size += len(block)
                    if size > settings.max_upload_bytes:
                        raise FactCheckError(f"het bestand is groter dan {settings.max_upload_bytes} bytes")
                    handle.write(block)
            return submit_file(state.database, state.memory, path, column, sheet, settings.max_upload_rows, by)

    @app.get("/posts/{post_id}", response_class=HTMLResponse)
    def post_page(request: Request, post_id: int):
        with state.database.reading() as session:
            post = load_post(session, post_id)
        if post is None:
            raise LookupError(f"bericht {post_id} bestaat niet")
        matches = _memory_matches(state, post)  # after the session: one connection per request at a time
        current, reply = _post_reply(state, post)
        claims = [{"row": claim, "match": match,
                   "evidence": [_evidence_in_document(state, e) for e in claim.evidence_list],
                   "conflict": claim.conflict_dict}
                  for claim, match in zip(post.claims, matches)]
        skipped = json.loads(post.result).get("skipped", [])
        return page(request, "post.html.j2", post=post, claims=claims, current=current, reply=reply,
                    skipped=skipped)

    @app.post("/claims/{claim_id}/decision")
    def decide_form(request: Request, claim_id: int, verdict: str = Form(""), note: str = Form(""),
                    moderator: str = Form(""), post_id: int = Form(0)):
        decision = record_decision(state.database, claim_id, verdict, note, moderator_for(request, moderator))
        word = "overgenomen" if decision.action == "accepted" else "aangepast"
        _flash(request, f"oordeel {word}: {decision.verdict}")
        return RedirectResponse(f"/posts/{post_id}#claim-{claim_id}" if post_id else "/", status_code=303)

    @app.get("/documents/{doc_id}", response_class=HTMLResponse)
    def document_page(request: Request, doc_id: str, start: int | None = None, end: int | None = None):
        state.ready()
        document = state.checker.index.documents.get(doc_id)
        if document is None:
            raise LookupError(f"document {doc_id} bestaat niet")
        text, pieces, cursor = document["clean_text"], [], 0
        for passage in state.passages_by_doc.get(doc_id, []):
            if passage.start < cursor:
                continue
            pieces.append({"text": text[cursor:passage.start], "anchor": None, "marked": False})
            marked = start is not None and end is not None and passage.start < end and start < passage.end
            pieces.append({"text": text[passage.start:passage.end], "anchor": f"t-{passage.start}-{passage.end}",
                           "marked": marked})
            cursor = passage.end
        pieces.append({"text": text[cursor:], "anchor": None, "marked": False})
        return page(request, "document.html.j2", meta=document["meta"], pieces=pieces)

    @app.get("/export.csv")
    def export(request: Request):
        return StreamingResponse(export_decisions(state.database), media_type="text/csv; charset=utf-8",
                                 headers={"Content-Disposition": 'attachment; filename="beslissingen.csv"'})

    # ------------------------------------------------------------------ JSON API
    @app.get("/api/session")
    def api_session(request: Request):
        return {"csrf_token": csrf_token(request.session), "moderator": _moderator(request),
                "login_required": login_required}

    @app.post("/api/login")
    async def api_login(request: Request):
        body = await _json(request)
        if not _log_in(request, str(body.get("name", "")).strip(), str(body.get("password", ""))):
            raise HTTPException(401, "naam of wachtwoord klopt niet" if login_required else "inloggen is hier niet ingesteld")
        return {"moderator": _moderator(request), "csrf_token": csrf_token(request.session)}

    @app.post("/api/posts", status_code=201)
    async def api_submit(request: Request):
        body = await _json(request)
        state.ready()
        texts = body.get("texts") if "texts" in body else [body.get("text")]
        if not isinstance(texts, list) or not all(isinstance(t, str) for t in texts) or not texts:
            raise FactCheckError("stuur {\"text\": \"...\"} of {\"texts\": [\"...\", ...]}")
        if len(texts) > settings.max_upload_rows:
            raise FactCheckError(f"hoogstens {settings.max_upload_rows} berichten per verzoek")
        # Awaited, not waited for in a worker thread: every request in flight joins the next batch.
        ids = await asyncio.wrap_future(state.intake.enqueue(texts, "api", _moderator(request)))
        return await run_in_threadpool(posts_json, ids)

    def posts_json(ids: list[int]) -> dict:
        with state.database.reading() as session:
            posts = [load_post(session, post_id) for post_id in ids]
        return {"posts": [_post_json(state, post, _memory_matches(state, post)) for post in posts]}

    @app.get("/api/posts")
    def api_queue(verdict: str | None = None, reviewed: str | None = None, conflict: str | None = None,
                  order: str | None = None, page_number: int = 1):
        found = queue(state.database, _queue_filter(verdict, reviewed, conflict, order), page_number, settings.page_size)
        return {"total": found.total, "page": found.page, "pages": found.pages,
                "posts": [_post_json(state, post) for post in found.posts]}

    @app.get("/api/posts/{post_id}")
    def api_post(post_id: int):
        with state.database.reading() as session:
            post = load_post(session, post_id)
        if post is None:
            raise LookupError(f"bericht {post_id} bestaat niet")
        return _post_json(state, post, _memory_matches(state, post))

    @app.post("/api/claims/{claim_id}/decisions", status_code=201)
    def api_decide(request: Request, claim_id: int, body: dict):
        moderator = moderator_for(request, str(body.get("moderator", "")))
        decision = record_decision(state.database, claim_id, str(body.get("verdict", "")), str(body.get("note", "")),
                                   moderator)
        return _decision_json(decision)

    @app.post("/api/memory/match")
    def api_memory(body: dict):
        checker, memory = state.ready()
        text = body.get("text")
        if not isinstance(text, str) or not text.strip():
            raise FactCheckError("stuur {\"text\": \"...\"}")
        result = checker.check(text)
        return {"claims": [{"claim": claim.claim, "match": match.to_dict() if match else None}
                           for claim, match in zip(result.claims, memory.match_result(result))]}

    return app


async def _json(request: Request) -> dict:
    try:
        body = await request.json()
    except ValueError:
        raise FactCheckError("de inhoud is geen geldige JSON") from None
    if not isinstance(body, dict):
        raise FactCheckError("de inhoud moet een JSON-object zijn")
    return body


# --------------------------------------------------------------------------- serving

def _port_free(host: str, port: int) -> None:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise FactCheckError(f"cannot listen on {host}:{port} ({exc.strerror}); pass another --port or --host") from None


def serve(config: Config, host: str | None = None, port: int | None = None, database: str | None = None,
          announce=print) -> None:
    """Check the bind rule, open and migrate the database, then serve until interrupted; the model loads
    in the background (``/health`` says when it is ready)."""
    import uvicorn

    settings = config.workbench
    host, port = host or settings.host, port or settings.port
    check_bind(host, settings.logins)
    _port_free(host, port)
    app = create_app(config, database=database)
    where = app.state.workbench.database.engine.url.render_as_string(hide_password=True)
    shown_host = f"[{host}]" if ":" in host else host
    announce(f"workbench on http://{shown_host}:{port}/ (database {where}; "
             f"{'moderators log in' if settings.logins else 'no login: local use only' if is_local(host) else ''}); "
             "the model loads in the background, /health says when it is ready; Ctrl+C stops it")
    uvicorn.run(app, host=host, port=port, log_level="warning")
