"""What a participant's trajectory is drawn from: the outcomes per visit, the visits'
attendance, the adverse events and the medication changes (from the records' history),
read in a constant number of queries (three, plus the transplantation and the ALS history
when the caller's participant has not loaded them with select_related, as the participant
page does)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import F, QuerySet

from participants.choices import ParticipantStatus
from participants.models import Participant
from participants.partial_dates import PartialDate
from review.recordinfo import event_model
from safety.models import AdverseEvent, ConcomitantMedication, Medication
from trials.prepared import Prepared
from visits.choices import VisitStatus
from visits.models import Visit

ALSFRS_FIELDS = (
    "total",
    "bulbar",
    "fine_motor",
    "gross_motor",
    "respiratory",
    "kings_stage",
    "mitos_stage",
    "delta_fs",
)


@dataclass(frozen=True)
class VisitOutcomes:
    code: str  # display code: "M06", "UNS-1"
    status: VisitStatus  # today's status (overdue, missed, attended out of window...)
    day: date | None  # the visit date, or for one not attended its target date
    attended: bool
    total: int | None = None
    bulbar: int | None = None
    fine_motor: int | None = None
    gross_motor: int | None = None
    respiratory: int | None = None
    kings: str = ""  # "1".."3", "4A", "4B"
    mitos: int | None = None
    delta_fs: float | None = None
    fvc_percent: float | None = None
    weight_kg: float | None = None

    @property
    def out_of_window(self) -> bool:
        return self.status == VisitStatus.DONE_OUT_OF_WINDOW


@dataclass(frozen=True)
class EventMark:
    number: int
    term: str  # the coded term's label, never the verbatim text (free text may name people)
    onset: date
    grade: int | None
    serious: bool | None


class MedicationChangeKind(StrEnum):
    STARTED = "started"
    STOPPED = "stopped"
    # dose, unit, route or frequency changed: an edit of the medication's record that
    # replaced a value given before (filling in a blank is not a change)
    CHANGED = "changed"


# The prescription's terms: a new value of one of these, over a value given before, is a
# change of the medication (the history of the record, pghistory's events, keeps each).
PRESCRIPTION_FIELDS = ("dose", "dose_unit", "route", "frequency")


@dataclass(frozen=True)
class MedicationChange:
    name: str
    kind: MedicationChangeKind
    day: date  # started, stopped: the (imputed) date given; changed: the day it was entered
    als_drug: bool
    # changed: (field, before, after) of each prescription term that changed
    terms: tuple[tuple[str, object, object], ...] = ()

    @property
    def started(self) -> bool:
        return self.kind == MedicationChangeKind.STARTED


@dataclass(frozen=True)
class TrajectoryData:
    onset: PartialDate | None
    transplanted_on: date | None
    screened_on: date
    visits: tuple[VisitOutcomes, ...]
    events: tuple[EventMark, ...]
    medication_changes: tuple[MedicationChange, ...]
    died_on: date | None = None  # King's and MiToS stage 5

    @property
    def baseline(self) -> VisitOutcomes | None:
        """The last pre-treatment ALSFRS-R with a total and a date: baseline, else screening."""
        for code in ("BL", "SCR"):
            for visit in self.visits:
                if visit.code == code and visit.total is not None and visit.attended:
                    return visit
        return None


def _number(value: object) -> float | None:
    return None if value is None else float(value)  # type: ignore[arg-type]


# A visit's own fields the outcomes need, then what is drawn from its ALSFRS-R, FVC and
# vitals (NULL when the visit has no such record, as an absent record reads None).
_VISIT_FIELDS = (
    *("code", "sequence", "status", "actual_date"),
    *("target_date", "window_start", "window_end"),
)
_DRAWN = (
    *(f"alsfrsr__{name}" for name in ALSFRS_FIELDS),
    "fvc__percent_predicted",
    "vitals__weight_kg",
)


def _participant_visits(_shape: object, participant_id: int) -> QuerySet:
    return (
        Visit.objects.filter(participant_id=participant_id)
        .order_by("position", "actual_date", "target_date", "sequence")
        .values_list(*_VISIT_FIELDS, *_DRAWN)
    )


# Its SQL (three outer joins) built once per process; every call runs it.
_VISITS = Prepared(_participant_visits)


def _outcomes(row: tuple[Any, ...], today: date) -> VisitOutcomes:
    """A row of _VISITS as the charts read it."""
    visit = Visit(**dict(zip(_VISIT_FIELDS, row, strict=False)))
    drawn = dict(zip(_DRAWN, row[len(_VISIT_FIELDS) :], strict=True))
    return VisitOutcomes(
        code=visit.display_code,
        status=VisitStatus(visit.status_on(today)),
        day=visit.actual_date or visit.target_date,
        attended=visit.actual_date is not None,
        total=drawn["alsfrsr__total"],
        bulbar=drawn["alsfrsr__bulbar"],
        fine_motor=drawn["alsfrsr__fine_motor"],
        gross_motor=drawn["alsfrsr__gross_motor"],
        respiratory=drawn["alsfrsr__respiratory"],
        kings=drawn["alsfrsr__kings_stage"] or "",
        mitos=drawn["alsfrsr__mitos_stage"],
        delta_fs=drawn["alsfrsr__delta_fs"],
        fvc_percent=_number(drawn["fvc__percent_predicted"]),
        weight_kg=_number(drawn["vitals__weight_kg"]),
    )


def _onset(participant: Participant) -> PartialDate | None:
    try:
        history = participant.als_history
    except ObjectDoesNotExist:
        return None
    if history.onset_date is None:
        return None
    return PartialDate.of(history.onset_date, history.onset_precision)


def _transplanted_on(participant: Participant) -> date | None:
    try:
        return participant.transplantation.performed_on
    except ObjectDoesNotExist:
        return None


def _imputed(day: date | None, precision: str | None) -> date | None:
    return None if day is None else PartialDate.of(day, precision).imputed()


def _name(version: dict[str, Any]) -> str:
    if version["medication"] == Medication.OTHER:
        return str(version["other_name"])
    return str(Medication(version["medication"]).label) if version["medication"] else ""


def medication_changes(participant: Participant) -> tuple[MedicationChange, ...]:
    """Every start, stop and change of the participant's medications, from the records'
    history in one query: each record's versions in order (pghistory writes one with every
    insert and update, in the same transaction); the last is the record as it stands, which
    gives its start and stop; a version whose dose, unit, route or frequency replaces a value
    of the version before is a change, on the site's calendar day it was entered."""
    events = event_model(ConcomitantMedication)
    if events is None:  # pragma: no cover - the model is tracked (safety.models)
        return ()
    versions = (
        events._default_manager.filter(pgh_obj__participant=participant)
        .order_by("pgh_obj_id", "pgh_id")
        .values(
            "pgh_obj_id",
            "pgh_created_at",
            "medication",
            "other_name",
            "start_date",
            "start_precision",
            "stop_date",
            "stop_precision",
            *PRESCRIPTION_FIELDS,
            zone=F("pgh_obj__participant__site__time_zone"),
        )
    )
    changes: list[MedicationChange] = []
    previous: dict[str, Any] | None = None
    last: dict[str, Any] | None = None

    def close(med: dict[str, Any] | None) -> None:
        if med is None:
            return
        als_drug = med["medication"] in (Medication.RILUZOLE, Medication.EDARAVONE)
        if (started := _imputed(med["start_date"], med["start_precision"])) is not None:
            changes.append(
                MedicationChange(_name(med), MedicationChangeKind.STARTED, started, als_drug)
            )
        if (stopped := _imputed(med["stop_date"], med["stop_precision"])) is not None:
            changes.append(
                MedicationChange(_name(med), MedicationChangeKind.STOPPED, stopped, als_drug)
            )

    for version in versions:
        if previous is not None and previous["pgh_obj_id"] != version["pgh_obj_id"]:
            close(last)
            previous = None
        if previous is not None:
            terms = tuple(
                (name, previous[name], version[name])
                for name in PRESCRIPTION_FIELDS
                if None not in (previous[name], version[name]) and version[name] != previous[name]
            )
            if terms:
                entered = version["pgh_created_at"].astimezone(ZoneInfo(version["zone"])).date()
                als_drug = version["medication"] in (Medication.RILUZOLE, Medication.EDARAVONE)
                changes.append(
                    MedicationChange(
                        _name(version), MedicationChangeKind.CHANGED, entered, als_drug, terms
                    )
                )
        previous = last = version
    close(last)
    return tuple(sorted(changes, key=lambda c: (c.day, c.name, c.kind)))


def trajectory_data(participant: Participant, today: date) -> TrajectoryData:
    # The three forms are wide: reading only what is drawn halves the time.
    outcomes = tuple(_outcomes(row, today) for row in _VISITS.rows(participant.pk))
    events = tuple(
        EventMark(
            number=ae.number, term=ae.term_label, onset=onset, grade=ae.grade, serious=ae.serious
        )
        for ae in AdverseEvent.objects.filter(
            participant=participant, onset_date__isnull=False
        ).only("number", "term_code", "onset_date", "onset_precision", "grade", "serious")
        if (onset := _imputed(ae.onset_date, ae.onset_precision)) is not None
    )
    return TrajectoryData(
        onset=_onset(participant),
        transplanted_on=_transplanted_on(participant),
        screened_on=participant.screened_on,
        visits=outcomes,
        events=events,
        medication_changes=medication_changes(participant),
        died_on=participant.exited_on if participant.status == ParticipantStatus.DIED else None,
    )
