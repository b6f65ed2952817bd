"""The written claims (``corpus/pairs``) as extra ways into their passages.

Every passage that states something has claims written about it in other people's words: what it entails,
what it contradicts, what it leaves open. A new claim worded like one a passage decides leads to that passage
even where the two share few words ("straat K is altijd 100% puur" against "De zuiverheid ... varieert
sterk"): the retriever ranks passages by the closest written claim they entail or contradict, beside the
dense and BM25 rankings (``retrieval.written_claims_weight``). The pair memory (``pipeline/pair_memory.py``)
reads the same vectors. Each pair file has one writer, and a written claim (a training claim) only meets other
writers' claims.

Built by ``factcheck index`` (query embeddings, like claims) and stored in the index folder, no pickles.
"""
from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np

from .pairs import PAIR_LABELS, read_pairs
from .posts import claim_fingerprint, normalise_post
from .storage import file_sha256

FILE_NAME = "written_claims.npz"
_DECIDING = (PAIR_LABELS.index("entailment"), PAIR_LABELS.index("contradiction"))
# The writer number of a passage standing in as its own entailed claim (``restated``).
RESTATED = -1


@dataclass
class WrittenClaims:
    rows: np.ndarray          # row of each written claim's passage in the index
    labels: np.ndarray        # index into PAIR_LABELS: what the passage says of the claim
    fingerprints: np.ndarray  # claim_fingerprint of the normalised claim
    writers: np.ndarray       # who wrote it: one number per pair file (each file has one writer)
    vectors: np.ndarray       # query embeddings, one row per written claim

    def __post_init__(self):
        self._deciding = np.isin(self.labels, _DECIDING)
        self._writers_of: dict[str, set[int]] = {}
        for fingerprint, writer in zip(self.fingerprints.tolist(), self.writers.tolist()):
            if writer != RESTATED:  # a passage's own words are no one's training claim
                self._writers_of.setdefault(fingerprint, set()).add(writer)

    def __len__(self) -> int:
        return len(self.rows)

    def _columns(self) -> list[np.ndarray]:
        return [getattr(self, field.name) for field in fields(self)]

    def subset(self, keep: np.ndarray) -> "WrittenClaims":
        """The written claims where the boolean mask ``keep`` is true."""
        return WrittenClaims(*(column[keep] for column in self._columns()))

    def joined(self, other: "WrittenClaims") -> "WrittenClaims":
        return WrittenClaims(*(np.concatenate(pair) for pair in zip(self._columns(), other._columns())))

    @property
    def restated_mask(self) -> np.ndarray:
        return self.writers == RESTATED

    def as_if_unwritten(self, documents: set[str], passages: list, encoder) -> "WrittenClaims":
        """These claims as an index would hold them had nobody written claims about ``documents``: theirs gone,
        their passages restated (``restated``). What ``bench/new_document.py`` and the tests measure."""
        unwritten = np.asarray([p.doc_id in documents for p in passages], dtype=bool)  # per passage row
        kept = self.subset(~unwritten[self.rows])
        if kept.restated_mask.all():  # as with no pair files at all: no third ranking
            return kept.subset(np.zeros(len(kept), dtype=bool))
        return kept.joined(restated(passages, np.flatnonzero(unwritten), encoder))

    def query_vectors(self, texts: list[str], encoder) -> np.ndarray:
        """Query embeddings of normalised ``texts``: a text written as a claim here (the same fingerprint: blind to
        case and spacing, as the pair memory matches) keeps the vector the index gave it, and only the rest are
        encoded. Most training claims are written pairs, so training need not embed them again."""
        rows = {fingerprint: row for row, fingerprint in enumerate(self.fingerprints.tolist())
                if self.writers[row] != RESTATED}
        found = [rows.get(claim_fingerprint(text), -1) for text in texts]
        vectors = np.empty((len(texts), self.vectors.shape[1]), dtype=np.float32)
        known = [i for i, row in enumerate(found) if row >= 0]
        vectors[known] = self.vectors[[found[i] for i in known]]
        missing = [i for i, row in enumerate(found) if row < 0]
        if missing:
            vectors[missing] = encoder.encode_queries([texts[i] for i in missing])
        return vectors

    def others(self, claim: str) -> np.ndarray | None:
        """Which written claims ``claim`` may meet (a boolean mask), or None for all of them. A written claim
        never meets its own writer's claims: about the same passage they are worded alike, and a model
        trained on such meetings would trust them more than claims from other writers deserve."""
        own = self._writers_of.get(claim_fingerprint(normalise_post(claim)))
        return None if own is None else ~np.isin(self.writers, sorted(own))

    def passage_scores(self, claim: str, claim_vector: np.ndarray, passages: int) -> np.ndarray:
        """Per passage, the cosine between the claim and the closest written claim (by another writer, for a
        written claim) that the passage entails or contradicts; -1 where it has none."""
        allowed = self.others(claim)
        use = self._deciding if allowed is None else self._deciding & allowed
        scores = np.full(passages, -1.0, dtype=np.float32)
        np.maximum.at(scores, self.rows[use], self.vectors[use] @ claim_vector)
        return scores


