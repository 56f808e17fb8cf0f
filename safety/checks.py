"""Edit checks on the safety logs: an adverse event ending before its onset, a medication
stopped before it started. The save refuses both; the checks find those that came in another
way (an admin edit, data loaded from elsewhere) and close when a save corrects them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from participants.partial_dates import PartialDate
from safety.models import AdverseEvent, ConcomitantMedication
from trials.checks import Check, Finding, register


@dataclass(frozen=True)
class Span:
    """A log row's dates; partial dates compare by their periods: only an end whose last
    possible day is before the first possible day of the start is certainly wrong."""

    record_pk: int
    visit_id: int
    label: str  # how the page names the row ("AE 3", the medication's name)
    start: PartialDate | None
    end: PartialDate | None


@dataclass(frozen=True)
class Spans:
    spans: tuple[Span, ...]


def _ends_before_start(span: Span) -> bool:
    return (
        span.start is not None and span.end is not None and span.end.last_day < span.start.first_day
    )


def ae_onset_after_end(spans: Spans) -> list[Finding]:
    return [
        Finding(
            record_type="adverse_event",
            record_pk=s.record_pk,
            visit_id=s.visit_id,
            field="end_date",
            key="dates",
            message=_("%(ae)s: onset %(start)s is after its end %(end)s.")
            % {"ae": s.label, "start": s.start, "end": s.end},
        )
        for s in spans.spans
        if _ends_before_start(s)
    ]


def conmed_stop_before_start(spans: Spans) -> list[Finding]:
    return [
        Finding(
            record_type="conmed",
            record_pk=s.record_pk,
            visit_id=s.visit_id,
            field="stop_date",
            key="dates",
            message=_("%(medication)s: stopped %(end)s, before it started %(start)s.")
            % {"medication": s.label, "start": s.start, "end": s.end},
        )
        for s in spans.spans
        if _ends_before_start(s)
    ]


def _partial(day, precision) -> PartialDate | None:
    return None if day is None else PartialDate.of(day, precision)


def load_adverse_events(participant_ids: Sequence[int]) -> dict[int, Spans]:
    rows = AdverseEvent.objects.filter(participant_id__in=participant_ids).values_list(
        "participant_id",
        "pk",
        "visit_id",
        "number",
        "onset_date",
        "onset_precision",
        "end_date",
        "end_precision",
    )
    grouped: dict[int, list[Span]] = {}
    for pid, pk, visit_id, number, onset, onset_p, end, end_p in rows.order_by("pk"):
        label = _("AE %(n)s") % {"n": number}
        grouped.setdefault(pid, []).append(
            Span(pk, visit_id, label, _partial(onset, onset_p), _partial(end, end_p))
        )
    return {pid: Spans(tuple(found)) for pid, found in grouped.items()}


def load_conmeds(participant_ids: Sequence[int]) -> dict[int, Spans]:
    rows = ConcomitantMedication.objects.filter(participant_id__in=participant_ids).values_list(
        "participant_id",
        "pk",
        "visit_id",
        "medication",
        "other_name",
        "start_date",
        "start_precision",
        "stop_date",
        "stop_precision",
    )
    grouped: dict[int, list[Span]] = {}
    for pid, pk, visit_id, medication, other, start, start_p, stop, stop_p in rows.order_by("pk"):
        name = ConcomitantMedication(medication=medication, other_name=other).name
        grouped.setdefault(pid, []).append(
            Span(pk, visit_id, name, _partial(start, start_p), _partial(stop, stop_p))
        )
    return {pid: Spans(tuple(found)) for pid, found in grouped.items()}


def register_checks() -> None:
    register(
        Check(
            key="ae_dates",
            label=gettext_lazy("AE onset after end"),
            description=gettext_lazy("An adverse event whose onset is after its end."),
            load=load_adverse_events,
            rule=ae_onset_after_end,
            triggers=frozenset({"adverse_event"}),
        )
    )
    register(
        Check(
            key="conmed_dates",
            label=gettext_lazy("Medication stopped before start"),
            description=gettext_lazy("A concomitant medication stopped before it started."),
            load=load_conmeds,
            rule=conmed_stop_before_start,
            triggers=frozenset({"conmed"}),
        )
    )
