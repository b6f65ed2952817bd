"""Language knowledge, kept as data and assembled here (as spaCy's ``spacy/lang/nl`` assembles its
word lists): general Dutch in ``negation``, ``cue_words``, ``antonyms``, ``numbers``, ``orthography``
and ``social``; the corpus's subject in ``ketamine``.

The stages import the assembled names below, never the data modules. ``fingerprint()`` changes
whenever any list changes, so a model trained with other lists is reported as stale.
"""
from __future__ import annotations

import re
from functools import lru_cache

from ..storage import short_hash
from . import antonyms, cue_words, ketamine, negation, numbers, orthography, social, stance

# The lists the verdict model reads, and those the post reader reads; each model records the fingerprint of its own.
DATA_MODULES = (negation, cue_words, antonyms, numbers, orthography, social, ketamine)
POST_DATA_MODULES = (negation, cue_words, social, stance)

# --------------------------------------------------------------------------- word lists
NEGATIONS = negation.NEGATIONS
HEDGES = cue_words.HEDGES
QUANTIFIERS = cue_words.QUANTIFIERS
RISING, FALLING = cue_words.RISING, cue_words.FALLING
ANTONYMS = antonyms.ANTONYMS + ketamine.ANTONYMS
SWAPPABLE_PAIRS = ketamine.SWAPPABLE_PAIRS
ACRONYMS = ketamine.ACRONYMS
ABBREVIATIONS = orthography.ABBREVIATIONS
FUNCTION_WORDS = orthography.FUNCTION_WORDS
ELISION_CONJUNCTIONS = orthography.ELISION_CONJUNCTIONS
WORD_NUMBERS, UNITS, TIME_IN_HOURS = numbers.WORD_NUMBERS, numbers.UNITS, numbers.TIME_IN_HOURS
SHARE_WORDS, TENS, RANGE_JOINERS = numbers.SHARE_WORDS, numbers.TENS, numbers.RANGE_JOINERS

# Words spelled out before matching: in the lexical index (all) and in a post's text (single words
# of slang and chat; "special k" never is a single word).
ALIASES = {**ketamine.DRUG_SLANG, **ketamine.DOMAIN_ABBREVIATIONS, **social.CHAT_ABBREVIATIONS}
POST_ALIASES = {**ketamine.DRUG_SLANG, **social.CHAT_ABBREVIATIONS}


# --------------------------------------------------------------------------- patterns
def _alternatives(items) -> str:
    return "|".join(items)


NO_EVIDENCE = re.compile(_alternatives(negation.NO_EVIDENCE), re.IGNORECASE)
UNIVERSAL = re.compile(rf"\b({_alternatives(cue_words.UNIVERSAL)})\b", re.IGNORECASE)
LIMITING = re.compile(rf"\b({_alternatives(cue_words.LIMITING)})\b", re.IGNORECASE)
NEGATED_BEFORE = re.compile(rf"\b({_alternatives(negation.NEGATES_FOLLOWING)})\s+(voor\s+)?$", re.IGNORECASE)
# With a leading ", en" / "maar", so that "terughoudend, en niet zonder reden" leaves "terughoudend".
NON_NEGATING_IDIOM = re.compile(rf"(?:[,;]?\s*\b(?:en|maar)\s+)?\b(?:{_alternatives(negation.NON_NEGATING_IDIOMS)})\b\s*",
                                re.IGNORECASE)
NO_LONGER = re.compile(rf"\b({_alternatives(negation.NO_LONGER_LEADS)})\s+meer\b", re.IGNORECASE)
PHRASAL_TREND = re.compile(rf"\b(?:{_alternatives(cue_words.PHRASAL_TREND_VERBS)})\b[^,.;]{{0,80}}?"
                           rf"\b(?P<particle>{_alternatives(cue_words.PHRASAL_TREND_PARTICLES)})\b")
PHRASAL_TREND_PARTICLES = cue_words.PHRASAL_TREND_PARTICLES
_BELOW_HUNDRED = (rf"(?:(?:{_alternatives(numbers.ONES)})(?:{_alternatives(numbers.NUMERAL_AND)}))?"
                  rf"(?:{_alternatives(numbers.TENS)})|{_alternatives(numbers.TEENS)}|{_alternatives(numbers.ONES)}")
