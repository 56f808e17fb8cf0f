"""Adverse events, con meds and the per-visit safety review in the catalogue of reviewable
records (trials.records)."""

from __future__ import annotations

from safety.forms import AdverseEventForm, ConcomitantMedicationForm, VisitReviewForm
from safety.models import AdverseEvent, ConcomitantMedication, VisitSafetyReview
from trials.records import RecordType, entered_fields, participant_page, register


def _ae_page(event: AdverseEvent) -> str:
    participant = event.participant
    return participant_page(
        participant.site.code, participant.pk, "adverse-event-edit", ae_pk=event.pk
    )


def _conmed_page(medication: ConcomitantMedication) -> str:
    participant = medication.participant
    return participant_page(
        participant.site.code, participant.pk, "conmed-edit", conmed_pk=medication.pk
    )


def _review_page(review: VisitSafetyReview) -> str:
    participant = review.visit.participant
    return participant_page(
        participant.site.code, participant.pk, "visit-safety", visit_pk=review.visit_id
    )


def register_records() -> None:
    register(
        RecordType(
            key="adverse_event",
            model=AdverseEvent,
            participant_path="participant",
            visit_path="visit",
            page=_ae_page,
            data_fields=entered_fields(AdverseEvent, AdverseEventForm.base_fields),
        )
    )
    register(
        RecordType(
            key="conmed",
            model=ConcomitantMedication,
            participant_path="participant",
            visit_path="visit",
            page=_conmed_page,
            data_fields=entered_fields(
                ConcomitantMedication, ConcomitantMedicationForm.base_fields
            ),
        )
    )
    register(
        RecordType(
            key="visit_safety_review",
            model=VisitSafetyReview,
            participant_path="visit__participant",
            visit_path="visit",
            page=_review_page,
            data_fields=entered_fields(VisitSafetyReview, VisitReviewForm.base_fields),
        )
    )
