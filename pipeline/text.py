"""Dutch text utilities shared by the stages: sentences, lexical tokens, numbers and cue words.

Nothing here strips negation: niet, geen, nooit and zonder stay in every token stream.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from .lang import (ABBREVIATIONS, ALIASES, APPROXIMATE_BEFORE, FALLING, FIGURE_YEAR, HEDGES, HUNDRED, NEGATIONS,
                   NUMERAL_PARTS, NUMERAL_WORD, PHRASAL_TREND, THOUSAND,
                   PHRASAL_TREND_PARTICLES, QUANTIFIERS, RANGE_JOINERS, RISING, SHARE_WORDS, TENS, TIME_IN_HOURS,
                   UNITS, WORD_NUMBERS)
from .storage import short_hash

# --------------------------------------------------------------------------- spaCy's word lists

def _import_spacy() -> None:
    """Import spaCy without the torch its thinc would import (see ``runtime.torch_hidden``)."""
    from .runtime import torch_hidden

    with torch_hidden():
        import spacy  # noqa: F401


# --------------------------------------------------------------------------- sentences

@lru_cache(maxsize=1)
def abbreviations() -> frozenset[str]:
    """Lower-cased abbreviations (with their final period) that never end a sentence."""
    _import_spacy()
    from spacy.lang.nl.tokenizer_exceptions import TOKENIZER_EXCEPTIONS

    spacy_abbrevs = {key.lower() for key in TOKENIZER_EXCEPTIONS if key.endswith(".") and len(key) > 1}
    return frozenset(spacy_abbrevs | ABBREVIATIONS)


_BOUNDARY = re.compile(r"[.!?…]+[\"”’')\]]*\s+(?=[\"“‘'(\[]?[A-Z0-9À-ÖØ-Þ•])")
_LAST_WORD = re.compile(r"(\S+)$")


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Character spans of the sentences in ``text`` (whitespace between them excluded)."""
    spans, start = [], 0
    for match in _BOUNDARY.finditer(text):
        end = match.start() + len(match.group().rstrip())
        word = _LAST_WORD.search(text[start:end])
        token = word.group(1).lower().lstrip("(\"“‘'") if word else ""
        token_core = token.rstrip("\"”’')]")
        if token_core in abbreviations() or re.fullmatch(r"(?:[a-z]\.)+", token_core):
            continue  # "e.a. 2013", "i.v. S-ketamine", initials "S.Y."
        if text[start:end].strip():
            spans.append(_strip_span(text, start, end))
        start = match.end()
    if text[start:].strip():
        spans.append(_strip_span(text, start, len(text)))
    return spans


