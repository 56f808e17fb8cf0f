"""Synthetic demo participants, made through the same services as the pages.

`seed_participants(n, seed)` registers ``n`` fictitious people at a site and walks each
through screening, enrolment, baseline, transplantation and the follow-ups that are
due by the site's today, entering every outcome form the protocol expects at each dated
visit (ALSFRS-R, FVC and vital signs; at baseline and the follow-ups also EMG with its
needle-EMG muscle rows, ALSAQ-40 and SEIQoL-DW) with `crfs.entry.save_form`. Screening is the real one: the signed consent
(participants.services.record_consent), the screening ALSFRS-R, FVC and vital signs, then
the eligibility checklist (save_form; its derived criteria come from those forms, the
ALS history and the consent). An eligible participant is enrolled by
participants.services.enrol_participant (which checks consent and the checklist); one
the checklist fails becomes a screen failure by crfs.screening.services.record_screen_failure,
the failed criteria as the reason. Everything random comes from one ``random.Random(seed)``
and the site's today, so the same seed on the same day gives the same people and scores.

The disease model is deliberately simple and plausible, not a simulation of ALS:
- ALSFRS-R loses 0.5-1.2 points per month from symptom onset (per person, with
  visit-to-visit noise). The points lost are taken from the items in a fixed,
  per-person order drawn once, weighted by the onset region (limb items first,
  respiratory last), so items only ever move together with the total and stay 0-4.
  Item 5 is answered as 5b (with gastrostomy) once swallowing (item 3) is <= 1.
- FVC % predicted starts at 35-120 % and drifts down 0.6-2.2 points per month; the
  manoeuvres are drawn around the best value, some not acceptable.
- Weight drifts down 0.1-0.5 kg per month.
- EMG, ALSAQ-40 and SEIQoL-DW follow the ALSFRS-R items drawn at the same visit (see
  `demo.outcomes`); each is sometimes not entered, entered as not done, left in progress
  or missing a few answers for a reason.
- The checklist's own answers: El Escorial as at registration, progression over 6 months,
  a polysomnography before screening, the exclusions; a few answers fail (no documented
  progression, abnormal polysomnography, an exclusion present).
- Adverse events (the procedure's in the days after the transplantation, those of advancing
  ALS at the follow-ups, a few serious with an investigator's assessment), concomitant
  medication (riluzole as the ALS history says, edaravone for some) and each visit's
  explicit "none since the last visit" come from `demo.safety_data`, from a random stream of
  their own, bulk-inserted (no SAE alert is sent for synthetic events).
- Some follow-ups are missed (with a reason) or done out of window, some forms are
  left in progress (screening forms only while screening goes on), some participants
  fail screening (from their own screening data), decline after screening, withdraw, are
  lost to follow-up (after contact attempts) or die; those who reach month 24 complete
  the study.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db import DatabaseError, connection, transaction

from crfs.alsfrs_r.models import FIELD_BY_CODE, AlsfrsR
from crfs.eligibility.models import Eligibility
from crfs.eligibility.scoring import EXCLUSION_CODES, Decision
from crfs.emg.models import CMAP_FIELDS, NEEDLE, Emg
from crfs.entry import save_form
from crfs.fvc import models as fvc_models
from crfs.fvc import scoring as fvc
from crfs.fvc.models import Fvc
from crfs.qol.models import ALSAQ40_FIELDS, Alsaq40, Seiqol
from crfs.screening import services as screening
from crfs.vitals.models import Vitals
from demo import outcomes, safety_data
from participants import services as participant_services
from participants.choices import ParticipantStatus
from participants.models import ConsentVersion, Participant, ParticipantIdentity
from participants.partial_dates import DAYS_PER_MONTH, months_between
from reminders import services as reminders
from trials import checks
from trials.models import Membership, Role, Site, Trial
from visits import services as visit_services
from visits import transplantation
from visits.models import Visit

# Synthetic people are recognised by this prefix of their (fictitious) national ID.
SYNTHETIC_ID_PREFIX = "SYN-"
FOLLOW_UPS = ("M06", "M12", "M18", "M24")

FIRST_NAMES = {
    "male": (
        "Ali", "Reza", "Hossein", "Mohammad", "Mehdi", "Hamid", "Saeed", "Amir", "Javad",
        "Majid", "Behnam", "Kourosh", "Dariush", "Farhad", "Hassan", "Mostafa",
    ),
    "female": (
        "Maryam", "Fatemeh", "Zahra", "Sara", "Narges", "Leila", "Mina", "Parisa", "Shirin",
        "Elham", "Nasrin", "Roya", "Azadeh", "Mahsa", "Soheila", "Tahereh",
    ),
}  # fmt: skip
LAST_NAMES = (
    "Ahmadi", "Hosseini", "Karimi", "Rahimi", "Moradi", "Jafari", "Rezaei", "Mohammadi",
    "Kazemi", "Ebrahimi", "Sadeghi", "Tehrani", "Esfahani", "Shirazi", "Najafi", "Ghasemi",
    "Soltani", "Amini", "Bagheri", "Mousavi", "Nouri", "Zamani", "Farahani", "Kashani",
)  # fmt: skip
MISSED_REASONS = (
    "Participant too unwell to travel",
    "No transport available on the visit days",
    "Participant declined this visit",
    "Admitted to another hospital during the window",
    "Could not be reached by phone",
)
TX_DATA = {
    "route": "both",
    "injection_level": "L3-L4",
    "cell_dose": 100_000_000,
    "viability_percent": Decimal("94.0"),
    "volume_ml": Decimal("10.0"),
    "cell_lot": "MSC-SYN",
    "needle_type": "atraumatic",
    "needle_gauge": 25,
    "operator": "Dr. Synthetic",
    "immediate_complications": "",
}
ITEMS_FOR_LOSS = ("1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12")
# How readily each item loses points, by onset region (limbs first, breathing last).
ITEM_WEIGHTS = {
    "upper_limb": (1.0, 0.8, 0.7, 3.0, 2.2, 2.5, 1.5, 1.2, 1.5, 0.8, 0.5, 0.3),
    "lower_limb": (0.8, 0.6, 0.7, 1.2, 1.0, 1.8, 2.0, 2.2, 3.0, 0.8, 0.5, 0.3),
}


@dataclass
class Person:
    """One synthetic participant's fixed characteristics and rates, drawn up front."""

    number: int
    name: str
    sex: str
    born: date
    height_cm: Decimal
    weight_kg: float
    ethnicity: str
    screened_on: date
    onset: date
    onset_precision: str
    onset_region: str
    diagnosis: date
    el_escorial: str
    riluzole: bool
    edaravone: bool
    alsfrs_rate: float  # points per month
    loss_order: list[str]  # item codes, one per point lost
    fvc_percent_at_screening: float
    fvc_rate: float  # % predicted per month
    predicted_l: float  # generator's predicted FVC (GLI Global at screening)
    weight_rate: float  # kg per month
    systolic: int
    diastolic: int
    heart_rate: int
    emg: outcomes.EmgProfile
    qol: outcomes.QolProfile


