"""The written claim-passage pairs: training data only, each tied to a passage of the real index."""
from __future__ import annotations

import pandas as pd
import pytest

from pipeline.errors import FactCheckError
from pipeline.pairs import PAIR_LABELS, as_training_claims, read_pairs


@pytest.fixture(scope="module")
def pairs(config):
    return read_pairs(config.path("training_pairs"))


def test_every_premise_is_exactly_its_passage(pairs, fake_checker):
    """The index is the real corpus (chunking does not depend on the encoder)."""
    texts = {passage.passage_id: passage.text for passage in fake_checker.index.passages}
    assert set(pairs["passage_id"]) <= set(texts)
    assert (pairs["premise"] == pairs["passage_id"].map(texts)).all()


def test_pairs_cover_the_corpus_with_every_label_and_both_forms(pairs, fake_checker):
    assert len(pairs) >= 2800 and set(pairs["label"]) == set(PAIR_LABELS)
    assert set(pairs["form"]) == {"claim", "post"} and (pairs["form"] == "post").mean() > 0.3
    documents = {passage.doc_id for passage in fake_checker.index.passages}
    assert {pid.split("#")[0] for pid in pairs["passage_id"]} == documents
    assert not pairs.duplicated(["passage_id", "hypothesis"]).any()
    contradictions = pairs[pairs["label"] == "contradiction"]
    assert (contradictions["edit"] != "").all() and (pairs.loc[pairs["label"] != "contradiction", "edit"] == "").all()


def test_pairs_are_never_labelled_claims(pairs, config):
    """A labelled claim (of any split, or of the scale probe) written again as a pair would leak it into training."""
    from pipeline.posts import claim_fingerprint, normalise_post

    folder = config.path("labelled_claims").parent
    labelled = pd.concat([pd.read_csv(path, keep_default_na=False)
                          for path in (config.path("labelled_claims"), folder / "scale-probe.csv")])
    seen = {claim_fingerprint(normalise_post(claim)) for claim in labelled["claim"]}
    assert not [claim for claim in pairs["hypothesis"] if claim_fingerprint(normalise_post(claim)) in seen]


def test_as_training_claims_keeps_the_passage_as_group_and_evidence(pairs):
    claims = as_training_claims(pairs.head(50))
    assert list(claims["claim"]) == list(pairs.head(50)["hypothesis"])
    assert set(claims["label"]) <= {"supported", "contradicted", "unsupported"}
    assert (claims["group"] == "pair:" + pairs.head(50)["passage_id"]).all()
    neutral = pairs.head(50)["label"] == "neutral"
    assert (claims.loc[neutral, "evidence"] == "").all()
    assert (claims.loc[~neutral, "evidence"] == pairs.head(50).loc[~neutral, "premise"]).all()


def test_a_bad_pairs_file_is_one_line(tmp_path):
    (tmp_path / "a.csv").write_text("passage_id,premise,hypothesis,label,form,voice,edit\nx#1,p,h,waar,claim,gp,\n",
                                    encoding="utf-8")
    with pytest.raises(FactCheckError, match="unknown label value"):
        read_pairs(tmp_path)
    (tmp_path / "a.csv").write_text("passage_id,hypothesis\nx#1,h\n", encoding="utf-8")
    with pytest.raises(FactCheckError, match="missing column"):
        read_pairs(tmp_path)
    assert read_pairs(tmp_path / "absent").empty


def test_nli_training_data_reads_sick_train_and_trial_only_and_says_when_it_is_absent(config, tmp_path):
    from pipeline.nli import read_sick, train_nli, training_data

    sick = config.resolve(__import__("pathlib").Path("../shared/data/sick-nl/SICK_NL.txt"))
    if sick.exists():
        rows = read_sick(sick, ["TRAIN", "TRIAL"])
        assert len(rows) > 4000 and {label for _, _, label in rows} == set(PAIR_LABELS)
        assert len(rows) == len(read_sick(sick, ["TRAIN"])) + len(read_sick(sick, ["TRIAL"]))
    absent = config.model_copy(update={"nli": config.nli.model_copy(update={"sick_nl": tmp_path / "none.txt"})})
    triples, fingerprints, notes = training_data(absent)
    assert len(triples) == len(read_pairs(config.path("training_pairs"))) and "not found" in notes[0]
    assert set(fingerprints) == {"pairs"}
    assert train_nli(config.model_copy(update={"nli": config.nli.model_copy(update={"enabled": False})})).status \
        == "disabled"


