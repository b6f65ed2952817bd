"""What the workbench does with its database: take posts in (checked, with their claims' memory keys),
list the queue, record decisions and export them. The web routes and the tests both call these."""
from __future__ import annotations

import csv
import io
import json
import math
import threading
from concurrent.futures import Future
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Iterator

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from ..batch import choose_text_column, neutralise_formula, read_columns, read_rows
from ..errors import FactCheckError
from .db import VERDICTS, Claim, Database, Decision, Post, as_utc, utc_now
from .memory import ClaimMemory, memory_text

SOURCES = ("form", "upload", "api")
MAX_NOTE_CHARS = 2000
MAX_NAME_CHARS = 100
EXPORT_COLUMNS = ("decision_id", "decided_at", "moderator", "action", "verdict", "system_verdict", "note",
                  "claim_id", "claim", "checked_claim", "system_confidence", "post_id", "post")


def _claim_rows(result, vectors: Iterator, model: str) -> list[Claim]:
    """The claims of a CheckResult as rows; a post with nothing checkable becomes one row for the whole
    post, so it can be reviewed too (the memory leaves such rows out)."""
    if not result.claims:
        return [Claim(position=0, text=result.text, checked_claim=result.text, checkable=False,
                      verdict=result.verdict, claim_verdict=result.verdict, stance="asserts",
                      confidence=result.confidence, explanation=result.explanation,
                      evidence=json.dumps([asdict(e) for e in result.evidence], ensure_ascii=False), conflict=None,
                      normalised=memory_text(result.text), embedding=None, embedding_model=None)]
    rows = []
    for position, claim in enumerate(result.claims):
        checked = claim.checked_claim or claim.claim
        vector = next(vectors)
        rows.append(Claim(position=position, text=claim.claim, checked_claim=checked, checkable=True,
                          verdict=claim.verdict, claim_verdict=claim.claim_verdict or claim.verdict,
                          stance=claim.stance, confidence=claim.confidence, explanation=claim.explanation,
                          evidence=json.dumps([asdict(e) for e in claim.evidence], ensure_ascii=False),
                          conflict=json.dumps(asdict(claim.conflict), ensure_ascii=False) if claim.conflict else None,
                          normalised=memory_text(checked), embedding=vector.astype("float32").tobytes(),
                          embedding_model=model))
    return rows


def submit(database: Database, memory: ClaimMemory, texts: list[str], source: str,
           submitted_by: str | None = None) -> list[int]:
    """Check ``texts``, store each as a post with its claims, and return the new posts' ids."""
    if source not in SOURCES:
        raise ValueError(f"unknown source {source}")
    texts = [text if isinstance(text, str) else "" for text in texts]
    if not any(text.strip() for text in texts):
        raise FactCheckError("er is geen tekst om te controleren")
    return _check_and_store(database, memory, [(text, source, submitted_by) for text in texts])


def _check_and_store(database: Database, memory: ClaimMemory, items: list[tuple[str, str, str | None]]) -> list[int]:
    """Check (text, source, submitted_by) items in one go and store them; the new posts' ids, in order."""
    results = memory.checker.check_many([text for text, _, _ in items])
    # Every claim embedded in one encoder call, for the memory.
    claims = [claim.checked_claim or claim.claim for result in results for claim in result.claims]
    vectors = iter(memory.embed([memory_text(claim) for claim in claims]))
    now = utc_now()
    posts = []
    for result, (_, source, submitted_by) in zip(results, items):
        posts.append(Post(text=result.text, source=source, submitted_by=submitted_by, submitted_at=now,
                          verdict=result.verdict, confidence=result.confidence, needs_review=result.needs_review,
                          conflict=result.conflict is not None or any(c.conflict is not None for c in result.claims),
                          explanation=result.explanation, result=result.to_json(),
                          claims=_claim_rows(result, vectors, memory.model)))
    with database.transaction() as session:
        session.add_all(posts)
        session.flush()
        return [post.id for post in posts]