def pair_files_fingerprint(folder: Path) -> dict[str, str]:
    """The pair files an index was built with, by name and content hash (cheap to check at every start)."""
    if not folder.is_dir():
        return {}
    return {path.name: file_sha256(path) for path in sorted(folder.glob("*.csv"))}


def _claims(rows, labels, texts: list[str], writers, encoder, progress: bool = False) -> WrittenClaims:
    normalised = [normalise_post(text) for text in texts]
    return WrittenClaims(np.asarray(rows, dtype=np.int32), np.asarray(labels, dtype=np.int8),
                         np.asarray([claim_fingerprint(text) for text in normalised], dtype=str),
                         np.asarray(writers, dtype=np.int16),
                         np.asarray(encoder.encode_queries(normalised, progress=progress), dtype=np.float32))


def restated(passages: list, rows: np.ndarray, encoder) -> WrittenClaims:
    """The passages at ``rows`` as claims they entail, in their own words. A document nobody has written claims
    about would otherwise never reach the third ranking, and the other documents' passages, which do, would
    outrank it (``bench/new_document.py``). The pair memory leaves them out: they say nothing of other wordings."""
    entailment = PAIR_LABELS.index("entailment")
    return _claims(rows, [entailment] * len(rows), [passages[row].text for row in rows], [RESTATED] * len(rows),
                   encoder)


def build_written_claims(folder: Path, passages: list, encoder, progress: bool = False) -> WrittenClaims | None:
    """The written claims of ``folder`` whose passage is in the index, embedded as claims are, and the passages
    of any document without one restated (``restated``); None when there are none."""
    pairs = read_pairs(folder)
    files = sorted(set(pairs["file"]))
    passage_rows = {p.passage_id: row for row, p in enumerate(passages)}
    pairs = pairs[pairs["passage_id"].isin(passage_rows)] if len(pairs) else pairs
    if not len(pairs):
        return None
    rows = [passage_rows[i] for i in pairs["passage_id"]]
    written = _claims(rows, [PAIR_LABELS.index(label) for label in pairs["label"]], list(pairs["hypothesis"]),
                      [files.index(name) for name in pairs["file"]], encoder, progress)
    paired = {passages[row].doc_id for row in rows}
    unpaired = np.asarray([row for row, p in enumerate(passages) if p.doc_id not in paired], dtype=int)
    return written.joined(restated(passages, unpaired, encoder)) if len(unpaired) else written


def save_written_claims(folder: Path, claims: WrittenClaims) -> None:
    """Into an index folder being written (``storage.atomic_folder``)."""
    np.savez(folder / FILE_NAME, rows=claims.rows, labels=claims.labels, fingerprints=claims.fingerprints,
             writers=claims.writers, vectors=claims.vectors)


def load_written_claims(folder: Path) -> WrittenClaims | None:
    """The index's written claims; None when it was built without any. Damage raises OSError/ValueError/KeyError."""
    path = folder / FILE_NAME
    if not path.exists():
        return None
    with np.load(path, allow_pickle=False) as data:
        return WrittenClaims(data["rows"], data["labels"], data["fingerprints"], data["writers"], data["vectors"])

