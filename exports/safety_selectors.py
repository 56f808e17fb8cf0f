"""Reads of the safety records for the read API: scoped to sites, in a stable order, with
what the serializers follow loaded up front (a page costs the same queries at any size)."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from safety.models import AdverseEvent, AdverseEventAssessment, ConcomitantMedication
from trials.models import Site


def adverse_events_at(sites: QuerySet[Site]) -> QuerySet[AdverseEvent]:
    assessments = AdverseEventAssessment.objects.select_related("investigator").order_by(
        "signed_at", "pk"
    )
    return (
        AdverseEvent.objects.filter(participant__site__in=sites)
        .select_related("participant__site", "visit")
        .prefetch_related(Prefetch("assessments", queryset=assessments))
        .order_by("participant_id", "number")
    )


def conmeds_at(sites: QuerySet[Site]) -> QuerySet[ConcomitantMedication]:
    return (
        ConcomitantMedication.objects.filter(participant__site__in=sites)
        .select_related("participant__site", "visit")
        .order_by("participant_id", "pk")
    )
