"""Reading posts sentence by sentence: the claim behind the framing, the stance, and the verdict that follows."""
from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import f1_score

from pipeline.checker import with_stance
from pipeline.errors import FactCheckError
from pipeline.labelled_posts import CHECKABLE, read_posts
from pipeline.post_reading import (PostReader, claim_as_asserted, load_reader, reader_identity, rule_class,
                                   save_reader)
from pipeline.posts import analyse_post
from pipeline.train import fit_post_reader, reader_data, reader_matrix, sentence_rows


@pytest.mark.parametrize("sentence, claim, speaker", [
    ("mijn tandarts zei laatst dat ketamine je tanden kapot maakt", "Ketamine maakt je tanden kapot.", "mijn tandarts"),
    ("Haha en dan zijn er mensen die denken dat ketamine onschuldig is 🤡", "Ketamine is onschuldig.", None),
    ("Dat ketamine je gelukkig maakt is echt de grootste onzin ooit.", "Dat ketamine je gelukkig maakt.", None),
    ("wist je dat ketamine ook bij paarden wordt gebruikt?", "Ketamine wordt ook bij paarden gebruikt.", None),
    ("Ketamine is een verdovingsmiddel.", "Ketamine is een verdovingsmiddel.", None),
    # The report frame after the claim, the speaker after the verb.
    ("Van K word je nooit verslaafd, zegt mijn buurjongen!", "Van K word je nooit verslaafd.", "mijn buurjongen"),
    ("esketamine werkt binnen een dag, heeft mijn psychiater gezegd", "Esketamine werkt binnen een dag.",
     "mijn psychiater"),
    ("Het middel is in Nederland geregistreerd, aldus de fabrikant.", "Het middel is in Nederland geregistreerd.",
     "de fabrikant"),
    ("Zegt mijn moeder ook.", "Zegt mijn moeder ook.", None),
    # Past tense, and an unnamed someone.
    ("Iemand op reddit beweerde dat je van één keer K al verslaafd raakt.", "Je van één keer K al verslaafd raakt.",
     "Iemand op reddit"),
    ("mijn neef schreef dat ketamine in de VS verboden is", "Ketamine is in de VS verboden.", "mijn neef"),
    # A rhetorical question, put in the order of the statement it asks about.
    ("Sinds wanneer is ketamine een pijnstiller dan??", "Ketamine is een pijnstiller.", None),
    ("Werkt esketamine echt binnen een dag dan?", "Esketamine werkt echt binnen een dag.", None),
    ("Hoezo is dat spul veilig?", "Dat spul is veilig.", None),
    ("Is het niet zo dat ketamine de bloeddruk verhoogt?", "Ketamine verhoogt de bloeddruk.", None),
    ("Iemand zei dat K bij iedereen werkt, wat een onzin.", "K bij iedereen werkt.", "Iemand"),
    ("Volgens sommigen is ketamine een wondermiddel.", "Ketamine is een wondermiddel.", "Volgens sommigen"),
    ("Volgens de 'artsen' geeft ketamine blaasschade.", "Ketamine geeft blaasschade.", "Volgens de 'artsen'"),
    ("Hier wordt gesteld dat K verslavend is, maar dat is onjuist.", "K verslavend is.", None),
    ("Mijn arts stelt dat ketamine helpt.", "Ketamine helpt.", "Mijn arts"),
    ("Volgens 'de experts' is ketamine veilig.", "Ketamine is veilig.", "Volgens 'de experts'"),
    # A source of several words; inside a clause, "volgens X" is an aside and the words before it stay.
    ("Volgens een artikel dat ik las is ketamine duur.", "Ketamine is duur.", "Volgens een artikel dat ik las"),
    ("Volgens een of andere podcast is ketamine veilig.", "Ketamine is veilig.", "Volgens een of andere podcast"),
    ("Volgens het Nationaal Drug Monitor is ketamine populair.", "Ketamine is populair.",
     "Volgens het Nationaal Drug Monitor"),
    ("Een K-hole duurt volgens gebruikers meestal een half uur.", "Een K-hole duurt meestal een half uur.",
     "volgens gebruikers"),
    ("K is volgens mij gewoon veilig.", "K is gewoon veilig.", None),
    ("Nou ja volgens mijn arts is ketamine veilig.", "Ketamine is veilig.", "volgens mijn arts"),
    # A denial that closes the sentence in other words.
    ("Mijn oom zegt dat K onschuldig is maar dat lijkt me echt onzin.", "K onschuldig is.", "Mijn oom"),
    ("Ze zeggen dat K legaal is, maar da's gelul.", "K legaal is.", "Ze"),
    # "onjuist" or "niet juist" inside a clause denies nothing.
    ("Ketamine geeft bij onjuist gebruik blaasschade.", "Ketamine geeft bij onjuist gebruik blaasschade.", None),
    ("De dosis is niet juist berekend bij kinderen.", "De dosis is niet juist berekend bij kinderen.", None),
    # An idiom whose "niet" denies nothing: the poster asserts the claim without it.
    ("Het staat niet voor niets op de WHO-lijst.", "Het staat op de WHO-lijst.", None),
    ("Niet voor niets staat ketamine op de WHO-lijst.", "Ketamine staat op de WHO-lijst.", None),
    ("Artsen zijn terughoudend met ketamine, en niet zonder reden.", "Artsen zijn terughoudend met ketamine.", None),
    # "erg" inside a noun phrase: "het" is its article.
    ("Is het erg dure middel vergoed?", "Is het erg dure middel vergoed.", None),
    # "het" before a noun is its article, not a subject that can move before the verb.
    ("Sinds wanneer is het een paardenmiddel dan?", "Het is een paardenmiddel.", None),
    ("Sinds wanneer is het gebruik van ketamine strafbaar?", "Is het gebruik van ketamine strafbaar.", None),
    # Where the poster read it, and the "POV:" of a discovery.
    ("Las gisteren in de krant dat esketamine vergoed wordt", "Esketamine wordt vergoed.", None),
    ("Ik zag op tiktok dat ketamine je angst wegneemt", "Ketamine je angst wegneemt.", None),
    ("POV: je komt erachter dat ketamine al sinds 1970 bestaat!", "Ketamine al sinds 1970 bestaat.", None),
    # A "dat" clause led by the drug or a pronoun for it, its finite verb last: put in statement order.
    ("Mijn huisarts zei dat ketamine verslavend kan zijn.", "Ketamine kan verslavend zijn.", "Mijn huisarts"),
    ("Mensen die denken dat ketamine onschuldig is voor je blaas 😂", "Ketamine is onschuldig voor je blaas.", None),
    ("Ze zeggen dat ketamine niet meer werkt als je het vaak neemt.",
     "Ketamine werkt niet meer als je het vaak neemt.", "Ze"),
    ("Mijn zus zegt dat dit spul echt helpt, zeker bij depressie.", "Dit spul helpt echt, zeker bij depressie.",
     "Mijn zus"),
    # Led otherwise ("het" as an article, a noun phrase), or already in statement order: left as it is.
    ("Ik las dat het gebruik van ketamine is gestegen.", "Het gebruik van ketamine is gestegen.", None),
    ("Mijn oom zegt dat ketamine is goedgekeurd.", "Ketamine is goedgekeurd.", "Mijn oom"),
])
def test_the_framing_is_stripped_and_the_speaker_kept(sentence, claim, speaker):
    assert claim_as_asserted(sentence) == (claim, speaker)


