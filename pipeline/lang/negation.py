"""Dutch negation and denial. None of these words is ever dropped as a stop word."""

NEGATIONS = frozenset({"niet", "geen", "nooit", "zonder", "niets", "niemand", "nergens", "geenszins", "noch"})

# A text that calls something unproven, unclear, unknown or a myth denies it as "niet" does.
# Regex alternatives, joined in this order.
NO_EVIDENCE = (
    r"\b(geen|weinig|onvoldoende)\s+(wetenschappelijk\s+)?(bewijs|aanwijzingen|consensus)",
    r"\bniet\s+(bewezen|aangetoond|bekend|helder|duidelijk)",
    r"\bonduidelijk",
    r"\bonbekend",
    r"\bmythe\b",
    r"\bniet\s+correct\b",
    r"\bzegt\s+niets\b",
)

# Words that, just before a universal word, take its force away: "niet altijd", "geen voor iedereen".
NEGATES_FOLLOWING = ("niet", "geen")

# Idioms whose negation words deny nothing: "staat niet voor niets op de lijst" asserts it is on the list, and
# "terughoudend, en niet zonder reden" that there is a reason. Left out before negation is looked for. ("niet voor
# niks" can also mean "not for free"; in health claims the idiom is the common reading.)
NON_NEGATING_IDIOMS = (r"niet\s+voor\s+niets", r"niet\s+voor\s+niks", r"niet\s+zonder\s+reden")

# "niet meer" / "nooit meer" / "geen meer" mean "no longer", not "more".
NO_LONGER_LEADS = ("niet", "nooit", "geen")
