"""Social-media posts: normalise for matching, detect the language, split into sentences.

The original text is never changed; normalisation produces a second string used
for retrieval and comparison only. Which sentences carry a claim, and what the poster
does with it, is read in ``post_reading``.
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from .config import Posts
from .lang import ACRONYMS, POST_ALIASES, TAG_QUESTION
from .storage import short_hash
from .text import is_dutch_word, split_sentences

_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_MENTION = re.compile(r"(?<!\w)@\w+")
_RETWEET = re.compile(r"^\s*RT\b:?\s*", re.IGNORECASE)
_HASHTAG = re.compile(r"(?<!\w)#(\w+)")
_ELONGATION = re.compile(r"([^\W\d_])\1{2,}")  # letters only: "2000" stays
_SPACES = re.compile(r"\s+")
# Slang of more than one word ("special K"), spelled out before the word-by-word pass would split it (None when
# the word lists have none: an empty alternation would match everywhere).
_PHRASES = [re.escape(key) for key in POST_ALIASES if " " in key]
_PHRASE_ALIASES = re.compile(rf"(?<!\w)({'|'.join(_PHRASES)})(?!\w)", re.IGNORECASE) if _PHRASES else None


def _is_emoji_or_symbol(char: str) -> bool:
    return unicodedata.category(char) in {"So", "Sk", "Cs", "Co", "Mn", "Me", "Cf"} or 0x1F000 <= ord(char) <= 0x1FAFF


def _hashtag_words(match: re.Match) -> str:
    word = match.group(1)
    return re.sub(r"(?<=[a-z])(?=[A-Z])", " ", word)  # #KetamineWerkt -> Ketamine Werkt


def _shrink(match: re.Match) -> str:
    """'echttt' -> 'echt', 'heeeel' -> 'heel': keep a double letter only where Dutch has one."""
    return match.group(1)


def normalise_post(text: str) -> str:
    """A matching-friendly version of a post: no URLs, mentions, RT, emojis; hashtags become words;
    elongations and shouting are undone; slang ("K", "keta", "gwn") is spelled out."""
    text = unicodedata.normalize("NFC", text)
    text = _RETWEET.sub("", text)
    text = _URL.sub(" ", text)
    text = _MENTION.sub(" ", text)
    text = _HASHTAG.sub(_hashtag_words, text)
    text = "".join(" " if _is_emoji_or_symbol(c) else c for c in text)
    if _PHRASE_ALIASES is not None:
        text = _PHRASE_ALIASES.sub(lambda match: POST_ALIASES[match.group(1).lower()], text)
    words = []
    for word in re.split(r"(\s+)", text):
        core = word.strip(".,!?;:\"'()")
        if not core or word.isspace():
            words.append(word)
            continue
        fixed = core
        if _ELONGATION.search(fixed):
            single = _ELONGATION.sub(_shrink, fixed)
            double = _ELONGATION.sub(lambda m: m.group(1) * 2, fixed)
            fixed = double if is_dutch_word(double) and not is_dutch_word(single) else single
        if fixed.isupper() and len(fixed) > 1 and fixed not in ACRONYMS:
            fixed = fixed.lower()  # "GEEN bijwerkingen" -> "geen bijwerkingen"
        alias = POST_ALIASES.get(fixed.lower())
        if alias:
            fixed = alias
        words.append(word.replace(core, fixed, 1))
    text = "".join(words)
    text = re.sub(r"([!?.])\1+", r"\1", text)
    return _SPACES.sub(" ", text).strip().lstrip(":;,.- ")


@dataclass(frozen=True)
class SkippedSentence:
    text: str
    reason: str


@dataclass(frozen=True)
class PostSentence:
    """A sentence as posted (emojis and all: they carry tone) and as normalised for matching."""

    raw: str
    text: str


@dataclass
class PostAnalysis:
    original: str
    normalised: str
    language: str
    language_confidence: float
    sentences: list[PostSentence] = field(default_factory=list)
    truncated: bool = False


@lru_cache(maxsize=1)
def _language_identifier():
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    # Restricting the candidates makes short posts far more reliable.
    identifier.set_languages(["nl", "en", "de", "fr", "es", "it", "pt", "tr", "pl", "id", "da", "sv"])
    return identifier


def detect_language(text: str) -> tuple[str, float]:
    if not re.search(r"[^\W\d_]{2,}", text):
        return "und", 0.0
    language, confidence = _language_identifier().classify(text)
    return language, float(confidence)


def _split_after_emoji(line: str) -> list[str]:
    """Posts end a sentence with an emoji as often as with a full stop ("neus 🔥 iemand tips?"):
    a run of emojis followed by a space closes the sentence before it (trailing hashtags stay with it)."""
    parts, start = [], 0
    for space in re.finditer(r"\s+", line):
        # A whitespace run is maximal, so the characters either side of it are not spaces.
        before, after = line[space.start() - 1 : space.start()], line[space.end() : space.end() + 1]
        if before and _is_emoji_or_symbol(before) and after and after != "#" and not _is_emoji_or_symbol(after):
            parts.append(line[start : space.start()])
            start = space.end()
    return parts + [line[start:]]


def _split_post(text: str) -> list[str]:
    pieces = []
    for line in re.split(r"[\n\r]+", text):
        # Posts often skip capitals after a full stop; split on any end mark followed by a space.
        for part in (p for chunk in re.split(r"(?<=[.!?])\s+", line) for p in _split_after_emoji(chunk)):
            for start, end in split_sentences(part):
                pieces.append(part[start:end])
    return [piece.strip() for piece in pieces if piece.strip()]


def analyse_post(text: str, settings: Posts) -> PostAnalysis:
    """Normalise a post, detect its language and split it into sentences (each normalised on its own)."""
    truncated = len(text) > settings.max_chars
    clipped = text[: settings.max_chars]
    normalised = normalise_post(clipped)
    language, confidence = detect_language(normalised)
    analysis = PostAnalysis(text, normalised, language, confidence, truncated=truncated)
    analysis.sentences = [sentence for sentence in map(post_sentence, _split_post(clipped)) if sentence.text]
    return analysis


def post_sentence(raw: str) -> PostSentence:
    """One sentence of a post, normalised for matching; a closing tag question ("..., toch?") is dropped."""
    return PostSentence(raw, TAG_QUESTION.sub(".", normalise_post(raw)))


def is_dutch(analysis: PostAnalysis, settings: Posts) -> bool:
    """Dutch unless the detector is confident about another language, or leans to another language
    while fewer than half its words are Dutch words (short posts fool the detector)."""
    if analysis.language in ("nl", "und"):
        return True
    if analysis.language_confidence >= settings.language_min_confidence:
        return False
    words = [w for w in re.findall(r"[^\W\d_]+", analysis.normalised.lower()) if w not in ("ketamine", "k")]
    known = sum(is_dutch_word(word) for word in words)
    return not words or known / len(words) >= 0.5


def post_verdict(claims: Sequence[tuple[str, float]], contradicted_margin: float = 0.0) -> tuple[str, int | None]:
    """The aggregation rule: each claim's verdict on the poster's position and how sure it is, in; the post's
    verdict and the index of the claim that decides it, out (None when there are none). Only supported and
    contradicted claims decide, the surest of them; a contradicted claim also wins over a supported one that is
    at most ``contradicted_margin`` surer. Without either, the surest unsupported claim decides. With certain
    verdicts (all 1.0), as in the labelled posts, any contradicted claim decides, else any supported one."""
    def surest(verdict: str) -> int | None:
        found = [number for number, (label, _) in enumerate(claims) if label == verdict]
        return max(found, key=lambda number: claims[number][1], default=None)  # the first of equals

    contradicted, supported = surest("contradicted"), surest("supported")
    # The tolerance keeps a gap of exactly the margin (confidences are rounded to 4 decimals) on the margin's side.
    if contradicted is not None and (supported is None
                                     or claims[supported][1] - claims[contradicted][1] <= contradicted_margin + 1e-9):
        return "contradicted", contradicted
    if supported is not None:
        return "supported", supported
    return "unsupported", surest("unsupported")


def claim_fingerprint(normalised_text: str) -> str:
    """A short, stable identity of a claim, blind to case and spacing."""
    return short_hash(" ".join(normalised_text.casefold().split()))
