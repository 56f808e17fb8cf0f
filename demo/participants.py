"""Demo participants at the Isfahan site in different states, made through the services.

Idempotent: a demo participant is recognised by its (fictitious) name and skipped if present.
Dates are relative to the site's today so the demo always shows live statuses
(one participant transplanted ~7 months ago, so M06 is overdue; one ~12 months ago with a
baseline and a month 6 where every outcome form is complete and scored). The transplanted
participants have the procedure's expected adverse events and riluzole, entered through
`safety.services`: one serious event assessed by the investigator and one, this week, not
yet acknowledged (the `make run` worker sends its SAE alert). Their
reminders are already due (M06 overdue, M12 target date), so the
`make run` worker sends them at its first scan: console e-mails and in-app notifications.
"""

from __future__ import annotations

import zlib
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from crfs.alsfrs_r.models import AlsfrsR
from crfs.base import FormRecord
from crfs.eligibility.models import Eligibility
from crfs.eligibility.scoring import Decision
from crfs.emg.models import Emg, finding_label
from crfs.entry import save_form
from crfs.fvc.models import Fvc
from crfs.qol.models import ALSAQ40_FIELDS, Alsaq40, Seiqol
from crfs.screening import services as screening
from crfs.vitals.models import Vitals
from demo.seed import demo_consent_version
from demo.team import demo_password, demo_signature_code
from participants import services as participant_services
from participants.choices import ParticipantStatus
from participants.models import Participant
from reminders import services as reminders
from safety import services as safety
from safety.models import AdverseEvent
from trials.models import Membership, Role, Site, Trial
from visits import services as visit_services
from visits import transplantation
from visits.models import Visit
from visits.schedule import add_months

ALSFRS_SCREENING = {
    "q1_speech": 4,
    "q2_salivation": 4,
    "q3_swallowing": 4,
    "q4_handwriting": 3,
    "q5a_cutting_no_gastrostomy": 3,
    "q6_dressing_hygiene": 3,
    "q7_turning_in_bed": 4,
    "q8_walking": 3,
    "q9_climbing_stairs": 3,
    "q10_dyspnoea": 4,
    "q11_orthopnoea": 4,
    "q12_respiratory_insufficiency": 4,
}
# Screening spirometry (male, 172 cm, born 1968): best 3.52 L, about 86 % predicted.
FVC_SCREENING = {
    "measure": "FVC",
    "position": "sitting",
    "trial_1_litres": Decimal("3.45"),
    "trial_1_acceptable": True,
    "trial_2_litres": Decimal("3.52"),
    "trial_2_acceptable": True,
    "trial_3_litres": Decimal("3.48"),
    "trial_3_acceptable": True,
}
# A complete month-6 visit for one demo participant: every outcome form, with the
# decline since baseline (ALSFRS-R 43 -> 37, FVC 3.52 -> 3.10 L, 2.4 kg lost), needle EMG
# showing active and chronic denervation in three regions, ALSAQ-40 and SEIQoL-DW.
ALSFRS_M06 = ALSFRS_SCREENING | {
    "q1_speech": 3,
    "q4_handwriting": 2,
    "q5a_cutting_no_gastrostomy": 2,
    "q6_dressing_hygiene": 2,
    "q8_walking": 2,
    "q9_climbing_stairs": 2,
}
FVC_M06 = FVC_SCREENING | {
    "trial_1_litres": Decimal("3.02"),
    "trial_2_litres": Decimal("3.10"),
    "trial_3_litres": Decimal("3.05"),
}
VITALS_BASELINE = {
    "weight_kg": Decimal("74.0"),
    "height_cm": Decimal("172.0"),
    "systolic_bp": 124,
    "diastolic_bp": 78,
    "heart_rate": 74,
    "respiratory_rate": 16,
    "temperature_c": Decimal("36.7"),
    "spo2_percent": 97,
}
VITALS_M06 = VITALS_BASELINE | {"weight_kg": Decimal("71.6"), "height_cm": None, "heart_rate": 80}
EMG_M06 = {
    "cmap_median": Decimal("4.10"),
    "cmap_ulnar": Decimal("5.20"),
    "cmap_peroneal": Decimal("2.30"),
    "cmap_tibial": Decimal("6.80"),
}
EMG_ROWS_M06 = [
    # muscle, side, fibrillations (0-4), fasciculations, MUP, recruitment
    ("tongue", "right", 0, "present", "normal", "normal"),
    ("biceps", "right", 2, "present", "neurogenic", "reduced"),
    ("fdi", "right", 3, "present", "neurogenic", "reduced"),
    ("t_paraspinal", "right", 1, "absent", "normal", "normal"),
    ("ta", "left", 2, "present", "neurogenic", "reduced"),
    ("gastrocnemius", "left", 1, "present", "neurogenic", "discrete"),
]
# ALSAQ-40 answers (0 never .. 4 always or cannot do at all): limbs more than speech.
ALSAQ40_M06 = {number: (2 if number <= 20 else 1 if number <= 30 else 2) for number in range(1, 41)}
SEIQOL_M06 = {
    "cue_1_name": "Family",
    "cue_1_level": 85,
    "cue_1_weight": 35,
    "cue_2_name": "Health",
    "cue_2_level": 40,
    "cue_2_weight": 25,
    "cue_3_name": "Faith",
    "cue_3_level": 80,
    "cue_3_weight": 15,
    "cue_4_name": "Work",
    "cue_4_level": 30,
    "cue_4_weight": 15,
    "cue_5_name": "Friends",
    "cue_5_level": 70,
    "cue_5_weight": 10,
}
CHECKLIST = {
    "el_escorial": "probable",
    "progression_6_months": True,
    "polysomnography_result": "normal",
    "ex_pregnancy_lactation": False,
    "ex_vascular_disease": False,
    "ex_diabetes": False,
    "ex_systemic_disease": False,
    "ex_recent_hospitalisation": False,
    "ex_short_survival": False,
    "ex_cell_culture_hypersensitivity": False,
}

