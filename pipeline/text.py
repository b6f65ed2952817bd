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

@lru_cache(maxsize=1)
def _dutch_lexicon():
    """spaCy's Dutch lemma lookup table (keyed by word form) and the set of its lemmas."""
    from spacy.lookups import load_lookups

    table = load_lookups("nl", ["lemma_lookup"]).get_table("lemma_lookup")
    return table, frozenset(str(lemma).lower() for lemma in table.values())


def load_dutch_lexicon() -> None:
    """Load both word lists now (about 2 s), so the cost falls at start-up and not inside a first batch."""
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


NEGATIONS = frozenset({"niet", "geen", "nooit", "zonder", "niets", "niemand", "nergens", "geenszins", "noch"})
HEDGES = frozenset({"mogelijk", "kan", "kunnen", "lijkt", "lijken", "zou", "zouden", "waarschijnlijk",
                    "vermoedelijk", "soms", "wellicht", "misschien", "potentieel", "suggereert", "suggereren"})
QUANTIFIERS = frozenset({"altijd", "iedereen", "nooit", "alle", "allemaal", "elke", "elk", "niemand",
                         "volledig", "steeds", "gegarandeerd", "totaal", "absoluut", "helemaal", "alleen",
                         "uitsluitend", "meeste", "sommige", "soms", "vaak", "zelden"})
# Polarity pairs: a claim using one side against a passage using the other is a mismatch cue.
ANTONYMS = (
    # One pair per dimension: "snel afgebroken" agrees with "korte halfwaardetijd".
    ({"verhoogt", "verhoogd", "verhoogde", "hoger", "hoge", "meer", "omhoog"},
     {"verlaagt", "verlaagd", "verlaagde", "lager", "lage", "minder", "omlaag"}),
    ({"groter", "grote"}, {"kleiner", "kleine"}),
    ({"sneller", "snel"}, {"langzamer", "langzaam"}),
    ({"langer", "lang"}, {"korter", "kort"}),
    ({"veilig", "veilige", "onschadelijk", "onschuldig", "ongevaarlijk", "gezond"},
     {"onveilig", "gevaarlijk", "risico", "risico's", "risico’s", "schadelijk", "riskant", "dodelijk"}),
    ({"effectief", "effectieve", "werkt", "werkzaam", "helpt", "geneest", "bewezen", "aangetoond"},
     {"ineffectief", "onwerkzaam", "onvoldoende", "onbewezen", "onduidelijk", "onbekend"}),
    ({"mannen", "man"}, {"vrouwen", "vrouw"}),
    ({"veel", "uitgebreid", "vaak", "vaker", "meestal"}, {"weinig", "nauwelijks", "zelden", "beperkt"}),
    ({"stimuleert", "bevordert", "activatie", "activeert"}, {"remt", "blokkade", "blokkeert", "onderdrukt"}),
    ({"verbetert", "verbeterde", "verbeteringen", "verbetering", "beter"},
     {"verslechtert", "verslechterde", "verslechtering", "slechter"}),
    ({"duur", "duurder"}, {"goedkoop", "goedkoper"}),
    ({"sterker", "sterk"}, {"zwakker", "zwak"}),
    ({"omkeerbaar", "verdwijnen", "verdwijnt", "herstelt"}, {"blijvend", "onherstelbaar", "permanent"}),
    ({"verwijdt", "verwijden"}, {"vernauwt", "vernauwen"}),
    ({"volwassenen"}, {"ouderen", "kinderen"}),
    ({"snuiven", "gesnoven"}, {"injecteren", "geïnjecteerd", "geinjecteerd", "slikken"}),
    ({"s-ketamine", "esketamine"}, {"r-ketamine", "arketamine"}),
    ({"goedgekeurd", "geregistreerd", "toegestaan", "legaal"}, {"verboden", "illegaal", "strafbaar", "afgekeurd"}),
)

