"""The terms an adverse event is coded with: the procedure's expected events first, then a
curated subset of CTCAE v5.0 terms with their system organ class.

Source: National Cancer Institute, Common Terminology Criteria for Adverse Events (CTCAE)
version 5.0, 27 November 2017 (U.S. Department of Health and Human Services; public domain),
https://ctep.cancer.gov/protocoldevelopment/electronic_applications/ctc.htm. Each CTCAE
term below is spelled as in that list, under the MedDRA system organ class the list files it
in. It is a subset chosen for a neurological cell-therapy trial (what a lumbar puncture,
bone-marrow harvest, intrathecal cells and advanced ALS bring); MedDRA codes are left out
because this file is typed, not generated from the licensed MedDRA files. A term the list
lacks is coded "other" with the verbatim term, as CTCAE's own "Other, specify" rows do.

Stored codes are stable: never change or reuse one; add new terms with new codes.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

# System organ classes (MedDRA SOC names as CTCAE v5.0 prints them).
BLOOD = "Blood and lymphatic system disorders"
CARDIAC = "Cardiac disorders"
GASTRO = "Gastrointestinal disorders"
GENERAL = "General disorders and administration site conditions"
IMMUNE = "Immune system disorders"
INFECTIONS = "Infections and infestations"
INJURY = "Injury, poisoning and procedural complications"
INVESTIGATIONS = "Investigations"
METABOLISM = "Metabolism and nutrition disorders"
MUSCULOSKELETAL = "Musculoskeletal and connective tissue disorders"
NERVOUS = "Nervous system disorders"
PSYCHIATRIC = "Psychiatric disorders"
RENAL = "Renal and urinary disorders"
RESPIRATORY = "Respiratory, thoracic and mediastinal disorders"
SKIN = "Skin and subcutaneous tissue disorders"
VASCULAR = "Vascular disorders"


@dataclass(frozen=True)
class Term:
    code: str
    term: str
    soc: str
    # True for the events the intrathecal/intraspinal injection is expected to cause.
    procedure: bool = False

    @property
    def label(self) -> str:
        return self.term


# The procedure-specific events of CLINICAL.md (Safety), offered first. Each is a CTCAE term
# (or, for the post-lumbar-puncture headache, the CTCAE "Headache" row named for the event
# the procedure causes) so listings by CTCAE term and by procedure event agree.
PROCEDURE_TERMS: tuple[Term, ...] = (
    Term("post_lp_headache", "Headache (post-lumbar puncture)", NERVOUS, True),
    Term("fever", "Fever", GENERAL, True),
    Term("back_pain", "Back pain", MUSCULOSKELETAL, True),
    Term("neck_pain", "Neck pain", MUSCULOSKELETAL, True),
    Term("injection_site_pain", "Injection site reaction (puncture-site pain)", GENERAL, True),
    Term("nausea", "Nausea", GASTRO, True),
    Term("vomiting", "Vomiting", GASTRO, True),
    Term("meningismus", "Meningismus", NERVOUS, True),
    Term("meningitis", "Meningitis", INFECTIONS, True),
    Term("wound_infection", "Wound infection (puncture site)", INFECTIONS, True),
    Term("radiculitis", "Radiculitis (radicular pain)", NERVOUS, True),
    Term("csf_leakage", "Cerebrospinal fluid leakage", NERVOUS, True),
)

CTCAE_TERMS: tuple[Term, ...] = (
    Term("anemia", "Anemia", BLOOD),
    Term("leukocytosis", "Leukocytosis", BLOOD),
    Term("atrial_fibrillation", "Atrial fibrillation", CARDIAC),
    Term("cardiac_arrest", "Cardiac arrest", CARDIAC),
    Term("chest_pain_cardiac", "Chest pain - cardiac", CARDIAC),
    Term("palpitations", "Palpitations", CARDIAC),
    Term("sinus_tachycardia", "Sinus tachycardia", CARDIAC),
    Term("sinus_bradycardia", "Sinus bradycardia", CARDIAC),
    Term("abdominal_pain", "Abdominal pain", GASTRO),
    Term("constipation", "Constipation", GASTRO),
    Term("diarrhea", "Diarrhea", GASTRO),
    Term("dry_mouth", "Dry mouth", GASTRO),
    Term("dysphagia", "Dysphagia", GASTRO),
    Term("dyspepsia", "Dyspepsia", GASTRO),
    Term("salivary_duct_inflammation", "Salivary duct inflammation", GASTRO),
    Term("chills", "Chills", GENERAL),
    Term("death_nos", "Death NOS", GENERAL),
    Term("edema_limbs", "Edema limbs", GENERAL),
    Term("fatigue", "Fatigue", GENERAL),
    Term("flu_like_symptoms", "Flu like symptoms", GENERAL),
    Term("gait_disturbance", "Gait disturbance", GENERAL),
    Term("injection_site_reaction", "Injection site reaction", GENERAL),
    Term("malaise", "Malaise", GENERAL),
    Term("non_cardiac_chest_pain", "Non-cardiac chest pain", GENERAL),
    Term("pain", "Pain", GENERAL),
    Term("sudden_death_nos", "Sudden death NOS", GENERAL),
    Term("allergic_reaction", "Allergic reaction", IMMUNE),
    Term("anaphylaxis", "Anaphylaxis", IMMUNE),
    Term("bronchial_infection", "Bronchial infection", INFECTIONS),
    Term("encephalitis_infection", "Encephalitis infection", INFECTIONS),
    Term("lung_infection", "Lung infection", INFECTIONS),
    Term("sepsis", "Sepsis", INFECTIONS),
    Term("skin_infection", "Skin infection", INFECTIONS),
    Term("upper_respiratory_infection", "Upper respiratory infection", INFECTIONS),
    Term("urinary_tract_infection", "Urinary tract infection", INFECTIONS),
    Term("bruising", "Bruising", INJURY),
    Term("fall", "Fall", INJURY),
    Term("fracture", "Fracture", INJURY),
    Term("postoperative_hemorrhage", "Postoperative hemorrhage", INJURY),
    Term("spinal_fracture", "Spinal fracture", INJURY),
    Term("alt_increased", "Alanine aminotransferase increased", INVESTIGATIONS),
    Term("ast_increased", "Aspartate aminotransferase increased", INVESTIGATIONS),
    Term("cpk_increased", "CPK increased", INVESTIGATIONS),
    Term("creatinine_increased", "Creatinine increased", INVESTIGATIONS),
    Term("neutrophil_count_decreased", "Neutrophil count decreased", INVESTIGATIONS),
    Term("platelet_count_decreased", "Platelet count decreased", INVESTIGATIONS),
    Term("weight_loss", "Weight loss", INVESTIGATIONS),
    Term("white_blood_cell_decreased", "White blood cell decreased", INVESTIGATIONS),
    Term("anorexia", "Anorexia", METABOLISM),
    Term("dehydration", "Dehydration", METABOLISM),
    Term("hyperglycemia", "Hyperglycemia", METABOLISM),
    Term("hyponatremia", "Hyponatremia", METABOLISM),
    Term("arthralgia", "Arthralgia", MUSCULOSKELETAL),
    Term("muscle_cramp", "Muscle cramp", MUSCULOSKELETAL),
    Term("generalized_muscle_weakness", "Generalized muscle weakness", MUSCULOSKELETAL),
    Term("myalgia", "Myalgia", MUSCULOSKELETAL),
    Term("pain_in_extremity", "Pain in extremity", MUSCULOSKELETAL),
    Term("arachnoiditis", "Arachnoiditis", NERVOUS),
    Term("dizziness", "Dizziness", NERVOUS),
    Term("dysarthria", "Dysarthria", NERVOUS),
    Term("encephalopathy", "Encephalopathy", NERVOUS),
    Term("headache", "Headache", NERVOUS),
    Term("intracranial_hemorrhage", "Intracranial hemorrhage", NERVOUS),
    Term("paresthesia", "Paresthesia", NERVOUS),
    Term("peripheral_motor_neuropathy", "Peripheral motor neuropathy", NERVOUS),
    Term("peripheral_sensory_neuropathy", "Peripheral sensory neuropathy", NERVOUS),
    Term("seizure", "Seizure", NERVOUS),
    Term("somnolence", "Somnolence", NERVOUS),
    Term("spinal_cord_compression", "Spinal cord compression", NERVOUS),
    Term("stroke", "Stroke", NERVOUS),
    Term("syncope", "Syncope", NERVOUS),
    Term("anxiety", "Anxiety", PSYCHIATRIC),
    Term("confusion", "Confusion", PSYCHIATRIC),
    Term("depression", "Depression", PSYCHIATRIC),
    Term("insomnia", "Insomnia", PSYCHIATRIC),
    Term("suicidal_ideation", "Suicidal ideation", PSYCHIATRIC),
    Term("urinary_retention", "Urinary retention", RENAL),
    Term("urinary_incontinence", "Urinary incontinence", RENAL),
    Term("acute_kidney_injury", "Acute kidney injury", RENAL),
    Term("aspiration", "Aspiration", RESPIRATORY),
    Term("atelectasis", "Atelectasis", RESPIRATORY),
    Term("cough", "Cough", RESPIRATORY),
    Term("dyspnea", "Dyspnea", RESPIRATORY),
    Term("hypoxia", "Hypoxia", RESPIRATORY),
    Term("pneumonitis", "Pneumonitis", RESPIRATORY),
    Term("pulmonary_embolism", "Pulmonary embolism", RESPIRATORY),
    Term("respiratory_failure", "Respiratory failure", RESPIRATORY),
    Term("sleep_apnea", "Sleep apnea", RESPIRATORY),
    Term("alopecia", "Alopecia", SKIN),
    Term("pruritus", "Pruritus", SKIN),
    Term("rash_maculo_papular", "Rash maculo-papular", SKIN),
    Term("skin_ulceration", "Skin ulceration", SKIN),
    Term("urticaria", "Urticaria", SKIN),
    Term("hematoma", "Hematoma", VASCULAR),
    Term("hypertension", "Hypertension", VASCULAR),
    Term("hypotension", "Hypotension", VASCULAR),
    Term("thromboembolic_event", "Thromboembolic event", VASCULAR),
)

# CTCAE's "Other, specify": the verbatim term says what it was.
OTHER = Term("other", "Other, specify (see the verbatim term)", GENERAL)

TERMS: tuple[Term, ...] = (*PROCEDURE_TERMS, *CTCAE_TERMS, OTHER)
BY_CODE: dict[str, Term] = {t.code: t for t in TERMS}
assert len(BY_CODE) == len(TERMS), "duplicate term codes"


def term_choices() -> list[tuple[object, list[tuple[str, str]]]]:
    """Grouped choices for a select: the procedure's events first, then CTCAE by SOC."""
    groups: dict[object, list[tuple[str, str]]] = {}
    for term in sorted(CTCAE_TERMS, key=lambda t: (t.soc, t.term)):
        groups.setdefault(term.soc, []).append((term.code, term.term))
    return [
        (_("Procedure-specific events"), [(t.code, t.term) for t in PROCEDURE_TERMS]),
        *groups.items(),
        (_("Other"), [(OTHER.code, OTHER.term)]),
    ]


def label(code: str | None) -> str:
    term = BY_CODE.get(code or "")
    return term.term if term else (code or "")


def soc(code: str | None) -> str:
    term = BY_CODE.get(code or "")
    return term.soc if term else ""