TX_DATA = {
    "route": "both",
    "injection_level": "L3-L4",
    "cell_dose": 100_000_000,
    "viability_percent": Decimal("94.5"),
    "volume_ml": Decimal("10.0"),
    "cell_lot": "MSC-DEMO-001",
    "needle_type": "atraumatic",
    "needle_gauge": 25,
    "operator": "Dr. Demo",
    "immediate_complications": "",
}


def _register(actor, site: Site, trial: Trial, name: str, screened_on: date) -> Participant:
    return participant_services.register_participant(
        actor=actor,
        site=site,
        trial=trial,
        screened_on=screened_on,
        identity={
            "full_name": name,
            # A trial refuses a national ID registered twice: one of its own per person.
            "national_id": f"DEMO-{site.code}-{zlib.crc32(name.encode()) % 16**6:06X}",
            "phone": "+98 31 0000 0000",
        },
        demographics={
            "date_of_birth": date(1968, 5, 14),
            "sex": "male",
            "height_cm": Decimal("172.0"),
            "weight_kg": Decimal("70.5"),
            "ethnicity": "iranian",
        },
        als_history={
            "onset_date": date(screened_on.year - 1, 1, 1),
            "onset_precision": "year",
            "onset_region": "upper_limb",
            "diagnosis_date": screened_on - timedelta(days=60),
            "el_escorial": "probable",
            "family_history": "no",
            "riluzole": True,
            "edaravone": False,
        },
    )


def _transplant(actor, participant: Participant, on: date) -> None:
    baseline = participant.visits.get(code="BL")
    visit_services.record_visit_date(actor=actor, visit=baseline, actual_date=on - timedelta(7))
    transplantation.record_transplantation(
        actor=actor,
        participant=participant,
        performed_at=datetime.combine(on, time(9, 30), tzinfo=participant.site.zone),
        data=TX_DATA,
    )


def _save(actor, visit, model, answers: dict, *, children: dict | None = None) -> FormRecord:
    return save_form(
        record_class=model,
        visit=visit,
        user=actor,
        answers=answers,
        expected_version=0,
        complete=True,
        children=children,
    )


def _baseline_outcomes(actor, participant: Participant) -> None:
    baseline = participant.visits.get(code="BL")
    _save(actor, baseline, AlsfrsR, ALSFRS_SCREENING)
    _save(actor, baseline, Fvc, FVC_SCREENING)
    _save(actor, baseline, Vitals, VITALS_BASELINE)


def _complete_m06(actor, participant: Participant) -> None:
    """Month 6 done on its target date, with every outcome form of the visit complete."""
    m06 = participant.visits.get(code="M06")
    assert m06.target_date is not None  # scheduled at the transplantation
    m06 = visit_services.record_visit_date(actor=actor, visit=m06, actual_date=m06.target_date)
    _save(actor, m06, AlsfrsR, ALSFRS_M06)
    _save(actor, m06, Fvc, FVC_M06)
    _save(actor, m06, Vitals, VITALS_M06)
    rows = {
        finding_label(muscle, side): {
            "muscle": muscle,
            "side": side,
            "fibrillations": fibrillations,
            "fasciculations": fasciculations,
            "mup": mup,
            "recruitment": recruitment,
        }
        for muscle, side, fibrillations, fasciculations, mup, recruitment in EMG_ROWS_M06
    }
    _save(actor, m06, Emg, EMG_M06, children=rows)
    _save(actor, m06, Alsaq40, {ALSAQ40_FIELDS[n]: v for n, v in ALSAQ40_M06.items()})
    _save(actor, m06, Seiqol, SEIQOL_M06)


