"""What a check returns: plain dataclasses every surface (CLI, API, batch, reports) shares,
with the verdict labels and the colours surfaces show them in."""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field

from .posts import SkippedSentence
from .verify import LABELS

# How surfaces colour a verdict (rich colour names), in the order of LABELS.
VERDICT_COLOURS = dict(zip(LABELS, ("green", "red", "yellow")))
# How surfaces name a post's stance toward a claim, in Dutch.
STANCE_WORDS = {"asserts": "bericht beweert", "denies": "bericht ontkent", "reports": "bericht geeft door"}


@dataclass(frozen=True)
class Evidence:
    """A passage behind a verdict, with exact provenance in its document's clean text."""

    text: str
    doc_id: str
    title: str
    section: str | None
    start: int
    end: int
    score: float
    dense_score: float
    lexical_score: float
    passage_id: str
    source: str  # "title [doc id, tekens start-end]", for a CSV cell or a table
    date: str | None = None         # the document's date (YYYY-MM-DD), where known
    figure_year: int | None = None  # the year the passage's figure refers to ("in 2020"), where it says so


@dataclass(frozen=True)
class Conflict:
    """Two of a claim's top passages that disagree confidently: one supports it, the other contradicts it."""

    supporting: Evidence
    contradicting: Evidence
    support_confidence: float
    contradiction_confidence: float


@dataclass
class ClaimResult:
    """The verdict on one checkable claim."""

    claim: str
    verdict: str
    confidence: float
    probabilities: dict[str, float]
    explanation: str
    evidence: list[Evidence]
    needs_review: bool = False       # confidence below the threshold chosen for verdict.review_precision
    conflict: Conflict | None = None
    # What the poster does with the claim, and the claim as checked (its framing stripped): the verdict above
    # is on the poster's position; claim_verdict is the sources' verdict on checked_claim itself.
    stance: str = "asserts"          # asserts | denies | reports
    checked_claim: str = ""
    claim_verdict: str = ""
    attributed_to: str | None = None  # whose claim a reported one is ("mijn huisarts"), where the post says


@dataclass
class CheckResult:
    """The verdict on a text (a claim or a whole post); ``claims`` holds one result per checked claim."""

    text: str
    verdict: str
    confidence: float
    explanation: str
    evidence: list[Evidence]
    claims: list[ClaimResult] = field(default_factory=list)
    skipped: list[SkippedSentence] = field(default_factory=list)
    language: str = "nl"
    notes: list[str] = field(default_factory=list)
    needs_review: bool = False       # the deciding claim's; False when nothing was checked
    conflict: Conflict | None = None  # the deciding claim's
    stance: str | None = None         # the deciding claim's: what the post does with it (None: nothing checked)
    checked_claim: str | None = None  # the deciding claim as checked, its framing stripped

    def to_dict(self) -> dict:
        return asdict(self)

    def to_json(self, **kwargs) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, **kwargs)
