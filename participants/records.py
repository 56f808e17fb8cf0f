"""Demographics and ALS history in the catalogue of reviewable records (trials.records)."""

from __future__ import annotations

from participants.corrections import DEMOGRAPHICS_FIELDS, HISTORY_FIELDS
from participants.models import AlsHistory, Demographics
from trials.records import RecordType, participant_page, register


def _page(name: str):
    def page(record) -> str:
        participant = record.participant
        return participant_page(participant.site.code, participant.pk, name)

    return page


def register_records() -> None:
    register(
        RecordType(
            key="demographics",
            model=Demographics,
            participant_path="participant",
            visit_path=None,
            page=_page("participant-demographics"),
            data_fields=DEMOGRAPHICS_FIELDS,
        )
    )
    register(
        RecordType(
            key="als_history",
            model=AlsHistory,
            participant_path="participant",
            visit_path=None,
            page=_page("participant-als-history"),
            data_fields=HISTORY_FIELDS,
        )
    )
