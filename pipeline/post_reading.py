"""Reading a post sentence by sentence: does a sentence carry a checkable claim, what does the poster do with
it (asserts, denies, reports), and what is the claim once its framing is stripped.

Two small logistic regressions over cue features (``pipeline/lang/stance.py``) and, optionally, the sentence's
embedding, fitted on ``corpus/posts`` (see corpus/labelled/GUIDELINES.md). Without a fitted reader the checker
falls back to ``rule_reading``: the earlier regex rules, kept as the baseline the reader is measured against.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.validation import check_is_fitted

from .config import Posts
from .errors import FactCheckError
from .storage import atomic_file, load_skops, loading_artefact
from .posts import PostSentence
from .labelled_posts import CHECKABLE, SENTENCE_CLASSES, STANCES
from .lang import POST_DATA_MODULES, fingerprint
from .lang import (ADVICE_OPENING, ADVICE_PHRASE, CLAUSE_OPENERS, CLAUSE_SUBJECT, DENIAL, DENIAL_SUFFIX,
                   DRUG_MENTION, DUMMY_SUBJECT_TAIL, FINITE_VERB, GREETING, INVERTED_QUESTION, LAUGHTER,
                   LEADING_QUESTION, MOCKING_FRAME, NEGATIONS, NON_NEGATING_IDIOM, OPINION, QUANTIFIERS,
                   QUESTION_PARTICLE_END, QUESTION_WORD_OPENING, REFERRING_SUBJECT, REPORT_FRAME, SCEPTICAL_QUESTION,
                   SOURCE_FRAME, SUBORDINATE_BOUNDARIES, TRAILING_REPORT)

_WORDS = re.compile(r"[^\W\d_]+|\d+(?:[.,]\d+)?")
_FIRST_PERSON = frozenset({"ik", "mijn", "m'n", "me", "mij", "wij", "we", "ons", "onze"})
_SECOND_PERSON = frozenset({"je", "jij", "jullie", "u", "jouw", "je"})


@dataclass(frozen=True)
class SentenceReading:
    """One sentence of a post as read: its class and, when it carries a checkable claim, the stance and the
    claim as asserted (framing stripped) with whose claim it is, if someone else's."""

    sentence: str
    sentence_class: str
    class_confidence: float
    stance: str | None = None
    stance_probabilities: dict[str, float] | None = None
    claim: str | None = None
    attributed_to: str | None = None

    @property
    def checkable(self) -> bool:
        return self.sentence_class in CHECKABLE


# --------------------------------------------------------------------------- cues
CUE_NAMES = ("question_marks", "opens_with_question_word", "leading_question", "sceptical_question",
             "report_frame", "source_frame", "denial", "denial_suffix", "mocking_frame", "laughter",
             "next_denial", "next_laughter", "next_is_short", "previous_is_question", "advice_opening",
             "advice_phrase", "greeting", "opinion_opening", "negations", "quantifiers", "has_number",
             "first_person", "second_person", "exclamation", "log_words", "is_only_sentence")


def frame_cues(sentence: str, previous: str | None, following: str | None) -> dict[str, float]:
    """Cue features of one sentence, read with its neighbours (a denial often follows the claim it answers:
    "X?? Fabeltje.")."""
    words = [w.lower() for w in _WORDS.findall(sentence)]
    next_words = _WORDS.findall(following or "")
    return {
        "question_marks": min(sentence.count("?"), 3),
        "opens_with_question_word": float(bool(QUESTION_WORD_OPENING.match(sentence))),
        "leading_question": float(bool(LEADING_QUESTION.search(sentence))),
        "sceptical_question": float(bool(SCEPTICAL_QUESTION.search(sentence))),
        "report_frame": float(bool(REPORT_FRAME.search(sentence) or TRAILING_REPORT.search(sentence))),
        "source_frame": float(bool(SOURCE_FRAME.search(sentence))),
        "denial": float(bool(DENIAL.search(sentence))),
        "denial_suffix": float(bool(DENIAL_SUFFIX.search(sentence))),
        "mocking_frame": float(bool(MOCKING_FRAME.search(sentence))),
        "laughter": float(bool(LAUGHTER.search(sentence))),
        "next_denial": float(bool(following and DENIAL.search(following))),
        "next_laughter": float(bool(following and LAUGHTER.search(following))),
        "next_is_short": float(following is not None and len(next_words) <= 5),
        "previous_is_question": float(bool(previous and previous.rstrip().endswith("?"))),
        "advice_opening": float(bool(ADVICE_OPENING.match(sentence))),
        "advice_phrase": float(bool(ADVICE_PHRASE.search(sentence))),
        "greeting": float(bool(GREETING.match(sentence))),
        "opinion_opening": float(bool(OPINION.match(sentence))),
        "negations": float(len(set(words) & NEGATIONS)),
        "quantifiers": float(len(set(words) & QUANTIFIERS)),
        "has_number": float(any(w[0].isdigit() for w in words)),
        "first_person": float(bool(set(words) & _FIRST_PERSON)),
        "second_person": float(bool(set(words) & _SECOND_PERSON)),
        "exclamation": float("!" in sentence),
        "log_words": float(np.log1p(len(words))),
        "is_only_sentence": float(previous is None and following is None),
    }


