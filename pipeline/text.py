"""Dutch text utilities shared by the stages: sentences, lexical tokens, numbers and cue words.

Nothing here strips negation: niet, geen, nooit and zonder stay in every token stream.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

# --------------------------------------------------------------------------- sentences

# Abbreviations common in Dutch medical prose that spaCy's list lacks.
_EXTRA_ABBREVIATIONS = {
    "e.a.", "i.v.", "i.n.", "i.m.", "o.a.", "d.w.z.", "m.b.t.", "o.b.v.", "t.o.v.", "i.p.v.", "m.n.",
    "bijv.", "bv.", "vs.", "ca.", "resp.", "etc.", "enz.", "nl.", "dr.", "prof.", "mr.", "mw.",
    "jr.", "zgn.", "incl.", "excl.", "max.", "min.", "gem.", "e.d.", "o.i.d.", "syst.", "al.", "p.",
    "fig.", "tab.", "nr.", "blz.", "pag.", "dd.", "st.", "mg.",
}


@lru_cache(maxsize=1)
def abbreviations() -> frozenset[str]:
    """Lower-cased abbreviations (with their final period) that never end a sentence."""
    from spacy.lang.nl.tokenizer_exceptions import TOKENIZER_EXCEPTIONS

    spacy_abbrevs = {key.lower() for key in TOKENIZER_EXCEPTIONS if key.endswith(".") and len(key) > 1}
    return frozenset(spacy_abbrevs | _EXTRA_ABBREVIATIONS)


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

def fold(text: str) -> str:
    """Lower-case and drop accents: "Geïnduceerde" -> "geinduceerde"."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


NEGATIONS = frozenset({"niet", "geen", "nooit", "zonder", "niets", "niemand", "nergens", "geenszins", "noch"})
HEDGES = frozenset({"mogelijk", "kan", "kunnen", "lijkt", "lijken", "zou", "zouden", "waarschijnlijk",
                    "vermoedelijk", "soms", "wellicht", "misschien", "potentieel", "suggereert", "suggereren"})
QUANTIFIERS = frozenset({"altijd", "iedereen", "nooit", "alle", "allemaal", "elke", "elk", "niemand",
                         "volledig", "steeds", "gegarandeerd", "totaal", "absoluut", "helemaal", "alleen",
                         "uitsluitend", "meeste", "sommige", "soms", "vaak", "zelden"})
# Polarity pairs: a claim using one side against a passage using the other is a mismatch cue.
ANTONYMS = (
    ({"verhoogt", "verhoogd", "verhoogde", "hoger", "hoge", "toename", "toegenomen", "stijging", "stijgt",
      "gestegen", "meer", "omhoog", "groter", "grote", "sneller", "snel", "langer", "lang"},
     {"verlaagt", "verlaagd", "verlaagde", "lager", "lage", "afname", "afgenomen", "daling", "daalt",
      "gedaald", "minder", "omlaag", "kleiner", "kleine", "langzamer", "langzaam", "korter", "kort"}),
    ({"veilig", "veilige", "onschadelijk", "onschuldig", "ongevaarlijk", "gezond"},
     {"onveilig", "gevaarlijk", "risico", "risico's", "risico’s", "schadelijk", "riskant", "dodelijk"}),
    ({"effectief", "effectieve", "werkt", "werkzaam", "helpt", "geneest", "bewezen", "aangetoond"},
     {"ineffectief", "onwerkzaam", "werkt niet", "onvoldoende", "onbewezen", "onduidelijk", "onbekend"}),
    ({"mannen", "man"}, {"vrouwen", "vrouw"}),
    ({"s-ketamine", "esketamine"}, {"r-ketamine", "arketamine"}),
    ({"goedgekeurd", "geregistreerd", "toegestaan", "legaal"}, {"verboden", "illegaal", "strafbaar", "afgekeurd"}),
)

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
    from spacy.lang.nl.stop_words import STOP_WORDS

    return frozenset(STOP_WORDS) - NEGATIONS - QUANTIFIERS - HEDGES


def stem(token: str) -> str:
    if token[0].isdigit() or "/" in token:
        return token
    return _stemmer().stemWord(fold(token))


# Social-media and abbreviation aliases that the corpus spells out.
ALIASES = {
    "k": "ketamine", "keta": "ketamine", "ket": "ketamine", "special k": "ketamine",
    "who": "world health organization", "fda": "food and drug administration",
    "ema": "european medicines agency", "gwn": "gewoon", "idd": "inderdaad", "ff": "even",
    "spravato": "esketamine neusspray", "nmda": "nmda-receptor",
}


