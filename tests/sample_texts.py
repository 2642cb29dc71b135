"""Short medical texts written for these tests (no patient data, nothing copied from a corpus)."""

PASSAGES = [
    "Metformin is the usual first medicine for type 2 diabetes; it lowers glucose made by the liver.",
    "Community-acquired pneumonia in adults is treated with amoxicillin, or a macrolide if allergic to penicillin.",
    "Warfarin needs regular INR checks; many antibiotics raise the INR and the risk of bleeding.",
    "Migraine attacks can be eased with a triptan taken early, together with an anti-sickness medicine.",
    "Iron-deficiency anaemia causes tiredness and pale skin; oral iron tablets usually correct it.",
    "Asthma control improves with a daily inhaled corticosteroid; a reliever inhaler treats sudden symptoms.",
]
QUERIES = [
    ("Which drug is started first for type 2 diabetes?", 0),
    ("How is pneumonia treated in adults?", 1),
    ("Why do blood thinners need INR monitoring?", 2),
    ("What helps a migraine headache?", 3),
    ("What treats low iron in the blood?", 4),
    ("Which inhaler prevents asthma attacks?", 5),
]
