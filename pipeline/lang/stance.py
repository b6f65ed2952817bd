"""How Dutch posters frame a claim: passing it on, denying or mocking it, asking it as a leading question.

Regex alternatives, matched case-insensitively on a post's normalised sentence. They are cues for the
learned sentence reader (``pipeline/post_reading.py``) and tell it which words to strip to get the claim
as asserted; they never decide a stance on their own.
"""

# "<who> zegt dat X": the claim is someone else's. The named group is whose claim it is.
REPORTERS = (r"(?:mijn|m'n|je|jouw|onze|de|een|die|dat|haar|zijn|z'n|hun)\s+(?:[\w'-]+\s+){0,3}?[\w'-]+",
             r"(?:ze|zij|men|iedereen|mensen|sommigen|velen|veel\s+mensen|artsen|experts|wetenschappers)",
             r"iemand(?:\s+(?:op|in|van|bij)\s+[\w'-]+)?")  # "iemand op reddit beweerde dat"
# Present and past tense: "beweert" and "beweerde" pass a claim on alike.
SAYING_VERBS = (r"zegt", r"zei", r"zeggen", r"zeiden", r"beweert", r"beweerde", r"beweren", r"beweerden",
                r"stelt", r"stelde", r"stellen", r"stelden",
                r"vertelde", r"vertelt", r"vertellen", r"vertelden", r"roept", r"riep", r"roepen", r"riepen",
                r"schrijft", r"schreef", r"schrijven", r"schreven", r"claimt", r"claimde", r"claimen", r"claimden",
                r"postte", r"postten", r"denkt", r"denken", r"dacht", r"dachten", r"geloven", r"gelooft",
                r"geloofde", r"geloofden")
# A report frame after the claim, the speaker after the verb: "..., zegt mijn buurvrouw", "..., aldus de GGD",
# "..., heeft mijn huisarts gezegd".
TRAILING_SAYING_VERBS = (r"zegt", r"zei", r"zeggen", r"zeiden", r"beweert", r"beweren", r"vertelde", r"vertelt",
                         r"vertellen", r"schrijft", r"schreef", r"schrijven", r"claimt", r"claimen", r"aldus")
PERFECT_AUXILIARIES = (r"heeft", r"hebben", r"had", r"hadden")
SAYING_PARTICIPLES = (r"gezegd", r"verteld", r"beweerd", r"geschreven", r"geclaimd", r"gepost", r"geroepen")
# Frames with no named speaker: "volgens een studie", "las net dat", "schijnt dat".
# The source may stand in scare quotes ("volgens de 'experts'", "volgens 'de experts'"), carry a name of
# several capitalised words ("volgens het Grote Uitgaansonderzoek") or say where the poster met it
# ("volgens een artikel dat ik las").
SOURCE_FRAMES = (r"volgens\s+['‘\"“]?(?:(?:een\s+of\s+andere?|een|de|het|mijn|m'n|die|dat)\s+['‘\"“]?)?[\w-]+['’\"”]?"
                 r"(?:\s+(?-i:[A-Z])[\w-]+)*(?:\s+van\s+[\w-]+)?"
                 r"(?:\s+(?:dat|die)\s+ik\s+(?:\w+\s+)?(?:las|zag|hoorde|lees|zie|hoor)\b)?",
                 r"(?:ik\s+)?(?:las|lees|hoorde|hoor|zag)\s+(?:(?:net|ergens|laatst|gisteren|vandaag|online)\s+)?"
                 r"(?:(?:in|op|bij)\s+(?:een|de|het|die|dat)?\s*[\w-]+\s+)?dat",  # "las net in een factsheet dat"
                 r"(?:pov:\s*)?(?:je|jij)\s+(?:ontdekt|ontdekte|komt\s+erachter|kwam\s+erachter)\s+dat",
                 r"(?:er\s+)?(?:wordt|werd)\s+(?:vaak\s+|steeds\s+)?(?:gezegd|beweerd|geroepen|gesteld|verteld)\s+dat",
                 r"(?:het\s+)?schijnt\s+(?:zo\s+te\s+zijn\s+)?dat", r"blijkbaar", r"naar\s+verluidt",
                 r"uit\s+(?:een\s+)?(?:onderzoek|studie)\s+(?:blijkt|bleek)\s+dat")

