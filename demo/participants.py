"""Demo participants at the Isfahan site in different states, made through the services.

Idempotent: a demo participant is recognised by its (fictitious) name and skipped if present.
Dates are relative to the site's today so the demo always shows live statuses
(one participant transplanted ~7 months ago, so M06 is overdue; one ~12 months ago with a
baseline and a month 6 where every outcome form is complete and scored). The transplanted
participants' reminders are already due (M06 overdue, M12 target date), so the
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
from demo.team import demo_password
from participants import services as participant_services
from participants.choices import ParticipantStatus
from participants.models import Participant
from reminders import services as reminders
from trials.models import Membership, Role, Site, Trial
from visits import services as visit_services
from visits import transplantation
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


def _override(participant: Participant, reason: str) -> None:
    """The site's investigator accepts a participant the checklist does not (signed)."""
    investigator = (
        Membership.objects.active()
        .filter(site=participant.site, role=Role.INVESTIGATOR)
        .select_related("user")
        .first()
    )
    if investigator is None:
        raise RuntimeError("the demo needs an investigator at the site (setup_demo)")
    screening.override_eligibility(
        actor=investigator.user,
        participant=participant,
        reason=reason,
        password=demo_password(investigator.user.username),
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
            [enrol((today - tx_7m).days + 30), transplant(tx_7m)],
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
            ],
        ),
        (
            "Demo Withdrawn Jafari",
            tx_3m - timedelta(40),
            [
                enrol((today - tx_3m).days + 30),
                transplant(tx_3m),
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