# --------------------------------------------------------------------------- numbers

_WORD_NUMBERS = {
    "nul": 0, "een": 1, "één": 1, "twee": 2, "drie": 3, "vier": 4, "vijf": 5, "zes": 6, "zeven": 7,
    "acht": 8, "negen": 9, "tien": 10, "elf": 11, "twaalf": 12, "dertien": 13, "veertien": 14,
    "vijftien": 15, "zestien": 16, "zeventien": 17, "achttien": 18, "negentien": 19, "twintig": 20,
    "dertig": 30, "veertig": 40, "vijftig": 50, "zestig": 60, "zeventig": 70, "tachtig": 80,
    "negentig": 90, "honderd": 100, "duizend": 1000, "half": 0.5, "halve": 0.5, "helft": 0.5,
    "eenmaal": 1, "tweemaal": 2, "driemaal": 3, "viermaal": 4, "derde": 1 / 3, "kwart": 0.25,
    "tiende": 0.1, "dubbel": 2, "decennia": None,
}
_UNITS = {
    "mg/kg": "mg/kg", "mg per kilo": "mg/kg", "mg per kg": "mg/kg", "mg/ kg": "mg/kg", "mg": "mg", "gram": "g", "g": "g", "kilo": "kg", "kg": "kg",
    "%": "%", "procent": "%", "percent": "%",
    "uur": "h", "u": "h", "uren": "h", "minuten": "min", "minuut": "min", "min": "min",
    "dag": "d", "dagen": "d", "week": "wk", "weken": "wk", "wk": "wk", "maand": "mo", "maanden": "mo",
    "jaar": "yr", "jaren": "yr", "keer": "x", "maal": "x", "patiënten": "n", "patienten": "n",
    "mensen": "n", "deelnemers": "n", "studies": "studies", "euro": "eur", "punten": "pt",
}


@dataclass(frozen=True)
class Quantity:
    low: float
    high: float
    unit: str
    text: str

    def overlaps(self, other: "Quantity", tolerance: float = 0.02) -> bool:
        slack = tolerance * max(abs(self.high), abs(other.high), 1e-9)
        return self.low - slack <= other.high and other.low - slack <= self.high


def _to_number(token: str) -> float | None:
    token = token.lower().strip()
    if token in _WORD_NUMBERS:
        return _WORD_NUMBERS[token]
    if re.fullmatch(r"\d{1,3}(?:\.\d{3})+", token):  # 3.541 (Dutch thousands separator)
        return float(token.replace(".", ""))
    if re.fullmatch(r"\d+(?:[.,]\d+)?", token):
        return float(token.replace(",", "."))
    return None


_NUMBER_WORDS = "|".join(sorted((re.escape(w) for w in _WORD_NUMBERS if _WORD_NUMBERS[w] is not None),
                                key=len, reverse=True))
_NUM = rf"(?:\d+(?:[.,]\d+)*|{_NUMBER_WORDS})"
_UNIT = "|".join(sorted((re.escape(u) for u in _UNITS), key=len, reverse=True))
_QUANTITY = re.compile(
    rf"(?<![\w,.])(?P<low>{_NUM})(?:\s*(?:-|–|tot|à|a)\s*(?P<high>{_NUM}))?"
    rf"(?:\s*(?P<unit>{_UNIT})(?![\w]))?",
    re.IGNORECASE)


def extract_quantities(text: str) -> list[Quantity]:
    """Numbers with their unit, ranges included: "twee tot drie uur" -> 2-3 h; "0,5 mg/kg"."""
    found = []
    for match in _QUANTITY.finditer(text):
        low = _to_number(match.group("low"))
        high = _to_number(match.group("high")) if match.group("high") else low
        if low is None or high is None:
            continue
        raw_unit = (match.group("unit") or "").lower()
        unit = _UNITS.get(raw_unit, "")
        word_only = not any(ch.isdigit() for ch in match.group(0))
        if word_only and not unit:
            continue  # "een" alone is an article, not a number
        if not unit and 1900 <= low <= 2100 and low == high and low == int(low):
            unit = "year"
        found.append(Quantity(min(low, high), max(low, high), unit, match.group(0).strip()))
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