# Words that can open a sentence before a fronted "volgens X" without belonging to its clause ("Nou ja, volgens
# mijn arts is K veilig"). Two other words before it make it an aside inside the clause ("K is volgens mij veilig").
CLAUSE_OPENERS = frozenset({"nou", "ja", "nee", "maar", "en", "dus", "want", "oh", "o", "ok", "oke", "oké", "hmm",
                            "tja", "ach", "kijk", "lol", "haha"})

# Words that call a claim false, made up or ridiculous. "onjuist" and "ja, tuurlijk" only where a clause ends:
# "bij onjuist gebruik" and "ja, tuurlijk helpt het" deny nothing.
_CLAUSE_END = r"(?=\s*(?:[^\w\s]|$))"  # only punctuation, an emoji or the end follows
DENIAL_WORDS = (r"fabel(?:tje)?s?", r"mythe", r"hoax", r"onzin", r"gelul", r"bullshit", r"bs", r"nonsens",
                r"kul", r"flauwekul", r"marketing(?:praat(?:je)?s?)?", r"bangmakerij", r"fabeltjesfuik", r"kletskoek", r"lariekoek", r"sprookje(?:s)?", r"nepnieuws", r"fake\s*news",
                r"complottheorie", r"on(?:juist|waar)" + _CLAUSE_END, r"propaganda", r"leugen(?:s)?", r"gezever", r"zever", r"gezwets")
DENIAL_PHRASES = (r"klopt\s+(?:helemaal\s+|echt\s+)?(?:niks|niets|geen\s+bal|geen\s+hout)(?:\s+van)?",
                  r"(?:dat|dit|het)\s+klopt\s+(?:dus\s+|gewoon\s+|echt\s+|helemaal\s+)?niet", r"bestaat\s+niet",
                  r"slaat\s+(?:echt\s+)?nergens\s+op", r"geloof\s+(?:er\s+)?(?:geen|niks|niets)\s+van",
                  r"is\s+(?:gewoon\s+)?niet\s+waar", r"is\s+(?:gewoon\s+)?niet\s+juist" + _CLAUSE_END,
                  r"echt\s+niet\s+waar", r"(?:jaja|ja(?:[\s,]+ja)?)[\s,]+(?:hoor|tuurlijk)" + _CLAUSE_END,
                  r"ammehoela", r"laat\s+je\s+niks\s+wijsmaken", r"trap\s+er\s+niet\s+in",
                  r"wie\s+gelooft\s+(?:dat|die\s+onzin)", r"not\s+true", r"is\s+achterhaald")
# "mensen die denken dat X", "het klopt niet dat X": the poster mocks or rejects X.
MOCKING_FRAMES = (r"(?:het|dat)\s+(?:klopt|is)\s+(?:dus\s+|gewoon\s+|echt\s+|helemaal\s+)?(?:niet(?:\s+waar)?|onjuist|onwaar)\s+dat",
                  r"(?:lol\s+|haha\w*\s+)?(?:mensen|types|lui|gasten|figuren)\s+die\s+(?:nog\s+|echt\s+|serieus\s+)?"
                  r"(?:denken|geloven|roepen|beweren)\s+dat",
                  r"(?:en\s+)?dan\s+(?:nog\s+)?(?:denken|roepen|beweren)\s+(?:ze|mensen)\s+dat",
                  r"alsof", r"(?:het\s+)?(?:fabeltje|sprookje|mythe|idee)\s+dat",
                  r"(?:al\s+)?(?:die|de|dat|deze)\s+(?:verhalen|verhaaltjes|praatjes|berichten|claims|onzin|geruchten)\s+dat")
LAUGHTER = (r"lol", r"haha\w*", r"hihi\w*", r"😂", r"🤣", r"🙄", r"🤡", r"🤦\S*", r"xd")

# Questions that assert what they ask: "wist je dat X?", "sinds wanneer is X?".
LEADING_QUESTIONS = (r"wist\s+(?:je|jij|jullie|u)\s+(?:al\s+)?dat", r"is\s+het\s+niet\s+zo\s+dat",
                     r"(?:besef|beseft|snap|snappen)\s+(?:je|jullie|mensen)\s+(?:wel\s+)?dat",
                     r"waarom\s+(?:zeggen|denken|roepen)\s+(?:ze|mensen)\s+(?:dan\s+)?dat")
