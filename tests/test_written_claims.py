"""The written claims as a third ranking of passages (pipeline/written_claims.py), over the real corpus and pairs."""
from __future__ import annotations

import shutil

import numpy as np
import pytest

from conftest import small_corpus, write_config
from pipeline.config import load_config
from pipeline.errors import FactCheckError
from pipeline.index import build_index, load_index
from pipeline.pairs import PAIR_LABELS, read_pairs
from pipeline.retrieve import Retriever


@pytest.fixture(scope="module")
def pairs(config):
    return read_pairs(config.path("training_pairs"))


def test_every_written_claim_points_at_its_passage(fake_checker, pairs):
    index = fake_checker.index
    written = index.written_claims
    assert written is not None and len(written) == len(pairs) > 2000
    assert [index.passages[row].passage_id for row in written.rows] == list(pairs["passage_id"])
    assert [PAIR_LABELS[label] for label in written.labels] == list(pairs["label"])
    assert written.vectors.shape == (len(pairs), fake_checker.encoder.dimension)


def test_training_claims_written_as_pairs_keep_the_vectors_the_index_gave_them(fake_checker, pairs):
    """Training reuses the index's embeddings of the written claims and encodes only the other claims."""
    from pipeline.posts import normalise_post

    written, encoder = fake_checker.index.written_claims, fake_checker.encoder

    class Counting:
        def __init__(self):
            self.texts = []

        def encode_queries(self, texts, progress=False):
            self.texts += texts
            return encoder.encode_queries(texts)

    texts = [normalise_post(text) for text in pairs["hypothesis"][:3]] + ["Ketamine is een nieuw soort thee."]
    counting = Counting()
    vectors = written.query_vectors(texts, counting)
    assert counting.texts == texts[3:]
    np.testing.assert_array_equal(vectors[:3], written.vectors[:3])
    np.testing.assert_allclose(vectors, encoder.encode_queries(texts), atol=1e-6)


def _written(pairs, label: str):
    """A written claim with that label, the row of its passage, and the claim reworded (one word added)."""
    row = pairs[pairs["label"] == label].iloc[0]
    return row["hypothesis"], row["passage_id"], row["hypothesis"] + " Echt waar."


def test_a_claim_worded_like_a_written_contradiction_reaches_its_passage(fake_checker, pairs):
    claim, passage_id, reworded = _written(pairs, "contradiction")
    result = fake_checker.retriever.search(reworded, k=40, rerank=False)
    by_passage = {hit.passage.passage_id: hit for hit in result.hits}
    assert by_passage[passage_id].written_rank == 1
    assert by_passage[passage_id].written_score == max(hit.written_score for hit in result.hits) > 0.8


def test_neutral_claims_lead_nowhere(fake_checker, pairs):
    written = fake_checker.index.written_claims
    claim, passage_id, reworded = _written(pairs, "neutral")
    vector = fake_checker.encoder.encode_queries([reworded])[0]
    scores = written.passage_scores(reworded, vector, len(fake_checker.index.passages))
    row = next(r for r, p in enumerate(fake_checker.index.passages) if p.passage_id == passage_id)
    deciding = written.rows[np.isin(written.labels, [0, 1])]
    # The passage scores only through the claims it decides, never through its neutral one.
    decided_here = written.vectors[(written.rows == row) & np.isin(written.labels, [0, 1])] @ vector
    assert scores[row] == pytest.approx(decided_here.max() if len(decided_here) else -1.0)
    assert (scores[np.setdiff1d(np.arange(len(scores)), deciding)] == -1).all()


def test_a_written_claim_never_meets_its_own_writers_claims(fake_checker, pairs):
    claim, passage_id, _ = _written(pairs, "entailment")
    index = fake_checker.index
    written = index.written_claims
    own_writer = written.writers[list(pairs["hypothesis"]).index(claim)]
    vector = fake_checker.encoder.encode_queries([claim])[0]
    scores = written.passage_scores("  " + claim.upper(), vector, len(index.passages))
    row = next(r for r, p in enumerate(index.passages) if p.passage_id == passage_id)
    others = (written.rows == row) & np.isin(written.labels, [0, 1]) & (written.writers != own_writer)
    assert scores[row] == pytest.approx((written.vectors[others] @ vector).max() if others.any() else -1.0)
    assert (written.vectors[(written.rows == row) & (written.writers == own_writer)] @ vector).max() > 0.99
    # A claim nobody wrote meets every writer.
    assert written.others("Ketamine wordt door niemand ooit gebruikt, zegt een onbekende.") is None