@dataclass
class Tally:
    participants: int = 0
    statuses: Counter = field(default_factory=Counter)
    forms: Counter = field(default_factory=Counter)
    visits: Counter = field(default_factory=Counter)


def _loss_order(rng: random.Random, region: str) -> list[str]:
    weights = [w * rng.uniform(0.6, 1.4) for w in ITEM_WEIGHTS[region]]
    left = dict.fromkeys(ITEMS_FOR_LOSS, 4)
    order: list[str] = []
    while len(order) < 48:
        codes = [c for c in ITEMS_FOR_LOSS if left[c] > 0]
        code = rng.choices(codes, weights=[weights[ITEMS_FOR_LOSS.index(c)] for c in codes])[0]
        left[code] -= 1
        order.append(code)
    return order


def draw_person(rng: random.Random, number: int, today: date) -> Person:
    sex = "male" if rng.random() < 0.6 else "female"
    screened_on = today - timedelta(days=rng.randint(5, 1100))
    age = min(75.0, max(25.0, rng.gauss(55, 10)))
    born = screened_on - timedelta(days=int(age * 365.25) + rng.randint(0, 364))
    height = rng.gauss(173, 7) if sex == "male" else rng.gauss(160, 6)
    height = min(200.0, max(140.0, height))
    bmi = min(35.0, max(18.0, rng.gauss(25, 3.5)))
    weight = round(bmi * (height / 100) ** 2, 1)
    months_since_onset = rng.uniform(3, 18)
    onset_day = screened_on - timedelta(days=int(months_since_onset * DAYS_PER_MONTH))
    precision = rng.choices(("day", "month", "year"), weights=(3, 6, 1))[0]
    if precision == "month":
        onset = onset_day.replace(day=1)
    elif precision == "year":
        onset = onset_day.replace(month=1, day=1)
        if onset < born:
            onset, precision = onset_day.replace(day=1), "month"
    else:
        onset = onset_day
    diagnosis = min(screened_on, onset_day + timedelta(days=rng.randint(60, 360)))
    region = rng.choice(("upper_limb", "lower_limb"))
    first = rng.choice(FIRST_NAMES[sex])
    last = rng.choice(LAST_NAMES)
    predicted = fvc.predict(
        "3.00", sex=sex, age_years=fvc.age_at(born, screened_on), height_cm=round(height, 1)
    ).predicted_l
    systolic = int(min(160, max(100, rng.gauss(124, 12))))
    return Person(
        number=number,
        name=f"{first} {last}",
        sex=sex,
        born=born,
        height_cm=Decimal(f"{height:.1f}"),
        weight_kg=weight,
        ethnicity="iranian" if rng.random() < 0.95 else "other_mixed",
        screened_on=screened_on,
        onset=onset,
        onset_precision=precision,
        onset_region=region,
        diagnosis=diagnosis,
        el_escorial=rng.choices(
            ("definite", "probable", "probable_lab", "possible"), weights=(3, 4, 2, 1)
        )[0],
        riluzole=rng.random() < 0.8,
        edaravone=rng.random() < 0.15,
        alsfrs_rate=rng.uniform(0.5, 1.2),
        loss_order=_loss_order(rng, region),
        fvc_percent_at_screening=min(120.0, max(35.0, rng.gauss(82, 15))),
        fvc_rate=rng.uniform(0.6, 2.2),
        predicted_l=predicted or 3.5,
        weight_rate=rng.uniform(0.1, 0.5),
        systolic=systolic,
        diastolic=int(min(systolic - 25, max(60, rng.gauss(78, 8)))),
        heart_rate=int(min(110, max(55, rng.gauss(76, 9)))),
        emg=outcomes.draw_emg_profile(rng, region),
        qol=outcomes.draw_qol_profile(rng),
    )


