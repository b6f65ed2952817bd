"""Dutch words that scope, hedge or give a direction to a statement.

QUANTIFIERS and UNIVERSAL serve different ends and so differ: QUANTIFIERS are words that scope a
claim and therefore stay searchable (they are never stop words); UNIVERSAL are the words and phrases
that assert "all, always, certainly", against which a passage's limit (LIMITING) counts.
"""

HEDGES = frozenset({"mogelijk", "kan", "kunnen", "lijkt", "lijken", "zou", "zouden", "waarschijnlijk",
                    "vermoedelijk", "soms", "wellicht", "misschien", "potentieel", "suggereert", "suggereren"})

QUANTIFIERS = frozenset({"altijd", "iedereen", "nooit", "alle", "allemaal", "elke", "elk", "niemand",
                         "volledig", "steeds", "gegarandeerd", "totaal", "absoluut", "helemaal", "alleen",
                         "uitsluitend", "meeste", "sommige", "soms", "vaak", "zelden"})

# Regex alternatives (whole words), joined in this order.
UNIVERSAL = ("altijd", "iedereen", "nooit", "alle", "allemaal", "elke", "elk", "niemand", "volledig",
             "gegarandeerd", r"100\s?%", "volkomen", "zeker", r"voor\s+altijd", r"geen\s+enkel\w*", "helemaal",
             "bewezen")
LIMITING = (r"niet\s+altijd", r"niet\s+iedereen", r"niet\s+voor\s+iedereen", "sommige", "soms", "zelden",
            "meestal", "vaak", r"bij\s+een\s+deel", r"de\s+helft", "bijna", r"niet\s+geschikt", "uitzonderingen",
            r"in\s+extreme\s+gevallen", r"wel\s+gevallen", "kan", "kunnen")

# Trends stated in words: "steeg", "nam toe" against "daalde", "nam af".
RISING = frozenset({"steeg", "stegen", "stijgt", "stijgen", "stijgende", "gestegen", "stijging", "toegenomen",
                    "toename", "toenemend", "toenemende", "groeit", "groeien", "groeide", "gegroeid", "verdubbeld",
                    "verdubbelde", "verdubbelt"})
FALLING = frozenset({"daalde", "daalden", "daalt", "dalen", "dalende", "gedaald", "daling", "afgenomen", "afname",
                     "afnemend", "afnemende", "krimpt", "krimpen", "verminderde", "halveerde", "gehalveerd"})
# Separable verbs: "nam ... toe", "neemt ... af".
PHRASAL_TREND_VERBS = ("nam", "namen", "neemt", "nemen")
PHRASAL_TREND_PARTICLES = {"toe": +1, "af": -1}

# A claim about the present: a dated figure behind its verdict is worth naming (regex alternatives).
PRESENT_TIME = ("nu", "tegenwoordig", r"op\s+dit\s+moment", "momenteel", "vandaag", r"deze\s+dagen", "inmiddels",
                r"op\s+het\s+moment", "actueel")
# "in 2020", "uit 2019": the year a figure refers to.
FIGURE_YEAR_LEADS = ("in", "uit", "van", "sinds", "tot")