def cue_matrix(sentences: list[str], previous: list[str | None], following: list[str | None]) -> np.ndarray:
    rows = [frame_cues(s, p, f) for s, p, f in zip(sentences, previous, following)]
    return np.array([[row[name] for name in CUE_NAMES] for row in rows], dtype=np.float32).reshape(-1, len(CUE_NAMES))


def neighbours(sentences: list[str]) -> tuple[list[str | None], list[str | None]]:
    """Each sentence's previous and next sentence within its post (None at the edges)."""
    return [None, *sentences[:-1]], [*sentences[1:], None]


# --------------------------------------------------------------------------- the claim as asserted
def claim_as_asserted(sentence: str) -> tuple[str, str | None]:
    """The claim a sentence is about, without its framing, and whose claim it is when reported:
    "mijn huisarts zegt dat K slecht is voor je blaas" -> ("K slecht is voor je blaas", "mijn huisarts")."""
    text, speaker = sentence.strip(), None
    # Mocking first: "mensen die denken dat X" is not a report by "mensen".
    for frame in (MOCKING_FRAME, REPORT_FRAME, SOURCE_FRAME, LEADING_QUESTION, SCEPTICAL_QUESTION):
        match = frame.search(text)
        if match and match.start() <= 40 and len(text) - match.end() >= 10:  # a frame leads, a claim follows
            volgens = frame is SOURCE_FRAME and match.group(0).lower().startswith("volgens")
            if frame is REPORT_FRAME:
                speaker = match.group("speaker")
            elif volgens and not re.match(r"volgens\s+(mij|ons)\b", match.group(0), re.IGNORECASE):
                speaker = match.group(0)  # "volgens mij/ons" is a hedge, not a source
            if volgens and _inside_clause(text[:match.start()]):
                # an aside: "Een K-hole duurt volgens gebruikers een half uur"
                text = f"{text[:match.start()].rstrip()} {text[match.end():].lstrip(' ,')}"
                continue
            text = text[match.end():]
            if re.search(r"\b(?:dat|alsof)$", match.group(0), re.IGNORECASE):
                text = verb_second(text.lstrip(" ,"))  # "zegt dat K verslavend kan zijn": the verb comes last
            if volgens:
                text = subject_first(text.lstrip(" ,"))  # "volgens X is ketamine ..." puts the verb first
    trailing = TRAILING_REPORT.search(text) if speaker is None else None
    if trailing and len(_WORDS.findall(text[:trailing.start()])) >= 3:  # "..., zegt mijn buurvrouw"
        speaker = trailing.group("speaker") or trailing.group("speaker_first")
        text = text[:trailing.start()]
    stripped = DENIAL_SUFFIX.sub("", text)
    if len(_WORDS.findall(stripped)) >= 3:
        text = stripped
    if NON_NEGATING_IDIOM.search(text):  # "staat niet voor niets op de lijst": it is on the list
        text = subject_first(NON_NEGATING_IDIOM.sub(" ", text).strip())  # "Niet voor niets staat K ..." led
    text = LAUGHTER.sub(" ", text)
    if "?" in text:
        text = declarative(text)
    text = re.sub(r"\s+", " ", text).strip(" ,;:-'\"‘’“”")
    text = re.sub(r"[?!.…]+$", "", text).strip(" '\"‘’“”")
    return (text[:1].upper() + text[1:] + "." if text else sentence), speaker


def _inside_clause(before: str) -> bool:
    """Whether text before a "volgens X" carries a clause of its own: two or more words that do not open one,
    and no comma or colon closing it off."""
    words = [word for word in _WORDS.findall(before) if word.lower() not in CLAUSE_OPENERS]
    return len(words) >= 2 and not before.rstrip().endswith((",", ":"))


def declarative(question: str) -> str:
    """A question asked verb first, in the order of the statement it asks about: "is ketamine een pijnstiller
    dan?" -> "ketamine is een pijnstiller?"; other text as it is, less a closing modal particle."""
    return subject_first(QUESTION_PARTICLE_END.sub("", question.strip()))