# --- instruments at a visit date ------------------------------------------------


def alsfrs_items(person: Person, on: date, rng: random.Random) -> dict[str, int | None]:
    """Item scores by code ("5a"/"5b" for item 5) on a date."""
    lost = round(person.alsfrs_rate * months_between(person.onset, on) + rng.gauss(0, 0.7))
    lost = min(44, max(0, lost))
    scores = dict.fromkeys(ITEMS_FOR_LOSS, 4)
    for code in person.loss_order[:lost]:
        scores[code] -= 1
    items: dict[str, int | None] = {c: s for c, s in scores.items() if c != "5"}
    gastrostomy = scores["3"] <= 1
    items["5a"] = None if gastrostomy else scores["5"]
    items["5b"] = scores["5"] if gastrostomy else None
    return items


def fvc_percent(person: Person, on: date, rng: random.Random) -> float:
    drift = person.fvc_rate * max(0.0, months_between(person.screened_on, on))
    return max(15.0, person.fvc_percent_at_screening - drift + rng.gauss(0, 3))


def fvc_answers(person: Person, percent: float, rng: random.Random) -> dict[str, object]:
    best = person.predicted_l * percent / 100
    count = rng.choices((2, 3, 4, 5), weights=(1, 12, 5, 2))[0]
    blows = [best] + [best - rng.uniform(0.0, 0.22) for _ in range(count - 1)]
    acceptable = [True] * count
    if rng.random() < 0.15:  # one extra blow, larger but not acceptable (e.g. a leak)
        blows.append(best + rng.uniform(0.05, 0.3))
        acceptable.append(False)
    order = list(range(len(blows)))
    rng.shuffle(order)
    answers: dict[str, object] = {
        "measure": "SVC" if rng.random() < 0.05 else "FVC",
        "position": "supine" if rng.random() < 0.1 else "sitting",
    }
    for row, index in enumerate(order[: fvc.MAX_MANOEUVRES], start=1):
        litres = min(7.9, max(0.25, blows[index]))
        answers[f"trial_{row}_litres"] = Decimal(f"{litres:.2f}")
        answers[f"trial_{row}_acceptable"] = acceptable[index]
    return answers


def vitals_answers(
    person: Person, on: date, rng: random.Random, *, height: bool
) -> dict[str, object]:
    weight = person.weight_kg - person.weight_rate * max(
        0.0, months_between(person.screened_on, on)
    )
    weight = max(30.0, weight + rng.gauss(0, 0.6))
    systolic = person.systolic + round(rng.gauss(0, 6))
    return {
        "weight_kg": Decimal(f"{weight:.1f}"),
        "height_cm": person.height_cm if height else None,
        "systolic_bp": systolic,
        "diastolic_bp": min(systolic - 20, person.diastolic + round(rng.gauss(0, 5))),
        "heart_rate": person.heart_rate + round(rng.gauss(0, 5)),
        "respiratory_rate": min(30, max(10, round(rng.gauss(16, 2)))),
        "temperature_c": Decimal(f"{min(37.8, max(35.8, rng.gauss(36.7, 0.3))):.1f}"),
        "spo2_percent": min(100, max(88, round(rng.gauss(97, 1.2)))),
    }


def checklist_answers(person: Person, rng: random.Random) -> dict[str, object]:
    """The eligibility checklist's recorded answers (the derived ones come from the forms)."""
    answers: dict[str, object] = {
        "el_escorial": person.el_escorial,
        "progression_6_months": rng.random() >= 0.02,
        "polysomnography_date": person.screened_on - timedelta(days=rng.randint(0, 30)),
        "polysomnography_result": "abnormal" if rng.random() < 0.02 else "normal",
    }
    possible = [c for c in EXCLUSION_CODES if person.sex == "female" or c != "pregnancy_lactation"]
    present = rng.choice(possible) if rng.random() < 0.03 else None
    answers.update({f"ex_{code}": code == present for code in EXCLUSION_CODES})
    return answers