_BELOW_THOUSAND = rf"(?:(?:{_alternatives(numbers.ONES)})?{numbers.HUNDRED}(?:{_BELOW_HUNDRED})?|{_BELOW_HUNDRED})"
# One Dutch numeral word, whole: "vijfendertig", "tweehonderdvijftig", "drieduizendvijfhonderd".
NUMERAL_WORD = (rf"(?:(?:{_BELOW_THOUSAND})?{numbers.THOUSAND}(?:{_BELOW_THOUSAND})?|{_BELOW_THOUSAND})"
                r"(?!\w)")
NUMERAL_PARTS = re.compile(rf"(?P<ones>{_alternatives(numbers.ONES)})(?:{_alternatives(numbers.NUMERAL_AND)})"
                           rf"(?P<tens>{_alternatives(numbers.TENS)})")
HUNDRED, THOUSAND = numbers.HUNDRED, numbers.THOUSAND
APPROXIMATE_BEFORE = re.compile(rf"(?:{_alternatives(numbers.APPROXIMATE)})\s*$", re.IGNORECASE)
GREETING = re.compile(rf"^({_alternatives(social.GREETINGS)})\b(\s+({_alternatives(social.GREETING_ADDRESSEES)}))?"
                      r"[\s!.,]*$", re.IGNORECASE)
OPINION = re.compile(rf"^({_alternatives(social.OPINION_OPENERS)})\b", re.IGNORECASE)
PRESENT_TIME = re.compile(rf"\b({_alternatives(cue_words.PRESENT_TIME)})\b", re.IGNORECASE)
FIGURE_YEAR = re.compile(rf"\b(?:{_alternatives(cue_words.FIGURE_YEAR_LEADS)})\s+(?P<year>(?:19|20)\d{{2}})\b",
                         re.IGNORECASE)
TAG_QUESTION = re.compile(rf"(?<![,\s])[,\s]+({_alternatives(social.TAG_QUESTIONS)})\s*\?$", re.IGNORECASE)

# How posters frame a claim (``stance``): cues for the post reader, and what it strips to get the claim.
REPORT_FRAME = re.compile(rf"\b(?P<speaker>{_alternatives(stance.REPORTERS)})\s+(?:{_alternatives(stance.SAYING_VERBS)})"
                          r"\s+(?:\w+\s+){0,2}?dat\b", re.IGNORECASE)
TRAILING_REPORT = re.compile(
    rf"[,;:\u2013-]\s*(?:(?:{_alternatives(stance.TRAILING_SAYING_VERBS)})\s+(?P<speaker>{_alternatives(stance.REPORTERS)})"
    rf"|(?:{_alternatives(stance.PERFECT_AUXILIARIES)})\s+(?P<speaker_first>{_alternatives(stance.REPORTERS)})\s+"
    rf"(?:{_alternatives(stance.SAYING_PARTICIPLES)}))\s*[.!?]*\s*$", re.IGNORECASE)
DRUG_MENTION = re.compile(rf"\b(?:{_alternatives(ketamine.DRUG_NAMES)})\b", re.IGNORECASE)
REFERRING_SUBJECT = re.compile(rf"^(?:(?:en|maar|ook|want|dus)\s+)?(?:{_alternatives(stance.REFERRING_SUBJECTS)})\s+"
                               rf"(?=(?:{_alternatives(stance.SUBJECT_VERBS)})\b)", re.IGNORECASE)
# The drug, or a pronoun standing for it, as a clause's subject ("het" only where it cannot be an article).
_DRUG_SUBJECT = (rf"{_alternatives(ketamine.DRUG_NAMES)}|{_alternatives(stance.POINTING_SUBJECTS)}"
                 rf"|het(?=\s+(?:{_alternatives(stance.PRONOUN_HET_BEFORE)})\b)")
# A question's verb-first order, its subject the drug or a word pointing back to it: "is ketamine een pijnstiller".
INVERTED_QUESTION = re.compile(rf"^(?P<verb>{_alternatives(stance.SUBJECT_VERBS)})\s+(?P<subject>{_DRUG_SUBJECT})"
                               r"\s+(?P<rest>\S.*)$", re.IGNORECASE)
