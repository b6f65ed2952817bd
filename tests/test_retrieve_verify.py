"""Retrieval and verification on the real index and model."""
from __future__ import annotations

import pytest

from pipeline.errors import FactCheckError
from pipeline.posts import normalise_post
from pipeline.text import LexicalAnalyzer, extract_quantities
from pipeline.verify import compare


def test_retrieve_returns_ranked_passages_with_provenance(checker):
    evidence = checker.retrieve("Microdoseren met ketamine geneest depressie", k=5)
    assert len(evidence) == 5
    assert [e.score for e in evidence] == sorted((e.score for e in evidence), reverse=True)
    texts = [e.text for e in evidence[:3]]
    assert any(t.startswith("Er is geen wetenschappelijk bewijs dat microdosering van ketamine depressie") for t in texts)
    top = evidence[0]
    clean = checker.index.documents[top.doc_id]["clean_text"]
    assert clean[top.start:top.end] == top.text and top.title


def test_retrieve_checks_its_input_and_ranks_past_the_rerank_depth(checker):
    depth = checker.config.retrieval.rerank_depth
    claim = "halfwaardetijd van ketamine"
    top, longer = checker.retrieve(claim, depth), checker.retrieve(claim, depth + 10)
    assert len(longer) == depth + 10
    assert [e.text for e in longer[:depth]] == [e.text for e in top]  # asking for more never changes the top
    fused = checker.retriever.search(claim, depth + 10, rerank=False).hits
    assert [e.text for e in longer[depth:]] == [hit.passage.text for hit in fused[depth:]]
    assert all(e.score == 0.0 for e in longer[depth:])
    # A post is matched as check matches it: emojis, hashtags and slang normalised.
    post = "K is legaal in NL hoor 🤷 #ketamine"
    assert [e.text for e in checker.retrieve(post, 3)] == \
        [hit.passage.text for hit in checker.retriever.search(normalise_post(post), 3).hits]
    assert checker.retrieve("  ", 3) == []
    with pytest.raises(FactCheckError, match="k must be 1 or more"):
        checker.retrieve(claim, 0)
    with pytest.raises(FactCheckError, match="must be text"):
        checker.retrieve(None)


def test_a_claim_from_a_post_is_found_with_the_post_and_judged_on_its_own(checker, monkeypatch):
    """"De dosis was laag." alone finds passages on low doses in general; the post around it says which study
    it means, and with it the study's own passage comes first. The hits still carry the claim's own text,
    vector and similarity, which the reranker and the verdict model read."""
    import numpy as np

    from pipeline.retrieve import post_search_text

    claim = "De dosis was laag."
    post = "De dosis was laag. Vijf dagen achter elkaar kregen die mensen een infuus tegen hun pijn."
    study = "De deelnemers kregen vijf dagen achter elkaar een infuus met ketamine"
    search = post_search_text(claim, post)
    assert search == f"{claim} {post}" and post_search_text(claim, None) == claim
    vectors = checker.encoder.encode_queries([claim, search])
    alone = checker.retriever.search_many([claim], vectors=vectors[:1])[0]
    found = checker.retriever.search_many([claim], vectors=vectors[:1], searches=[search],
                                          search_vectors=vectors[1:])[0]
    assert not any(hit.passage.text.startswith(study) for hit in alone.hits[:3])
    assert found.hits[0].passage.text.startswith(study)
    assert found.claim == claim and np.array_equal(found.claim_vector, vectors[0])
    assert all(hit.dense_score == pytest.approx(float(checker.index.embeddings[hit.row] @ vectors[0]), abs=1e-5)
               for hit in found.hits)
    with pytest.raises(FactCheckError, match="one of each per claim"):
        checker.retriever.search_many([claim, claim], vectors=np.vstack([vectors[0]] * 2), searches=[search])
    with pytest.raises(FactCheckError, match="1 contexts for 2 claims"):
        checker.assess_claims([claim, claim], contexts=[post])
    # check() searches with the post only for a post of several sentences; the claim is checked as read.
    assert checker.check(post).claims[0].evidence[0].text.startswith(study)
    # The checker passes a post's text along only when posts.search_with_context is on.
    with_post = checker.assess_claims([claim], contexts=[post])[0][0]
    assert with_post.hits[0].passage.text.startswith(study)
    off = checker.config.posts.model_copy(update={"search_with_context": False})
    monkeypatch.setattr(checker, "config", checker.config.model_copy(update={"posts": off}))
    without = checker.assess_claims([claim], contexts=[post])[0][0]
    assert [hit.row for hit in without.hits] == [hit.row for hit in checker.assess_claims([claim])[0][0].hits]