def _screen(
    actor, participant: Participant, *, alsfrs: dict | None = None, spirometry: bool = True
) -> Eligibility:
    """Consent, the screening ALSFRS-R and FVC (unless `spirometry` is False: not done yet)
    and the eligibility checklist."""
    version = demo_consent_version(participant.trial, participant.site.local_today())
    participant_services.record_consent(
        actor=actor,
        participant=participant,
        version=version,
        signed_on=participant.screened_on,
        taken_by=actor,
    )
    scr = participant.visits.get(code="SCR")
    _save(actor, scr, AlsfrsR, ALSFRS_SCREENING | (alsfrs or {}))
    if spirometry:
        _save(actor, scr, Fvc, FVC_SCREENING)
    answers = CHECKLIST | {"polysomnography_date": participant.screened_on}
    checklist = _save(actor, scr, Eligibility, answers)
    assert isinstance(checklist, Eligibility)
    return checklist


def _investigator(site: Site):
    investigator = (
        Membership.objects.active()
        .filter(site=site, role=Role.INVESTIGATOR)
        .select_related("user")
        .first()
    )
    if investigator is None:
        raise RuntimeError("the demo needs an investigator at the site (setup_demo)")
    return investigator.user


def _override(participant: Participant, reason: str) -> None:
    """The site's investigator accepts a participant the checklist does not (signed)."""
    investigator = _investigator(participant.site)
    screening.override_eligibility(
        actor=investigator,
        participant=participant,
        reason=reason,
        password=demo_password(investigator.username),
        token=demo_signature_code(investigator),
    )


# --- adverse events and medication, through safety.services --------------------------------

AE_RECOVERED = {
    "onset_precision": "day",
    "end_precision": "day",
    "ongoing": False,
    "serious": False,
    "related_cells": "not",
    "action": "none",
    "outcome": "recovered",
    "treatment": "",
}


def _report(actor, participant: Participant, visit: Visit, **answers) -> AdverseEvent:
    return safety.save_adverse_event(
        actor=actor,
        participant=participant,
        visit=visit,
        event_id=None,
        answers=AE_RECOVERED | answers,
        expected_version=0,
        complete=True,
    )


def _medication(actor, participant: Participant, visit: Visit, **answers) -> None:
    defaults = {
        "medication": "other",
        "other_name": "",
        "route": "oral",
        "start_precision": "day",
        "stop_date": None,
        "stop_precision": "",
        "ongoing": True,
    }
    safety.save_conmed(
        actor=actor,
        participant=participant,
        visit=visit,
        conmed_id=None,
        answers=defaults | answers,
        expected_version=0,
        complete=True,
    )


def _riluzole(actor, participant: Participant) -> None:
    """Riluzole since before screening (as the ALS history says), recorded at baseline."""
    _medication(
        actor,
        participant,
        participant.visits.get(code="BL"),
        medication="riluzole",
        indication="ALS",
        dose=Decimal("50"),
        dose_unit="mg",
        frequency="bid",
        start_date=(participant.screened_on - timedelta(days=75)).replace(day=1),
        start_precision="month",
    )


def _no_medication_change(actor, visit: Visit) -> None:
    safety.save_visit_review(
        actor=actor,
        visit=visit,
        answers={"no_adverse_events": None, "no_conmed_changes": True},
        expected_version=0,
    )


def _unscheduled(actor, participant: Participant, on: date, reason: str) -> Visit:
    visit = visit_services.add_unscheduled_visit(
        actor=actor, participant=participant, actual_date=on, reason=reason
    )
    visit.participant = participant
    return visit