@pytest.mark.parametrize("claim, referent, checked", [
    ("En het wordt elk jaar duurder.", "ketamine", "Ketamine wordt elk jaar duurder."),
    ("Dat spul maakt je blaas kapot.", "ketamine", "Ketamine maakt je blaas kapot."),
    ("Hij werkt binnen een uur.", "esketamine", "Esketamine werkt binnen een uur."),
    ("En het wordt elk jaar duurder.", None, "En het wordt elk jaar duurder."),   # no drug named before
    ("Het is belangrijk om te testen.", "ketamine", "Het is belangrijk om te testen."),  # a dummy subject
    ("Het is bewezen dat het werkt.", "ketamine", "Het is bewezen dat het werkt."),
    ("Dat is onzin.", "ketamine", "Dat is onzin."),                             # points at a statement
    ("Die neusspray is in 2019 goedgekeurd.", "ketamine", "Die neusspray is in 2019 goedgekeurd."),
    ("Ketamine is duur.", "esketamine", "Ketamine is duur."),                   # names its own subject
])
def test_a_subject_pointing_back_is_checked_as_the_drug_the_post_named(claim, referent, checked):
    from pipeline.post_reading import last_drug_named, with_referent

    assert with_referent(claim, referent) == checked
    assert last_drug_named("ik nam esketamine en daarna ketamine", None) == "ketamine"
    assert last_drug_named("geen middel genoemd", "esketamine") == "esketamine"