@pytest.mark.parametrize("claim, expected", [
    ("De deelnemers kregen 0,5 mg per kilo lichaamsgewicht", "0,5 mg per kilo lichaamsgewicht"),
    ("In 2020 ging 2% van de drugsincidenten over ketamine", "71 (2%) van de 3.541"),
    ("ketaminegebruik en blaasproblemen", "blaas"),
    ("Staat ketamine op de WHO-lijst van essentiële geneesmiddelen?", "World Health Organization"),
    # the review writes "trd" after defining it once as "therapieresistente depressie (trd)"
    ("Ongeveer de helft van de patiënten met therapieresistente depressie reageert op rs-ketamine",
     "50% van de patiënten met trd"),
])
def test_numbers_compounds_and_abbreviations_are_found(checker, claim, expected):
    assert any(expected in e.text for e in checker.retrieve(claim, k=3))


def test_reranker_sees_a_passage_with_its_neighbours_and_against_the_best_candidate(checker):
    """"Dit komt neer op circa 280.000 mensen." names neither ketamine nor the Dutch: the sentence before it
    does. The neighbour feature adds that sentence's words; each feature's distance to the best candidate
    is zero for the best and never positive."""
    import numpy as np

    from pipeline.retrieve import RERANK_FEATURES, rerank_features

    claim = "Ongeveer 280.000 Nederlanders hadden in 2020 ooit ketamine als drug gebruikt."
    result = checker.retriever.search(claim, k=checker.config.retrieval.rerank_depth, rerank=False)
    rows = [hit.row for hit in result.hits]
    target = next(i for i, hit in enumerate(result.hits) if hit.passage.text.startswith("Dit komt neer op circa 280.000"))
    before, after = checker.index.neighbours(rows[target])
    assert before == rows[target] - 1 and after == rows[target] + 1
    assert checker.index.passages[before].doc_id == result.hits[target].passage.doc_id
    assert "2020" in checker.index.passages[before].text
    features = rerank_features(result, result.hits, checker.index)
    assert features.shape == (len(result.hits), len(RERANK_FEATURES))
    column = {name: i for i, name in enumerate(RERANK_FEATURES)}
    own, with_previous = features[target, column["weighted_coverage"]], features[target, column["weighted_coverage_with_previous"]]
    assert with_previous > own + 0.2
    below_best = features[:, len(RERANK_FEATURES) // 2:]
    assert (below_best <= 0).all() and np.isclose(below_best.max(axis=0), 0).all()
    first, last = checker.index.neighbours(0)[0], checker.index.neighbours(len(checker.index.passages) - 1)[1]
    assert first is None and last is None


def test_bm25_terms_keep_negations_numbers_and_units():
    analyzer = LexicalAnalyzer(frozenset({"ketamine", "gebruik"}))
    terms = analyzer.terms("Geen ketaminegebruik: 0,5 mg/kg, niet nooit zonder")
    for kept in ("geen", "niet", "nooit", "zonder", "0,5", "mg/kg", "ketamine"):
        assert any(t.startswith(kept[:4]) for t in terms), kept


@pytest.mark.parametrize("text, low, high, unit", [
    ("twee tot drie uur", 2, 3, "h"),
    ("2-3 uur", 2, 3, "h"),
    ("0,5 mg/kg", 0.5, 0.5, "mg/kg"),
    ("0,5 mg per kilo", 0.5, 0.5, "mg/kg"),
    ("86 procent", 86, 86, "%"),
    ("twee op de vijf patiënten", 40, 40, "%"),
    ("3.541 incidenten", 3541, 3541, ""),
    ("tussen 60 en 250 mg", 60, 250, "mg"),
    ("tussen twee en drie uur", 2, 3, "h"),
    ("tussen de zestig en tweehonderdvijftig mg", 60, 250, "mg"),
    ("vijfendertig procent", 35, 35, "%"),
    ("tweeëntwintig dagen", 22, 22, "d"),
    ("honderdtwintig minuten", 120, 120, "min"),
    ("drieduizendvijfhonderd deelnemers", 3500, 3500, "n"),
    ("tussen 2015 en 2019", 2015, 2019, "year"),
    ("in de jaren negentig", 90, 90, "decade"),
    ("In de jaren '60 van de vorige eeuw", 60, 60, "decade"),
])
def test_dutch_quantities_are_normalised(text, low, high, unit):
    quantity = extract_quantities(text)[0]
    assert (quantity.low, quantity.high, quantity.unit) == (low, high, unit)


@pytest.mark.parametrize("claim, passage, agrees", [
    ("2 uur", "2-3 uur", True),
    ("twee tot drie uur", "2-3 uur", True),
    ("een tot 40 keer", "een tot 4 keer", False),   # ranges must share both ends
    ("twee tot drie dagen", "2-3 uur", False),
    ("bijna 70%", "67%", True),
    ("de jaren zestig", "de jaren 60", True),
    ("tussen 60 en 250 mg", "60-250 mg", True),
    ("in 2019", "tussen 2015 en 2019", True),
    ("de jaren negentig", "de jaren 60", False),
])
def test_quantities_agree_only_on_the_same_value_or_range(claim, passage, agrees):
    assert extract_quantities(claim)[0].agrees(extract_quantities(passage)[0]) is agrees


def test_comparison_finds_number_negation_and_antonym_mismatches():
    analyzer = LexicalAnalyzer()
    numbers = compare("De deelnemers kregen 5 mg/kg.", "De deelnemers kregen 0,5 mg/kg ketamine.", analyzer)
    assert numbers.number_conflicts and numbers.numbers_matched == 0
    same = compare("De halfwaardetijd is 2-3 uur.", "de halfwaardetijd is slechts twee tot drie uur", analyzer)
    assert same.numbers_matched == 1 and not same.number_conflicts
    # "niet zonder reden" and "niet voor niets" deny nothing; "niet" elsewhere still does.
    idiom = compare("Artsen zijn terughoudend met ketamine.", "Dat maakt artsen terughoudend en niet zonder reden.",
                    analyzer)
    assert not idiom.passage_negated and not idiom.claim_negated
    assert compare("Artsen zijn terughoudend.", "Dat maakt artsen niet terughoudend.", analyzer).passage_negated
    antonym = compare("Ketamine verlaagt de bloeddruk.", "Ketamine verhoogt de bloeddruk.", analyzer)
    assert antonym.antonym_conflicts == (("verlaagt", "verhoogt"),)
    swap = compare("Mannen breken ketamine sneller af dan vrouwen.",
                   "verschillen in klaring tussen vrouwen en mannen", analyzer)
    assert swap.order_swaps
    inflected = compare("Norketamine heeft een kortere halfwaardetijd dan ketamine.",
                        "De metaboliet norketamine heeft een langere halfwaardetijd maar een zwakkere werking.",
                        analyzer)
    assert inflected.antonym_conflicts == (("kortere", "langere"),)
    bare = compare("In Australië werden 660 sterfgevallen geregistreerd.",
                   "Darke rapporteert 66 geregistreerde sterfgevallen in Australië (49).", analyzer)
    assert bare.bare_number_conflicts == (("660", "66"),) and not bare.number_conflicts
    # a range keeps the claim's own words for the explanation
    between = compare("De dosis om te snuiven ligt tussen 60 en 250 mg.", "De dosis om te snuiven is 6-25 mg.", analyzer)
    assert between.number_conflicts == (("tussen 60 en 250 mg", "6-25 mg"),)
    decade = compare("Ketamine werd pas in de jaren negentig ontwikkeld.",
                     "In de jaren 60 van de vorige eeuw werd ci-581 ontwikkeld, dat later ketamine zou heten.", analyzer)
    assert decade.number_conflicts == (("jaren negentig", "jaren 60"),)
    signed = compare("R-ketamine verdooft drie tot vier keer sterker dan S-ketamine.",
                     "Het verdovende effect van S(+)-ketamine is drie tot vier keer sterker dan dat van R(-)-ketamine.",
                     analyzer)
    assert signed.order_swaps == (("s-ketamine", "r-ketamine"),)
    # "minder invasief" in the passage does not hide that it is cheaper, not dearer
    cost = compare("Orale toediening is duurder en invasiever dan een infuus.",
                   "Orale toediening is aanzienlijk minder invasief en in uitvoering goedkoper.", analyzer)
    assert cost.antonym_conflicts == (("duurder", "goedkoper"),)
    # one dimension per antonym pair: fast breakdown and a short half-life say the same
    consistent = compare("De halfwaardetijd is kort.", "Het middel wordt snel door het lichaam afgebroken.", analyzer)
    assert not consistent.antonym_conflicts
    # "niet meer" is "no longer", not "more"
    no_longer = compare("De gebruikelijke dosis had minder effect.",
                        "De gebruikelijke dosis gaf niet meer hetzelfde effect.", analyzer)
    assert not no_longer.antonym_conflicts
    # a claim that itself calls something unclear agrees with a passage saying it is "niet helder"
    unclear = compare("Het is nog onduidelijk waarom ketamine pijn verlicht.",
                      "Ook is nog steeds niet helder waarom ketamine pijn kan verlichten.", analyzer)
    assert unclear.claim_negated and unclear.passage_negated
    # "lang niet altijd" asserts no universal, so a passage's "niet altijd" does not limit it
    not_always = compare("Ketamineklinieken werken lang niet altijd wetenschappelijk.",
                         "Er zijn ketamineklinieken die niet altijd volgens wetenschappelijke standaarden werken.",
                         analyzer)
    assert not not_always.claim_universal and not not_always.universal_open
    rejects = compare("Microdoseren geneest depressie.",
                      "Er is geen wetenschappelijk bewijs dat microdosering depressie kan genezen.", analyzer)
    assert rejects.passage_rejects and rejects.passage_negated and not rejects.claim_negated


@pytest.mark.parametrize("claim, passage, stated", [
    # the passage asserts the same "altijd"; its "meestal" is about something else
    ("Bij de behandeling met esketamine is er altijd een arts of verpleegkundige.",
     "Bij de behandeling is altijd een arts of verpleegkundige aanwezig en is daarom meestal in het ziekenhuis.", True),
    # "niet altijd" and "niet voor iedereen" limit the claim's universal word rather than assert it
    ("Ketamine werkt altijd bij depressie.", "Ketamine werkt niet altijd bij depressie.", False),
    ("Ketamine helpt iedereen met depressie.", "Ketamine is niet voor iedereen geschikt.", False),
])
def test_a_limit_only_counts_against_a_universal_claim_the_passage_does_not_assert(claim, passage, stated):
    comparison = compare(claim, passage, LexicalAnalyzer())
    assert comparison.claim_universal and comparison.universal_stated is stated


@pytest.mark.parametrize("claim, passage, conflict", [
    # a trend in words against one in figures, year by year or "van ... naar ..."
    ("Het aandeel ketaminemonsters bij DIMS daalde tussen 2016 en 2019.",
     "In 2019 was 4,2% van het totaal aantal monsters bij het DIMS aangekocht als ketamine, in 2016 was dit 2,7%(19).",
     True),
    ("Tussen 2015 en 2019 nam het aandeel ketamine in drugsincidenten af.",
     "Tussen 2015 en 2019 nam de bijdrage van ketamine op het totaal van drugsincidenten toe van 5% naar 11% .", True),
    ("Onder 25- tot 29-jarigen steeg het ketaminegebruik tussen 2016 en 2020.",
     "Zo lag het gebruik voor 25-29 jarigen in 2016 nog op 2,1%, in 2020 is dat 5,1%.", False),
    # a separable verb ("neemt ... af") against a present tense ("groeit")
    ("De populariteit van ketamine als partydrug neemt de laatste jaren af.",
     "Met name de laatste jaren groeit de populariteit als partydrug.", True),
])
def test_comparison_reads_trends_from_words_and_figures(claim, passage, conflict):
    comparison = compare(claim, passage, LexicalAnalyzer())
    assert comparison.trend_conflict is conflict and comparison.trend_agrees is not conflict


def test_verdicts_come_with_explanations(checker):
    number = checker.check("De deelnemers aan de Cleveland-studie kregen 5 mg per kilo lichaamsgewicht.")
    assert number.verdict == "contradicted"
    assert number.explanation.startswith("getal wijkt af: bewering 5 mg per kilo, bron 0,5 mg per kilo")
    myth = checker.check("Microdoseren met K geneest depressie 🙌 #ketamine")
    assert myth.verdict == "contradicted" and myth.explanation.startswith("bron ontkent: ")
    supported = checker.check("Ketamine is sinds 2019 in Nederland goedgekeurd als medicijn bij therapieresistente depressie.")
    assert supported.verdict == "supported" and supported.explanation.startswith("bron bevestigt")
    for result in (number, myth, supported):
        assert 0.0 <= result.confidence <= 1.0 and result.evidence
        assert abs(sum(result.claims[0].probabilities.values()) - 1.0) < 1e-3


def test_training_is_deterministic_and_cross_fits_by_evidence_group(tmp_path, checker, encoder):
    """Two trainings on the same rows give the same saved model; every training claim is ranked by a
    reranker fit without its own evidence group."""
    import numpy as np

    from pipeline.checker import FactChecker
    from pipeline.config import load_config
    from pipeline.report import read_labelled
    from pipeline.train import evidence_group_folds, train

    from conftest import write_config

    config = load_config(write_config(tmp_path, **{"paths.verifier_model": str(tmp_path / "verifier.skops")}))
    frame = read_labelled(config.path("labelled_claims"), "train").groupby("label").head(40).reset_index(drop=True)
    groups = list(frame["group"])
    trainer = FactChecker(config, encoder=encoder, index=checker.index)
    for fitted_on, held_out in evidence_group_folds(groups, config.verdict.calibration_folds):
        assert not {groups[i] for i in fitted_on} & {groups[i] for i in held_out}
    probe = ["Ketamine wordt als neusspray voorgeschreven.", "Mannen breken ketamine sneller af dan vrouwen."]
    runs = []
    for _ in range(2):
        train(trainer, list(frame["claim"]), list(frame["label"]), list(frame["evidence"]), groups)
        reloaded = FactChecker(config, encoder=encoder, index=checker.index)
        reloaded.load_classifier()
        runs.append([r.claims[0].probabilities for r in reloaded.check_many(probe)])
    assert runs[0] == runs[1]
    assert np.isclose(sum(runs[0][0].values()), 1.0, atol=1e-3)


def test_reranker_and_verdict_features_share_one_overlap_by_name(fake_checker):
    """The reranker's columns are named (RERANK_FEATURES); coverage and matched numbers come from one
    computation, which the verdict comparison reads too."""
    from pipeline.overlap import overlap
    from pipeline.retrieve import CANDIDATE_FEATURES, RERANK_FEATURES, rerank_features

    claim = "Bij 0,5 mg/kg ketamine gaat de bloeddruk omhoog."
    result = fake_checker.retriever.search(claim, k=8, rerank=False)
    features = rerank_features(result, result.hits, fake_checker.index)
    column = {name: i for i, name in enumerate(RERANK_FEATURES)}
    assert features.shape == (8, 2 * len(CANDIDATE_FEATURES)) and len(column) == len(RERANK_FEATURES)
    for row, hit in enumerate(result.hits):
        shared = overlap(claim, hit.passage.text, fake_checker.index.analyzer)
        assert features[row, column["coverage"]] == pytest.approx(shared.coverage)
        assert features[row, column["numbers_matched"]] == shared.numbers_matched
        assert features[row, column["fused_rank"]] == pytest.approx(1 / (row + 1))
        assert compare(claim, hit.passage.text, fake_checker.index.analyzer).coverage == shared.coverage
    assert overlap("Ketamine 0,5 mg/kg", "een dosis van 0,5 mg/kg", fake_checker.index.analyzer).numbers_matched == 1


def test_the_cross_encoder_lifts_a_passage_that_decides_the_claim_above_one_that_is_only_on_topic():
    import numpy as np

    from pipeline.chunk import Passage
    from pipeline.retrieve import Hit, RetrievalResult, reorder_by_reading

    def hit(number: int, score: float) -> Hit:
        passage = Passage(f"doc#{number}", "doc", 0, 1, f"passage {number}", None, "paragraph")
        return Hit(passage, score, 0.8, 1.0, number, number, number)

    result = RetrievalResult("claim", np.zeros(3), [hit(0, 0.7), hit(1, 0.6), hit(2, 0.5), hit(3, 0.1)])
    # (entailment, contradiction, neutral) of the first three: only the second decides the claim.
    read = np.array([[0.05, 0.05, 0.9], [0.1, 0.85, 0.05], [0.1, 0.1, 0.8]])
    reordered = reorder_by_reading(result, read, weight=0.5)
    assert [h.passage.passage_id for h in reordered.hits] == ["doc#1", "doc#0", "doc#2", "doc#3"]
    assert [h.score for h in reordered.hits] == [0.6, 0.7, 0.5, 0.1]  # the reranker's scores travel with them
    assert reorder_by_reading(result, read, weight=0.0).hits == result.hits
    assert reorder_by_reading(result, read[:1], weight=0.5).hits == result.hits


def test_a_document_without_written_claims_is_found_and_judged_not_read_as_unaddressed(checker, config):
    """Every passage of the shipped corpus has written claims; one a user adds has none. Its passages are restated
    as their own claims for the third ranking, and the fallback verdict model, fit without the pair memory, judges
    claims whose best passage has none: the first model learned that a silent memory means "unsupported". Each
    document in turn loses its written claims, and the held-out claims it decides are checked with both defences
    and, as before them, with neither."""
    import numpy as np

    from pipeline.evidence import deciding_document
    from pipeline.report import read_labelled

    passages = checker.index.passages
    held_out = read_labelled(config.path("labelled_claims"), ["dev", "test"])
    held_out = held_out[held_out["label"] != "unsupported"]
    deciding = np.asarray([deciding_document(passages, quote) for quote in held_out["evidence"]])
    written, fallback = checker.index.written_claims, checker.classifier.fallback_
    assert fallback is not None and fallback.n_features_in_ < checker.classifier.n_features_in_
    assert "" not in deciding
    gold, verdicts = [], {"defended": [], "before": []}
    for document in sorted(set(deciding)):
        about = held_out[deciding == document]
        for name, defended in (("defended", True), ("before", False)):
            with checker.as_if_unwritten({document}, restate=defended, fallback=defended):
                unwritten = checker.index.written_claims
                assert unwritten.restated_mask.any() == defended and (~unwritten.restated_mask).sum() < len(written)
                assert (checker.classifier.fallback_ is fallback) == defended
                verdicts[name] += [r.verdict for r in checker.check_many(list(about["claim"]))]
        gold += list(about["label"])
    assert checker.index.written_claims is written and checker.classifier.fallback_ is fallback
    assert len(gold) >= 100
    right = {name: np.mean(np.asarray(found) == np.asarray(gold)) for name, found in verdicts.items()}
    unaddressed = {name: found.count("unsupported") / len(found) for name, found in verdicts.items()}
    assert right["defended"] > right["before"] + 0.15
    assert unaddressed["defended"] < unaddressed["before"] / 2
    assert right["defended"] >= 0.65


def test_a_verdict_model_fit_on_another_number_of_cross_encoder_passages_is_refused(checker, tmp_path):
    """``nli.top_passages`` shapes the verdict features (the best of the passages the cross-encoder reads): a model
    fit with three is not used with five."""
    from conftest import write_config

    from pipeline.checker import FactChecker
    from pipeline.config import load_config

    assert checker.feature_config["nli_top_passages"] == checker.config.nli.top_passages
    other = load_config(write_config(tmp_path, **{"nli.top_passages": checker.config.nli.top_passages + 2}))
    fresh = FactChecker(other, encoder=checker.encoder, index=checker.index, nli=checker.nli)
    reason = fresh.load_classifier(optional=True)
    assert reason and "run `factcheck train`" in reason and fresh.classifier is None
