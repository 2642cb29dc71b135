"""Held-out questions for verified answers (issue 26), over the documents in tests/heldout_docs/.

Written, with those documents, before the abstention method was changed, and committed on their own; nothing
is tuned on them: methods and operating points are fitted on tests/answer_set.py (the demo's sample documents)
and the shared sets, and only reported here. Phrased as patients, carers and nurses ask, in their own words
rather than the documents'.

ANSWERABLE: (question, ids of the documents that answer it, key facts - the answer must contain one of them).
UNANSWERABLE: questions near the documents' topics that no document answers.
"""

ANSWERABLE = [
    # lab_full_blood_count
    ("My haemoglobin came back as 118, I'm a woman - what's the normal range supposed to be?",
     ["lab_full_blood_count"], ["120 to 150 g/L"]),
    ("What's a normal platelet count?", ["lab_full_blood_count"], ["150 to 400"]),
    ("I'm on chemo and my neutrophils are low. If I get a fever, how high does it have to be before I go in?",
     ["lab_full_blood_count"], ["38 C"]),
    ("My platelets are really low at 40. Should I still play rugby?", ["lab_full_blood_count"],
     ["50 x 10^9/L", "avoid contact sports"]),
    ("If my blood count is a bit off but I feel fine, when will they redo it?", ["lab_full_blood_count"],
     ["4 to 6 weeks"]),
    # postop_laparoscopic_appendicectomy
    ("When can I have a shower after my keyhole appendix surgery?", ["postop_laparoscopic_appendicectomy"],
     ["48 hours"]),
    ("How long before I'm allowed to go swimming again after having my appendix out?",
     ["postop_laparoscopic_appendicectomy"], ["2 weeks"]),
    ("How much ibuprofen should I be taking after the appendix operation, and how often?",
     ["postop_laparoscopic_appendicectomy"], ["400 mg"]),
    ("Why does my shoulder hurt after appendix keyhole surgery and when will it stop?",
     ["postop_laparoscopic_appendicectomy"], ["48 hours"]),
    ("I work on a building site - when can I go back after my appendicectomy?",
     ["postop_laparoscopic_appendicectomy"], ["4 weeks"]),
    ("How many days of the co-amoxiclav do I need to finish after my burst appendix?",
     ["postop_laparoscopic_appendicectomy"], ["5 days"]),
    # pregnancy_early_leaflet
    ("How much folic acid should I take now that I'm trying for a baby?", ["pregnancy_early_leaflet"],
     ["400 micrograms"]),
    ("I have epilepsy and I'm pregnant - do I need a higher dose of folic acid?", ["pregnancy_early_leaflet"],
     ["5 mg"]),
    ("Until what point in pregnancy do I keep taking folic acid?", ["pregnancy_early_leaflet"], ["12 weeks"]),
    ("How much coffee is OK when you're expecting?", ["pregnancy_early_leaflet"], ["200 mg", "two mugs"]),
    ("When is the 20-week anomaly scan actually done?", ["pregnancy_early_leaflet"], ["18 and 21 weeks"]),
    ("How much vitamin D should a pregnant woman take each day?", ["pregnancy_early_leaflet"],
     ["10 micrograms"]),
    ("By what stage should I have seen the midwife for booking?", ["pregnancy_early_leaflet"], ["10 weeks"]),
    # vaccination_childhood_schedule
    ("When does my baby get the first set of jabs?", ["vaccination_childhood_schedule"], ["8 weeks"]),
    ("Is there an upper age limit for the first rotavirus vaccine?", ["vaccination_childhood_schedule"],
     ["15 weeks"]),
    ("How much Calpol should I give after the MenB injection?", ["vaccination_childhood_schedule"],
     ["2.5 ml"]),
    ("At what age is the second MMR given?", ["vaccination_childhood_schedule"], ["3 years 4 months"]),
    ("When is the MMR first given to children?", ["vaccination_childhood_schedule"], ["1 year"]),
    # renal_dosing_table
    ("What gabapentin dose for a patient whose creatinine clearance is 40?", ["renal_dosing_table"],
     ["300 mg twice daily"]),
    ("Can I give nitrofurantoin to someone with a CrCl of 20?", ["renal_dosing_table"], ["avoid"]),
    ("What's the treatment dose of enoxaparin when the clearance is under 30?", ["renal_dosing_table"],
     ["1 mg/kg once daily"]),
    ("Apixaban for AF in a patient with a creatinine clearance of 25 - what dose?", ["renal_dosing_table"],
     ["2.5 mg twice daily"]),
    ("How soon should I recheck creatinine after starting gabapentin in an 80-year-old?",
     ["renal_dosing_table"], ["72 hours"]),
    ("Which formula should we use to estimate kidney function for these dose changes?",
     ["renal_dosing_table"], ["Cockcroft-Gault"]),
    # seizure_first_aid
    ("My daughter's fit has gone on for ages - after how long do we give her the midazolam?",
     ["seizure_first_aid"], ["5 minutes"]),
    ("What dose of buccal midazolam do adults get for a long seizure?", ["seizure_first_aid"], ["10 mg"]),
    ("When should we ring an ambulance if the rescue medicine hasn't worked?", ["seizure_first_aid"],
     ["10 minutes"]),
    ("How long might he be groggy and confused after a fit?", ["seizure_first_aid"], ["an hour"]),
    ("I had my first ever seizure - how long am I off the road?", ["seizure_first_aid"], ["6 months"]),
    # gout_flare_plan
    ("What's the most colchicine I can take for one gout attack?", ["gout_flare_plan"], ["6 mg"]),
    ("How long should I wait before another course of colchicine?", ["gout_flare_plan"], ["3 days"]),
    ("What dose is allopurinol started at?", ["gout_flare_plan"], ["100 mg"]),
    ("What uric acid level are we aiming for with allopurinol?", ["gout_flare_plan"], ["300 micromol/L"]),
    ("How much water should I be drinking to keep gout away?", ["gout_flare_plan"], ["2 litres"]),
    ("How long can I keep the ice pack on my swollen toe?", ["gout_flare_plan"], ["20 minutes"]),
    # iron_tablets_leaflet
    ("How long before breakfast should I take my iron tablet?", ["iron_tablets_leaflet"], ["1 hour"]),
    ("How far apart should I take my thyroid tablet and my iron?", ["iron_tablets_leaflet"], ["4 hours"]),
    ("Is it normal that my poo has gone black since starting iron?", ["iron_tablets_leaflet"],
     ["expected and harmless", "Dark or black stools"]),
    ("How long will I need to stay on iron tablets after my blood count is normal?", ["iron_tablets_leaflet"],
     ["3 months"]),
    ("How soon should my haemoglobin go up on ferrous fumarate?", ["iron_tablets_leaflet"], ["4 weeks"]),
    # nurse_sepsis_escalation
    ("What blood pressure counts as a sepsis red flag?", ["nurse_sepsis_escalation"], ["90 mmHg"]),
    ("How fast do antibiotics need to go in after a sepsis red flag?", ["nurse_sepsis_escalation"], ["1 hour"]),
    ("Above what lactate do I call outreach?", ["nurse_sepsis_escalation"], ["4 mmol/L"]),
    ("What size of fluid bolus for a septic patient with low blood pressure?", ["nurse_sepsis_escalation"],
     ["500 ml"]),
    ("What oxygen saturation target for a COPD patient who retains CO2 in sepsis?", ["nurse_sepsis_escalation"],
     ["88 to 92%"]),
    ("How quickly should the doctor come after I escalate a septic patient?", ["nurse_sepsis_escalation"],
     ["30 minutes"]),
]

