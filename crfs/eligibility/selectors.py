"""Eligibility reads: the checklist of a participant's screening visit."""

from __future__ import annotations

from crfs.eligibility.models import Eligibility
from trials.protocols.definitions import VisitKind


def screening_checklist(participant) -> Eligibility | None:
    """The eligibility checklist of the participant's screening visit (with its override)."""
    codes = [v.code for v in participant.trial.protocol.visits if v.kind == VisitKind.SCREENING]
    return (
        Eligibility.objects.filter(visit__participant=participant, visit__code__in=codes)
        .select_related("visit", "override__investigator")
        .first()
    )