# Entities that claims swap ("R-ketamine ... dan S-ketamine"): the order of a pair in the claim is
# compared with its order in the passage.
SWAPPABLE_PAIRS = (
    ("s-ketamine", "r-ketamine"), ("mannen", "vrouwen"),
    ("linksdraaiend", "rechtsdraaiend"), ("ketaminegroep", "placebogroep"), ("dissociatie", "angst"),
    ("positieve", "negatieve"), ("volwassenen", "ouderen"), ("enkel ketamine", "mengintoxicatie"),
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


@lru_cache(maxsize=65536)
def stem(token: str) -> str:
    if token[0].isdigit() or "/" in token:
        return token
    return _stemmer().stemWord(fold(token))


# Trends: the direction a claim states in words ("daalde", "nam toe") against the one a passage
# states in words or in figures ("in 2016 2,7%, in 2019 4,2%"; "van 5% naar 11%").
_RISING = frozenset({"steeg", "stegen", "stijgt", "stijgen", "stijgende", "gestegen", "stijging", "toegenomen",
                     "toename", "toenemend", "toenemende", "groeit", "groeien", "groeide", "gegroeid", "verdubbeld",
                     "verdubbelde", "verdubbelt"})
_FALLING = frozenset({"daalde", "daalden", "daalt", "dalen", "dalende", "gedaald", "daling", "afgenomen", "afname",
                      "afnemend", "afnemende", "krimpt", "krimpen", "verminderde", "halveerde", "gehalveerd"})
_PHRASAL_TREND = re.compile(r"\b(?:nam|namen|neemt|nemen)\b[^,.;]{0,80}?\b(?P<particle>toe|af)\b")
_YEAR = re.compile(r"(?<![\d,.])(?:19|20)\d{2}(?![\d,.%])")
_PERCENT = re.compile(r"(?<![\d,.])(\d+(?:,\d+)?)\s?%")
_FROM_TO = re.compile(r"\bvan\s+(\d+(?:,\d+)?)\s?%\s+naar\s+(\d+(?:,\d+)?)\s?%")


def stated_trend(text: str) -> int:
    """+1 rising, -1 falling, 0 none or both, from the words of ``text``."""
    tokens = set(word_tokens(text))
    rising, falling = bool(tokens & _RISING), bool(tokens & _FALLING)
    for match in _PHRASAL_TREND.finditer(text.lower()):
        rising |= match["particle"] == "toe"
        falling |= match["particle"] == "af"
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


# Social-media and abbreviation aliases that the corpus spells out.
ALIASES = {
    "k": "ketamine", "keta": "ketamine", "ket": "ketamine", "special k": "ketamine",
    "who": "world health organization", "fda": "food and drug administration",
    "ema": "european medicines agency", "gwn": "gewoon", "idd": "inderdaad", "ff": "even",
    "spravato": "esketamine neusspray", "nmda": "nmda-receptor",
    "trd": "therapieresistente depressie", "mdd": "depressieve stoornis",
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


# Units of one dimension convert to a common base so "twee tot drie dagen" can meet "2-3 uur".
_TIME_IN_HOURS = {"min": 1 / 60, "h": 1.0, "d": 24.0, "wk": 168.0, "mo": 730.0, "yr": 8760.0}
_APPROXIMATE = re.compile(r"(?:ongeveer|circa|ca\.|rond|zo'n|zo’n|bijna|ruim|meer dan|minder dan|ruwweg|"
                          r"grofweg|pakweg|vrijwel|nagenoeg|slechts|maar|tot)\s*$", re.IGNORECASE)


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
        return self.unit in _TIME_IN_HOURS and other.unit in _TIME_IN_HOURS

    def _base(self) -> tuple[float, float]:
        factor = _TIME_IN_HOURS.get(self.unit, 1.0)
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
_UNIT_AFTER = rf"(?:\s*(?P<unit>{_UNIT})(?![\w]))?"
_QUANTITY = re.compile(rf"(?<![\w,.\-])(?P<low>{_NUM})(?:\s*(?:-|–|tot|à|a)\s*(?P<high>{_NUM}))?{_UNIT_AFTER}",
                       re.IGNORECASE)
_BETWEEN = re.compile(rf"\btussen\s+(?P<low>{_NUM})\s+en\s+(?P<high>{_NUM}){_UNIT_AFTER}", re.IGNORECASE)
# "twee op de vijf", "een op de zes", "de helft", "een derde": shares, compared as percentages.
_SHARE = re.compile(rf"(?<![\w])(?P<part>{_NUM})\s+op\s+de\s+(?P<whole>{_NUM})\b"
                    r"|\b(?:de|een)\s+(?P<word>helft|derde|kwart|tiende)\b", re.IGNORECASE)
_SHARE_WORDS = {"helft": 50.0, "derde": 100 / 3, "kwart": 25.0, "tiende": 10.0}
# "de jaren 60", "jaren '90", "de jaren negentig": a decade, named by its two digits.
_TENS = ("twintig", "dertig", "veertig", "vijftig", "zestig", "zeventig", "tachtig", "negentig")
_DECADE = re.compile(rf"\bjaren\s+['’]?(?P<n>[1-9]0|{'|'.join(_TENS)})\b", re.IGNORECASE)
_TIMES = re.compile(rf"(?<![\w])(?P<n>{_NUMBER_WORDS}|\d+)maal\b", re.IGNORECASE)


@lru_cache(maxsize=8192)
def cached_quantities(text: str) -> tuple[Quantity, ...]:
    """``extract_quantities`` for texts seen again and again (passages)."""
    return tuple(extract_quantities(text))


def extract_quantities(text: str) -> list[Quantity]:
    """Numbers with their unit, ranges included: "twee tot drie uur" and "tussen 2 en 3 uur" -> 2-3 h;
    "0,5 mg/kg"; shares ("twee op de vijf" -> 40 %), multiples ("tweemaal" -> 2 x) and decades
    ("jaren negentig" -> 90)."""
    found, taken = [], []
    for match in _SHARE.finditer(text):
        if match.group("word"):
            value = _SHARE_WORDS[match.group("word").lower()]
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
        unit = _UNITS.get(raw_unit, "")
        word_only = not any(ch.isdigit() for ch in match.group(0))
        if word_only and not unit:
            continue  # "een" alone is an article, not a number
        if not unit and all(1900 <= value <= 2100 and value == int(value) for value in (low, high)):
            unit = "year"  # "2019", "2000-2019", "tussen 2015 en 2019"
        approximate = bool(_APPROXIMATE.search(text[:match.start()]))
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
        import hashlib

        lists = repr((sorted(ALIASES.items()), sorted(stop_words()), LexicalAnalyzer.MIN_PART))
        return hashlib.sha256(lists.encode("utf-8")).hexdigest()[:16]

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