SCEPTICAL_QUESTIONS = (r"sinds\s+wanneer", r"hoezo", r"serieus", r"echt\s+waar", r"oh\s+ja", r"o\s+ja", r"really")
# Modal particles that close a (rhetorical) question and add nothing to its claim: "Sinds wanneer is K een
# pijnstiller dan?" asks about "K is een pijnstiller".
QUESTION_PARTICLES = (r"dan", r"nou", r"eigenlijk", r"toch", r"dan\s+eigenlijk", r"dan\s+nog")
# Opening words of a sentence that asks for information.
QUESTION_WORDS = ("wie", "wat", "waar", "wanneer", "waarom", "hoe", "hoeveel", "welke", "welk", "kan", "kun",
                  "kunnen", "mag", "is", "zijn", "heeft", "hebben", "weet", "weten", "moet", "word", "wordt",
                  "doet", "ken", "kent", "iemand")

# Sentences that tell the reader what to do.
ADVICE_OPENERS = (r"wees", r"doe", r"let\s+op", r"pas\s+op", r"check", r"lees", r"praat", r"vraag", r"bel",
                  r"zoek", r"neem", r"ga", r"stop", r"begin", r"gebruik", r"kijk", r"denk\s+na", r"blijf",
                  r"hou\s+je", r"houd", r"combineer", r"test", r"deel", r"onthoud", r"geloof\s+niet",
                  r"luister", r"informeer", r"raadpleeg", r"meld", r"probeer", r"drink", r"eet")
# "Merk je dat ..., bel dan de Infolijn": a condition, then what to do.
ADVICE_PHRASES = (r"doe\s+je\s+eigen\s+onderzoek",
                  r",\s*(?:bel|ga|stop|zoek|praat|neem|vraag|kijk|doe|meld|lees)\s+dan\b",
                  r"(?:je|jullie|u)\s+(?:moet|moeten|kunt|kan)\s+(?:echt\s+)?",
                  r"(?:ik\s+)?(?:raad|raden)\s+(?:het\s+)?(?:iedereen\s+)?(?:aan|af)", r"tip:", r"advies:", r"pro\s*tip",
                  r"zorg\s+(?:dat|voor)", r"niet\s+doen", r"stay\s+safe", r"take\s+care")

# A later sentence that refers back to the drug: "... keta ... . En het wordt elk jaar duurder." The pronoun
# (or "dat spul") as subject, followed by a finite verb; the claim is checked with the drug named.
# Bare "dit" and "dat" are left out: they mostly point back at a statement ("Dat is onzin"), not at the drug.
POINTING_SUBJECTS = (r"hij", r"(?:dit|dat|het)\s+(?:spul|middel|goedje|medicijn)")
REFERRING_SUBJECTS = (r"het", *POINTING_SUBJECTS)
SUBJECT_VERBS = (r"is", r"was", r"zou", r"wordt", r"werd", r"zorgt", r"maakt", r"geeft", r"werkt", r"helpt", r"kan",
                 r"mag", r"moet", r"heeft", r"had", r"staat", r"gaat", r"blijft", r"komt", r"duurt", r"kost",
                 r"verhoogt", r"verlaagt", r"vertraagt", r"versnelt", r"veroorzaakt", r"beschadigt", r"remt",
                 r"blokkeert", r"verdooft", r"verslaaft", r"geneest", r"zit")
# Words that end a subordinate clause's own part: its finite verb is looked for before them ("dat K verslavend is
# omdat het ..." keeps "omdat ..." as it is).
SUBORDINATE_BOUNDARIES = ("omdat", "als", "wanneer", "want", "maar", "en", "of", "die", "dat", "terwijl", "doordat",
                          "zodat", "hoewel", "tenzij", "zodra", "nadat", "voordat", "waardoor", "waarbij")
# After a verb, bare "het" is also an article ("is het bezit van ketamine strafbaar"): only before one of these
# words is it the pronoun that can move before the verb ("is het een pijnstiller", "is het niet gevaarlijk").
# Degree words ("erg", "zo", "veel") are left out: "is het erg dure middel vergoed" has them inside a noun phrase.
PRONOUN_HET_BEFORE = (r"een", r"de", r"niet", r"wel", r"ook", r"echt", r"gewoon", r"nog", r"al", r"altijd", r"nooit",
                      r"geen", r"dan", r"toch", r"juist", r"eigenlijk", r"helemaal", r"zelfs", r"alleen", r"maar")
# "Het is belangrijk om ...", "het is bewezen dat ...": "het" as a dummy subject refers to nothing (these words
# within the first three after "is").
DUMMY_SUBJECT_TAIL = (r"om", r"dat", r"te", r"of")
