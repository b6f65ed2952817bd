"""Polarity pairs of general Dutch: a claim using one side against a passage using the other is a
mismatch cue. One pair per dimension, so "snel afgebroken" agrees with "korte halfwaardetijd"."""

ANTONYMS = (
    ({"verhoogt", "verhoogd", "verhoogde", "hoger", "hoge", "meer", "omhoog"},
     {"verlaagt", "verlaagd", "verlaagde", "lager", "lage", "minder", "omlaag"}),
    ({"groter", "grote"}, {"kleiner", "kleine"}),
    ({"sneller", "snel"}, {"langzamer", "langzaam"}),
    ({"langer", "lang"}, {"korter", "kort"}),
    ({"veilig", "veilige", "onschadelijk", "onschuldig", "ongevaarlijk", "gezond"},
     {"onveilig", "gevaarlijk", "risico", "risico's", "risico’s", "schadelijk", "riskant", "dodelijk"}),
    ({"effectief", "effectieve", "werkt", "werkzaam", "helpt", "geneest", "bewezen", "aangetoond"},
     {"ineffectief", "onwerkzaam", "onvoldoende", "onbewezen", "onduidelijk", "onbekend"}),
    ({"mannen", "man"}, {"vrouwen", "vrouw"}),
    ({"veel", "uitgebreid", "vaak", "vaker", "meestal"}, {"weinig", "nauwelijks", "zelden", "beperkt"}),
    ({"stimuleert", "bevordert", "activatie", "activeert"}, {"remt", "blokkade", "blokkeert", "onderdrukt"}),
    ({"verbetert", "verbeterde", "verbeteringen", "verbetering", "beter"},
     {"verslechtert", "verslechterde", "verslechtering", "slechter"}),
    ({"duur", "duurder"}, {"goedkoop", "goedkoper"}),
    ({"sterker", "sterk"}, {"zwakker", "zwak"}),
    ({"omkeerbaar", "verdwijnen", "verdwijnt", "herstelt"}, {"blijvend", "onherstelbaar", "permanent"}),
    ({"verwijdt", "verwijden"}, {"vernauwt", "vernauwen"}),
    ({"volwassenen"}, {"ouderen", "kinderen"}),
    ({"goedgekeurd", "geregistreerd", "toegestaan", "legaal"}, {"verboden", "illegaal", "strafbaar", "afgekeurd"}),
)
