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

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .pairs import PAIR_LABELS, read_pairs
from .posts import claim_fingerprint, normalise_post
from .storage import file_sha256

FILE_NAME = "written_claims.npz"
_DECIDING = (PAIR_LABELS.index("entailment"), PAIR_LABELS.index("contradiction"))


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
            self._writers_of.setdefault(fingerprint, set()).add(writer)

    def __len__(self) -> int:
        return len(self.rows)

    def subset(self, keep: np.ndarray) -> "WrittenClaims":
        """The written claims where the boolean mask ``keep`` is true."""
        return WrittenClaims(self.rows[keep], self.labels[keep], self.fingerprints[keep], self.writers[keep],
                             self.vectors[keep])

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


def build_written_claims(folder: Path, passage_rows: dict[str, int], encoder,
                         progress: bool = False) -> WrittenClaims | None:
    """The written claims of ``folder`` whose passage is in the index (``passage_rows``: id -> row),
    embedded as claims are; None when there are none."""
    pairs = read_pairs(folder)
    files = sorted(set(pairs["file"]))
    pairs = pairs[pairs["passage_id"].isin(passage_rows)] if len(pairs) else pairs
    if not len(pairs):
        return None
    normalised = [normalise_post(text) for text in pairs["hypothesis"]]
    return WrittenClaims(np.asarray([passage_rows[i] for i in pairs["passage_id"]], dtype=np.int32),
                         np.asarray([PAIR_LABELS.index(label) for label in pairs["label"]], dtype=np.int8),
                         np.asarray([claim_fingerprint(text) for text in normalised], dtype=str),
                         np.asarray([files.index(name) for name in pairs["file"]], dtype=np.int16),
                         np.asarray(encoder.encode_queries(normalised, progress=progress), dtype=np.float32))


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