class Intake:
    """Posts that arrive at the same time are checked together: one worker thread takes everything
    waiting (up to ``batch.chunk_rows`` posts) into one ``check_many`` call, so the encoder works in batches
    instead of one post per request, and each caller gets its own posts' ids back."""

    def __init__(self, database: Database, memory: ClaimMemory):
        self.database, self.memory = database, memory
        self.limit = memory.checker.config.batch.chunk_rows
        self._waiting: list[tuple[list[tuple[str, str, str | None]], Future]] = []
        self._ready = threading.Condition()
        threading.Thread(target=self._work, name="workbench-intake", daemon=True).start()

    def submit(self, texts: list[str], source: str, submitted_by: str | None = None) -> list[int]:
        return self.enqueue(texts, source, submitted_by).result()

    def enqueue(self, texts: list[str], source: str, submitted_by: str | None = None) -> Future:
        """Queue the texts for checking; the future gives their posts' ids (async routes await it without
        holding a worker thread)."""
        if source not in SOURCES:
            raise ValueError(f"unknown source {source}")
        texts = [text if isinstance(text, str) else "" for text in texts]
        if not any(text.strip() for text in texts):
            raise FactCheckError("er is geen tekst om te controleren")
        future: Future = Future()
        with self._ready:
            self._waiting.append(([(text, source, submitted_by) for text in texts], future))
            self._ready.notify()
        return future

    def _work(self) -> None:
        while True:
            with self._ready:
                while not self._waiting:
                    self._ready.wait()
                taken, size = [], 0
                while self._waiting and (not taken or size + len(self._waiting[0][0]) <= self.limit):
                    taken.append(self._waiting.pop(0))
                    size += len(taken[-1][0])
            try:
                ids = iter(_check_and_store(self.database, self.memory, [item for items, _ in taken for item in items]))
                for items, future in taken:
                    future.set_result([next(ids) for _ in items])
            except Exception as exc:  # noqa: BLE001 - handed to the callers, who report it
                for _, future in taken:
                    future.set_exception(exc)


@dataclass(frozen=True)
class UploadReport:
    post_ids: list[int]
    text_column: str
    skipped: list[str]          # rows not checked, with why ("regel 7: 5 velden, verwacht 3", "regel 9: lege tekst")


def submit_file(database: Database, memory: ClaimMemory, path: Path, column: str | None, sheet: str | None,
                max_rows: int, submitted_by: str | None = None) -> UploadReport:
    """Every row of an uploaded CSV or .xlsx file, read by the batch reader (same encodings, delimiters,
    ragged-row handling), as posts; at most ``max_rows`` rows."""
    columns = read_columns(path, sheet)
    text_column = choose_text_column(columns, column, memory.checker.config.batch.text_column_candidates)
    position = columns.index(text_column)
    texts, skipped = [], []
    rows = read_rows(path, sheet)
    try:
        for row in rows:
            if row.problem is not None:
                skipped.append(row.problem)
            elif not row.cells[position].strip():
                skipped.append(f"regel {row.line}: lege tekst")
            else:
                texts.append(row.cells[position])
            if len(texts) > max_rows:
                raise FactCheckError(f"het bestand heeft meer dan {max_rows} berichten; splits het op")
    except (csv.Error, UnicodeDecodeError) as exc:
        raise FactCheckError(f"{path.name}: niet te lezen ({str(exc).splitlines()[0]})") from None
    finally:
        rows.close()
    if not texts:
        raise FactCheckError("het bestand heeft geen berichten om te controleren")
    chunk = memory.checker.config.batch.chunk_rows
    ids = []
    for start in range(0, len(texts), chunk):
        ids.extend(submit(database, memory, texts[start:start + chunk], "upload", submitted_by))
    return UploadReport(ids, text_column, skipped)


# --------------------------------------------------------------------------- the queue

@dataclass(frozen=True)
class QueueFilter:
    verdict: str | None = None       # the checker's verdict on the post
    reviewed: bool | None = None     # every claim has a decision
    conflict: bool | None = None     # the sources disagree on a claim
    order: str = "least_sure"        # least_sure | newest

    def __post_init__(self):
        if self.verdict is not None and self.verdict not in VERDICTS:
            raise FactCheckError(f"onbekend oordeel '{self.verdict}' (kies uit {', '.join(VERDICTS)})")
        if self.order not in ("least_sure", "newest"):
            raise FactCheckError(f"onbekende volgorde '{self.order}' (least_sure of newest)")