def test_a_share_of_sick_is_an_even_sample_with_its_label_mix(config):
    from collections import Counter

    from pipeline.nli import even_share, read_sick, training_data

    for rows, share in ((1000, 0.5), (4934, 0.33), (7, 0.9), (1, 0.1)):
        picked = even_share(list(range(rows)), share)
        assert len(picked) == max(1, round(rows * share)) and picked == sorted(set(picked)) and picked[-1] < rows
    assert even_share(list(range(10)), 1.0) == list(range(10)) and even_share([], 0.5) == []
    sick = config.resolve(config.nli.sick_nl)
    if not sick.exists():
        return
    rows = read_sick(sick, config.nli.sick_splits)
    half = even_share(rows, 0.5)
    mix, half_mix = Counter(label for *_, label in rows), Counter(label for *_, label in half)
    assert all(abs(half_mix[label] / len(half) - mix[label] / len(rows)) < 0.02 for label in PAIR_LABELS)
    shared = config.model_copy(update={"nli": config.nli.model_copy(update={"sick_share": 0.5})})
    marker = config.nli.sick_marker
    assert sum(premise.startswith(marker) for premise, _, _ in training_data(shared)[0]) == len(half)


def test_new_nli_settings_at_their_inert_values_keep_an_earlier_model_current(config):
    """A record written before sick_share and frozen_layers existed matches them at 1.0 and 0, and not otherwise."""
    from pipeline.nli import _settings_record

    def changed(**update):
        return config.model_copy(update={"nli": config.nli.model_copy(update=update)})

    earlier = {key: value for key, value in _settings_record(changed(sick_share=1.0, frozen_layers=0)).items()}
    assert "sick_share" not in earlier and "frozen_layers" not in earlier
    assert _settings_record(changed(sick_share=0.5))["sick_share"] == 0.5
    assert _settings_record(changed(frozen_layers=2))["frozen_layers"] == 2
    assert "sick_share" not in _settings_record(changed(sick_share=0.5, sick_nl=None))  # no SICK, nothing to share


def test_an_nli_model_trained_with_other_settings_is_refused_before_loading(config, tmp_path):
    import json

    from pipeline.nli import NliModel, nli_dir

    settings = config.model_copy(update={"paths": config.paths.model_copy(update={"models_dir": tmp_path})})
    with pytest.raises(FactCheckError, match="NLI model not found"):
        NliModel(settings)
    nli_dir(settings).mkdir(parents=True)
    (nli_dir(settings) / "nli.json").write_text(json.dumps({"settings": {"layers": 12}}), encoding="utf-8")
    with pytest.raises(FactCheckError, match="trained with other nli settings"):
        NliModel(settings)


def test_the_training_precision_resolves_auto_by_the_cpu_and_the_built_model_records_the_one_it_used(config):
    import torch

    from pipeline.nli import nli_dir, read_record
    from pipeline.runtime import training_precision

    assert training_precision("float32") == "float32" and training_precision("bfloat16") == "bfloat16"
    native = torch.cpu._is_avx512_bf16_supported()
    assert training_precision("auto") == ("bfloat16" if native else "float32")
    record = read_record(nli_dir(config))
    assert record["trained_in"] == training_precision(config.nli.training_precision)


def test_nli_batches_take_every_pair_once_and_pair_like_lengths():
    import random

    from pipeline.nli import _length_bucketed_batches

    lengths = [random.Random(i).randint(10, 128) for i in range(1000)]
    bucketed = _length_bucketed_batches(lengths, 16, 50, random.Random(0))
    plain = _length_bucketed_batches(lengths, 16, 1, random.Random(0))
    for batches in (bucketed, plain):
        assert sorted(i for batch in batches for i in batch) == list(range(1000))
        assert len(batches) == 63 and max(map(len, batches)) == 16

    def padded(batches):
        return sum(max(lengths[i] for i in batch) * len(batch) for batch in batches)

    assert padded(bucketed) < 0.8 * padded(plain)
    order = list(range(1000))
    random.Random(0).shuffle(order)
    assert [i for batch in plain for i in batch] == order  # 1: the plain shuffled batches of before