def subject_first(text: str) -> str:
    """Text that puts a finite verb before the drug or a pronoun standing for it, in statement order: "is
    ketamine een pijnstiller" -> "ketamine is een pijnstiller"; other text as it is."""
    match = INVERTED_QUESTION.match(text)
    if match is None:
        return text
    return f"{match.group('subject')} {match.group('verb').lower()} {match.group('rest')}"


def verb_second(clause: str) -> str:
    """A subordinate clause led by the drug or a pronoun for it, in statement order: its finite verb, which stands
    last ("K verslavend kan zijn", "K slecht is voor je blaas"), put after the subject ("K kan verslavend zijn").
    The verb is the last one before a word that opens another clause; text led otherwise, or already in statement
    order, stays as it is."""
    subject = CLAUSE_SUBJECT.match(clause)
    if subject is None:
        return clause
    words = clause[subject.end():].split(" ")
    bare = [word.strip(",;:.!?…'\"‘’“”()").lower() for word in words]
    # the clause's own part: up to a word that opens another clause, or through a word a comma closes
    end = next((i + (word not in SUBORDINATE_BOUNDARIES) for i, word in enumerate(bare)
                if word in SUBORDINATE_BOUNDARIES or words[i].endswith((",", ";"))), len(words))
    verbs = [i for i in range(end) if FINITE_VERB.fullmatch(bare[i])]
    if not verbs or verbs[-1] == 0:
        return clause
    verb = verbs[-1]
    core = words[verb].rstrip(",;:.!?…")
    before = words[:verb]
    before[-1] += words[verb][len(core):]  # a comma or question mark after the verb stays where it was
    rest = " ".join([core, *before, *words[verb + 1:]])
    return f"{subject.group('subject')} {rest}"


def with_referent(claim: str, referent: str | None) -> str:
    """A claim whose subject points back ("En het wordt elk jaar duurder.") with the drug an earlier sentence
    of the post named in its place ("Ketamine wordt elk jaar duurder."); else the claim as it is."""
    if referent is None or DRUG_MENTION.search(claim):
        return claim
    match = REFERRING_SUBJECT.match(claim)
    if match is None:
        return claim
    rest = claim[match.end():]
    if DUMMY_SUBJECT_TAIL.match(rest):
        return claim  # "Het is belangrijk om ...": a dummy subject
    return f"{referent[:1].upper()}{referent[1:]} {rest}"


def last_drug_named(text: str, before: str | None) -> str | None:
    found = DRUG_MENTION.findall(text)
    return found[-1].lower() if found else before


# How a sentence that is not checked is reported.
SKIP_REASONS = {"question": "vraag", "opinion": "mening", "advice": "advies of oproep",
                "other": "groet, te kort of overig"}


def too_short(sentence: str, settings: Posts) -> bool:
    return len(_WORDS.findall(sentence)) < settings.min_claim_words


def skip_reason(reading: SentenceReading) -> str:
    return SKIP_REASONS[reading.sentence_class]


# --------------------------------------------------------------------------- the baseline: the earlier rules
def rule_class(sentence: str, settings: Posts) -> str:
    """The regex rules the reader replaces (greeting, question, opinion, too short), as sentence classes."""
    words = _WORDS.findall(sentence)
    if GREETING.match(sentence):
        return "other"
    if sentence.rstrip().endswith("?"):
        return "question"
    if OPINION.match(sentence) and not (set(w.lower() for w in words) & (NEGATIONS | QUANTIFIERS)):
        return "opinion"
    if too_short(sentence, settings):
        return "other"
    return "claim"


def rule_reading(sentences: list[PostSentence], settings: Posts) -> list[SentenceReading]:
    """Every sentence the rules keep is checked as the poster's own assertion, framing and all."""
    readings = []
    for sentence in (s.text for s in sentences):
        sentence_class = rule_class(sentence, settings)
        checkable = sentence_class in CHECKABLE
        readings.append(SentenceReading(sentence, sentence_class, 1.0, "asserts" if checkable else None,
                                        {"asserts": 1.0, "denies": 0.0, "reports": 0.0} if checkable else None,
                                        sentence if checkable else None))
    return readings