UNANSWERABLE = [
    ("What is the normal range for my cholesterol?"),
    ("What does a high MCV on a blood count mean?"),
    ("How long does the anaesthetic take to wear off after appendix surgery?"),
    ("Can I drive after my appendix operation?"),
    ("When can I have sex again after keyhole appendix surgery?"),
    ("How much alcohol is safe when breastfeeding?"),
    ("Can I dye my hair while pregnant?"),
    ("How many weeks is the whooping cough vaccine given in pregnancy?"),
    ("When is the HPV vaccine given to teenagers?"),
    ("Does the flu nasal spray for children contain pork gelatine?"),
    ("What is the dose of vancomycin for a patient on dialysis?"),
    ("How should metoclopramide be adjusted in kidney failure?"),
    ("What dose of levetiracetam is used for epilepsy in adults?"),
    ("Can someone with epilepsy take the contraceptive pill?"),
    ("How long after a seizure can a bus driver go back to work?"),
    ("What dose of naproxen is used for a gout flare?"),
    ("Which foods are highest in purines?"),
    ("How much iron is in a portion of spinach?"),
    ("Can I have an iron infusion instead of tablets, and how long does it take?"),
    ("What dose of intravenous iron is given in pregnancy?"),
    ("What antibiotic is used first for sepsis from a urinary infection?"),
    ("How often should observations be done on a stable post-operative patient?"),
    ("What is the sepsis screening tool for children under five?"),
]