def _safety_month12(actor, participant: Participant) -> None:
    """The procedure's expected events, a serious meningism (readmitted two days after the
    transplantation) that the investigator has assessed, a fall before month 6; riluzole and
    vitamin D from before screening, paracetamol for the headache and the meningism."""
    _riluzole(actor, participant)
    _medication(
        actor,
        participant,
        participant.visits.get(code="BL"),
        other_name="Vitamin D3",
        indication="Vitamin D deficiency",
        dose=Decimal("1000"),
        dose_unit="iu",
        frequency="qd",
        start_date=date(participant.screened_on.year - 2, 1, 1),
        start_precision="year",
    )
    tx = participant.visits.get(code="TX")
    day0 = tx.actual_date
    assert day0 is not None  # dated by the transplantation
    _report(
        actor,
        participant,
        tx,
        verbatim_term="Pain at the puncture site",
        term_code="injection_site_pain",
        onset_date=day0,
        end_date=day0 + timedelta(days=2),
        grade=1,
        related_procedure="definite",
    )
    _no_medication_change(actor, tx)
    readmitted = _unscheduled(
        actor, participant, day0 + timedelta(days=2), "Readmitted with neck stiffness and fever"
    )
    _report(
        actor,
        participant,
        readmitted,
        verbatim_term="Headache on standing, relieved lying down",
        term_code="post_lp_headache",
        onset_date=day0 + timedelta(days=1),
        end_date=day0 + timedelta(days=5),
        grade=2,
        related_procedure="probable",
        action="medication",
        treatment="Paracetamol, bed rest and oral fluids",
    )
    meningism = _report(
        actor,
        participant,
        readmitted,
        verbatim_term="Neck stiffness, photophobia and fever 38.4 °C; CSF sterile",
        term_code="meningismus",
        onset_date=day0 + timedelta(days=2),
        end_date=day0 + timedelta(days=6),
        grade=3,
        serious=True,
        sae_hospitalisation=True,
        related_procedure="probable",
        related_cells="unlikely",
        action="hospitalisation",
        treatment="Admitted for observation; IV fluids and paracetamol",
    )
    _medication(
        actor,
        participant,
        readmitted,
        other_name="Paracetamol",
        indication="Post-lumbar puncture headache; meningism",
        dose=Decimal("1"),
        dose_unit="g",
        route="iv",
        frequency="qid",
        start_date=day0 + timedelta(days=2),
        stop_date=day0 + timedelta(days=6),
        stop_precision="day",
        ongoing=False,
    )
    investigator = _investigator(participant.site)
    safety.assess_adverse_event(
        actor=investigator,
        event=meningism,
        serious=True,
        related_procedure="probable",
        related_cells="possible",
        comment="Meningism after the intrathecal injection, CSF cultures negative; a reaction "
        "to the cells cannot be excluded.",
        password=demo_password(investigator.username),
        token=demo_signature_code(investigator),
    )
    m06 = participant.visits.get(code="M06")
    fell = day0 + timedelta(days=120)
    _report(
        actor,
        participant,
        m06,
        verbatim_term="Tripped at home (foot drop), bruised left knee",
        term_code="fall",
        onset_date=fell.replace(day=1),
        onset_precision="month",
        end_date=fell.replace(day=1),
        end_precision="month",
        grade=1,
        related_procedure="not",
    )
    _no_medication_change(actor, m06)


def _safety_overdue(actor, participant: Participant) -> None:
    """Back pain after the procedure, and an aspiration pneumonia this week that no
    investigator has acknowledged yet (the AE listing's "unacknowledged SAE" filter)."""
    _riluzole(actor, participant)
    tx = participant.visits.get(code="TX")
    day0 = tx.actual_date
    assert day0 is not None
    _report(
        actor,
        participant,
        tx,
        verbatim_term="Low back pain at the puncture level",
        term_code="back_pain",
        onset_date=day0,
        end_date=day0 + timedelta(days=3),
        grade=1,
        related_procedure="probable",
    )
    _no_medication_change(actor, tx)
    today = participant.site.local_today()
    admitted = _unscheduled(
        actor, participant, today - timedelta(days=3), "Admitted with aspiration pneumonia"
    )
    _report(
        actor,
        participant,
        admitted,
        verbatim_term="Aspiration pneumonia, right lower lobe",
        term_code="lung_infection",
        onset_date=today - timedelta(days=5),
        end_date=None,
        end_precision="",
        ongoing=True,
        grade=3,
        serious=True,
        sae_hospitalisation=True,
        related_procedure="not",
        related_cells="unlikely",
        action="hospitalisation",
        outcome="recovering",
        treatment="IV antibiotics, nil by mouth, swallowing assessment",
    )
    _medication(
        actor,
        participant,
        admitted,
        other_name="Ceftriaxone",
        indication="Aspiration pneumonia",
        dose=Decimal("1"),
        dose_unit="g",
        route="iv",
        frequency="qd",
        start_date=today - timedelta(days=3),
    )