# --- walking one person through the study ------------------------------------------


class Seeder:
    def __init__(self, *, actor, site: Site, trial: Trial, rng: random.Random, today: date):
        self.actor, self.site, self.trial, self.rng, self.today = actor, site, trial, rng, today
        self.tally = Tally()
        # Parallel workers commit a person in a few transactions (see `_segment`).
        self.segments = False
        # The consent form versions, newest first (read once: the seeder adds none).
        self.consent_versions = list(
            ConsentVersion.objects.filter(trial=trial).order_by("-active_from", "-pk")
        )
        # Adverse events and medication draw from a stream of their own (`_safety`), so the
        # outcome scores stay those of the person's main stream.
        self.safety_rng = random.Random(0)
        # Signs the assessments of serious events (none made without an investigator).
        found = (
            Membership.objects.active()
            .filter(site=site, role=Role.INVESTIGATOR)
            .select_related("user")
            .order_by("user__username")
            .first()
        )
        self.investigator = found.user if found else None

    def _segment(self):
        """One transaction for a stretch of a person's story that takes no lock shared with
        other workers (registration and enrolment take the site's number sequences, held to
        commit, so they stay outside and commit on their own)."""
        return transaction.atomic() if self.segments else nullcontext()

    def _consent_version_on(self, day: date) -> ConsentVersion:
        """The version in use on `day` (as participants.services.current_consent_version)."""
        for version in self.consent_versions:
            if version.is_active_on(day):
                return version
        raise RuntimeError(f"no consent form version of {self.trial} in use on {day}")

    def _consent(self, participant: Participant, version: ConsentVersion, day: date) -> None:
        participant_services.record_consent(
            actor=self.actor,
            participant=participant,
            version=version,
            signed_on=day,
            taken_by=self.actor,
        )

    def _save(
        self, model, visit: Visit, answers: dict, *, complete: bool, missing=None, children=None
    ):
        record = save_form(
            record_class=model,
            visit=visit,
            user=self.actor,
            answers=answers,
            missing_reasons=missing,
            expected_version=0,
            complete=complete,
            children=children,
        )
        self.tally.forms[f"{model.form_code} {'complete' if complete else 'in progress'}"] += 1
        return record

    def _partial(self, model, answers: dict) -> dict:
        """Leave a few answers out, as a coordinator interrupted halfway would."""
        if model is Fvc:  # position not yet chosen, only the first manoeuvres typed
            kept = self.rng.randint(1, 2)
            partial = dict(answers, position=None)
            for n in fvc_models.MANOEUVRES[kept:]:
                partial.pop(f"trial_{n}_litres", None)
                partial.pop(f"trial_{n}_acceptable", None)
            return partial
        names = [name for name, value in answers.items() if value is not None]
        dropped = set(self.rng.sample(names, k=min(len(names) - 1, self.rng.randint(2, 4))))
        return {name: (None if name in dropped else value) for name, value in answers.items()}

    def _enter(self, model, visit: Visit, answers: dict, *, may_stop: bool = True):
        if may_stop and self.rng.random() < 0.04:
            return self._save(model, visit, self._partial(model, answers), complete=False)
        return self._save(model, visit, answers, complete=True)

    def outcomes(
        self, person: Person, visit: Visit, on: date, *, height: bool, may_stop: bool = True
    ) -> None:
        """The outcome forms the protocol expects at a dated visit: ALSFRS-R, FVC and vital
        signs, and where expected EMG, ALSAQ-40 and SEIQoL-DW, all following the same
        ALSFRS-R (`may_stop`: some left in progress)."""
        rng = self.rng
        items = alsfrs_items(person, on, rng)
        answers = {FIELD_BY_CODE[c]: v for c, v in items.items()}
        self._enter(AlsfrsR, visit, answers, may_stop=may_stop)
        percent = fvc_percent(person, on, rng)
        if visit.code in FOLLOW_UPS and rng.random() < 0.02:
            reasons = dict.fromkeys(("measure", "position", "trial_1_litres"), "not_done")
            self._save(Fvc, visit, {}, complete=True, missing=reasons)
        else:
            self._enter(Fvc, visit, fvc_answers(person, percent, rng), may_stop=may_stop)
        self._enter(Vitals, visit, vitals_answers(person, on, rng, height=height))
        expected = visit.expected_forms()
        if Emg.form_code in expected:
            self._emg(person, visit, items, may_stop=may_stop)
        if Alsaq40.form_code in expected:
            self._alsaq40(person, visit, items, may_stop=may_stop)
        if Seiqol.form_code in expected:
            self._seiqol(person, visit, items, may_stop=may_stop)

    # Each of the three below, at a visit that expects it: sometimes never entered (the
    # study was not done and nobody opened the form; more often the weaker the person is,
    # as in real ALS trials, where missing data are not missing at random), sometimes
    # complete with every answer "not done", sometimes left in progress, sometimes with a
    # few answers missing for a reason; otherwise complete.

    def _not_entered(self, items, *, base: float, per_loss: float) -> bool:
        return self.rng.random() < base + per_loss * outcomes.overall_impairment(items)

    def _emg(self, person: Person, visit: Visit, items, *, may_stop: bool) -> None:
        rng = self.rng
        answers = outcomes.emg_answers(person.emg, items, rng)
        rows = outcomes.emg_rows(person.emg, items, rng)
        if self._not_entered(items, base=0.02, per_loss=0.2):
            return
        roll = rng.random()
        if roll < 0.03:  # e.g. the EMG machine out of service during the window
            not_done = dict.fromkeys(Emg.required_answers, "not_done")
            self._save(Emg, visit, {}, complete=True, missing=not_done)
        elif roll < 0.07 and may_stop:  # nerve conduction typed, needle findings not yet
            self._save(Emg, visit, answers, complete=False)
        elif roll < 0.11:
            self._save(Emg, visit, answers, complete=True, missing={NEEDLE: "refused"})
        else:
            missing = {}
            if rng.random() < 0.05:  # no response obtained from one nerve
                name = rng.choice(sorted(CMAP_FIELDS.values()))
                answers[name], missing[name] = None, "not_done"
            self._save(Emg, visit, answers, complete=True, missing=missing, children=rows)

    def _alsaq40(self, person: Person, visit: Visit, items, *, may_stop: bool) -> None:
        rng = self.rng
        answers = outcomes.alsaq40_answers(person.qol, items, rng)
        if self._not_entered(items, base=0.02, per_loss=0.1):
            return
        roll = rng.random()
        if roll < 0.02:  # too unwell to fill in the questionnaire this time
            not_done = dict.fromkeys(Alsaq40.required_answers, "not_done")
            self._save(Alsaq40, visit, {}, complete=True, missing=not_done)
        elif roll < 0.06 and may_stop:  # stopped partway through the questionnaire
            answered = rng.randint(8, 32)
            partial = {
                name: answers[name] if number <= answered else None
                for number, name in ALSAQ40_FIELDS.items()
            }
            self._save(Alsaq40, visit, partial, complete=False)
        elif roll < 0.14:  # a few questions left unanswered on purpose
            skipped = rng.sample(sorted(answers), k=rng.randint(1, 3))
            answers.update(dict.fromkeys(skipped))
            refused = dict.fromkeys(skipped, "refused")
            self._save(Alsaq40, visit, answers, complete=True, missing=refused)
        else:
            self._save(Alsaq40, visit, answers, complete=True)

    def _seiqol(self, person: Person, visit: Visit, items, *, may_stop: bool) -> None:
        rng = self.rng
        answers = outcomes.seiqol_answers(person.qol, items, rng)
        # The interview takes a while: left out more often than the questionnaires.
        if self._not_entered(items, base=0.04, per_loss=0.15):
            return
        roll = rng.random()
        if roll < 0.03:
            not_done = dict.fromkeys(Seiqol.required_answers, "not_done")
            self._save(Seiqol, visit, {}, complete=True, missing=not_done)
        elif roll < 0.07 and may_stop:  # areas named and rated, weights not yet on the disc
            partial = {k: None if k.endswith("_weight") else v for k, v in answers.items()}
            self._save(Seiqol, visit, partial, complete=False)
        else:
            self._save(Seiqol, visit, answers, complete=True)

    def screen(self, person: Person, participant: Participant, scr: Visit, decision_day: date):
        """Consent, the screening forms and (once decided) the eligibility checklist."""
        version = self._consent_version_on(person.screened_on)
        self._consent(participant, version, person.screened_on)
        decided = decision_day <= self.today
        # Forms are left in progress only while screening goes on; a decision needs them.
        self.outcomes(person, scr, person.screened_on, height=True, may_stop=not decided)
        answers = checklist_answers(person, self.rng)
        if not decided:
            return None
        return self._save(Eligibility, scr, answers, complete=True)

    def run_person(self, person: Person) -> Participant:
        rng = self.rng
        participant = participant_services.register_participant(
            actor=self.actor,
            site=self.site,
            trial=self.trial,
            screened_on=person.screened_on,
            identity={
                "full_name": person.name,
                # Numbers restart at each site, and a trial refuses a national ID registered
                # twice: the site's code keeps them apart.
                "national_id": f"{SYNTHETIC_ID_PREFIX}{self.site.code}-{person.number:07d}",
                "phone": f"+98 31 {rng.randint(1000, 9999)} {rng.randint(1000, 9999)}",
            },
            demographics={
                "date_of_birth": person.born,
                "sex": person.sex,
                "height_cm": person.height_cm,
                "weight_kg": Decimal(f"{person.weight_kg:.1f}"),
                "ethnicity": person.ethnicity,
            },
            als_history={
                "onset_date": person.onset,
                "onset_precision": person.onset_precision,
                "onset_region": person.onset_region,
                "diagnosis_date": person.diagnosis,
                "el_escorial": person.el_escorial,
                "family_history": "no",
                "riluzole": person.riluzole,
                "edaravone": person.edaravone,
            },
        )
        self.tally.participants += 1
        visits = {v.code: v for v in participant.visits.all()}
        for visit in visits.values():
            visit.participant = participant  # keeps its trial, demographics and history

        decision_day = person.screened_on + timedelta(days=rng.randint(3, 14))
        with self._segment():
            outcome = self._screening(person, participant, visits["SCR"], decision_day)
        if outcome is not None:
            return self._done(participant, outcome)
        participant_services.enrol_participant(
            actor=self.actor, participant=participant, enrolled_on=decision_day
        )
        with self._segment():
            participant = self._after_enrolment(person, participant, decision_day)
            self._safety(person, participant)
            return participant

    def _safety(self, person: Person, participant: Participant) -> None:
        """Adverse events, medication and the visits' safety reviews, from the dated visits
        (see `demo.safety_data`)."""
        visits = {
            v.code: v
            for v in Visit.objects.filter(
                participant=participant,
                code__in=("BL", "TX", *FOLLOW_UPS),
                actual_date__isnull=False,
            )
        }
        plan = safety_data.draw_safety(
            self.safety_rng,
            screened_on=person.screened_on,
            diagnosis=person.diagnosis,
            riluzole=person.riluzole,
            edaravone=person.edaravone,
            dated={code: v.actual_date for code, v in visits.items() if v.actual_date},
            today=self.today,
        )
        made = safety_data.write_safety(
            plan,
            participant=participant,
            visits=visits,
            actor=self.actor,
            investigator=self.investigator,
            zone=self.site.zone,
        )
        self.tally.forms.update(made)

    def _screening(
        self, person: Person, participant: Participant, scr: Visit, decision_day: date
    ) -> str | None:
        """Screening up to the decision: the status the person stays in, or None to enrol."""
        checklist = self.screen(person, participant, scr, decision_day)
        if checklist is None or checklist.decision == Decision.INCOMPLETE:
            return ParticipantStatus.SCREENING
        if checklist.decision == Decision.SCREEN_FAILURE:
            screening.record_screen_failure(
                actor=self.actor, participant=participant, effective_date=decision_day
            )
            return ParticipantStatus.SCREEN_FAILED
        if self.rng.random() < 0.03:
            reason = "Declined to take part after screening"
            self._exit(participant, ParticipantStatus.SCREEN_FAILED, decision_day, [reason])
            return ParticipantStatus.SCREEN_FAILED
        in_use = self._consent_version_on(decision_day)
        if in_use.pk != self._consent_version_on(person.screened_on).pk:
            self._consent(participant, in_use, decision_day)  # re-consent to the new version
        return None

    def _after_enrolment(
        self, person: Person, participant: Participant, decision_day: date
    ) -> Participant:
        rng, today = self.rng, self.today
        tx_day = decision_day + timedelta(days=rng.randint(20, 45))
        days_before = (
            rng.randint(31, (tx_day - decision_day).days)
            if rng.random() < 0.04 and (tx_day - decision_day).days > 31
            else rng.randint(1, min(28, (tx_day - decision_day).days))
        )
        baseline_day = tx_day - timedelta(days=days_before)
        if baseline_day > today:
            return self._done(participant, ParticipantStatus.ENROLLED)
        baseline = self._date(participant.visits.get(code="BL"), participant, baseline_day)
        self.outcomes(person, baseline, baseline_day, height=True)
        if tx_day > today:
            return self._done(participant, ParticipantStatus.ENROLLED)
        transplantation.record_transplantation(
            actor=self.actor,
            participant=participant,
            performed_at=datetime.combine(tx_day, time(9, 30), tzinfo=self.site.zone),
            data=TX_DATA,
        )
        self.tally.visits["TX"] += 1
        scheduled = {v.code: v for v in Visit.objects.filter(participant=participant)}
        tx_visit = scheduled["TX"]
        tx_visit.participant = participant
        self._enter(Vitals, tx_visit, vitals_answers(person, tx_day, rng, height=False))
        return self._follow_up(person, participant, scheduled, tx_day)

    def _follow_up(self, person, participant, scheduled, tx_day) -> Participant:
        rng, today = self.rng, self.today
        last_day = tx_day
        for code in FOLLOW_UPS:
            visit = scheduled[code]
            visit.participant = participant
            if rng.random() < 0.03:  # leaves the study before this visit
                exit_day = last_day + timedelta(
                    days=rng.randint(1, max(1, (visit.window_end - last_day).days))
                )
                if exit_day <= today:
                    status, reason = rng.choice(
                        (
                            (ParticipantStatus.WITHDRAWN, "Withdrew consent"),
                            (ParticipantStatus.LOST_TO_FOLLOW_UP, "No contact after 3 attempts"),
                            (ParticipantStatus.DIED, "Respiratory failure"),
                        )
                    )
                    if status == ParticipantStatus.LOST_TO_FOLLOW_UP:
                        self._contact_attempts(participant, last_day, exit_day)
                    self._exit(participant, status, exit_day, [reason])
                    return self._done(participant, status)
            if visit.window_start > today:
                break  # not due yet
            roll = rng.random()
            if visit.window_end < today and roll < 0.09:
                visit_services.mark_visit_missed(
                    actor=self.actor, visit=visit, reason=rng.choice(MISSED_REASONS)
                )
                self.tally.visits[f"{code} missed"] += 1
                if code == "M24":
                    last_day = visit.window_end
                continue
            if visit.window_end < today and roll < 0.15:
                offset = rng.randint(29, 45) * rng.choice((-1, 1))
                day = visit.target_date + timedelta(days=offset)
                if day > today or day <= last_day:
                    day = visit.target_date + timedelta(days=rng.randint(-7, 7))
            elif visit.window_end < today or roll < 0.5:
                day = visit.target_date + timedelta(days=int(rng.triangular(-20, 24, 2)))
                day = min(day, today)
            else:
                break  # window open, visit not done yet
            dated = self._date(visit, participant, day)
            self.outcomes(person, dated, day, height=False)
            last_day = day
        else:
            if last_day <= today and last_day > tx_day:
                self._exit(participant, ParticipantStatus.COMPLETED, last_day, ["Month 24 reached"])
                return self._done(participant, ParticipantStatus.COMPLETED)
        return self._done(participant, ParticipantStatus.TRANSPLANTED)

    def _date(self, visit: Visit, participant: Participant, day: date) -> Visit:
        dated = visit_services.record_visit_date(actor=self.actor, visit=visit, actual_date=day)
        dated.participant = participant
        self.tally.visits[dated.code] += 1
        return dated

    def _contact_attempts(self, participant: Participant, last_day: date, exit_day: date):
        """Three unanswered attempts to reach the participant, the last on `exit_day`."""
        for days_before in (14, 7, 0):
            participant_services.record_contact_attempt(
                actor=self.actor,
                participant=participant,
                attempted_on=max(last_day, exit_day - timedelta(days=days_before)),
                method="phone",
                outcome="no_answer",
            )

    def _exit(self, participant: Participant, status: str, day: date, reasons: list[str]):
        """End of study (or screen failure) with the details change_status requires."""
        details: dict[str, object] = {}
        if status == ParticipantStatus.WITHDRAWN:
            details = {"withdrawn_by": "participant", "follow_up_allowed": False}
        elif status == ParticipantStatus.DIED:
            details = {"death_cause": reasons[0], "death_als_related": "yes"}
        participant_services.change_status(
            actor=self.actor,
            participant=participant,
            to_status=status,
            effective_date=day,
            reason="; ".join(reasons),
            details=details,
        )

    def _done(self, participant: Participant, status: str) -> Participant:
        self.tally.statuses[status] += 1
        return participant


