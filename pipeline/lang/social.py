"""How Dutch posts are written: chat abbreviations, greetings, opinion openers, tag questions."""

# "nie": spoken and Flemish "niet".
CHAT_ABBREVIATIONS = {"gwn": "gewoon", "idd": "inderdaad", "ff": "even", "nie": "niet"}

# A sentence that is only a greeting (optionally addressing a group) is skipped.
GREETINGS = ("hoi", "hallo", "hey", "hi", "goedemorgen", "goedemiddag", "goedenavond", "dag", "doei", "groetjes",
             "thanks", "bedankt", "dank je", "lol", r"haha\w*", "omg", "wow")
GREETING_ADDRESSEES = ("allemaal", "iedereen", "jullie", "mensen")

# A sentence opening with one of these is an opinion, unless it negates or quantifies (regex alternatives).
OPINION_OPENERS = (r"ik\s+(vind|denk|hoop|voel|ben\s+benieuwd)", r"wat\s+een", r"echt\s+(gestoord|bizar|top|erg)",
                   "duim", "succes", "interessant", "hoopvol", "bizar", "mooi", "vet", "top", "jammer")

# A claim followed by one of these is still a claim: "..., wist je dat?" (regex alternatives).
TAG_QUESTIONS = (r"wist\s+je\s+dat", "toch", r"klopt\s+dat", r"echt\s+waar", r"weet\s+je", r"of\s+niet", "hè", "he")
