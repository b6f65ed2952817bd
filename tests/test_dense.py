"""Dense search behind one interface: the exact search ranks as the full-matrix ranking did, the faiss
graph is built, stored, checked and loaded with the index, and ``auto`` picks by corpus size."""
from __future__ import annotations

import json

import numpy as np
import pytest

from conftest import small_corpus, write_config
from pipeline.config import load_config
from pipeline.dense import FAISS_FILE, ExactSearch, FaissSearch, top_rows
from pipeline.errors import FactCheckError
from pipeline.index import build_index, load_index
from pipeline.report import read_labelled
from pipeline.retrieve import Retriever

DOCS = ("nieuws-cleveland-pijnstudie", "info-ketamine-depressie")


def full_matrix_ranking(retriever: Retriever, claim: str, k: int, fusion: str) -> list[tuple]:
    """The ranking as the retriever computed it before the dense interface: every passage scored and
    sorted (the reference the exact search must match), with the written claims' ranking where it is on."""
    settings, index = retriever.settings, retriever.index
    vector = retriever.encoder.encode_queries([claim])
    dense = (vector @ index.embeddings.T)[0]
    lexical = retriever.lexical_scores(claim)
    n = settings.candidates
    dense_rank = np.zeros(len(dense), dtype=int)
    lexical_rank = np.zeros(len(dense), dtype=int)
    dense_rank[np.argsort(-dense, kind="stable")[:n]] = np.arange(1, min(n, len(dense)) + 1)
    top_lexical = [i for i in np.argsort(-lexical, kind="stable")[:n] if lexical[i] > 0]
    lexical_rank[top_lexical] = np.arange(1, len(top_lexical) + 1)
    written_rank = np.zeros(len(dense), dtype=int)
    written = -np.ones(len(dense))
    if index.written_claims is not None and settings.written_claims_weight:
        written = index.written_claims.passage_scores(claim, vector[0], len(dense))
        top_written = [i for i in np.argsort(-written, kind="stable")[:n] if written[i] > -1]
        written_rank[top_written] = np.arange(1, len(top_written) + 1)
    if fusion == "dense":
        fused = dense.astype(np.float64)
    elif fusion == "lexical":
        fused = lexical.astype(np.float64) + 1e-6 * dense
    elif fusion == "written":
        fused = written.astype(np.float64) + 1e-6 * dense
    else:
        fused = np.zeros(len(dense))
        fused[dense_rank > 0] += settings.dense_weight / (settings.rrf_k + dense_rank[dense_rank > 0])
        fused[lexical_rank > 0] += settings.lexical_weight / (settings.rrf_k + lexical_rank[lexical_rank > 0])
        fused[written_rank > 0] += settings.written_claims_weight / (settings.rrf_k + written_rank[written_rank > 0])
        fused += 1e-6 * dense
    return [(int(i), float(fused[i]), float(dense[i]), float(lexical[i]), int(dense_rank[i]), int(lexical_rank[i]))
            for i in np.argsort(-fused, kind="stable")[:k]]


def ranking(retriever: Retriever, claim: str, k: int, fusion: str) -> list[tuple]:
    result = retriever.search(claim, k=k, fusion=fusion, rerank=False)
    return [(h.row, h.score, h.dense_score, h.lexical_score, h.dense_rank, h.lexical_rank) for h in result.hits]


def labelled_claims(settings) -> list[str]:
    return list(read_labelled(settings.path("labelled_claims"), None)["claim"])


def test_top_rows_is_the_stable_sort_without_sorting_everything():
    rng = np.random.default_rng(7)
    for _ in range(200):
        size = int(rng.integers(1, 60))
        scores = rng.integers(-3, 4, size=size).astype(np.float32)  # many ties, zeros, negatives
        depth = int(rng.integers(0, size + 5))
        expected = np.argsort(-scores, kind="stable")[:depth]
        assert top_rows(scores, depth).tolist() == expected.tolist()


@pytest.mark.parametrize("fusion", ["rrf", "dense", "lexical", "written"])
def test_exact_search_ranks_the_labelled_claims_as_before(fake_checker, fusion):
    """Default setting, real corpus: same passages, same order, same scores for every labelled claim."""
    retriever = fake_checker.retriever
    assert retriever.dense.backend == "exact"
    for claim in labelled_claims(fake_checker.config):
        for k in (5, 60):  # 60: past the candidates, where the tie-break by similarity orders the rest
            assert ranking(retriever, claim, k, fusion) == full_matrix_ranking(retriever, claim, k, fusion), claim


def test_real_model_ranks_the_labelled_claims_as_before(checker):
    """The same with the real adapted model and the real index (integration)."""
    retriever = checker.retriever
    assert retriever.dense.backend == "exact"
    for claim in labelled_claims(checker.config):
        assert ranking(retriever, claim, 15, "rrf") == full_matrix_ranking(retriever, claim, 15, "rrf"), claim


@pytest.fixture()
def small_settings(tmp_path, config):
    corpus = small_corpus(tmp_path, DOCS)

    def settings(**overrides):
        path = write_config(tmp_path, **{"paths.corpus_dir": str(corpus), "paths.index_dir": str(tmp_path / "index"),
                                         **overrides})
        return load_config(path)
    return settings