DEMO_CONSENT_VERSION = "1.0"


def demo_consent_version(trial: Trial, today: date) -> ConsentVersion:
    """The demo's consent form version 1.0, in use since 1 January five years ago (made once,
    through the service), so every synthetic screening date has a version to sign."""
    existing = ConsentVersion.objects.filter(trial=trial, version=DEMO_CONSENT_VERSION).first()
    start = date(today.year - 5, 1, 1)
    return existing or participant_services.add_consent_version(
        trial=trial, version=DEMO_CONSENT_VERSION, approval_date=start, active_from=start
    )


def synthetic_participants(site: Site):
    """Participants made by this module at ``site``."""
    ids = ParticipantIdentity.objects.filter(national_id__startswith=SYNTHETIC_ID_PREFIX)
    return Participant.objects.filter(site=site, identity__in=ids)


def _person_seeds(seed: int, n: int) -> list[int]:
    """One seed per person from ``random.Random(seed)``: person i is the same whatever the
    order or the process that makes it."""
    master = random.Random(seed)
    return [master.getrandbits(64) for _ in range(n)]


def _seed_slice(
    *, actor, site: Site, trial: Trial, seeds: list[tuple[int, int]], today: date, atomic: bool
) -> Tally:
    seeder = Seeder(actor=actor, site=site, trial=trial, rng=random.Random(0), today=today)
    seeder.segments = not atomic
    for number, person_seed in seeds:
        seeder.rng = random.Random(person_seed)
        seeder.safety_rng = random.Random(f"safety {person_seed}")
        person = draw_person(seeder.rng, number, today)
        # Reminders are synced once per person, when their data is all in, not after each
        # visit date (the same pending reminders; see reminders.services.deferred_sync); the
        # edit checks are not queued per saved form but run once after the run (the command).
        with (
            transaction.atomic() if atomic else nullcontext(),
            reminders.deferred_sync(),
            checks.unchecked_saves(),
        ):
            seeder.run_person(person)
    return seeder.tally


