"""Development questions for verified answers (issue 26), over the documents in tests/dev_docs/.

A *training* source, unlike tests/heldout_answer_set.py: written to give the abstention method more
leaflet-like questions than the demo's own set, and free to inspect and tune on (benchmarks/
calibrate_abstention.py fits on it). Phrased as patients, carers and nurses ask, in their own words rather
than the documents'. Written after the held-out set and without reading its questions again.

ANSWERABLE: (question, ids of the documents that answer it, key facts - the answer must contain one of them).
UNANSWERABLE: questions near the documents' topics that no document answers.
"""

ANSWERABLE = [
    # head_injury_advice
    ("My son banged his head and we're home now - does someone need to be with him overnight?",
     ["head_injury_advice"], ["24 hours"]),
    ("After a knock to the head, when am I allowed to drive again?", ["head_injury_advice"], ["48 hours"]),
    ("When can he get back on the rugby pitch after the concussion?", ["head_injury_advice"], ["3 weeks"]),
    ("How long is the headache likely to hang around after a minor head injury?", ["head_injury_advice"],
     ["2 weeks"]),
    ("Can I have a glass of wine the evening after hitting my head?", ["head_injury_advice"], ["48 hours"]),
    # colonoscopy_bowel_prep
    ("How much water do I mix the bowel prep sachet with?", ["colonoscopy_bowel_prep"], ["1 litre"]),
    ("What time do I drink the first lot of the laxative before my colonoscopy?", ["colonoscopy_bowel_prep"],
     ["6 pm"]),
    ("How many days before the camera test should I stop eating nuts and seeds?", ["colonoscopy_bowel_prep"],
     ["3 days"]),
    ("I'm on iron pills - when do I stop them before the colonoscopy?", ["colonoscopy_bowel_prep"], ["7 days"]),
    ("When do I have to stop drinking before the appointment?", ["colonoscopy_bowel_prep"], ["2 hours"]),
    ("Does the bowel prep affect my contraceptive pill?", ["colonoscopy_bowel_prep"], ["7 days"]),
    # apixaban_leaflet
    ("What's the normal dose of apixaban for AF?", ["apixaban_leaflet"], ["5 mg twice a day"]),
    ("I forgot my apixaban this morning, should I take two tonight?", ["apixaban_leaflet"],
     ["Never take two doses", "as soon as you remember"]),
    ("Do I need INR blood tests on apixaban like I did on warfarin?", ["apixaban_leaflet"], ["INR"]),
    ("How often should my kidneys be checked while I'm on apixaban?", ["apixaban_leaflet"], ["once a year"]),
    ("How long before an operation is apixaban usually stopped?", ["apixaban_leaflet"], ["48 hours"]),
    ("My nose has been bleeding for a while on apixaban - when should I get help?", ["apixaban_leaflet"],
     ["10 minutes"]),
    # copd_rescue_pack
    ("How much prednisolone do I take from my COPD rescue pack?", ["copd_rescue_pack"], ["30 mg"]),
    ("For how many days do I take the steroid tablets when my chest flares up?", ["copd_rescue_pack"],
     ["5 days"]),
    ("What dose of doxycycline do I take on the first day?", ["copd_rescue_pack"], ["200 mg"]),
    ("When should I start the antibiotics in my rescue pack?", ["copd_rescue_pack"], ["changed colour"]),
    ("Who do I tell after I start my rescue pack, and how soon?", ["copd_rescue_pack"], ["2 days"]),
    # lab_thyroid_function
    ("What is a normal TSH level?", ["lab_thyroid_function"], ["0.4 and 4.0"]),
    ("What's the normal range for free T4?", ["lab_thyroid_function"], ["12 and 22"]),
    ("My levothyroxine dose was just increased - when will they recheck my bloods?", ["lab_thyroid_function"],
     ["6 to 8 weeks"]),
    ("How long before breakfast should I take my thyroid tablet?", ["lab_thyroid_function"], ["30 minutes"]),
    ("My TSH is a bit high but T4 is normal, when will the test be repeated?", ["lab_thyroid_function"],
     ["3 months"]),
    # cataract_surgery_aftercare
    ("How long do I keep using the steroid eye drops after my cataract operation?",
     ["cataract_surgery_aftercare"], ["4 weeks"]),
    ("How long should I wait between putting in two different eye drops?", ["cataract_surgery_aftercare"],
     ["5 minutes"]),
    ("When can I go swimming again after cataract surgery?", ["cataract_surgery_aftercare"], ["4 weeks"]),
    ("Do I need to wear the eye shield at night, and for how long?", ["cataract_surgery_aftercare"],
     ["first week"]),
    ("When should I get my eyes tested for new glasses after the cataract op?", ["cataract_surgery_aftercare"],
     ["6 weeks"]),
    # child_fever_leaflet
    ("What temperature counts as a fever in a toddler?", ["child_fever_leaflet"], ["38 C"]),
    ("How many times a day can I give my child paracetamol?", ["child_fever_leaflet"], ["4 times"]),
    ("Can she go back to nursery as soon as the fever is gone?", ["child_fever_leaflet"], ["24 hours"]),
    ("My little boy has had a temperature for days - when should a doctor see him?", ["child_fever_leaflet"],
     ["5 days"]),
    ("Can I give ibuprofen to my daughter who has chickenpox?", ["child_fever_leaflet"], ["chickenpox"]),
    # kidney_stone_discharge
    ("How much should I drink each day after a kidney stone?", ["kidney_stone_discharge"], ["3 litres"]),
    ("How long do I take the tamsulosin for?", ["kidney_stone_discharge"], ["4 weeks"]),
    ("How often can I take diclofenac for the stone pain?", ["kidney_stone_discharge"], ["three times a day"]),
    ("When is my follow-up scan for the kidney stone?", ["kidney_stone_discharge"], ["4 weeks"]),
    ("How big a stone will usually pass by itself?", ["kidney_stone_discharge"], ["5 mm"]),
    # nurse_transfusion_observations
    ("How soon after starting a unit of blood do I repeat the obs?", ["nurse_transfusion_observations"],
     ["15 minutes"]),
    ("What's the maximum time a unit of red cells can run for once it's out of the fridge?",
     ["nurse_transfusion_observations"], ["4 hours"]),
    ("How much of a temperature rise means I should stop the transfusion?", ["nurse_transfusion_observations"],
     ["2 C or more", "39 C"]),
    ("How long after a transfusion can a late reaction still happen?", ["nurse_transfusion_observations"],
     ["24 hours"]),
    # insulin_sick_day_rules
    ("I have type 1 and a stomach bug - how often should I check my sugar?", ["insulin_sick_day_rules"],
     ["every 2 hours"]),
    ("At what glucose level should I test for ketones when I'm ill?", ["insulin_sick_day_rules"], ["14 mmol/L"]),
    ("What blood ketone reading means I need to go to A&E?", ["insulin_sick_day_rules"], ["3.0 mmol/L"]),
    ("How much fluid should I drink each hour on a sick day?", ["insulin_sick_day_rules"], ["100 ml"]),
    ("Should I stop my long-acting insulin if I can't eat?", ["insulin_sick_day_rules"],
     ["Keep taking your long-acting insulin", "NEVER STOP INSULIN"]),
]

UNANSWERABLE = [
    "How long should a child with a head injury stay off screens?",
    "Can I take ibuprofen for the headache after a head injury?",
    "How long does a colonoscopy itself take?",
    "What is the brand name of the bowel prep laxative?",
    "What is the dose of rivaroxaban for atrial fibrillation?",
    "Is it safe to drink alcohol while taking apixaban?",
    "What dose of amoxicillin is in the COPD rescue pack?",
    "How often should I use my COPD inhaler every day when I'm well?",
    "What dose of levothyroxine should I start on?",
    "What is a normal free T3 level?",
    "How long after cataract surgery can I fly?",
    "Will I need reading glasses after a lens implant?",
    "What dose of paracetamol should a 2-year-old have?",
    "How long is a child with a fever infectious to others?",
    "How long does it take for a 7 mm kidney stone to pass?",
    "Which foods contain oxalate that I should avoid with kidney stones?",
    "How fast should a unit of platelets be given?",
    "What temperature should a blood fridge be kept at?",
    "How much quick-acting insulin should I add when my ketones are 1.2?",
    "Can I exercise when my ketones are raised?",
    "How long does a steroid course make my blood sugar high?",
    "How long should I avoid lifting after a colonoscopy?",
    "How many units of blood can be given in one day?",
]
