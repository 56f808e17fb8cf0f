"""Reads for the participant list and page and the visit page; constant query counts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING

from django.db.models import (
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
)
from django.utils.translation import gettext_lazy as _

from crfs.screening.selectors import mark_screening, with_screening
from participants.choices import ParticipantStatus
from participants.models import Participant
from trials.digits import ascii_digits
from trials.models import Site
from trials.protocols.forms import FORM_CATALOGUE
from visits.choices import VisitStatus
from visits.models import Visit

if TYPE_CHECKING:
    from crfs.screening.selectors import ScreenedParticipant

DUE_FILTERS = {
    "overdue": _("Overdue"),
    "open": _("Window open now"),
    "soon": _("Window opens within 30 days"),
}

SOON_DAYS = 30

CONSENT_FILTERS = {
    "needed": _("Consent not yet recorded"),
    "reconsent": _("Re-consent needed"),
}


def _next_visit(field: str) -> Subquery:
    """The participant's next open visit (earliest window; unknown windows last)."""
    upcoming = (
        Visit.objects.open()
        .filter(participant=OuterRef("pk"))
        .order_by(F("window_start").asc(nulls_last=True), "position", "sequence")
        .values(field)[:1]
    )
    return Subquery(upcoming)


def participant_list(
    site: Site,
    *,
    today: date,
    query: str = "",
    status: str = "",
    due: str = "",
    consent: str = "",
    search_names: bool = False,
) -> QuerySet[ScreenedParticipant]:
    """Participants of one site with their next visit, in one SQL query (plus paging)."""
    participants = with_screening(Participant.objects.filter(site=site), today).annotate(
        next_visit_code=_next_visit("code"),
        next_visit_target=_next_visit("target_date"),
        next_window_start=_next_visit("window_start"),
        next_window_end=_next_visit("window_end"),
    )
    if search_names:
        participants = participants.select_related("identity")
    query = ascii_digits(query.strip())
    if query:
        match = Q(study_id__icontains=query) | Q(screening_number__icontains=query)
        if search_names:
            match |= Q(identity__full_name__icontains=query)
        participants = participants.filter(match)
    if status:
        participants = participants.filter(status=status)
    if consent == "needed":
        participants = participants.filter(has_consent=False, status=ParticipantStatus.SCREENING)
    elif consent == "reconsent":
        participants = participants.filter(needs_reconsent=True)
    if due == "overdue":
        participants = participants.filter(next_window_end__lt=today)
    elif due == "open":
        participants = participants.filter(next_window_start__lte=today, next_window_end__gte=today)
    elif due == "soon":
        participants = participants.filter(
            next_window_start__gt=today, next_window_start__lte=today + timedelta(days=SOON_DAYS)
        )
    return participants.order_by("screening_number")


@dataclass
class TimelineRow:
    visit: Visit
    status: VisitStatus
    forms: list[str]

    @property
    def status_label(self) -> str:
        return str(self.status.label)


def timeline(participant: Participant, today: date) -> list[TimelineRow]:
    """Every visit of the participant in protocol order, with today's status and forms."""
    visits = sorted(
        participant.visits.all(),
        key=lambda v: (v.position, v.actual_date or v.target_date or date.max, v.sequence),
    )
    rows = []
    for visit in visits:
        visit.participant = participant
        rows.append(
            TimelineRow(visit=visit, status=visit.status_on(today), forms=timeline_forms(visit))
        )
    return rows


def timeline_forms(visit: Visit) -> list[str]:
    """Labels of the forms the protocol expects at this visit."""
    return [str(FORM_CATALOGUE[code].label) for code in visit.expected_forms()]


def participant_record(participant: Participant) -> ScreenedParticipant:
    """The participant with identity, demographics, history, transplantation, end of study,
    consent and screening state in one query (plus the prefetched histories)."""
    today = participant.site.local_today()
    record = (
        with_screening(Participant.objects.all(), today)
        .select_related(
            "site",
            "trial",
            "identity",
            "demographics",
            "als_history",
            "transplantation",
            "end_of_study",
        )
        .prefetch_related(
            "status_changes__changed_by",
            "consents__version",
            "consents__taken_by",
            "contact_attempts",
        )
        .get(pk=participant.pk)
    )
    mark_screening([record])
    return record


def deviations(site: Site) -> QuerySet[Visit]:
    """The site's visits dated outside their window (protocol deviations), latest first, in
    one query. Read from the dates, not the stored status, so a visit whose window moved
    after it was dated is listed too."""
    return (
        Visit.objects.filter(participant__site=site, actual_date__isnull=False)
        .filter(Q(actual_date__lt=F("window_start")) | Q(actual_date__gt=F("window_end")))
        .select_related("participant")
        .order_by("-actual_date", "participant__screening_number", "position")
    )


def forms_of_visit(visit: Visit) -> list[dict]:
    """The visit's expected forms with their entry status: one query per instrument, not per visit size."""
    from crfs import registry

    rows = []
    for code in visit.expected_forms():
        spec = registry.get(code)
        record = (
            spec.model.objects.filter(visit=visit).only("status", "version").first()
            if spec
            else None
        )
        rows.append(
            {
                "code": code,
                "label": str(FORM_CATALOGUE[code].label),
                "has_entry": spec is not None,
                "record": record,
            }
        )
    return rows