def _worker(args) -> Tally:
    actor_pk, site_pk, trial_pk, seeds, today = args
    from django.contrib.auth import get_user_model

    return seed_slice_committing(
        actor=get_user_model().objects.get(pk=actor_pk),
        site=Site.objects.get(pk=site_pk),
        trial=Trial.objects.get(pk=trial_pk),
        seeds=seeds,
        today=today,
    )


def seed_slice_committing(
    *, actor, site: Site, trial: Trial, seeds: list[tuple[int, int]], today: date
) -> Tally:
    """Seed `seeds` as a worker process does: committing as it goes, a person in a few
    transactions (`Seeder._segment`; one transaction per person would hold the site's
    screening-number row locked for the whole person and serialise the workers).

    The services' own atomic blocks run inside those transactions without savepoints, so
    they cost no round trips; nothing in seeding catches an error and carries on, so an
    error still rolls the whole segment back. Must not run inside a transaction."""
    if connection.in_atomic_block:
        # Without savepoints an error inside would leave the caller's transaction unusable.
        raise RuntimeError("seed_slice_committing commits as it goes: call it outside atomic")
    with _worker_connection():
        return _seed_slice(
            actor=actor, site=site, trial=trial, seeds=seeds, today=today, atomic=False
        )


def person_seeds(seed: int, n: int, *, first_number: int = 1) -> list[tuple[int, int]]:
    """(number, seed) of each person: see `_person_seeds`."""
    return list(enumerate(_person_seeds(seed, n), start=first_number))


