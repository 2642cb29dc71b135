"""Long, chatty questions over the demo's sample documents, as patients and carers type them (written for the
tests before any ranker was run on them). Each names the sample document and a phrase of the passage that
answers it: retrieval is scored on the first chunk that holds the phrase."""

CONSUMER_QUESTIONS = [
    ("Hi, my dad came home from hospital yesterday after his heart failure got worse and the nurse said "
     "something about weighing himself, but we forgot the details. How much weight gain is too much before we "
     "ring someone?", "discharge_heart_failure", "more than 2 kg in 3 days"),
    ("I'm 72 and just had my hip done last week. My grandson wants me at his wedding and it's a long drive. "
     "When am I allowed to get behind the wheel again?", "discharge_hip_replacement", "Do not drive for 6 weeks"),
    ("My wife takes warfarin for her irregular heartbeat and she loves salads and spinach. Her friend told her "
     "to stop eating greens completely. Is that right or is there a better way?", "leaflet_warfarin",
     "green leafy vegetables"),
    ("Sorry if this is a silly question but I've got a bad headache and a cold and I'm not sure how many of the "
     "500 mg paracetamol tablets I can take in a whole day without hurting myself?", "leaflet_paracetamol",
     "more than 8 tablets"),
    ("My son is on insulin and he went all sweaty and shaky at football practice. The coach gave him juice. "
     "What should we actually do when his sugar drops like that, step by step?", "insulin_hypoglycaemia",
     "fast-acting carbohydrate"),
    ("I've been on lithium for years for my bipolar and I keep forgetting why they want my blood so often. "
     "How often am I meant to have the level checked once I'm stable?", "monitoring_lithium", "then every 3"),
    ("My mum is going in for a CT scan with that dye next week and she takes metformin for her diabetes. "
     "Somebody at church said she has to stop it, is that true and for how long?", "leaflet_metformin",
     "48 hours afterwards"),
    ("Hello, I'm 84 and my GP keeps saying my blood pressure is fine at 145 over 85 but my neighbour who is 60 "
     "was told that number is too high. Why would the target be different for me?", "guideline_hypertension",
     "aged 80 and over"),
    ("My asthma has been playing up and I'm using the blue inhaler almost every day now. At what point am I "
     "supposed to get in touch with the asthma nurse about it?", "asthma_action_plan", "more than 3 times a week"),
    ("My uncle was discharged after pneumonia with some antibiotic capsules and a new inhaler, and he has COPD. "
     "How long should he keep taking the antibiotics after leaving hospital?", "discharge_summary_pneumonia",
     "seven days of antibiotics"),
]

# A second batch (written after the first was measured: dense alone ranked all ten first, so they cannot show
# what the lexical side adds): chatty questions that hinge on a named medicine or test, the case a lexical
# ranker exists for. Written before any ranker was run on them.
CONSUMER_QUESTIONS += [
    ("The pharmacist handed my father a box of tiotropium when he left the ward and nobody explained it. "
     "How often is he supposed to use that thing?", "discharge_summary_pneumonia", "Tiotropium inhaler once daily"),
    ("After my operation they sent me home with enoxaparin injections and I really hate needles. "
     "How many days do I have to keep jabbing myself?", "discharge_hip_replacement", "for 28 days"),
    ("My GP mentioned dapagliflozin for my sugar because I also have kidney problems. When do they usually "
     "bring that one in instead of just more metformin?", "guideline_type2_diabetes", "SGLT2 inhibitor"),
    ("We keep a glucagon kit in the kitchen drawer for my daughter but I've never used it and I'm scared I'll "
     "panic. When exactly are we meant to use it?", "insulin_hypoglycaemia", "Give glucagon 1 mg"),
    ("The doctor wants me to wear one of those ABPM monitors for a day and I don't really get why, "
     "the reading in the surgery was already high. What is it for?", "guideline_hypertension", "ambulatory"),
    ("I've been on metformin for ages and my friend said it can make you low in B12. Does anyone actually "
     "check that for me or do I have to ask?", "leaflet_metformin", "B12 level is checked every year"),
    ("My partner was given bisoprolol and ramipril after his heart failure stay and he gets them muddled. "
     "What doses were they again and how many times a day?", "discharge_heart_failure", "Bisoprolol 2.5 mg"),
    ("Honestly I'm confused, the brown beclometasone inhaler, do I use it only when I'm wheezy or "
     "every single day even when I feel totally fine?", "asthma_action_plan", "even when you feel well"),
]
