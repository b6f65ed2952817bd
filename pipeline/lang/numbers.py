"""Dutch numbers, units and approximations: "twee tot drie uur", "0,5 mg/kg", "een op de vijf"."""

# Numerals written as one word are read by their parts: "vijfendertig" (5 + 30), "tweeëntwintig",
# "tweehonderdvijftig" (2 x 100 + 50), "drieduizend".
ONES = {"één": 1, "een": 1, "twee": 2, "drie": 3, "vier": 4, "vijf": 5, "zes": 6, "zeven": 7, "acht": 8, "negen": 9}
TEENS = {"tien": 10, "elf": 11, "twaalf": 12, "dertien": 13, "veertien": 14, "vijftien": 15, "zestien": 16,
         "zeventien": 17, "achttien": 18, "negentien": 19}
# The tens; also the words that name a decade ("de jaren negentig").
TENS = {"twintig": 20, "dertig": 30, "veertig": 40, "vijftig": 50, "zestig": 60, "zeventig": 70, "tachtig": 80,
        "negentig": 90}
WORD_NUMBERS = {
    "nul": 0, **ONES, **TEENS, **TENS, "honderd": 100, "duizend": 1000, "half": 0.5, "halve": 0.5, "helft": 0.5,
    "eenmaal": 1, "tweemaal": 2, "driemaal": 3, "viermaal": 4, "derde": 1 / 3, "kwart": 0.25,
    "tiende": 0.1, "dubbel": 2, "decennia": None,
}
NUMERAL_AND = ("en", "ën")   # between the ones and the tens: "vijf-en-dertig"
HUNDRED, THOUSAND = "honderd", "duizend"
# Written unit -> canonical unit.
UNITS = {
    "mg/kg": "mg/kg", "mg per kilo": "mg/kg", "mg per kg": "mg/kg", "mg/ kg": "mg/kg", "mg": "mg", "gram": "g",
    "g": "g", "kilo": "kg", "kg": "kg",
    "%": "%", "procent": "%", "percent": "%",
    "uur": "h", "u": "h", "uren": "h", "minuten": "min", "minuut": "min", "min": "min",
    "dag": "d", "dagen": "d", "week": "wk", "weken": "wk", "wk": "wk", "maand": "mo", "maanden": "mo",
    "jaar": "yr", "jaren": "yr", "keer": "x", "maal": "x", "patiënten": "n", "patienten": "n",
    "mensen": "n", "deelnemers": "n", "studies": "studies", "euro": "eur", "punten": "pt",
}
# Units of one dimension convert to a common base so "twee tot drie dagen" can meet "2-3 uur".
TIME_IN_HOURS = {"min": 1 / 60, "h": 1.0, "d": 24.0, "wk": 168.0, "mo": 730.0, "yr": 8760.0}
# Words just before a number that make it approximate (regex alternatives).
APPROXIMATE = ("ongeveer", "circa", r"ca\.", "rond", "zo'n", "zo’n", "bijna", "ruim", "meer dan", "minder dan",
               "ruwweg", "grofweg", "pakweg", "vrijwel", "nagenoeg", "slechts", "maar", "tot")
# Words that join the two ends of a range: "2-3", "twee tot drie", "5 à 10".
RANGE_JOINERS = ("-", "–", "tot", "à", "a")
# "de helft", "een derde": shares, in per cent.
SHARE_WORDS = {"helft": 50.0, "derde": 100 / 3, "kwart": 25.0, "tiende": 10.0}
