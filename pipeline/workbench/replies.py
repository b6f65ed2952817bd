"""Suggested replies to a contradicted or unsupported post: short, plain Dutch (B1), friendly, without
moralising, citing the deciding passage and its source. Built from templates with slots; the moderator
edits the text in the page before sending it."""
from __future__ import annotations

from .memory import dutch_date

# One template per verdict; {bron} is "Volgens <titel> (<datum>)" and {citaat} the quoted passage.
TEMPLATES = {
    "contradicted": "Dank je voor je bericht! Dit klopt volgens de bronnen niet helemaal. {bron}: '{citaat}' {voet}",
    "unsupported": "Dank je voor je bericht! We hebben dit nagezocht, maar konden het niet bevestigen. "
                   "{bron} staat wel: '{citaat}' {voet}",
    "unsupported_without_source": "Dank je voor je bericht! We hebben dit nagezocht, maar konden het niet "
                                  "bevestigen in betrouwbare bronnen. {voet}",
}
_OPENING = {"contradicted": "Volgens", "unsupported": "In"}


def quote(text: str, limit: int) -> str:
    """The passage on one line, cut at a word boundary to at most ``limit`` characters."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    return text[: limit - 1].rsplit(" ", 1)[0].rstrip(",;:") + "…"


def source_phrase(verdict: str, title: str, date: str | None) -> str:
    when = dutch_date(date)
    return f"{_OPENING[verdict]} {title}" + (f" ({when})" if when else "")


def suggest_reply(verdict: str, evidence: dict | None, footer: str, quote_chars: int) -> str | None:
    """The reply for a post with this verdict, citing ``evidence`` (an Evidence as a dict: text, title,
    date); None for a supported post, which needs no correction."""
    if verdict not in ("contradicted", "unsupported"):
        return None
    if not evidence:
        return TEMPLATES["unsupported_without_source"].format(voet=footer).strip()
    return TEMPLATES[verdict].format(bron=source_phrase(verdict, evidence["title"], evidence.get("date")),
                                     citaat=quote(evidence["text"], quote_chars), voet=footer).strip()
