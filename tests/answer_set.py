"""Questions over the packaged sample documents (src/medembed_rag/data/sample_docs), written for this project.

ANSWERABLE: (question, ids of the documents that answer it, key facts - the answer must contain one of them).
UNANSWERABLE: questions near the documents' topics that no document answers.
"""

ANSWERABLE = [
    ("How often should INR be checked when starting warfarin?", ["monitoring_warfarin_inr"], ["2 to 3 days"]),
    ("What INR target range is usual for warfarin?", ["monitoring_warfarin_inr"], ["2.0 to 3.0"]),
    ("How soon after a warfarin dose change should the INR be checked?", ["monitoring_warfarin_inr"], ["3 days"]),
    ("How much weight gain should make a heart failure patient contact the nurse?", ["discharge_heart_failure"],
     ["2 kg"]),
    ("What is the daily fluid limit after discharge for heart failure?", ["discharge_heart_failure"], ["1.5 litres"]),
    ("What dose of furosemide was prescribed at heart failure discharge?", ["discharge_heart_failure"], ["40 mg"]),
    ("What is the starting dose of metformin tablets?", ["leaflet_metformin", "guideline_type2_diabetes"], ["500 mg"]),
    ("What is the maximum daily dose of metformin?", ["leaflet_metformin"], ["2000 mg"]),
    ("How long should metformin be stopped after a scan with contrast dye?", ["leaflet_metformin"], ["48 hours"]),
    ("How many puffs of salbutamol can be taken during an asthma attack?", ["asthma_action_plan"], ["10 puffs"]),
    ("How often can salbutamol be taken when asthma is getting worse?", ["asthma_action_plan"], ["4 hours"]),
    ("Below what peak flow should someone with asthma call 999?", ["asthma_action_plan"], ["50%"]),
    ("What clinic blood pressure leads to ambulatory monitoring for hypertension?", ["guideline_hypertension"],
     ["140/90"]),
    ("What blood pressure target applies to adults aged 80 and over?", ["guideline_hypertension"], ["150/90"]),
    ("How long is enoxaparin given after a hip replacement?", ["discharge_hip_replacement"], ["28 days"]),
    ("For how long should the hip not be bent beyond 90 degrees after hip replacement?",
     "discharge_hip_replacement", ["6 weeks"]),
    ("When are the clips removed after hip replacement surgery?", ["discharge_hip_replacement"], ["10 to 14 days"]),
    ("What is the maximum amount of paracetamol an adult can take in 24 hours?", ["leaflet_paracetamol"],
     ["4 g", "8 tablets"]),
    ("How long should I wait between doses of paracetamol?", ["leaflet_paracetamol"], ["4 hours"]),
    ("What blood glucose level counts as a hypo?", ["insulin_hypoglycaemia"], ["4 mmol/L"]),
    ("How much fast-acting carbohydrate should be taken to treat a hypo?", ["insulin_hypoglycaemia"],
     ["15 to 20 g"]),
    ("When should blood glucose be rechecked after treating a hypo?", ["insulin_hypoglycaemia"], ["15 minutes"]),
    ("What lithium blood level should be aimed for?", ["monitoring_lithium"], ["0.4 to 1.0 mmol/L"]),
    ("How long after the last lithium dose should the blood sample be taken?", ["monitoring_lithium"], ["12 hours"]),
    ("How often should kidney and thyroid function be checked on lithium?", ["monitoring_lithium"], ["6 months"]),
    ("How far apart are the two shingles vaccine doses given?", ["vaccination_older_adults"], ["8 weeks"]),
]

UNANSWERABLE = [
    "What dose of amoxicillin should a child with an ear infection take?",
    "What is the starting dose of levothyroxine for an underactive thyroid?",
    "How often should cholesterol be checked in someone taking a statin?",
    "What is the maximum daily dose of ibuprofen?",
    "At what age should bowel cancer screening start?",
    "How long is a child with chickenpox infectious?",
    "How long should a patient wait before flying after a hip replacement?",
    "What HbA1c target is recommended during pregnancy?",
    "What dose of aspirin is given after a heart attack?",
    "How many hours of sleep does a teenager need?",
    "How often should a pacemaker be checked?",
    "What is the normal dose of vitamin D for adults in winter?",
]
