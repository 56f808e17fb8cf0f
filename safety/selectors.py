"""Reads of the safety records, at a constant number of queries however long the lists."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum

from django.db.models import (
    Count,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
)

from participants.models import Participant
from safety import coding
from safety.choices import ALS_DRUGS, RELATED, Grade, Relatedness
from safety.models import (
    AdverseEvent,
    AdverseEventAssessment,
    ConcomitantMedication,
    VisitSafetyReview,
)
from trials.models import Site
from visits.models import Visit


def _with_assessments(events: QuerySet[AdverseEvent]) -> QuerySet[AdverseEvent]:
    return events.select_related("visit", "updated_by").prefetch_related(
        Prefetch(
            "assessments",
            queryset=AdverseEventAssessment.objects.select_related("investigator"),
        )
    )


def adverse_events_of(participant: Participant, visit: Visit | None = None) -> list[AdverseEvent]:
    """The participant's events (those reported at `visit` if given) in number order, each
    with its visit and assessments (two queries)."""
    found = AdverseEvent.objects.filter(participant=participant)
    if visit is not None:
        found = found.filter(visit=visit)
    events = list(_with_assessments(found))
    for event in events:
        event.participant = participant
    return events


def adverse_event_of(participant: Participant, event_id: int) -> AdverseEvent | None:
    event = _with_assessments(AdverseEvent.objects.filter(participant=participant, pk=event_id))
    found = event.first()
    if found is not None:
        found.participant = participant
    return found


def conmeds_of(participant: Participant, visit: Visit | None = None) -> list[ConcomitantMedication]:
    found = ConcomitantMedication.objects.filter(participant=participant)
    if visit is not None:
        found = found.filter(visit=visit)
    meds = list(found.select_related("visit", "updated_by"))
    for med in meds:
        med.participant = participant
    return meds


def als_drug_changes(participant: Participant) -> dict[int, list[ConcomitantMedication]]:
    """{visit id: riluzole or edaravone records recorded at that visit}, in one query: the
    ALS-specific drug changes the participant page shows on its visit timeline."""
    changes: dict[int, list[ConcomitantMedication]] = {}
    for med in ConcomitantMedication.objects.filter(
        participant=participant, medication__in=ALS_DRUGS
    ).order_by("start_date", "pk"):
        changes.setdefault(med.visit_id, []).append(med)
    return changes


class SafetyStatus(StrEnum):
    """A visit's answer to one safety question."""

    RECORDED = "recorded"  # events (or medications) recorded at the visit
    NONE = "none"  # explicitly: nothing since the last visit
    NOT_ANSWERED = "not_answered"


@dataclass
class VisitSafety:
    """The safety state of one visit, per safety form the protocol expects there."""

    adverse_events: SafetyStatus | None = None  # None: not asked at this visit
    conmeds: SafetyStatus | None = None
    adverse_event_count: int = 0
    conmed_count: int = 0
    statuses: dict[str, SafetyStatus] = field(default_factory=dict)

    @property
    def complete(self) -> bool:
        return all(status != SafetyStatus.NOT_ANSWERED for status in self.statuses.values())


def visit_safety_status(visits: Iterable[Visit]) -> dict[int, VisitSafety]:
    """{visit id: VisitSafety} for the "adverse_events" and "conmeds" forms of each visit's
    schedule, in three queries whatever the number of visits (the visits need their
    participant and trial loaded for `expected_forms`). For the participant and visit pages."""
    visits = list(visits)
    ids = [v.pk for v in visits]
    ae_counts = Counter(
        dict(
            AdverseEvent.objects.filter(visit_id__in=ids)
            .values_list("visit_id")
            .annotate(n=Count("pk"))
            .values_list("visit_id", "n")
        )
    )
    med_counts = Counter(
        dict(
            ConcomitantMedication.objects.filter(visit_id__in=ids)
            .values_list("visit_id")
            .annotate(n=Count("pk"))
            .values_list("visit_id", "n")
        )
    )
    reviews = {
        visit_id: (no_aes, no_changes)
        for visit_id, no_aes, no_changes in VisitSafetyReview.objects.filter(
            visit_id__in=ids
        ).values_list("visit_id", "no_adverse_events", "no_conmed_changes")
    }
    result = {}
    for visit in visits:
        expected = visit.expected_forms()
        no_aes, no_changes = reviews.get(visit.pk, (None, None))
        state = VisitSafety(
            adverse_event_count=ae_counts[visit.pk], conmed_count=med_counts[visit.pk]
        )
        if "adverse_events" in expected:
            state.adverse_events = _status(ae_counts[visit.pk], no_aes)
            state.statuses["adverse_events"] = state.adverse_events
        if "conmeds" in expected:
            state.conmeds = _status(med_counts[visit.pk], no_changes)
            state.statuses["conmeds"] = state.conmeds
        result[visit.pk] = state
    return result


