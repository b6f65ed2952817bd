"""The claim memory: a new claim is matched against the claims moderators already reviewed, so the same
claim is never judged twice.

Every checked claim is stored with its normalised text and its embedding (``db.Claim``). A new claim
matches a reviewed one when

- the normalised texts are equal, or
- the embeddings' cosine similarity reaches ``workbench.memory_threshold`` and nothing says the two mean
  different things: the same figures (``Quantity.agrees`` both ways), as many negations, no antonym
  against its opposite ("meer" / "minder"), no swapped pair ("S-ketamine ... dan R-ketamine"), and the
  checker gave the two the same verdict from the sources.

The last rule matters because the embedding barely notices the difference between "twee op de vijf" and
"vier op de vijf", or "ecstasy" and "cocaïne", while the checker does; it compares the checker with itself,
so a claim a moderator overrode still finds its twin (the checker errs alike on both). The threshold is
chosen on labelled pairs by ``bench/memory.py``, which reports the matcher's precision and recall.

A match proposes the verdict of the reviewed claim's latest decision: "eerder beoordeeld: contradicted
door anna op 29 november 2026". It is used by the workbench, by ``ClaimMemory`` from Python and by
``factcheck batch --memory DB``.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from sqlalchemy import func, select

from ..lang import ANTONYMS, NEGATIONS, SWAPPABLE_PAIRS
from ..posts import normalise_post
from ..text import cached_quantities, fold, word_tokens
from .db import Claim, Database, Decision, as_utc, open_database

# A verdict on a claim, for a post that denies the claim.
TURNED_ROUND = {"supported": "contradicted", "contradicted": "supported"}
DUTCH_MONTHS = ("januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september",
                "oktober", "november", "december")


def dutch_date(moment: datetime | str | None) -> str:
    """29 november 2026 (a date, a datetime or an ISO date string); empty for none."""
    if moment is None or moment == "":
        return ""
    if isinstance(moment, str):
        try:
            moment = datetime.fromisoformat(moment)
        except ValueError:
            return moment
    return f"{moment.day} {DUTCH_MONTHS[moment.month - 1]} {moment.year}"


def memory_text(claim: str) -> str:
    """The claim as the memory compares it: normalised as posts are (emojis, hashtags, slang), case and
    spacing ignored."""
    return " ".join(normalise_post(claim).casefold().split())


# --------------------------------------------------------------------------- when two claims differ

def _quantities_agree(a: str, b: str) -> bool:
    """Every figure of each claim is stated alike in the other (comparable units only)."""
    first, second = cached_quantities(a), cached_quantities(b)

    def covered(these, those) -> bool:
        return all(any(q.comparable(o) and q.agrees(o) for o in those) for q in these)

    return covered(first, second) and covered(second, first)


def _words(text: str) -> list[str]:
    return [fold(token) for token in word_tokens(text)]


def _antonym_clash(first: set[str], second: set[str]) -> bool:
    """One claim uses a word whose opposite the other uses ("meer" against "minder")."""
    for one_side, other_side in ANTONYMS:
        a = (bool(first & one_side), bool(first & other_side))
        b = (bool(second & one_side), bool(second & other_side))
        if a != b and any(a) and any(b):
            return True
    return False


def _swapped(first: list[str], second: list[str]) -> bool:
    """Both name the two sides of a swappable pair, in opposite order ("S-ketamine ... dan R-ketamine")."""
    for one, other in SWAPPABLE_PAIRS:
        if {one, other} <= set(first) and {one, other} <= set(second):
            if (first.index(one) < first.index(other)) != (second.index(one) < second.index(other)):
                return True
    return False


def meaning_differs(a: str, b: str) -> str | None:
    """Why two (normalised) claims cannot be the same claim, whatever their embeddings say; None if
    nothing tells them apart."""
    if not _quantities_agree(a, b):
        return "andere getallen"
    first, second = _words(a), _words(b)
    if sum(word in NEGATIONS for word in first) != sum(word in NEGATIONS for word in second):
        return "ontkenning"
    if _antonym_clash(set(first), set(second)):
        return "tegengestelde woorden"
    if _swapped(first, second):
        return "omgedraaid"
    return None


@dataclass(frozen=True)
class MemoryKey:
    """What the memory compares of a claim."""

    text: str                   # memory_text of the claim as checked
    vector: np.ndarray | None   # unit-length embedding of text (None: compared by text only)
    system_verdict: str | None  # the checker's verdict on the claim itself (before the poster's stance)
    denied: bool = False        # the post denies the claim, so its verdict is the claim's turned round


def similarity(a: MemoryKey, b: MemoryKey, cosine: float | None = None) -> float:
    """How alike two claims are for the memory: 1 for the same text, 0 when something tells them apart,
    else the embeddings' cosine similarity."""
    if a.text == b.text:
        return 1.0
    if a.vector is None or b.vector is None:
        return 0.0
    if a.system_verdict and b.system_verdict and a.system_verdict != b.system_verdict:
        return 0.0
    if meaning_differs(a.text, b.text):
        return 0.0
    return float(a.vector @ b.vector) if cosine is None else cosine


# --------------------------------------------------------------------------- the memory

@dataclass(frozen=True)
class MemoryMatch:
    """A reviewed claim a new claim matched, with the verdict the moderator settled on."""

    claim_id: int
    post_id: int
    claim: str
    verdict: str
    moderator: str
    decided_at: datetime
    similarity: float

    def describe(self) -> str:
        return f"eerder beoordeeld: {self.verdict} door {self.moderator} op {dutch_date(self.decided_at)}"

    def to_dict(self) -> dict:
        return {"claim_id": self.claim_id, "post_id": self.post_id, "claim": self.claim, "verdict": self.verdict,
                "moderator": self.moderator, "decided_at": self.decided_at.isoformat(),
                "similarity": round(self.similarity, 4), "description": self.describe()}


