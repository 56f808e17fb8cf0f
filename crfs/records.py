"""The entry forms in the catalogue of reviewable records (trials.records), under their
protocol form code."""

from __future__ import annotations

from crfs import registry
from crfs.base import FormRecord
from trials.records import RecordType, entered_fields, participant_page, register


def _page(code: str):
    def page(record: FormRecord) -> str:
        visit = record.visit
        participant = visit.participant
        return participant_page(
            participant.site.code, participant.pk, "crf-entry", visit_pk=visit.pk, form_code=code
        )

    return page


def register_records() -> None:
    for spec in registry.entry_forms().values():
        register(
            RecordType(
                key=spec.code,
                model=spec.model,
                participant_path="visit__participant",
                visit_path="visit",
                page=_page(spec.code),
                data_fields=entered_fields(spec.model, spec.form_class.base_fields),
            )
        )