def test_faiss_backend_is_built_with_the_index_and_finds_the_exact_neighbours(small_settings, fake_encoder):
    settings = small_settings(**{"retrieval.dense_backend": "faiss"})
    report = build_index(settings, fake_encoder)
    index_dir = settings.path("index_dir")
    assert (index_dir / FAISS_FILE).is_file()
    manifest = json.loads((index_dir / "manifest.json").read_text())
    assert manifest["dense"]["backend"] == "faiss"
    assert manifest["dense"]["neighbours"] == settings.retrieval.hnsw_neighbours
    index = load_index(settings, fake_encoder.identity)
    assert isinstance(index.dense_search, FaissSearch) and index.dense_search.graph.ntotal == report.passages
    assert isinstance(index.embeddings, np.memmap)  # the graph holds the vectors; rows are read on demand

    claims = labelled_claims(settings)
    queries = fake_encoder.encode_queries(claims)
    approximate = index.dense_search.search(queries, 10)
    exact = ExactSearch(np.asarray(index.embeddings)).search(queries, 10)
    recall = np.mean([len(set(a.rows) & set(e.rows)) / 10 for a, e in zip(approximate, exact)])
    assert recall >= 0.95
    for found, query in zip(approximate[:20], queries):  # faiss's scores are the cosine similarities, best first
        expected = np.asarray(index.embeddings[found.rows]) @ query
        assert np.allclose(found.scores, expected, atol=1e-5) and np.all(np.diff(found.scores) <= 1e-6)


def test_faiss_and_exact_retrieval_agree_on_the_real_corpus(small_settings, fake_encoder):
    exact_settings = small_settings()
    build_index(exact_settings, fake_encoder)
    exact = Retriever(load_index(exact_settings, fake_encoder.identity), fake_encoder, exact_settings.retrieval)
    faiss_settings = small_settings(**{"retrieval.dense_backend": "faiss"})
    build_index(faiss_settings, fake_encoder)
    approximate = Retriever(load_index(faiss_settings, fake_encoder.identity), fake_encoder, faiss_settings.retrieval)
    claims = labelled_claims(exact_settings)
    same = [[h.row for h in exact.search(c, k=5, rerank=False).hits]
            == [h.row for h in approximate.search(c, k=5, rerank=False).hits] for c in claims]
    assert np.mean(same) >= 0.95


def test_auto_picks_faiss_only_for_a_large_corpus(small_settings, fake_encoder):
    small = small_settings(**{"retrieval.dense_backend": "auto", "retrieval.faiss_min_passages": 1_000_000})
    build_index(small, fake_encoder)
    assert not (small.path("index_dir") / FAISS_FILE).exists()
    assert load_index(small, fake_encoder.identity).dense_search.backend == "exact"

    large = small_settings(**{"retrieval.dense_backend": "auto", "retrieval.faiss_min_passages": 10})
    with pytest.raises(FactCheckError,
                       match=r"out of date \(dense search changed: built exact, configured faiss\).*factcheck index"):
        load_index(large, fake_encoder.identity)
    assert build_index(large, fake_encoder).status == "built"
    assert load_index(large, fake_encoder.identity).dense_search.backend == "faiss"
    assert build_index(large, fake_encoder).status == "up to date"


def test_changed_graph_settings_make_the_index_out_of_date(small_settings, fake_encoder):
    build_index(small_settings(**{"retrieval.dense_backend": "faiss"}), fake_encoder)
    changed = small_settings(**{"retrieval.dense_backend": "faiss", "retrieval.hnsw_neighbours": 16})
    with pytest.raises(FactCheckError, match="dense search changed: other graph settings"):
        load_index(changed, fake_encoder.identity)
    # The search depth is read when searching, not built in: changing it needs no rebuild.
    deeper = small_settings(**{"retrieval.dense_backend": "faiss", "retrieval.hnsw_search_depth": 512})
    assert load_index(deeper, fake_encoder.identity).dense_search.search_depth == 512


@pytest.mark.parametrize("damage", ["truncate", "remove"])
def test_damaged_or_missing_graph_is_one_line_with_the_fix(small_settings, fake_encoder, damage):
    settings = small_settings(**{"retrieval.dense_backend": "faiss"})
    build_index(settings, fake_encoder)
    graph = settings.path("index_dir") / FAISS_FILE
    if damage == "truncate":
        graph.write_bytes(graph.read_bytes()[:300])
    else:
        graph.unlink()
    with pytest.raises(FactCheckError, match=r"dense\.faiss is (damaged|missing).*`factcheck index --force`") as caught:
        load_index(settings, fake_encoder.identity)
    assert "\n" not in str(caught.value)


def test_an_index_written_before_the_dense_setting_still_loads_as_exact(small_settings, fake_encoder):
    settings = small_settings()
    build_index(settings, fake_encoder)
    path = settings.path("index_dir") / "manifest.json"
    manifest = json.loads(path.read_text())
    del manifest["dense"]
    path.write_text(json.dumps(manifest))
    assert load_index(settings, fake_encoder.identity).dense_search.backend == "exact"
    assert build_index(settings, fake_encoder).status == "up to date"


def test_bm25_is_memory_mapped(fake_checker):
    data = fake_checker.index.bm25.scores["data"]
    assert isinstance(data, np.memmap)


@pytest.mark.parametrize("value", ["annoy", "FAISS"])
def test_unknown_dense_backend_is_refused_with_the_key(tmp_path, value):
    with pytest.raises(FactCheckError, match=r"bad key 'retrieval.dense_backend'"):
        load_config(write_config(tmp_path, **{"retrieval.dense_backend": value}))