# --------------------------------------------------------------------------- the learned reader
class PostReader(BaseEstimator):
    """Sentence class and stance from cue features (and the sentence embedding when ``use_embeddings``).

    ``fit(X, classes, stances)``: X from ``PostReader.features``; ``stances`` is ignored where the
    sentence is not checkable. The stance model is fitted on the checkable sentences only."""

    def __init__(self, regularisation: float = 1.0, use_embeddings: bool = True):
        self.regularisation = regularisation
        self.use_embeddings = use_embeddings

    def features(self, sentences: list[str], vectors: np.ndarray | None) -> np.ndarray:
        """Features of one post's sentences as posted (neighbours matter, so call it per post); ``vectors``:
        the query embeddings of the normalised sentences."""
        previous, following = neighbours(sentences)
        cues = cue_matrix(sentences, previous, following)
        if not self.use_embeddings:
            return cues
        return np.hstack([cues, np.asarray(vectors, dtype=np.float32).reshape(len(sentences), -1)])

    def _model(self):
        return make_pipeline(StandardScaler(), LogisticRegression(C=self.regularisation, max_iter=3000,
                                                                  class_weight="balanced"))

    def fit(self, X: np.ndarray, classes, stances) -> "PostReader":
        classes, stances = np.asarray(classes), np.asarray(stances)
        self.class_model_ = self._model().fit(X, classes)
        checkable = np.isin(classes, CHECKABLE)
        self.stance_model_ = self._model().fit(X[checkable], stances[checkable])
        self.classes_ = tuple(SENTENCE_CLASSES)
        return self

    def predict_classes(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        check_is_fitted(self, "class_model_")
        probabilities = self.class_model_.predict_proba(X)
        labels = self.class_model_.classes_
        return labels[probabilities.argmax(1)], probabilities.max(1)

    def stance_probabilities(self, X: np.ndarray) -> list[dict[str, float]]:
        check_is_fitted(self, "stance_model_")
        probabilities = self.stance_model_.predict_proba(X)
        known = list(self.stance_model_.classes_)
        return [{stance: float(row[known.index(stance)]) if stance in known else 0.0 for stance in STANCES}
                for row in probabilities]

    def read(self, sentences: list[PostSentence], vectors: np.ndarray | None, settings: Posts) -> list[SentenceReading]:
        """Read one post's sentences (vectors: their query embeddings, or None without embeddings)."""
        if not sentences:
            return []
        X = self.features([s.raw for s in sentences], vectors)
        classes, confidences = self.predict_classes(X)
        texts = [s.text for s in sentences]
        # too short to check, whatever it looks like
        classes = ["other" if too_short(text, settings) else str(c) for text, c in zip(texts, classes)]
        claims = claims_as_read(texts, [c in CHECKABLE for c in classes])
        readings = []
        for text, sentence_class, confidence, stance, claim in zip(texts, classes, confidences,
                                                                  self.stance_probabilities(X), claims):
            if claim is None:
                readings.append(SentenceReading(text, sentence_class, round(float(confidence), 4)))
            else:
                readings.append(SentenceReading(text, sentence_class, round(float(confidence), 4),
                                                max(stance, key=stance.get), stance, *claim))
        return readings


def claims_as_read(sentences: list[str], checkable: list[bool]) -> list[tuple[str, str | None] | None]:
    """Per sentence of one post, in order: the claim ``check`` takes from it (framing stripped, and a bare
    "het" or "dat spul" given the drug the post last named) with whose claim it is; None where not checkable."""
    claims, referent = [], None
    for sentence, keep in zip(sentences, checkable):
        if keep:
            claim, speaker = claim_as_asserted(sentence)
            claims.append((with_referent(claim, referent), speaker))
        else:
            claims.append(None)
        referent = last_drug_named(sentence, referent)
    return claims


# --------------------------------------------------------------------------- persistence (skops, no pickles)
def reader_identity(reader: PostReader, encoder_identity: str) -> dict:
    """What a fitted reader depends on: its cues and word lists, and the encoder when it reads embeddings."""
    return {"cues": list(CUE_NAMES), "language": fingerprint(POST_DATA_MODULES),
            "encoder": encoder_identity if reader.use_embeddings else None}


def save_reader(path: Path, reader: PostReader, identity: dict) -> None:
    import skops.io as sio

    check_is_fitted(reader, "class_model_")
    with atomic_file(path) as tmp:
        sio.dump({"class_model": reader.class_model_, "stance_model": reader.stance_model_,
                  "params": reader.get_params(), "identity": identity}, tmp)


def load_reader(path: Path) -> tuple[PostReader, dict]:
    """The fitted reader and its identity; a one-line error for a file that is not a reader."""
    with loading_artefact(path, "run `factcheck train` to rebuild it"):
        data = load_skops(path)
        reader = PostReader(**data["params"])
        reader.class_model_, reader.stance_model_ = data["class_model"], data["stance_model"]
    reader.classes_ = tuple(SENTENCE_CLASSES)
    return reader, data["identity"]