def _safety_withdrawn(actor, participant: Participant) -> None:
    """A post-lumbar-puncture headache on the transplantation day, treated with paracetamol."""
    _riluzole(actor, participant)
    tx = participant.visits.get(code="TX")
    day0 = tx.actual_date
    assert day0 is not None
    _report(
        actor,
        participant,
        tx,
        verbatim_term="Post-lumbar puncture headache",
        term_code="post_lp_headache",
        onset_date=day0,
        end_date=day0 + timedelta(days=3),
        grade=1,
        related_procedure="definite",
        action="medication",
        treatment="Paracetamol 500 mg as needed",
    )
    _medication(
        actor,
        participant,
        tx,
        other_name="Paracetamol",
        indication="Post-lumbar puncture headache",
        dose=Decimal("500"),
        dose_unit="mg",
        frequency="prn",
        start_date=day0,
        stop_date=day0 + timedelta(days=3),
        stop_precision="day",
        ongoing=False,
    )


def _scenarios(today: date):
    """(name, screened_on, steps) — each step a callable(actor, participant)."""
    tx_7m = add_months(today, -7) - timedelta(days=10)
    tx_12m = add_months(today, -12) - timedelta(days=5)
    tx_3m = add_months(today, -3)

    def enrol(days_ago, *, alsfrs=None, override=""):
        def step(a, p):
            record = _screen(a, p, alsfrs=alsfrs)
            if record.decision != Decision.ELIGIBLE:
                _override(p, override)
            participant_services.enrol_participant(
                actor=a, participant=p, enrolled_on=today - timedelta(days_ago)
            )

        return step

    def screened(a, p):
        _screen(a, p, spirometry=False)

    def screen_failed(days_ago):
        def step(a, p):
            _screen(a, p, alsfrs={"q3_swallowing": 2})
            screening.record_screen_failure(
                actor=a, participant=p, effective_date=today - timedelta(days_ago)
            )

        return step

    def transplant(on):
        return lambda a, p: _transplant(a, p, on)

    def exit_(status, days_ago, reason, **details):
        return lambda a, p: participant_services.change_status(
            actor=a,
            participant=p,
            to_status=status,
            effective_date=today - timedelta(days_ago),
            reason=reason,
            details=details,
        )

    return [
        # Consented and screened: the checklist waits for the spirometry (FVC).
        ("Demo Screening Ahmadi", today - timedelta(5), [screened]),
        # Swallowing (ALSFRS-R item 3) 2 < 3: a screen failure naming that criterion.
        ("Demo ScreenFail Karimi", today - timedelta(40), [screen_failed(30)]),
        # Walking (item 8) 1 < 2 from an ankle fracture: enrolled on the investigator's override.
        (
            "Demo Enrolled Rahimi",
            today - timedelta(30),
            [
                enrol(
                    20,
                    alsfrs={"q8_walking": 1},
                    override="Walking limited by a recent ankle fracture, not by ALS (demo)",
                )
            ],
        ),
        (
            "Demo Overdue Hosseini",
            tx_7m - timedelta(40),
            [enrol((today - tx_7m).days + 30), transplant(tx_7m), _safety_overdue],
        ),
        (
            "Demo Month12 Moradi",
            tx_12m - timedelta(40),
            # Baseline and a complete month 6: every outcome form, scores to look at.
            [
                enrol((today - tx_12m).days + 30),
                transplant(tx_12m),
                _baseline_outcomes,
                _complete_m06,
                _safety_month12,
            ],
        ),
        (
            "Demo Withdrawn Jafari",
            tx_3m - timedelta(40),
            [
                enrol((today - tx_3m).days + 30),
                transplant(tx_3m),
                _safety_withdrawn,
                exit_(
                    ParticipantStatus.WITHDRAWN,
                    10,
                    "Moved abroad",
                    withdrawn_by="participant",
                    follow_up_allowed=False,
                ),
            ],
        ),
    ]


def load_demo_participants(*, actor, site: Site, trial: Trial) -> list[Participant]:
    made = []
    existing = set(
        Participant.objects.filter(site=site).values_list("identity__full_name", flat=True)
    )
    for name, screened_on, steps in _scenarios(site.local_today()):
        if name in existing:
            continue
        participant = _register(actor, site, trial, name, screened_on)
        for step in steps:
            participant.refresh_from_db()
            step(actor, participant)
        made.append(participant)
    # Demo data made before reminders existed gets its reminders too (idempotent).
    reminders.sync_all(participants=Participant.objects.filter(site=site).order_by("pk"))
    return made
