"""Built-in medical calibration text for int8 quantisation.

Written for this package (no patient data, no copied corpus). Sentences are joined into samples of
very different lengths, so the activation ranges NNCF measures cover short queries and 512-token passages.
"""

from __future__ import annotations

import random

MEDICAL_SENTENCES: tuple[str, ...] = (
    "What are the early signs of type 2 diabetes?",
    "How is community-acquired pneumonia treated in adults?",
    "Can metformin cause vitamin B12 deficiency?",
    "What is the first-line treatment for uncomplicated hypertension?",
    "Is it safe to take ibuprofen during pregnancy?",
    "How long should anticoagulation continue after a provoked deep vein thrombosis?",
    "What does an elevated troponin mean after chest pain?",
    "Which vaccines are recommended for adults over 65?",
    "The patient is a 67-year-old man with a history of COPD who presents with worsening dyspnoea.",
    "HISTORY OF PRESENT ILLNESS: Three days of productive cough, fever to 38.9 C and pleuritic chest pain.",
    "Chest radiograph shows a right lower lobe consolidation without effusion.",
    "He was started on ceftriaxone 1 g i.v. q.d. and azithromycin 500 mg p.o. daily.",
    "ASSESSMENT AND PLAN: Community-acquired pneumonia, CURB-65 score of 2; admit to the ward.",
    "MEDICATIONS: lisinopril 10 mg daily, atorvastatin 40 mg nightly, metformin 1000 mg b.i.d.",
    "Allergies: penicillin (rash), no known food allergies.",
    "Laboratory results: sodium 134 mmol/L, potassium 4.1 mmol/L, creatinine 1.3 mg/dL, WBC 14.2 x 10^9/L.",
    "Arterial blood gas on room air: pH 7.32, pCO2 52 mmHg, pO2 61 mmHg, bicarbonate 27 mmol/L.",
    "The discharge plan includes pulmonary rehabilitation and follow-up with the GP in two weeks.",
    "Warfarin interacts with many antibiotics and can raise the INR within days.",
    "Take this medicine with food to reduce stomach upset; do not crush or chew the tablets.",
    "Common side effects include nausea, headache, dizziness and a metallic taste.",
    "Seek medical help at once if you notice swelling of the face, lips or tongue.",
    "Do not use this medicine if you have severe kidney disease (eGFR below 30 mL/min/1.73 m2).",
    "Store below 25 C in the original package to protect from light and moisture.",
    "Methods: We enrolled 412 adults with moderate asthma in a randomised, double-blind trial.",
    "Results: The primary endpoint, annual exacerbation rate, fell by 34% (95% CI 21-45%, p < 0.001).",
    "Conclusions: Add-on therapy reduced exacerbations without an increase in serious adverse events.",
    "Background: Sepsis remains a leading cause of death in intensive care units worldwide.",
    "Patients with eGFR below 45 required dose adjustment of the study drug.",
    "The sensitivity of the rapid antigen test was 82% against PCR in symptomatic patients.",
    "Recommendation 3: Offer a statin to adults with a 10-year cardiovascular risk of 10% or more.",
    "In children, amoxicillin remains first-line for acute otitis media when antibiotics are indicated.",
    "Screen pregnant women for gestational diabetes between 24 and 28 weeks of gestation.",
    "A HbA1c of 48 mmol/mol (6.5%) or higher on two occasions confirms the diagnosis of diabetes.",
    "Iron-deficiency anaemia presents with fatigue, pallor and a low mean corpuscular volume.",
    "Migraine with aura is a relative contraindication to combined oral contraceptives.",
    "Acute kidney injury is defined by a rise in serum creatinine of 0.3 mg/dL within 48 hours.",
    "Heart failure with reduced ejection fraction benefits from an SGLT2 inhibitor, e.g. dapagliflozin.",
    "The MRI showed a 2.5 cm enhancing lesion in the left frontal lobe with surrounding oedema.",
    "Dr. Patel reviewed the case vs. the previous imaging and recommended a biopsy.",
    "Symptoms of hypoglycaemia include sweating, tremor, confusion and palpitations.",
    "Lumbar puncture revealed an opening pressure of 28 cm H2O and a lymphocytic pleocytosis.",
    "Start levothyroxine at approx. 1.6 micrograms per kg per day in young adults without heart disease.",
    "Atrial fibrillation increases the risk of stroke roughly five-fold.",
    "Post-operative day 2: afebrile, wound clean and dry, tolerating a soft diet.",
    "Physical examination: BP 148/92 mmHg, HR 104 bpm, RR 22/min, SpO2 91% on room air.",
    "The child had a barking cough and inspiratory stridor consistent with croup.",
    "Gout flares can be treated with colchicine, an NSAID or a short course of prednisolone.",
    "Osteoporosis is diagnosed when the bone mineral density T-score is -2.5 or lower.",
    "Celiac disease is confirmed by duodenal biopsy while the patient still eats gluten.",
    "Hepatitis B surface antigen positivity for more than six months defines chronic infection.",
    "Smoking cessation is the single most effective intervention to slow COPD progression.",
    "The tumour was staged as T2 N1 M0 after contrast-enhanced CT of the chest and abdomen.",
    "Adverse reactions were graded using the Common Terminology Criteria for Adverse Events.",
    "Parkinson's disease causes resting tremor, rigidity, bradykinesia and postural instability.",
    "Fluid resuscitation with 30 mL/kg of crystalloid is advised within the first three hours of sepsis.",
    "1. Check blood glucose. 2. Give 15 g of fast-acting carbohydrate. 3. Recheck after 15 minutes.",
    "Rheumatoid arthritis typically affects the small joints of the hands symmetrically.",
    "The patient denies fever, chills, night sweats or weight loss.",
    "Social history: retired teacher, lives alone, former smoker (30 pack-years), drinks rarely.",
    "Family history is notable for early coronary artery disease in the father.",
    "Follow-up colonoscopy is recommended in three years after removal of an advanced adenoma.",
    "Urinary tract infections in men warrant a longer course of antibiotics than in women.",
    "Zoster vaccination reduces the risk of shingles and post-herpetic neuralgia.",
)


def calibration_samples(n: int = 128, seed: int = 7) -> list[str]:
    """Returns ``n`` texts of mixed length (one sentence up to the 512-token limit) for calibration."""
    rng = random.Random(seed)
    samples = []
    for i in range(n):
        k = 1 + (i * 7) % 36  # 1 .. 36 sentences
        samples.append(" ".join(rng.sample(MEDICAL_SENTENCES, min(k, len(MEDICAL_SENTENCES)))))
    return samples