def test_denying_swaps_supported_and_contradicted_in_proportion_to_the_stance():
    claim = np.array([0.7, 0.2, 0.1])
    assert np.allclose(with_stance(claim, {"asserts": 1.0, "denies": 0.0, "reports": 0.0}), claim)
    assert np.allclose(with_stance(claim, {"asserts": 0.0, "denies": 1.0, "reports": 0.0}), [0.2, 0.7, 0.1])
    mixed = with_stance(claim, {"asserts": 0.5, "denies": 0.5, "reports": 0.0})
    assert np.allclose(mixed, [0.45, 0.45, 0.1]) and np.isclose(mixed.sum(), 1.0)


@pytest.fixture(scope="module")
def cue_reader_data(config):
    posts = read_posts(config.path("labelled_posts"))
    return posts, reader_data(posts)  # no encoder: a cue-only reader


def test_a_cue_reader_fitted_on_train_posts_finds_checkable_sentences_better_than_the_rules(config, cue_reader_data):
    posts, data = cue_reader_data
    split = dict(zip(posts["post_id"], posts["split"]))
    train = [i for i, post_id in enumerate(data.post_ids) if split[post_id] == "train"]
    dev = [i for i, post_id in enumerate(data.post_ids) if split[post_id] == "dev"]
    reader = fit_post_reader(PostReader(use_embeddings=False), data, train)
    predicted, _ = reader.predict_classes(reader_matrix(reader, data, dev))
    gold = np.isin(np.asarray(data.classes)[sentence_rows(data, dev)], CHECKABLE)
    rules = [rule_class(sentence.text, config.posts) in CHECKABLE for i in dev for sentence in data.posts[i]]
    assert f1_score(gold, np.isin(predicted, CHECKABLE)) > f1_score(gold, rules) + 0.05


def test_a_saved_reader_reads_as_before_and_a_damaged_one_is_a_one_line_error(tmp_path, config, cue_reader_data):
    _, data = cue_reader_data
    reader = fit_post_reader(PostReader(use_embeddings=False), data, list(range(40)))
    path = tmp_path / "reader.skops"
    save_reader(path, reader, reader_identity(reader, "any encoder"))
    loaded, identity = load_reader(path)
    X = reader_matrix(reader, data, list(range(40, 60)))
    assert identity == reader_identity(reader, "another encoder")  # no embeddings: the encoder does not matter
    assert list(loaded.predict_classes(X)[0]) == list(reader.predict_classes(X)[0])
    path.write_bytes(path.read_bytes()[:200])
    with pytest.raises(FactCheckError, match="is damaged.*factcheck train") as caught:
        load_reader(path)
    assert "\n" not in str(caught.value)


def test_without_a_reader_every_sentence_the_rules_keep_is_asserted(fake_checker):
    result = fake_checker.check("Hoi! Mensen die denken dat ketamine legaal is, echt niet. Wat denken jullie?")
    assert fake_checker.post_reader is None
    assert all(claim.stance == "asserts" and claim.checked_claim == claim.claim for claim in result.claims)


