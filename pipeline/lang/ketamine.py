"""What is particular to this corpus's subject (ketamine, drugs, Dutch health care), kept apart from
general Dutch so another subject replaces this file only."""

# What a referring pronoun in a post may stand for, as posts read once normalised (slang already "ketamine").
DRUG_NAMES = (r"(?:es|ar|s-|r-|rs-)?ketamine", r"spravato")
# Street names of the drug, as posts write them.
DRUG_SLANG = {"k": "ketamine", "keta": "ketamine", "ket": "ketamine", "special k": "ketamine"}

# Abbreviations and brand names the corpus spells out.
DOMAIN_ABBREVIATIONS = {
    "who": "world health organization", "fda": "food and drug administration",
    "ema": "european medicines agency",
    "spravato": "esketamine neusspray", "nmda": "nmda-receptor",
    "trd": "therapieresistente depressie", "mdd": "depressieve stoornis",
}

# Acronyms a post may shout that stay upper case ("GEEN" is lowered, "WHO" is not).
ACRONYMS = frozenset({"WHO", "FDA", "EMA", "NL", "TRD", "MDD", "RCT", "NMDA", "GHB", "DIMS", "HGU",
                      "PCP", "ECT", "LSD", "MDMA", "CBS", "UMCG", "PTSS", "ADHD", "EHBO"})

# Polarity pairs of the subject: routes of use and the two enantiomers.
ANTONYMS = (
    ({"snuiven", "gesnoven"}, {"injecteren", "geïnjecteerd", "geinjecteerd", "slikken"}),
    ({"s-ketamine", "esketamine"}, {"r-ketamine", "arketamine"}),
)

# Entities that claims swap ("R-ketamine ... dan S-ketamine"): the order of a pair in the claim is
# compared with its order in the passage.
SWAPPABLE_PAIRS = (
    ("s-ketamine", "r-ketamine"), ("mannen", "vrouwen"),
    ("linksdraaiend", "rechtsdraaiend"), ("ketaminegroep", "placebogroep"), ("dissociatie", "angst"),
    ("positieve", "negatieve"), ("volwassenen", "ouderen"), ("enkel ketamine", "mengintoxicatie"),
)