def _status(count: int, none_answered: bool | None) -> SafetyStatus:
    if count:
        return SafetyStatus.RECORDED
    return SafetyStatus.NONE if none_answered else SafetyStatus.NOT_ANSWERED


# --- the site's AE listing ---------------------------------------------------------------

LISTING_FILTERS = ("serious", "grade3", "related", "ongoing", "unacknowledged")


def _acknowledged() -> Exists:
    return Exists(AdverseEventAssessment.objects.filter(adverse_event=OuterRef("pk")))


def _related() -> Q:
    return Q(related_procedure__in=RELATED) | Q(related_cells__in=RELATED)


def ae_listing(site: Site, filters: Iterable[str] = ()) -> QuerySet[AdverseEvent]:
    """The site's adverse events, each with its participant, visit, acknowledgement and days
    from the transplantation to onset, in one query. Filters (all that are given apply):
    serious, grade ≥ 3, related (possibly or more) to the procedure or the cells, ongoing,
    serious and not yet acknowledged by an investigator."""
    events = (
        AdverseEvent.objects.filter(participant__site=site)
        .select_related("participant", "visit", "participant__transplantation")
        .annotate(
            acknowledged=_acknowledged(),
            days_from_transplantation=ExpressionWrapper(
                F("onset_date") - F("participant__transplantation__performed_on"),
                output_field=DurationField(),
            ),
        )
    )
    chosen = set(filters)
    if "serious" in chosen:
        events = events.filter(serious=True)
    if "grade3" in chosen:
        events = events.filter(grade__gte=Grade.SEVERE)
    if "related" in chosen:
        events = events.filter(_related())
    if "ongoing" in chosen:
        events = events.filter(ongoing=True)
    if "unacknowledged" in chosen:
        events = events.filter(serious=True, acknowledged=False)
    return events.order_by("participant__screening_number", "number")


@dataclass
class ListingCounts:
    # (term label, counts in the order of `grades`, total), by term label
    by_term_grade: list[tuple[str, list[int], int]]
    grades: list[int]
    # (relatedness label, to the procedure, to the cells)
    by_relatedness: list[tuple[str, int, int]]
    total: int


def listing_counts(events: QuerySet[AdverseEvent]) -> ListingCounts:
    """Counts over the (filtered) listing: events by coded term and grade and by relatedness,
    in three queries."""
    grid: dict[str, dict[int, int]] = {}
    for term_code, grade, n in (
        events.order_by().values_list("term_code", "grade").annotate(n=Count("pk"))
    ):
        label = coding.label(term_code) or "—"
        row = grid.setdefault(label, {})
        row[grade or 0] = row.get(grade or 0, 0) + n
    procedure = dict(
        events.order_by()
        .values_list("related_procedure")
        .annotate(n=Count("pk"))
        .values_list("related_procedure", "n")
    )
    cells = dict(
        events.order_by()
        .values_list("related_cells")
        .annotate(n=Count("pk"))
        .values_list("related_cells", "n")
    )
    relatedness = [
        (str(label), procedure.get(value, 0), cells.get(value, 0))
        for value, label in Relatedness.choices
    ]
    relatedness.append(("—", procedure.get(None, 0), cells.get(None, 0)))
    grades = [*Grade.values, 0]
    rows = [
        (label, [by_grade.get(g, 0) for g in grades], sum(by_grade.values()))
        for label, by_grade in sorted(grid.items())
    ]
    return ListingCounts(
        by_term_grade=rows,
        grades=grades,
        by_relatedness=relatedness,
        total=sum(total for _label, _grades, total in rows),
    )