# A subordinate clause ("dat K verslavend kan zijn") led by the drug or a pronoun standing for it, whose finite verb
# stands at the clause's end; pipeline/post_reading.verb_second puts it after the subject.
CLAUSE_SUBJECT = re.compile(rf"^(?P<subject>{_DRUG_SUBJECT})\s+", re.IGNORECASE)
FINITE_VERB = re.compile(rf"(?:{_alternatives(stance.SUBJECT_VERBS)})", re.IGNORECASE)
SUBORDINATE_BOUNDARIES = frozenset(stance.SUBORDINATE_BOUNDARIES)
QUESTION_PARTICLE_END = re.compile(rf"(?<!\s)\s+(?:{_alternatives(stance.QUESTION_PARTICLES)})(?=[\s?!.…]*$)", re.IGNORECASE)
DUMMY_SUBJECT_TAIL = re.compile(rf"(?:is|was)\s+(?:[\w-]+\s+){{0,2}}?(?:{_alternatives(stance.DUMMY_SUBJECT_TAIL)})\b",
                                re.IGNORECASE)
CLAUSE_OPENERS = stance.CLAUSE_OPENERS
SOURCE_FRAME = re.compile(rf"\b(?:{_alternatives(stance.SOURCE_FRAMES)})(?!\w)", re.IGNORECASE)
_DENIAL = rf"(?:{_alternatives(stance.DENIAL_WORDS)}|{_alternatives(stance.DENIAL_PHRASES)})"
DENIAL = re.compile(rf"\b{_DENIAL}\b", re.IGNORECASE)
# "X is een fabel", "X, maar dat is gelul", "X, wat een onzin": the denial that follows a claim, up to the sentence's end.
# It starts where a run of separators starts (after a word) or where no word or separator precedes: a search
# that could start anywhere inside a long run of spaces or commas would take quadratic time.
DENIAL_SUFFIX = re.compile(r"(?:(?<=\w)[\s,;:'\"-]+|(?<![\w\s,;:'\"-])[\s,;:'\"-]*)"
                           r"(?:(?:maar|en)\s+)?(?:(?:dat|dit|het|wat|da's)\s+)?(?:een\s+)?"
                           r"(?:(?:is|zijn|blijkt|blijft|lijkt|klinkt)\s+(?:[\w-]+\s+){0,3}?)?"
                           rf"{_DENIAL}\b[^.]*\.?\s*$", re.IGNORECASE)
MOCKING_FRAME = re.compile(rf"\b(?:{_alternatives(stance.MOCKING_FRAMES)})\b", re.IGNORECASE)
LAUGHTER = re.compile(rf"(?<!\w)(?:{_alternatives(stance.LAUGHTER)})(?!\w)", re.IGNORECASE)
LEADING_QUESTION = re.compile(rf"\b(?:{_alternatives(stance.LEADING_QUESTIONS)})\b", re.IGNORECASE)
SCEPTICAL_QUESTION = re.compile(rf"\b(?:{_alternatives(stance.SCEPTICAL_QUESTIONS)})\b", re.IGNORECASE)
QUESTION_WORD_OPENING = re.compile(rf"^\W*(?:{_alternatives(stance.QUESTION_WORDS)})\b", re.IGNORECASE)
ADVICE_OPENING = re.compile(rf"^\W*(?:{_alternatives(stance.ADVICE_OPENERS)})\b", re.IGNORECASE)
ADVICE_PHRASE = re.compile(rf"\b(?:{_alternatives(stance.ADVICE_PHRASES)})", re.IGNORECASE)


# --------------------------------------------------------------------------- identity
def _canonical(value):
    """A form of ``value`` whose repr does not depend on set order or hash seeds."""
    if isinstance(value, (set, frozenset)):
        return sorted(_canonical(item) for item in value)
    if isinstance(value, dict):
        return sorted((_canonical(key), _canonical(item)) for key, item in value.items())
    if isinstance(value, (tuple, list)):
        return [_canonical(item) for item in value]
    return value


@lru_cache(maxsize=2)
def fingerprint(modules: tuple = DATA_MODULES) -> str:
    """Short hash of every word list and pattern source of the data modules (by default the verdict model's)."""
    data = {module.__name__.rsplit(".", 1)[-1]: {name: _canonical(getattr(module, name))
                                                 for name in sorted(dir(module)) if name.isupper()}
            for module in modules}
    return short_hash(repr(sorted(data.items())))