def test_weight_zero_turns_the_written_claims_off(fake_checker, pairs):
    _, passage_id, reworded = _written(pairs, "contradiction")
    settings = fake_checker.config.retrieval.model_copy(update={"written_claims_weight": 0.0})
    retriever = Retriever(fake_checker.index, fake_checker.encoder, settings)
    hits = retriever.search(reworded, k=40, rerank=False).hits
    assert all(hit.written_rank == 0 and hit.written_score == 0 for hit in hits)
    on = fake_checker.retriever.search(reworded, k=40, rerank=False).hits
    assert any(hit.written_rank == 1 and hit.passage.passage_id == passage_id for hit in on)


def test_changed_pair_files_make_the_index_out_of_date(tmp_path, config, fake_encoder):
    folder = tmp_path / "pairs"
    folder.mkdir()
    source = sorted(config.path("training_pairs").glob("*.csv"))[0]
    shutil.copy(source, folder / source.name)
    corpus = small_corpus(tmp_path, ("nieuws-cleveland-pijnstudie",))
    settings = load_config(write_config(tmp_path, **{"paths.corpus_dir": str(corpus),
                                                     "paths.index_dir": str(tmp_path / "index"),
                                                     "paths.training_pairs": str(folder)}))
    report = build_index(settings, fake_encoder)
    assert report.written_claims == 0  # none of that file's passages is in this corpus
    assert load_index(settings, fake_encoder.identity).written_claims is None
    (folder / source.name).write_text(source.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    with pytest.raises(FactCheckError, match=r"out of date \(written claims \(paths.training_pairs\) changed\)"):
        load_index(settings, fake_encoder.identity)


def test_a_document_without_written_claims_is_restated_for_the_ranking_but_not_for_the_memory(tmp_path, config,
                                                                                                fake_encoder):
    """A document nobody has written claims about still gets into the third ranking, by its own words; the pair
    memory stays silent about it, so the fallback verdict model judges its claims."""
    from pipeline.pair_memory import PairMemory
    from pipeline.written_claims import RESTATED

    folder = tmp_path / "pairs"
    folder.mkdir()
    shutil.copy(config.path("training_pairs") / "artikel-microdosering.part1.csv", folder)
    corpus = small_corpus(tmp_path, ("artikel-microdosering", "nieuws-cleveland-pijnstudie"))
    settings = load_config(write_config(tmp_path, **{"paths.corpus_dir": str(corpus),
                                                     "paths.index_dir": str(tmp_path / "index"),
                                                     "paths.training_pairs": str(folder)}))
    report = build_index(settings, fake_encoder)
    index = load_index(settings, fake_encoder.identity)
    written = index.written_claims
    assert report.written_claims == int((~written.restated_mask).sum()) == len(read_pairs(folder)) > 0
    assert report.unwritten_documents == ["nieuws-cleveland-pijnstudie"]
    unpaired = [row for row, p in enumerate(index.passages) if p.doc_id == "nieuws-cleveland-pijnstudie"]
    assert sorted(written.rows[written.restated_mask]) == unpaired
    assert set(written.writers[written.restated_mask]) == {RESTATED}
    assert {PAIR_LABELS[label] for label in written.labels[written.restated_mask]} == {"entailment"}
    assert not set(written.rows[~written.restated_mask]) & set(unpaired)
    passage = index.passages[unpaired[3]]
    vector = fake_encoder.encode_queries([passage.text])[0]
    retriever = Retriever(index, fake_encoder, settings.retrieval)
    hit = next(h for h in retriever.search(passage.text, k=40, rerank=False).hits if h.passage is passage)
    assert hit.written_rank == 1 and hit.written_score == pytest.approx(1.0, abs=1e-4)
    memory = PairMemory(written, "test")
    assert not memory.features(passage.text, vector, unpaired[3]).any()
    paired_row = int(written.rows[~written.restated_mask][0])
    assert memory.features(passage.text, vector, paired_row).any()
    # Taking a document's pairs away in memory gives what its index would hold (bench/new_document.py).
    assert not len(written.as_if_unwritten({"artikel-microdosering"}, index.passages, fake_encoder))
    unwritten = written.as_if_unwritten({"nieuws-cleveland-pijnstudie"}, index.passages, fake_encoder)
    assert np.array_equal(unwritten.vectors, written.vectors) and np.array_equal(unwritten.rows, written.rows)