# ---------------------------------------------------------------- with the real model and the trained reader
def test_a_post_that_mocks_a_claim_is_judged_on_the_claim_and_flipped(checker):
    result = checker.check("lol en dan zijn er nog steeds mensen die denken dat ketamine gewoon legaal is in NL 😂🤡")
    claim = result.claims[0]
    assert claim.stance == "denies" and claim.checked_claim.lower().startswith("ketamine")
    flipped = {"supported": "contradicted", "contradicted": "supported", "unsupported": "unsupported"}
    assert claim.verdict == flipped[claim.claim_verdict]
    assert claim.explanation.startswith("bericht ontkent: ")


def test_reported_speech_says_whose_claim_it_is(checker):
    result = checker.check("Mijn oom zegt dat ketamine vooral als poeder wordt verkocht.")
    claim = result.claims[0]
    assert (claim.stance, claim.attributed_to) == ("reports", "Mijn oom")
    assert claim.verdict == claim.claim_verdict and result.stance == "reports"


def test_advice_and_greetings_never_decide_a_post(checker):
    result = checker.check("Hoi allemaal! Ketamine verhoogt de bloeddruk. Wees voorzichtig en praat met je huisarts.")
    assert [c.checked_claim for c in result.claims] == ["Ketamine verhoogt de bloeddruk."]
    assert {s.reason for s in result.skipped} >= {"advies of oproep"}


def test_the_training_posts_claims_join_the_verdict_model_as_check_reads_them(config):
    from pipeline.pairs import as_training_claims, read_pairs
    from pipeline.posts import claim_fingerprint, normalise_post
    from pipeline.report import read_labelled
    from pipeline.train import post_claims, with_written_pairs

    splits = config.verdict.training_splits
    plain, as_read = post_claims(config, splits), post_claims(config, splits, as_read=True)
    assert len(as_read) > 100 and list(as_read.index) == list(plain.index)
    for column in ("label", "evidence", "group"):
        assert list(as_read[column]) == list(plain[column])
    posts = read_posts(config.path("labelled_posts"))
    sentences = posts.loc[as_read.index, "sentence"]
    # The poster's words, not the labeller's: a subject pointing back gets the drug an earlier sentence named.
    assert (as_read["claim"] != plain["claim"]).mean() > 0.5
    assert any(sentence.startswith("Het ") and claim.startswith("Ketamine ")
               for sentence, claim in zip(sentences, as_read["claim"]))
    labelled = read_labelled(config.path("labelled_claims"), splits)
    pair_claims = as_training_claims(read_pairs(config.path("training_pairs"))) if config.verdict.train_on_pairs \
        else []
    shared_pairs = round(len(pair_claims) * config.verdict.pairs_share)
    frame = with_written_pairs(config, labelled)
    weights = config.verdict
    # A claim as read that comes out word for word as a held-out labelled claim is left out (one does today).
    held_out = read_labelled(config.path("labelled_claims"))
    held_out = {claim_fingerprint(normalise_post(c))
                for c in held_out.loc[~held_out["split"].isin(splits), "claim"]}
    repeats = sum(claim_fingerprint(normalise_post(claim)) in held_out for claim in as_read["claim"])
    assert not {claim_fingerprint(normalise_post(claim)) for claim in frame["claim"]} & held_out
    assert (frame["split"] == "posts").sum() == weights.post_claims_weight * (len(as_read) - repeats)
    # verdict.pairs_share: an even share of the written pairs, their label mix kept.
    pairs = frame[frame["split"] == "pairs"]
    assert len(pairs) == shared_pairs
    if shared_pairs:
        mix = pair_claims["label"].value_counts(normalize=True)
        assert (pairs["label"].value_counts(normalize=True) - mix).abs().max() < 0.02
    assert len(frame) == (len(labelled) * weights.labelled_weight + shared_pairs
                          + weights.post_claims_weight * (len(as_read) - repeats))
