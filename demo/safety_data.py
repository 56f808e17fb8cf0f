"""Synthetic adverse events, concomitant medication and visit safety reviews for `seed_demo`.

`draw_safety` is pure (a `random.Random` and dates in, a `SafetyPlan` out); `write_safety`
inserts the plan in a few bulk statements. Bulk, not `safety.services`, because the services
do what synthetic data must not: a serious event raises an SAE alert (e-mails to the site's
investigators and the sponsor, escalated after 24 hours), and an assessment checks the
investigator's password (a deliberately slow hash). Every row is what those services would
store for the same answers: the answers pass their rules (dates in order, not after the
visit they are reported at, not before consent, serious ⇒ a criterion, no grade 5), and the
record fields (status, version, completion, AE numbers, the SAE report time, who entered it)
are those of a first complete save; tests/demo re-saves seeded rows through the services to
hold the two together. The inserts run inside `audit_context` with the entering user, as
`save_form` does, so the audit trail has an insert event for each row.

The rates are plausible for intrathecal/intravenous cell therapy after a lumbar puncture in
ALS, not taken from one trial:
- after the transplantation: post-lumbar-puncture headache about a third of the people
  (onset mostly on days 1-2), back or puncture-site pain about 30 %, fever about 10 %, nausea,
  radicular pain, rarely meningism, meningitis or a puncture-site infection; grade 1-2 with a
  few grade 3 (an epidural blood patch, a hospital stay); reported at the transplantation
  visit when they began that day, else at the first follow-up with a date;
- at each follow-up, since the visit before: events of advancing ALS, not of the procedure
  (falls, respiratory infections, aspiration pneumonia, dysphagia, weight loss, cramps,
  constipation, sialorrhoea, low mood), some with a month-only onset, the chronic ones ongoing;
- a few of all events are serious (hospitalisation), most of them assessed by an investigator
  within days, the rest left unacknowledged; none is fatal;
- riluzole for those whose ALS history says so (about 80 %), started before screening;
  edaravone for some (intravenous or oral, in cycles); a few other medications at baseline;
  the drug given for an event (paracetamol, an antibiotic …) where the event says so;
- every dated visit that asks about events or medication and has none recorded says so
  explicitly in its safety review (a few follow-ups left unanswered).
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import TypeVar

from django.utils import timezone

from crfs.base import FormStatus
from participants.partial_dates import PartialDate
from safety.choices import Action, Medication, Outcome
from safety.models import (
    AdverseEvent,
    AdverseEventAssessment,
    ConcomitantMedication,
    VisitSafetyReview,
)
from trials.history import audit_context
from visits.models import Visit

FOLLOW_UPS = ("M06", "M12", "M18", "M24")
K = TypeVar("K")


@dataclass(frozen=True)
class Drug:
    """A medication as the con-med form records it (`medication` other: `other_name`)."""

    name: str
    dose: str
    unit: str
    route: str
    frequency: str
    medication: str = Medication.OTHER


@dataclass(frozen=True)
class Treatment:
    text: str
    action: str
    drug: Drug | None = None


@dataclass(frozen=True)
class EventKind:
    """How one coded event looks when it happens."""

    term_code: str
    verbatims: tuple[str, ...]
    grades: tuple[float, float, float]  # weights of grades 1, 2, 3
    days: tuple[int, int]  # duration range
    related_procedure: Mapping[str, float]
    related_cells: Mapping[str, float]
    treatments: tuple[tuple[Treatment, float], ...]
    # Share of grade-3 events that are serious (hospitalisation).
    serious_if_grade3: float = 0.0
    # What a serious one's treatment says when the drawn treatment is not a hospital stay.
    admitted: str = "Admitted for observation and analgesia"
    chronic: float = 0.0  # share still ongoing at the report
    onset_days: Mapping[int, float] = field(default_factory=dict)  # procedure events only


PARACETAMOL = Drug("Paracetamol", "500", "mg", "oral", "prn")
NONE = Treatment("", Action.NONE)
REST = Treatment("Bed rest and oral fluids", Action.NON_DRUG)
PROCEDURE_RELATED = {"probable": 5, "definite": 3, "possible": 2}
CELLS_NOT = {"not": 6, "unlikely": 4}
HOSPITAL = Treatment("Admitted for observation and analgesia", Action.HOSPITALISATION)

# (kind, probability per transplanted person)
PROCEDURE_EVENTS: tuple[tuple[EventKind, float], ...] = (
    (
        EventKind(
            "post_lp_headache",
            (
                "Headache on standing, relieved lying down",
                "Post-lumbar puncture headache",
                "Positional headache after the injection",
                "Frontal headache, worse when upright",
            ),
            grades=(55, 40, 5),
            days=(1, 9),
            related_procedure={"probable": 5, "definite": 4, "possible": 1},
            related_cells=CELLS_NOT,
            treatments=(
                (
                    Treatment(
                        "Paracetamol 500 mg as needed, oral fluids", Action.MEDICATION, PARACETAMOL
                    ),
                    6,
                ),
                (REST, 3),
                (NONE, 1),
            ),
            serious_if_grade3=0.7,
            onset_days={0: 1, 1: 5, 2: 3, 3: 1},
        ),
        0.36,
    ),
    (
        EventKind(
            "back_pain",
            (
                "Low back pain at the puncture level",
                "Lumbar back pain",
                "Back pain after the procedure",
            ),
            grades=(70, 30, 0),
            days=(1, 10),
            related_procedure=PROCEDURE_RELATED,
            related_cells=CELLS_NOT,
            treatments=(
                (Treatment("Paracetamol 500 mg as needed", Action.MEDICATION, PARACETAMOL), 5),
                (NONE, 5),
            ),
            onset_days={0: 4, 1: 3, 2: 1},
        ),
        0.18,
    ),
    (
        EventKind(
            "injection_site_pain",
            (
                "Pain at the puncture site",
                "Tender puncture site",
                "Soreness where the needle went in",
            ),
            grades=(85, 15, 0),
            days=(1, 5),
            related_procedure={"definite": 6, "probable": 4},
            related_cells=CELLS_NOT,
            treatments=((NONE, 7), (Treatment("Cold pack", Action.NON_DRUG), 3)),
            onset_days={0: 6, 1: 2},
        ),
        0.14,
    ),
    (
        EventKind(
            "fever",
            ("Fever 38.2 °C", "Fever the evening after the injection", "Raised temperature"),
            grades=(75, 25, 0),
            days=(1, 3),
            related_procedure={"possible": 6, "unlikely": 2, "probable": 2},
            related_cells={"possible": 5, "probable": 2, "unlikely": 3},
            treatments=(
                (Treatment("Paracetamol 500 mg as needed", Action.MEDICATION, PARACETAMOL), 7),
                (NONE, 3),
            ),
            onset_days={0: 3, 1: 5, 2: 2},
        ),
        0.10,
    ),
    (
        EventKind(
            "nausea",
            ("Nausea", "Nausea after the procedure"),
            grades=(70, 30, 0),
            days=(1, 3),
            related_procedure=PROCEDURE_RELATED,
            related_cells=CELLS_NOT,
            treatments=(
                (
                    Treatment(
                        "Ondansetron 4 mg",
                        Action.MEDICATION,
                        Drug("Ondansetron", "4", "mg", "oral", "prn"),
                    ),
                    5,
                ),
                (NONE, 5),
            ),
            onset_days={0: 4, 1: 3, 2: 1},
        ),
        0.08,
    ),
    (
        EventKind(
            "vomiting",
            ("Vomiting", "Vomited twice the day after the injection"),
            grades=(70, 30, 0),
            days=(1, 2),
            related_procedure=PROCEDURE_RELATED,
            related_cells=CELLS_NOT,
            treatments=((NONE, 1),),
            onset_days={0: 3, 1: 3},
        ),
        0.03,
    ),
    (
        EventKind(
            "radiculitis",
            ("Shooting pain down the left leg", "Radicular pain, right L4 dermatome"),
            grades=(60, 40, 0),
            days=(3, 30),
            related_procedure={"probable": 5, "possible": 5},
            related_cells=CELLS_NOT,
            treatments=(
                (
                    Treatment(
                        "Pregabalin 75 mg twice a day",
                        Action.MEDICATION,
                        Drug("Pregabalin", "75", "mg", "oral", "bid"),
                    ),
                    5,
                ),
                (NONE, 5),
            ),
            onset_days={0: 3, 1: 3, 2: 2, 3: 1},
        ),
        0.05,
    ),
    (
        EventKind(
            "neck_pain",
            ("Neck pain and stiffness",),
            grades=(80, 20, 0),
            days=(1, 6),
            related_procedure={"possible": 7, "probable": 3},
            related_cells=CELLS_NOT,
            treatments=((NONE, 1),),
            onset_days={1: 2, 2: 1},
        ),
        0.04,
    ),
    (
        EventKind(
            "csf_leakage",
            ("CSF leak at the puncture site",),
            grades=(60, 40, 0),
            days=(2, 7),
            related_procedure={"definite": 1},
            related_cells={"not": 1},
            treatments=((REST, 1),),
            onset_days={0: 1, 1: 1},
        ),
        0.01,
    ),
    (
        EventKind(
            "meningismus",
            ("Neck stiffness and photophobia", "Meningism, CSF sterile"),
            grades=(0, 55, 45),
            days=(2, 6),
            related_procedure={"probable": 5, "possible": 5},
            related_cells={"possible": 6, "unlikely": 4},
            treatments=((HOSPITAL, 6), (REST, 4)),
            serious_if_grade3=0.8,
            onset_days={1: 3, 2: 2, 3: 1},
        ),
        0.015,
    ),
    (
        EventKind(
            "meningitis",
            ("Aseptic meningitis", "Meningitis, cultures negative"),
            grades=(0, 0, 1),
            days=(5, 14),
            related_procedure={"probable": 6, "possible": 4},
            related_cells={"possible": 7, "unlikely": 3},
            treatments=(
                (
                    Treatment(
                        "IV ceftriaxone until CSF cultures came back negative",
                        Action.HOSPITALISATION,
                        Drug("Ceftriaxone", "2", "g", "iv", "bid"),
                    ),
                    1,
                ),
            ),
            serious_if_grade3=1.0,
            onset_days={1: 1, 2: 2, 3: 1},
        ),
        0.004,
    ),
    (
        EventKind(
            "wound_infection",
            ("Redness and discharge at the puncture site",),
            grades=(30, 70, 0),
            days=(5, 12),
            related_procedure={"probable": 7, "definite": 3},
            related_cells={"not": 1},
            treatments=(
                (
                    Treatment(
                        "Cefalexin 500 mg four times a day for 7 days",
                        Action.MEDICATION,
                        Drug("Cefalexin", "500", "mg", "oral", "qid"),
                    ),
                    1,
                ),
            ),
            onset_days={2: 1, 3: 1},
        ),
        0.005,
    ),
)

NOT_PROCEDURE = {"not": 9, "unlikely": 1}
NOT_CELLS = {"not": 10, "unlikely": 9, "possible": 1}
ANTIBIOTIC = Drug("Amoxicillin", "500", "mg", "oral", "tid")

# (kind, probability per dated follow-up visit): events of advancing ALS.
FOLLOW_UP_EVENTS: tuple[tuple[EventKind, float], ...] = (
    (
        EventKind(
            "fall",
            (
                "Fall at home, bruised knee",
                "Tripped on the stairs (foot drop)",
                "Fell when standing up",
            ),
            grades=(70, 30, 0),
            days=(1, 14),
            related_procedure=NOT_PROCEDURE,
            related_cells=NOT_CELLS,
            treatments=((NONE, 6), (Treatment("Physiotherapy, walking frame", Action.NON_DRUG), 4)),
        ),
        0.09,
    ),
    (
        EventKind(
            "fracture",
            ("Fall with wrist fracture", "Fall, fractured ankle"),
            grades=(0, 40, 60),
            days=(30, 70),
            related_procedure={"not": 1},
            related_cells={"not": 1},
            treatments=((Treatment("Cast; orthopaedic review", Action.NON_DRUG), 1),),
            serious_if_grade3=0.6,
            admitted="Admitted for surgical fixation",
        ),
        0.008,
    ),
    (
        EventKind(
            "upper_respiratory_infection",
            ("Common cold", "Sore throat and cough", "Upper respiratory tract infection"),
            grades=(70, 30, 0),
            days=(4, 14),
            related_procedure=NOT_PROCEDURE,
            related_cells=NOT_CELLS,
            treatments=(
                (NONE, 6),
                (
                    Treatment(
                        "Amoxicillin 500 mg three times a day", Action.MEDICATION, ANTIBIOTIC
                    ),
                    4,
                ),
            ),
        ),
        0.07,
    ),
    (
        EventKind(
            "lung_infection",
            ("Aspiration pneumonia", "Chest infection, right lower lobe"),
            grades=(0, 25, 75),
            days=(7, 21),
            related_procedure={"not": 1},
            related_cells={"not": 7, "unlikely": 3},
            treatments=(
                (
                    Treatment(
                        "IV antibiotics in hospital",
                        Action.HOSPITALISATION,
                        Drug("Ceftriaxone", "1", "g", "iv", "qd"),
                    ),
                    1,
                ),
            ),
            serious_if_grade3=0.85,
        ),
        0.02,
    ),
    (
        EventKind(
            "dysphagia",
            ("Difficulty swallowing solids", "Coughing when drinking", "Dysphagia, worse"),
            grades=(40, 50, 10),
            days=(30, 120),
            related_procedure={"not": 1},
            related_cells=NOT_CELLS,
            treatments=((Treatment("Thickened fluids; speech therapy", Action.NON_DRUG), 1),),
            chronic=0.8,
        ),
        0.05,
    ),
    (
        EventKind(
            "aspiration",
            ("Choking episode while eating",),
            grades=(40, 50, 10),
            days=(1, 2),
            related_procedure={"not": 1},
            related_cells={"not": 1},
            treatments=((NONE, 1),),
        ),
        0.015,
    ),
    (
        EventKind(
            "weight_loss",
            ("Weight loss", "Lost 4 kg since the last visit"),
            grades=(60, 40, 0),
            days=(30, 120),
            related_procedure={"not": 1},
            related_cells=NOT_CELLS,
            treatments=((Treatment("Dietitian review, supplements", Action.NON_DRUG), 1),),
            chronic=0.7,
        ),
        0.04,
    ),
    (
        EventKind(
            "muscle_cramp",
            ("Leg cramps at night", "Muscle cramps"),
            grades=(80, 20, 0),
            days=(7, 60),
            related_procedure={"not": 1},
            related_cells=NOT_CELLS,
            treatments=(
                (
                    Treatment(
                        "Baclofen 10 mg three times a day",
                        Action.MEDICATION,
                        Drug("Baclofen", "10", "mg", "oral", "tid"),
                    ),
                    4,
                ),
                (Treatment("Stretching", Action.NON_DRUG), 6),
            ),
            chronic=0.4,
        ),
        0.05,
    ),
    (
        EventKind(
            "constipation",
            ("Constipation",),
            grades=(70, 30, 0),
            days=(5, 30),
            related_procedure={"not": 1},
            related_cells=NOT_CELLS,
            treatments=(
                (
                    Treatment(
                        "Lactulose 15 mL daily",
                        Action.MEDICATION,
                        Drug("Lactulose", "15", "ml", "oral", "qd"),
                    ),
                    1,
                ),
            ),
        ),
        0.04,
    ),
    (
        EventKind(
            "other",
            ("Sialorrhoea (drooling)",),
            grades=(50, 50, 0),
            days=(30, 120),
            related_procedure={"not": 1},
            related_cells={"not": 1},
            treatments=(
                (
                    Treatment(
                        "Amitriptyline 10 mg at night",
                        Action.MEDICATION,
                        Drug("Amitriptyline", "10", "mg", "oral", "qd"),
                    ),
                    1,
                ),
            ),
            chronic=0.9,
        ),
        0.02,
    ),
    (
        EventKind(
            "depression",
            ("Low mood", "Depressed since the diagnosis worsened"),
            grades=(60, 40, 0),
            days=(30, 120),
            related_procedure={"not": 1},
            related_cells={"not": 1},
            treatments=(
                (
                    Treatment(
                        "Citalopram 20 mg daily",
                        Action.MEDICATION,
                        Drug("Citalopram", "20", "mg", "oral", "qd"),
                    ),
                    1,
                ),
            ),
            chronic=0.6,
        ),
        0.025,
    ),
)

# (drug, indication, probability) at baseline, besides the ALS drugs.
BASELINE_MEDICATIONS: tuple[tuple[Drug, str, float], ...] = (
    (Drug("Baclofen", "10", "mg", "oral", "tid"), "Spasticity", 0.15),
    (Drug("Vitamin D3", "1000", "iu", "oral", "qd"), "Vitamin D deficiency", 0.15),
    (Drug("Pantoprazole", "40", "mg", "oral", "qd"), "Gastro-oesophageal reflux", 0.08),
    (Drug("Amitriptyline", "10", "mg", "oral", "qd"), "Sialorrhoea", 0.08),
    (Drug("Atorvastatin", "20", "mg", "oral", "qd"), "Hypercholesterolaemia", 0.06),
    (Drug("Citalopram", "20", "mg", "oral", "qd"), "Depression", 0.05),
)
RILUZOLE = Drug("", "50", "mg", "oral", "bid", Medication.RILUZOLE)
EDARAVONE_IV = Drug("", "60", "mg", "iv", "cycles", Medication.EDARAVONE)
EDARAVONE_ORAL = Drug("", "105", "mg", "oral", "cycles", Medication.EDARAVONE)

# Serious events: an investigator assesses most of them, within days of the report.
ASSESSED = 0.85
# A follow-up without events leaves its safety review unanswered this often.
UNANSWERED_REVIEW = 0.03
# An event is left in progress (outcome still to come) this often.
IN_PROGRESS = 0.02


@dataclass
class PlannedEvent:
    visit_code: str
    answers: dict[str, object]
    complete: bool = True
    # (days after the report, serious, relatedness to the procedure, to the cells, comment)
    assessment: tuple[int, bool, str, str, str] | None = None
    drug: Drug | None = None  # the medication the event was treated with


@dataclass
class PlannedMedication:
    visit_code: str
    answers: dict[str, object]


@dataclass
class SafetyPlan:
    events: list[PlannedEvent] = field(default_factory=list)
    medications: list[PlannedMedication] = field(default_factory=list)
    reviews: dict[str, dict[str, bool | None]] = field(default_factory=dict)


def _pick(rng: random.Random, weights: Mapping[K, float]) -> K:
    keys = list(weights)
    return rng.choices(keys, weights=[weights[k] for k in keys])[0]


def _precise(day: date) -> tuple[date, str]:
    return day, "day"


def _partial(rng: random.Random, day: date, share: float) -> tuple[date, str]:
    """The day, or (with probability `share`) only its month, as a partial date stores it."""
    if rng.random() < share:
        return PartialDate(day, "month").first_day, "month"
    return _precise(day)


def _event(
    rng: random.Random,
    kind: EventKind,
    *,
    visit_code: str,
    onset: date,
    today: date,
    month_share: float,
) -> PlannedEvent:
    grade = rng.choices((1, 2, 3), weights=kind.grades)[0]
    serious = grade == 3 and rng.random() < kind.serious_if_grade3
    treatment = rng.choices([t for t, _w in kind.treatments], [w for _t, w in kind.treatments])[0]
    # A hospital stay is a seriousness criterion (ICH E2A): the two always go together.
    if serious and treatment.action != Action.HOSPITALISATION:
        treatment = Treatment(kind.admitted, Action.HOSPITALISATION, treatment.drug)
    elif not serious and treatment.action == Action.HOSPITALISATION:
        treatment = (
            Treatment("Oral antibiotics at home", Action.MEDICATION, ANTIBIOTIC)
            if treatment.drug
            else REST
        )
    if kind.term_code == "post_lp_headache" and grade == 3:
        treatment = Treatment(
            "Epidural blood patch" + ("; hospital stay prolonged" if serious else ""),
            Action.HOSPITALISATION if serious else Action.NON_DRUG,
        )
    onset_date, onset_precision = _partial(rng, onset, month_share)
    end = onset + timedelta(days=rng.randint(*kind.days))
    ongoing = end > today or rng.random() < kind.chronic
    if ongoing:
        end_date, end_precision = None, ""
        outcome = Outcome.NOT_RECOVERED if kind.chronic else Outcome.RECOVERING
    else:
        if onset_precision == "month":
            end_date, end_precision = PartialDate(end, "month").first_day, "month"
        else:
            end_date, end_precision = _precise(end)
        outcome = Outcome.SEQUELAE if grade == 3 and rng.random() < 0.2 else Outcome.RECOVERED
    related_procedure = _pick(rng, kind.related_procedure)
    related_cells = _pick(rng, kind.related_cells)
    answers: dict[str, object] = {
        "verbatim_term": rng.choice(kind.verbatims),
        "term_code": kind.term_code,
        "onset_date": onset_date,
        "onset_precision": onset_precision,
        "end_date": end_date,
        "end_precision": end_precision,
        "ongoing": ongoing,
        "grade": grade,
        "serious": serious,
        "sae_hospitalisation": serious,
        "related_procedure": related_procedure,
        "related_cells": related_cells,
        "action": str(treatment.action),
        "outcome": str(outcome),
        "treatment": treatment.text,
    }
    event = PlannedEvent(visit_code, answers)
    if serious and rng.random() < ASSESSED:
        # The investigator mostly confirms the coordinator's causality, sometimes raises it.
        cells = related_cells
        comment = ""
        if rng.random() < 0.15 and related_cells in ("not", "unlikely"):
            cells, comment = "possible", "Cannot exclude a reaction to the cells."
        event.assessment = (rng.randint(0, 3), True, related_procedure, cells, comment)
    elif not serious and rng.random() < IN_PROGRESS:
        event.complete = False
        answers.update(outcome=None, action=None, treatment="")
    event.drug = treatment.drug
    return event


def _medication(
    visit_code: str, drug: Drug, indication: str, start: tuple[date, str], stop: date | None
) -> PlannedMedication:
    return PlannedMedication(
        visit_code,
        {
            "medication": drug.medication,
            "other_name": drug.name if drug.medication == Medication.OTHER else "",
            "indication": indication,
            "dose": Decimal(drug.dose),
            "dose_unit": drug.unit,
            "route": drug.route,
            "frequency": drug.frequency,
            "start_date": start[0],
            "start_precision": start[1],
            "stop_date": stop,
            "stop_precision": "day" if stop else "",
            "ongoing": stop is None,
        },
    )


def _before(rng: random.Random, earliest: date, latest: date) -> tuple[date, str]:
    """A start date between the two, as a patient remembers it: often only the month, now
    and then only the year (never a period ending after `latest`)."""
    day = earliest + timedelta(days=rng.randint(0, max(0, (latest - earliest).days)))
    roll = rng.random()
    if roll < 0.1 and date(day.year, 12, 31) <= latest:
        return date(day.year, 1, 1), "year"
    if roll < 0.6 and PartialDate(day, "month").last_day <= latest:
        return day.replace(day=1), "month"
    return day, "day"


def draw_safety(
    rng: random.Random,
    *,
    screened_on: date,
    diagnosis: date,
    riluzole: bool,
    edaravone: bool,
    dated: dict[str, date],
    today: date,
) -> SafetyPlan:
    """The safety records of one person whose visits `dated` (code → date) took place."""
    plan = SafetyPlan()
    tx_day = dated.get("TX")
    follow_ups = [(code, dated[code]) for code in FOLLOW_UPS if code in dated]
    if tx_day is not None:
        for kind, probability in PROCEDURE_EVENTS:
            if rng.random() >= probability:
                continue
            offset = _pick(rng, kind.onset_days)
            onset = tx_day + timedelta(days=offset)
            if offset == 0:
                visit_code = "TX"
            elif follow_ups:
                visit_code = follow_ups[0][0]
            else:
                continue  # reported at the next visit, which has not happened yet
            plan.events.append(
                _event(
                    rng,
                    kind,
                    visit_code=visit_code,
                    onset=onset,
                    today=today,
                    month_share=0.0,
                )
            )
        previous = tx_day
        for code, day in follow_ups:
            for kind, probability in FOLLOW_UP_EVENTS:
                if rng.random() >= probability or day <= previous:
                    continue
                onset = previous + timedelta(days=rng.randint(1, (day - previous).days))
                plan.events.append(
                    _event(
                        rng,
                        kind,
                        visit_code=code,
                        onset=onset,
                        today=today,
                        month_share=0.15,
                    )
                )
            previous = day
    plan.events.sort(key=lambda e: (e.answers["onset_date"], e.answers["term_code"]))

    baseline = dated.get("BL")
    if baseline is not None:
        history_start = min(diagnosis + timedelta(days=14), screened_on - timedelta(days=1))
        if riluzole:
            start = _before(rng, history_start, screened_on - timedelta(days=1))
            later = follow_ups
            if later and rng.random() < 0.06:  # stopped (liver tests, nausea, fatigue)
                # The row moves to the visit that reported the stop, so that visit never
                # says "no change in medication".
                index = rng.randrange(len(later))
                since = later[index - 1][1] if index else baseline
                code, day = later[index]
                stop = since + timedelta(days=rng.randint(1, max(1, (day - since).days)))
                plan.medications.append(_medication(code, RILUZOLE, "ALS", start, min(stop, day)))
            else:
                plan.medications.append(_medication("BL", RILUZOLE, "ALS", start, None))
        if edaravone:
            drug = EDARAVONE_IV if rng.random() < 0.5 else EDARAVONE_ORAL
            start = _before(rng, history_start, screened_on - timedelta(days=1))
            plan.medications.append(_medication("BL", drug, "ALS", start, None))
        for drug, indication, probability in BASELINE_MEDICATIONS:
            if rng.random() < probability:
                earliest = screened_on - timedelta(days=rng.randint(60, 1800))
                start = _before(rng, earliest, screened_on - timedelta(days=1))
                plan.medications.append(_medication("BL", drug, indication, start, None))
    for event in plan.events:
        given = event.drug
        if given is None or not event.complete:
            continue
        answers = event.answers
        began, ended = answers["onset_date"], answers["end_date"]
        assert isinstance(began, date) and (ended is None or isinstance(ended, date))
        precision = str(answers["onset_precision"])
        # A month-only event: the drug's dates are known no better than the event's.
        medication = _medication(
            event.visit_code,
            given,
            str(answers["verbatim_term"]),
            (began, precision),
            ended if precision == "day" else None,
        )
        if precision != "day" and ended is not None:
            medication.answers.update(stop_date=ended, stop_precision="month", ongoing=False)
        plan.medications.append(medication)

    with_events = {e.visit_code for e in plan.events}
    with_medication = {m.visit_code for m in plan.medications}
    for code in ("BL", "TX", *dict(follow_ups)):
        if code not in dated:
            continue
        review: dict[str, bool | None] = {}
        if code != "BL":  # the baseline does not ask about adverse events
            review["no_adverse_events"] = True if code not in with_events else None
        review["no_conmed_changes"] = True if code not in with_medication else None
        if code in FOLLOW_UPS and rng.random() < UNANSWERED_REVIEW:
            continue
        if any(review.values()):
            plan.reviews[code] = review
    return plan


def write_safety(
    plan: SafetyPlan, *, participant, visits: dict[str, Visit], actor, investigator, zone
) -> Counter:
    """Insert `plan` for `participant` (`visits` by code) in at most four statements, with the
    fields a first save through `safety.services` gives; answers the rows made, counted as
    the seeder's tally counts forms ("<form code> complete")."""
    now = timezone.now()
    made: Counter = Counter()
    events = [
        AdverseEvent(
            participant=participant,
            visit=visits[planned.visit_code],
            number=number,
            status=FormStatus.COMPLETE if planned.complete else FormStatus.IN_PROGRESS,
            completed_at=now if planned.complete else None,
            version=1,
            missing_reasons={},
            # save_adverse_event stamps a first serious save as reported (`mark_new_sae`).
            sae_alerted_at=now if planned.answers["serious"] else None,
            created_by=actor,
            updated_by=actor,
            **planned.answers,
        )
        for number, planned in enumerate(plan.events, start=1)
    ]
    if events:
        with audit_context(reason=None, actor_id=actor.pk, form=AdverseEvent.form_code):
            AdverseEvent.objects.bulk_create(events)
        for planned in plan.events:
            state = "complete" if planned.complete else "in progress"
            made[f"{AdverseEvent.form_code} {state}"] += 1
    assessments = []
    if investigator is not None:
        for event, planned in zip(events, plan.events, strict=True):
            if planned.assessment is None:
                continue
            days, serious, procedure, cells, comment = planned.assessment
            reported = visits[planned.visit_code].actual_date
            assert reported is not None
            signed = datetime.combine(reported + timedelta(days=days), time(11, 0), tzinfo=zone)
            assessments.append(
                AdverseEventAssessment(
                    adverse_event=event,
                    event_version=event.version,
                    serious=serious,
                    related_procedure=procedure,
                    related_cells=cells,
                    comment=comment,
                    investigator=investigator,
                    signed_at=min(signed, now),
                )
            )
    if assessments:
        with audit_context(actor_id=investigator.pk, reason="investigator assessment"):
            AdverseEventAssessment.objects.bulk_create(assessments)
        made["adverse_event assessment"] += len(assessments)
    medications = [
        ConcomitantMedication(
            participant=participant,
            visit=visits[planned.visit_code],
            status=FormStatus.COMPLETE,
            completed_at=now,
            version=1,
            missing_reasons={},
            updated_by=actor,
            **planned.answers,
        )
        for planned in plan.medications
    ]
    if medications:
        with audit_context(reason=None, actor_id=actor.pk, form=ConcomitantMedication.form_code):
            ConcomitantMedication.objects.bulk_create(medications)
        made[f"{ConcomitantMedication.form_code} complete"] += len(medications)
    reviews = [
        VisitSafetyReview(
            visit=visits[code],
            status=FormStatus.COMPLETE,
            completed_at=now,
            version=1,
            missing_reasons={},
            updated_by=actor,
            **answers,
        )
        for code, answers in plan.reviews.items()
    ]
    if reviews:
        with audit_context(reason=None, actor_id=actor.pk, form=VisitSafetyReview.form_code):
            VisitSafetyReview.objects.bulk_create(reviews)
        made[f"{VisitSafetyReview.form_code} complete"] += len(reviews)
    return made


__all__ = ["SafetyPlan", "draw_safety", "write_safety"]
