"""Reads for participants, always scoped by site through trials.permissions."""

from __future__ import annotations

from django.http import Http404

from participants.models import Consent, Participant
from trials import permissions


def get_participant_or_404(
    user, code: str, pk: int, capability: str = permissions.VIEW_PARTICIPANTS
) -> Participant:
    """A participant of a site where the user holds `capability`; 404 for any other."""
    site = permissions.get_site_or_404(user, code, capability)
    participant = (
        Participant.objects.filter(site=site, pk=pk).select_related("site", "trial").first()
    )
    if participant is None:
        raise Http404
    return participant


def consents_of(participant: Participant) -> list[Consent]:
    """Every consent the participant signed, oldest first, with version and taker."""
    return list(
        Consent.objects.filter(participant=participant).select_related("version", "taken_by")
    )
