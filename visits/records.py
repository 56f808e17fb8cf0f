"""Visits in the catalogue of reviewable records (trials.records): their date and the
reason a visit was missed are data a monitor verifies and queries."""

from __future__ import annotations

from trials.records import RecordType, participant_page, register
from visits.models import Visit


def _page(visit: Visit) -> str:
    participant = visit.participant
    return participant_page(
        participant.site.code, participant.pk, "visit-detail", visit_pk=visit.pk
    )


def register_records() -> None:
    register(
        RecordType(
            key="visit",
            model=Visit,
            participant_path="participant",
            visit_path="",
            page=_page,
            data_fields=("actual_date", "missed_reason"),
        )
    )