@dataclass(frozen=True)
class _Reviewed:
    claim_id: int
    post_id: int
    claim: str
    key: MemoryKey
    decision: Decision


class ClaimMemory:
    """The reviewed claims of a workbench database, matched against new claims.

    >>> memory = ClaimMemory.open("sqlite:///build/workbench.db", checker)
    >>> [match.describe() if match else None for match in memory.match_result(checker.check(post))]
    """

    def __init__(self, database: Database, checker, threshold: float | None = None):
        self.database = database
        self.checker = checker
        self.threshold = checker.config.workbench.memory_threshold if threshold is None else threshold
        # The checker serialises its own encoder calls with this lock; the memory's calls join them, since
        # a tokenizer may not be used by two threads at once.
        self._encoder_lock = getattr(checker, "_lock", None) or threading.Lock()

    @classmethod
    def open(cls, database: str, checker) -> "ClaimMemory":
        """The memory of the workbench database at ``database`` (a URL or a SQLite file path)."""
        return cls(open_database(database), checker)

    @property
    def model(self) -> str:
        return self.checker.encoder.identity

    def embed(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        with self._encoder_lock:
            vectors = np.asarray(self.checker.encoder.encode_queries(texts), dtype=np.float32)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.maximum(norms, 1e-12)

    def keys(self, claims: list[str], system_verdicts: list[str | None],
             denied: list[bool] | None = None) -> list[MemoryKey]:
        """Keys of claims (as checked), embedded in one call."""
        texts = [memory_text(claim) for claim in claims]
        vectors = self.embed(texts)
        denied = denied or [False] * len(texts)
        return [MemoryKey(text, vectors[row], verdict, flag)
                for row, (text, verdict, flag) in enumerate(zip(texts, system_verdicts, denied))]

    def _reviewed(self, exclude_post: int | None) -> list[_Reviewed]:
        """Every reviewed claim with its latest decision (the claims of ``exclude_post`` left out)."""
        latest = (select(Decision.claim_id, func.max(Decision.id).label("last"))
                  .group_by(Decision.claim_id).subquery())
        query = (select(Claim, Decision).join(latest, latest.c.claim_id == Claim.id)
                 .join(Decision, Decision.id == latest.c.last).where(Claim.checkable))
        if exclude_post is not None:
            query = query.where(Claim.post_id != exclude_post)
        reviewed = []
        with self.database.reading() as session:
            for claim, decision in session.execute(query):
                vector = (np.frombuffer(claim.embedding, dtype=np.float32)
                          if claim.embedding is not None and claim.embedding_model == self.model else None)
                key = MemoryKey(claim.normalised, vector, claim.claim_verdict, claim.stance == "denies")
                reviewed.append(_Reviewed(claim.id, claim.post_id, claim.checked_claim, key, decision))
        return reviewed

    def lookup(self, keys: list[MemoryKey], exclude_post: int | None = None) -> list[MemoryMatch | None]:
        """For each key, the most similar reviewed claim at or above the threshold, else None."""
        if not keys:
            return []
        reviewed = self._reviewed(exclude_post)
        if not reviewed:
            return [None] * len(keys)
        with_vectors = [row for row, item in enumerate(reviewed) if item.key.vector is not None]
        matrix = np.vstack([reviewed[row].key.vector for row in with_vectors]) if with_vectors else None
        matches = []
        for key in keys:
            cosines = np.full(len(reviewed), -1.0)
            if matrix is not None and key.vector is not None and key.vector.size == matrix.shape[1]:
                cosines[with_vectors] = matrix @ key.vector
            best = None
            # Most similar first; the first candidate nothing tells apart wins.
            for row in sorted(range(len(reviewed)), key=lambda r: (reviewed[r].key.text != key.text, -cosines[r])):
                item = reviewed[row]
                if item.key.text != key.text and cosines[row] < self.threshold:
                    break
                score = similarity(key, item.key, float(cosines[row]))
                if score >= self.threshold:
                    verdict = item.decision.verdict
                    if key.denied != item.key.denied:  # one post denies what the other asserts
                        verdict = TURNED_ROUND.get(verdict, verdict)
                    best = MemoryMatch(item.claim_id, item.post_id, item.claim, verdict,
                                       item.decision.moderator, as_utc(item.decision.decided_at), score)
                    break
            matches.append(best)
        return matches

    def match_result(self, result, exclude_post: int | None = None) -> list[MemoryMatch | None]:
        """One match (or None) per checked claim of a ``CheckResult``."""
        keys = self.keys([claim.checked_claim or claim.claim for claim in result.claims],
                         [claim.claim_verdict or claim.verdict for claim in result.claims],
                         [claim.stance == "denies" for claim in result.claims])
        return self.lookup(keys, exclude_post)

    def annotate(self, rows: list[dict]) -> None:
        """Batch result rows (``batch._row_results``) gain ``memory``: the match of the deciding claim, as
        "eerder beoordeeld: ... door ... op ...", or empty. The claim's own verdict is the row's verdict
        turned round where the post denies the claim."""
        wanted = [row for row in rows if row.get("verdict") and row.get("checked_claim")]
        denied = [row.get("stance") == "denies" for row in wanted]
        keys = self.keys([row["checked_claim"] for row in wanted],
                         [TURNED_ROUND.get(row["verdict"], row["verdict"]) if flag else row["verdict"]
                          for row, flag in zip(wanted, denied)], denied)
        found = {id(row): match for row, match in zip(wanted, self.lookup(keys))}
        for row in rows:
            match = found.get(id(row))
            row["memory"] = match.describe() if match is not None else ""