# The seeder's speed-ups touch Django internals and the server's durability setting, so they
# stay here, last only as long as the seeding does and are undone on the way out: the same
# connection may go on to save real data (a shell, a test, the benchmark's own queries).


@contextmanager
def _asynchronous_commits() -> Iterator[None]:
    """Demo data: a crash may lose the last commits, never corrupt them; much faster.

    On the way out the setting goes back to the server's; should that fail (a broken
    connection), the connection is closed, which forgets the setting with the session."""
    with connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit TO OFF")
    try:
        yield
    finally:
        try:
            with connection.cursor() as cursor:
                cursor.execute("RESET synchronous_commit")
        except DatabaseError:
            connection.close()


@contextmanager
def _worker_connection() -> Iterator[None]:
    """A committing worker's connection: asynchronous commits, no savepoints inside the
    services' atomic blocks (see `seed_slice_committing`), plain cursors."""
    features = connection.features
    savepoints = features.uses_savepoints
    features.uses_savepoints = False
    # DEBUG (required by seed_demo) would log and format every statement: a tenth of a
    # worker's time, for a log nobody reads. Execute wrappers (the audit context) still apply.
    connection.make_debug_cursor = connection.make_cursor  # type: ignore[method-assign,assignment]
    try:
        with _asynchronous_commits():
            yield
    finally:
        features.uses_savepoints = savepoints
        del connection.make_debug_cursor


