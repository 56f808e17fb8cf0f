"""Screening reads: the consent and eligibility state of participants as annotations (no
extra query per row), and the screening log."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, TypeAlias, TypedDict, TypeVar, cast

from django.db.models import (
    BooleanField,
    Exists,
    ExpressionWrapper,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
)
from django.utils.translation import gettext_lazy as _

from crfs.eligibility.models import Eligibility, EligibilityOverride
from crfs.eligibility.scoring import (
    CRITERIA,
    DECISION_LABELS,
    Decision,
    Result,
    labels,
    override_covers,
)
from participants import lifecycle
from participants.choices import ParticipantStatus
from participants.models import Consent, ConsentVersion, Participant, StatusChange
from trials.models import Site
from trials.protocols import PROTOCOLS
from trials.protocols.definitions import VisitKind
from visits.models import Transplantation

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

SCREENING_CODES = sorted(
    {v.code for p in PROTOCOLS.values() for v in p.visits if v.kind == VisitKind.SCREENING}
)


class ScreeningState(TypedDict):
    """The consent and eligibility state `with_screening` annotates on each participant,
    and the three attributes `mark_screening` then sets from it."""

    has_consent: bool
    current_consent_version: int | None
    signed_current: bool
    eligibility_decision: str | None
    eligibility_failed: list[str] | None
    eligibility_unknown: list[str] | None
    eligibility_status: str | None
    override_criteria: list[str] | None
    needs_reconsent: bool
    eligibility_overridden: bool
    eligibility_label: str
    failed_labels: list[str]


class ScreeningLogState(ScreeningState):
    consent_signed_on: date | None
    status_reason: str | None
    transplanted: bool


if TYPE_CHECKING:
    ScreenedParticipant: TypeAlias = WithAnnotations[Participant, ScreeningState]
    LoggedParticipant: TypeAlias = WithAnnotations[Participant, ScreeningLogState]

_Screened = TypeVar("_Screened", bound="ScreenedParticipant")


def _screening_checklist(field: str) -> Subquery:
    """A field of the eligibility checklist of the participant's screening visit."""
    return Subquery(
        Eligibility.objects.filter(
            visit__participant=OuterRef("pk"), visit__code__in=SCREENING_CODES
        ).values(field)[:1]
    )


def with_screening(
    participants: QuerySet[Participant], today: date
) -> QuerySet[ScreenedParticipant]:
    """Annotate consent, re-consent, eligibility decision and override: no extra queries."""
    current_version = (
        ConsentVersion.objects.filter(trial=OuterRef("trial"))
        .active_on(today)
        .order_by("-active_from")
        .values("pk")[:1]
    )
    annotated = participants.annotate(
        has_consent=Exists(Consent.objects.filter(participant=OuterRef("pk"))),
        current_consent_version=Subquery(current_version),
        signed_current=Exists(
            Consent.objects.filter(
                participant=OuterRef("pk"), version=OuterRef("current_consent_version")
            )
        ),
        eligibility_decision=_screening_checklist("decision"),
        eligibility_failed=_screening_checklist("failed_criteria"),
        eligibility_unknown=_screening_checklist("unknown_criteria"),
        eligibility_status=_screening_checklist("status"),
        override_criteria=Subquery(
            EligibilityOverride.objects.filter(
                eligibility__visit__participant=OuterRef("pk"),
                eligibility__visit__code__in=SCREENING_CODES,
            ).values("criteria")[:1]
        ),
    ).annotate(
        needs_reconsent=ExpressionWrapper(
            Q(has_consent=True, signed_current=False, current_consent_version__isnull=False)
            & ~Q(status__in=list(lifecycle.TERMINAL)),
            output_field=BooleanField(),
        )
    )
    # The rows carry the annotations now and the rest once `mark_screening` has run.
    return cast("QuerySet[ScreenedParticipant]", annotated)


def mark_screening(participants: Iterable[_Screened]) -> list[_Screened]:
    """Set `eligibility_overridden` and `eligibility_label` on rows annotated by with_screening."""
    rows = list(participants)
    for p in rows:
        result = None
        if p.eligibility_decision:
            result = Result(
                Decision(p.eligibility_decision),
                tuple(p.eligibility_failed or ()),
                tuple(p.eligibility_unknown or ()),
            )
        p.eligibility_overridden = bool(
            result
            and p.override_criteria is not None
            and override_covers(p.override_criteria, result)
        )
        p.eligibility_label = str(DECISION_LABELS[result.decision]) if result else ""
        p.failed_labels = labels(result.failed) if result else []
    return rows


OTHER_FAILURE = "other"


@dataclass
class ScreeningLog:
    rows: list[LoggedParticipant]
    counts: dict[str, int]
    failures_by_criterion: list[tuple[str, str, int]]  # (code, label, count)


def screening_log(site: Site, today: date) -> ScreeningLog:
    """Everyone screened at the site with the CONSORT-style counts: one SQL query in all."""
    first_consent = (
        Consent.objects.filter(participant=OuterRef("pk"))
        .order_by("signed_on", "pk")
        .values("signed_on")[:1]
    )
    last_reason = (
        StatusChange.objects.filter(participant=OuterRef("pk"), to_status=OuterRef("status"))
        .order_by("-recorded_at", "-pk")
        .values("reason")[:1]
    )
    queryset = (
        with_screening(Participant.objects.filter(site=site), today)
        .annotate(
            consent_signed_on=Subquery(first_consent),
            status_reason=Subquery(last_reason),
            transplanted=Exists(Transplantation.objects.filter(participant=OuterRef("pk"))),
        )
        .order_by("screened_on", "screening_number")
    )
    rows = mark_screening(queryset)
    counts = {
        "screened": len(rows),
        "failed": sum(p.status == ParticipantStatus.SCREEN_FAILED for p in rows),
        "eligible": sum(
            p.eligibility_decision == Decision.ELIGIBLE or p.eligibility_overridden for p in rows
        ),
        "overridden": sum(p.eligibility_overridden for p in rows),
        "consented": sum(bool(p.has_consent) for p in rows),
        "enrolled": sum(p.study_id is not None for p in rows),
        "transplanted": sum(bool(p.transplanted) for p in rows),
        "completed": sum(p.status == ParticipantStatus.COMPLETED for p in rows),
        "withdrawn": sum(p.status == ParticipantStatus.WITHDRAWN for p in rows),
        "lost_to_follow_up": sum(p.status == ParticipantStatus.LOST_TO_FOLLOW_UP for p in rows),
        "died": sum(p.status == ParticipantStatus.DIED for p in rows),
        "in_screening": sum(p.status == ParticipantStatus.SCREENING for p in rows),
    }
    by_code: dict[str, int] = {}
    for p in rows:
        if p.status != ParticipantStatus.SCREEN_FAILED:
            continue
        failed = p.eligibility_failed or []
        for code in failed or [OTHER_FAILURE]:
            by_code[code] = by_code.get(code, 0) + 1
    failures = [(c.code, str(c.label), by_code[c.code]) for c in CRITERIA if c.code in by_code]
    if OTHER_FAILURE in by_code:
        failures.append(
            (OTHER_FAILURE, str(_("Other (no failed checklist criterion)")), by_code[OTHER_FAILURE])
        )
    return ScreeningLog(rows=rows, counts=counts, failures_by_criterion=failures)