def _strip_span(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


# --------------------------------------------------------------------------- normalisation

@lru_cache(maxsize=1)
def _dutch_lexicon():
    """spaCy's Dutch lemma lookup table (spacy-lookups-data, keyed by word form) and the set of its lemmas.
    Read as a plain dict: spaCy's ``load_lookups`` also hashes every entry into a ``Table``, which took
    0.5 s of every start and is not needed for membership."""
    _import_spacy()
    import spacy_lookups_data
    from spacy.util import load_language_data

    table = load_language_data(spacy_lookups_data.nl["lemma_lookup"])
    return table, frozenset(str(lemma).lower() for lemma in table.values())


def load_dutch_lexicon() -> None:
    """Load both word lists now (about half a second) rather than at the first word looked up."""
    import simplemma

    _dutch_lexicon()
    simplemma.is_known("huis", lang="nl")


@lru_cache(maxsize=65536)
def is_dutch_word(word: str) -> bool:
    """Known to spaCy's Dutch lookup tables or to simplemma's Dutch dictionary."""
    import simplemma

    word = word.lower()
    forms, lemmas = _dutch_lexicon()
    return word in forms or word in lemmas or simplemma.is_known(word, lang="nl")


def fold(text: str) -> str:
    """Lower-case and drop accents: "Geïnduceerde" -> "geinduceerde"."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


_TOKEN = re.compile(
    r"\d+(?:[.,]\d+)*(?:\s?%)?"          # 0,5  3.541  30%
    r"|[a-z]+/[a-z]+"                     # mg/kg
    r"|[^\W\d_]+(?:[-'’][^\W\d_]+)*",     # words, incl. hyphenated compounds
    re.UNICODE)


def word_tokens(text: str) -> list[str]:
    """Lower-cased tokens with numbers and units kept whole ("0,5", "mg/kg", "30%")."""
    return [token.replace(" ", "") for token in _TOKEN.findall(text.lower())]


@lru_cache(maxsize=1)
def _stemmer():
    import snowballstemmer

    return snowballstemmer.stemmer("dutch")


@lru_cache(maxsize=1)
def stop_words() -> frozenset[str]:
    """spaCy's Dutch stop words minus every negation, quantifier and hedge."""
    _import_spacy()
    from spacy.lang.nl.stop_words import STOP_WORDS

    return frozenset(STOP_WORDS) - NEGATIONS - QUANTIFIERS - HEDGES


@lru_cache(maxsize=65536)
def stem(token: str) -> str:
    if token[0].isdigit() or "/" in token:
        return token
    return _stemmer().stemWord(fold(token))


# Trends: the direction a claim states in words ("daalde", "nam toe") against the one a passage
# states in words or in figures ("in 2016 2,7%, in 2019 4,2%"; "van 5% naar 11%").
_YEAR = re.compile(r"(?<![\d,.])(?:19|20)\d{2}(?![\d,.%])")
_PERCENT = re.compile(r"(?<![\d,.])(\d+(?:,\d+)?)\s?%")
_FROM_TO = re.compile(r"\bvan\s+(\d+(?:,\d+)?)\s?%\s+naar\s+(\d+(?:,\d+)?)\s?%")


def stated_trend(text: str) -> int:
    """+1 rising, -1 falling, 0 none or both, from the words of ``text``."""
    tokens = set(word_tokens(text))
    rising, falling = bool(tokens & RISING), bool(tokens & FALLING)
    for match in PHRASAL_TREND.finditer(text.lower()):
        rising |= PHRASAL_TREND_PARTICLES[match["particle"]] > 0
        falling |= PHRASAL_TREND_PARTICLES[match["particle"]] < 0
    return int(rising) - int(falling)


def figure_trend(text: str) -> int:
    """+1 or -1 when ``text`` gives a share at two moments; 0 otherwise. A year owns the first
    percentage after it, up to the next year."""
    from_to = _FROM_TO.search(text)
    if from_to:
        first, last = (_to_number(value) for value in from_to.groups())
    else:
        years = [(m.start(), int(m.group())) for m in _YEAR.finditer(text)]
        by_year = {}
        for (start, year), (next_start, _) in zip(years, years[1:] + [(len(text), 0)]):
            share = _PERCENT.search(text, start, next_start)
            if share:
                by_year.setdefault(year, _to_number(share.group(1)))
        if len(by_year) < 2:
            return 0
        first, last = by_year[min(by_year)], by_year[max(by_year)]
    return (last > first) - (last < first)


# --------------------------------------------------------------------------- numbers

@dataclass(frozen=True)
class Quantity:
    low: float
    high: float
    unit: str
    text: str
    approximate: bool = False

    def comparable(self, other: "Quantity") -> bool:
        if self.unit == other.unit:
            return True
        return self.unit in TIME_IN_HOURS and other.unit in TIME_IN_HOURS

    def _base(self) -> tuple[float, float]:
        factor = TIME_IN_HOURS.get(self.unit, 1.0)
        return self.low * factor, self.high * factor

    def agrees(self, other: "Quantity") -> bool:
        """Same value within rounding; approximate wording ("bijna", "ongeveer") gets more room.
        A single value agrees with a range that holds it ("2 uur" in "2-3 uur"), but two ranges
        must share both ends: "een tot 40 keer" is not "een tot 4 keer"."""
        if self.unit == "year" or other.unit == "year":
            return self.low <= other.high and other.low <= self.high
        (a_low, a_high), (b_low, b_high) = self._base(), other._base()
        tolerance = 0.15 if (self.approximate or other.approximate) else 0.01
        slack = tolerance * max(abs(a_high), abs(b_high), 1e-9)
        if a_low < a_high and b_low < b_high:
            return abs(a_low - b_low) <= slack and abs(a_high - b_high) <= slack
        return a_low - slack <= b_high and b_low - slack <= a_high


def _numeral_value(word: str) -> float | None:
    """A numeral written as one word: "vijfendertig" -> 35, "tweehonderdvijftig" -> 250."""
    if not re.fullmatch(NUMERAL_WORD, word):
        return None

    def below_hundred(part: str) -> float:
        parts = NUMERAL_PARTS.fullmatch(part)
        return WORD_NUMBERS[parts["ones"]] + WORD_NUMBERS[parts["tens"]] if parts else WORD_NUMBERS[part]

    def below_thousand(part: str) -> float:
        hundreds, found, rest = part.partition(HUNDRED)
        if not found:
            return below_hundred(part)
        return (below_hundred(hundreds) if hundreds else 1) * 100 + (below_hundred(rest) if rest else 0)

    thousands, found, rest = word.partition(THOUSAND)
    if not found:
        return below_thousand(word)
    return (below_thousand(thousands) if thousands else 1) * 1000 + (below_thousand(rest) if rest else 0)


def _to_number(token: str) -> float | None:
    token = token.lower().strip()
    if token in WORD_NUMBERS:
        return WORD_NUMBERS[token]
    if (value := _numeral_value(token)) is not None:
        return value
    if re.fullmatch(r"\d{1,3}(?:\.\d{3})+", token):  # 3.541 (Dutch thousands separator)
        return float(token.replace(".", ""))
    if re.fullmatch(r"\d+(?:[.,]\d+)?", token):
        return float(token.replace(",", "."))
    return None


_NUMBER_WORDS = "|".join(sorted((re.escape(w) for w in WORD_NUMBERS if WORD_NUMBERS[w] is not None),
                                key=len, reverse=True))
_NUM = rf"(?:\d+(?:[.,]\d+)*|{NUMERAL_WORD}|{_NUMBER_WORDS})"
_UNIT = "|".join(sorted((re.escape(u) for u in UNITS), key=len, reverse=True))
_UNIT_AFTER = rf"(?:\s*(?P<unit>{_UNIT})(?![\w]))?"
_QUANTITY = re.compile(rf"(?<![\w,.\-])(?P<low>{_NUM})(?:\s*(?:{'|'.join(RANGE_JOINERS)})\s*(?P<high>{_NUM}))?{_UNIT_AFTER}",
                       re.IGNORECASE)
_BETWEEN = re.compile(rf"\btussen\s+(?:de\s+)?(?P<low>{_NUM})\s+en\s+(?P<high>{_NUM}){_UNIT_AFTER}", re.IGNORECASE)
# "twee op de vijf", "een op de zes", "de helft", "een derde": shares, compared as percentages.
_SHARE = re.compile(rf"(?<![\w])(?P<part>{_NUM})\s+op\s+de\s+(?P<whole>{_NUM})\b"
                    rf"|\b(?:de|een)\s+(?P<word>{'|'.join(SHARE_WORDS)})\b", re.IGNORECASE)
# "de jaren 60", "jaren '90", "de jaren negentig": a decade, named by its two digits.
_DECADE = re.compile(rf"\bjaren\s+['’]?(?P<n>[1-9]0|{'|'.join(TENS)})\b", re.IGNORECASE)
_TIMES = re.compile(rf"(?<![\w])(?P<n>{_NUMBER_WORDS}|\d+)maal\b", re.IGNORECASE)


@lru_cache(maxsize=8192)
def cached_quantities(text: str) -> tuple[Quantity, ...]:
    """``extract_quantities`` for texts seen again and again (passages)."""
    return tuple(extract_quantities(text))


def figure_year(text: str) -> int | None:
    """The year a text's figures refer to ("in 2020 had 2,7 % ..."), the latest where it names several;
    None when it names no such year or states no figure besides years."""
    years = [int(match["year"]) for match in FIGURE_YEAR.finditer(text)]
    if not years or not any(q.unit not in ("year", "decade") for q in cached_quantities(text)):
        return None
    return max(years)


def extract_quantities(text: str) -> list[Quantity]:
    """Numbers with their unit, ranges included: "twee tot drie uur" and "tussen 2 en 3 uur" -> 2-3 h;
    "0,5 mg/kg"; shares ("twee op de vijf" -> 40 %), multiples ("tweemaal" -> 2 x) and decades
    ("jaren negentig" -> 90)."""
    found, taken = [], []
    for match in _SHARE.finditer(text):
        if match.group("word"):
            value = SHARE_WORDS[match.group("word").lower()]
        else:
            part, whole = _to_number(match.group("part")), _to_number(match.group("whole"))
            if not part or not whole:
                continue
            value = 100.0 * part / whole
        found.append(Quantity(value, value, "%", match.group(0), True))
        taken.append(match.span())
    for match in _DECADE.finditer(text):
        value = _to_number(match.group("n"))
        found.append(Quantity(value, value, "decade", match.group(0)))
        taken.append(match.span())
    for match in _TIMES.finditer(text):
        value = _to_number(match.group("n"))
        if value:
            found.append(Quantity(value, value, "x", match.group(0)))
            taken.append(match.span())
    # "tussen 60 en 250 mg" first, so that its numbers are not read again one by one.
    for match in [*_BETWEEN.finditer(text), *_QUANTITY.finditer(text)]:
        if any(start <= match.start() < end for start, end in taken):
            continue
        if match.re is _BETWEEN:
            taken.append(match.span())
        low = _to_number(match.group("low"))
        high = _to_number(match.group("high")) if match.group("high") else low
        if low is None or high is None:
            continue
        raw_unit = (match.group("unit") or "").lower()
        unit = UNITS.get(raw_unit, "")
        word_only = not any(ch.isdigit() for ch in match.group(0))
        if word_only and not unit:
            continue  # "een" alone is an article, not a number
        if not unit and all(1900 <= value <= 2100 and value == int(value) for value in (low, high)):
            unit = "year"  # "2019", "2000-2019", "tussen 2015 en 2019"
        approximate = bool(APPROXIMATE_BEFORE.search(text[:match.start()]))
        found.append(Quantity(min(low, high), max(low, high), unit, match.group(0).strip(), approximate))
    return found


# --------------------------------------------------------------------------- lexical analysis

class LexicalAnalyzer:
    """Turns text into BM25 terms: folded, stemmed, stop words out (negations kept), numbers and
    units whole, aliases expanded, and Dutch compounds also indexed by their parts when both
    parts are words of the corpus ("ketaminegebruik" -> ketamine + gebruik)."""

    MIN_PART = 4

    def __init__(self, compound_vocabulary: frozenset[str] | set[str] = frozenset(), split_compounds: bool = True):
        self.vocabulary = frozenset(compound_vocabulary)
        self.split_compounds = split_compounds
        self.term_set = lru_cache(maxsize=8192)(self._term_set)

    @staticmethod
    def fingerprint() -> str:
        """Changes whenever the word lists that shape the terms change, so an index built with
        other lists is rebuilt rather than searched with mismatched terms."""
        return short_hash(repr((sorted(ALIASES.items()), sorted(stop_words()), LexicalAnalyzer.MIN_PART)))

    def _term_set(self, text: str) -> frozenset[str]:
        """The distinct terms of ``text``, cached (passages are compared with many claims)."""
        return frozenset(self.terms(text))

    @staticmethod
    def build_vocabulary(texts: list[str]) -> frozenset[str]:
        """Folded words of the corpus that may serve as compound parts."""
        words = set()
        for text in texts:
            for token in word_tokens(text):
                for part in token.split("-"):
                    folded = fold(part)
                    if len(folded) >= LexicalAnalyzer.MIN_PART and folded.isalpha() and folded not in stop_words():
                        words.add(folded)
        return frozenset(words)

    def compound_parts(self, word: str) -> list[str]:
        if not self.split_compounds or len(word) < 2 * self.MIN_PART or not word.isalpha():
            return []
        for cut in range(self.MIN_PART, len(word) - self.MIN_PART + 1):
            head, tail = word[:cut], word[cut:]
            if head not in self.vocabulary:
                continue
            for link in ("", "s", "e", "en"):  # Dutch linking sounds: ketamine|gebruik, risico's
                rest = tail[len(link):] if tail.startswith(link) else None
                if rest and len(rest) >= self.MIN_PART and rest in self.vocabulary:
                    return [head, rest]
        return []

    def terms(self, text: str) -> list[str]:
        out: list[str] = []
        for token in word_tokens(text):
            token = ALIASES.get(token, token)
            for piece in token.split():
                parts = piece.split("-") if "-" in piece and not piece[0].isdigit() else [piece]
                for part in parts if len(parts) == 1 else parts + [piece.replace("-", "")]:
                    folded = fold(part)
                    if not folded or folded in stop_words():
                        continue
                    out.append(stem(folded))
                    out.extend(stem(p) for p in self.compound_parts(folded))
        return out