def seed_participants(
    *,
    actor,
    site: Site,
    trial: Trial,
    n: int,
    seed: int,
    today: date | None = None,
    jobs: int = 1,
) -> Tally:
    """Create ``n`` synthetic participants. Numbers continue after those already seeded at
    the site, so a second run adds people instead of repeating national IDs.

    ``jobs`` > 1 splits the people over that many processes (each with its own database
    connection); the result is the same people with the same scores, only the screening
    numbers are handed out in a different order.
    """
    today = today or site.local_today()
    demo_consent_version(trial, today)
    start = synthetic_participants(site).count()
    seeds = person_seeds(seed, n, first_number=start + 1)
    if jobs <= 1 or n < 2 * jobs:
        with _asynchronous_commits():
            return _seed_slice(
                actor=actor, site=site, trial=trial, seeds=seeds, today=today, atomic=True
            )
    import multiprocessing

    from django.db import connections

    connections.close_all()  # children open their own; a shared socket would be corrupted
    # Load the spirometry equations (pandas, pyspiro's tables: ~1.5 s) once, before forking,
    # rather than once in each worker.
    fvc.load_equation(fvc.DEFAULT_EQUATION)  # the generator's
    fvc.load_equation(fvc_models.equation_of_trial(trial))
    chunks = [seeds[i::jobs] for i in range(jobs)]
    work = [(actor.pk, site.pk, trial.pk, chunk, today) for chunk in chunks]
    with multiprocessing.get_context("fork").Pool(jobs) as pool:
        tallies = pool.map(_worker, work)
    total = Tally()
    for tally in tallies:
        total.participants += tally.participants
        total.statuses.update(tally.statuses)
        total.forms.update(tally.forms)
        total.visits.update(tally.visits)
    return total


__all__ = [
    "Person",
    "Seeder",
    "Tally",
    "draw_person",
    "person_seeds",
    "seed_participants",
    "seed_slice_committing",
    "synthetic_participants",
]
