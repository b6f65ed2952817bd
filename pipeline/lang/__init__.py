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
from . import antonyms, cue_words, ketamine, negation, numbers, orthography, social

DATA_MODULES = (negation, cue_words, antonyms, numbers, orthography, social, ketamine)

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
NO_LONGER = re.compile(rf"\b({_alternatives(negation.NO_LONGER_LEADS)})\s+meer\b", re.IGNORECASE)
PHRASAL_TREND = re.compile(rf"\b(?:{_alternatives(cue_words.PHRASAL_TREND_VERBS)})\b[^,.;]{{0,80}}?"
                           rf"\b(?P<particle>{_alternatives(cue_words.PHRASAL_TREND_PARTICLES)})\b")
PHRASAL_TREND_PARTICLES = cue_words.PHRASAL_TREND_PARTICLES
APPROXIMATE_BEFORE = re.compile(rf"(?:{_alternatives(numbers.APPROXIMATE)})\s*$", re.IGNORECASE)
GREETING = re.compile(rf"^({_alternatives(social.GREETINGS)})\b(\s+({_alternatives(social.GREETING_ADDRESSEES)}))?"
                      r"[\s!.,]*$", re.IGNORECASE)
OPINION = re.compile(rf"^({_alternatives(social.OPINION_OPENERS)})\b", re.IGNORECASE)
PRESENT_TIME = re.compile(rf"\b({_alternatives(cue_words.PRESENT_TIME)})\b", re.IGNORECASE)
FIGURE_YEAR = re.compile(rf"\b(?:{_alternatives(cue_words.FIGURE_YEAR_LEADS)})\s+(?P<year>(?:19|20)\d{{2}})\b",
                         re.IGNORECASE)
TAG_QUESTION = re.compile(rf"[,\s]+({_alternatives(social.TAG_QUESTIONS)})\s*\?$", re.IGNORECASE)


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


@lru_cache(maxsize=1)
def fingerprint() -> str:
    """Short hash of every word list and pattern source of every data module."""
    data = {module.__name__.rsplit(".", 1)[-1]: {name: _canonical(getattr(module, name))
                                                 for name in sorted(dir(module)) if name.isupper()}
            for module in DATA_MODULES}
    return short_hash(repr(sorted(data.items())))
