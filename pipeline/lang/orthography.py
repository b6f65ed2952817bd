"""Dutch writing conventions the cleaner and the sentence splitter rely on."""

# Abbreviations common in Dutch medical prose that spaCy's list lacks; they never end a sentence.
ABBREVIATIONS = frozenset({
    "e.a.", "i.v.", "i.n.", "i.m.", "o.a.", "d.w.z.", "m.b.t.", "o.b.v.", "t.o.v.", "i.p.v.", "m.n.",
    "bijv.", "bv.", "vs.", "ca.", "resp.", "etc.", "enz.", "nl.", "dr.", "prof.", "mr.", "mw.",
    "jr.", "zgn.", "incl.", "excl.", "max.", "min.", "gem.", "e.d.", "o.i.d.", "syst.", "al.", "p.",
    "fig.", "tab.", "nr.", "blz.", "pag.", "dd.", "st.", "mg.",
})

# A line ending in one of these continues on the next line (PDF line breaks).
FUNCTION_WORDS = frozenset(
    "de het een en of in op van voor met aan bij naar om te tot dat die dan als door over uit "
    "zijn is was er ook nog niet geen wel maar".split())

# "maag- en leverfuncties": a hyphen before one of these is a compound's elision, not a line break.
ELISION_CONJUNCTIONS = frozenset({"en", "of", "tot"})