@dataclass(frozen=True)
class QueuePage:
    posts: list[Post]
    total: int
    page: int
    pages: int


def _undecided_claim():
    """True for a post with a claim that has no decision yet."""
    has_decision = select(Decision.id).where(Decision.claim_id == Claim.id).exists()
    return select(Claim.id).where(Claim.post_id == Post.id, ~has_decision).exists()


def queue(database: Database, wanted: QueueFilter, page: int, page_size: int) -> QueuePage:
    conditions = []
    if wanted.verdict is not None:
        conditions.append(Post.verdict == wanted.verdict)
    if wanted.reviewed is not None:
        conditions.append(~_undecided_claim() if wanted.reviewed else _undecided_claim())
    if wanted.conflict is not None:
        conditions.append(Post.conflict.is_(wanted.conflict))
    order = (Post.confidence.asc(), Post.id.asc()) if wanted.order == "least_sure" else (Post.id.desc(),)
    with database.reading() as session:
        total = session.scalar(select(func.count()).select_from(Post).where(*conditions)) or 0
        pages = max(1, math.ceil(total / page_size))
        page = min(max(1, page), pages)
        posts = list(session.scalars(select(Post).where(*conditions).order_by(*order)
                                     .offset((page - 1) * page_size).limit(page_size)
                                     .options(selectinload(Post.claims).selectinload(Claim.decisions))))
    return QueuePage(posts, total, page, pages)


def load_post(session: Session, post_id: int) -> Post | None:
    return session.scalar(select(Post).where(Post.id == post_id)
                          .options(selectinload(Post.claims).selectinload(Claim.decisions)))


# --------------------------------------------------------------------------- decisions

def record_decision(database: Database, claim_id: int, verdict: str, note: str, moderator: str) -> Decision:
    """Store a moderator's decision on a claim: ``accepted`` when it keeps the checker's verdict, else
    ``overridden``. Committed before this returns."""
    verdict, moderator, note = (verdict or "").strip(), (moderator or "").strip(), (note or "").strip()
    if verdict not in VERDICTS:
        raise FactCheckError(f"onbekend oordeel '{verdict}' (kies uit {', '.join(VERDICTS)})")
    if not moderator:
        raise FactCheckError("vul je naam in als moderator")
    if len(moderator) > MAX_NAME_CHARS or len(note) > MAX_NOTE_CHARS:
        raise FactCheckError(f"naam (max {MAX_NAME_CHARS}) of notitie (max {MAX_NOTE_CHARS} tekens) is te lang")
    with database.transaction() as session:
        claim = session.get(Claim, claim_id)
        if claim is None:
            raise LookupError(f"claim {claim_id} bestaat niet")
        decision = Decision(claim_id=claim.id, action="accepted" if verdict == claim.verdict else "overridden",
                            verdict=verdict, system_verdict=claim.verdict, note=note, moderator=moderator,
                            decided_at=utc_now())
        session.add(decision)
    return decision


def export_decisions(database: Database) -> Iterator[str]:
    """Every decision, oldest first, as CSV text (a header, then one line per decision); cells that a
    spreadsheet would run as a formula are prefixed with ' as in batch output."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def flushed() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    writer.writerow(EXPORT_COLUMNS)
    yield flushed()
    query = (select(Decision, Claim, Post).join(Claim, Decision.claim_id == Claim.id)
             .join(Post, Claim.post_id == Post.id).order_by(Decision.id))
    with database.reading() as session:
        for decision, claim, post in session.execute(query.execution_options(yield_per=500)):
            writer.writerow([neutralise_formula(value) for value in (
                decision.id, as_utc(decision.decided_at).isoformat(timespec="seconds"), decision.moderator,
                decision.action, decision.verdict, decision.system_verdict, decision.note, claim.id, claim.text,
                claim.checked_claim, f"{claim.confidence:.4f}", post.id, post.text)])
            yield flushed()
