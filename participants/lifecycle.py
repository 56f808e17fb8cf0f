"""The participant status lifecycle, and its explicit extension points.

    screening ─┬─> screen_failed ─> screening (a screen failure the corrected data undo)
               └─> enrolled ─┬─> transplanted ─┬─> completed
                             │                 ├─> withdrawn / lost_to_follow_up / died
                             └─> withdrawn / lost_to_follow_up / died

Apps above this one (visits creates the screening, baseline and follow-up visits,
and checks eligibility before enrolment) append handlers to the hook lists below in their AppConfig.ready(). These are not
Django signals: the services in participants.services call them synchronously,
inside their own transaction, so a handler that raises rolls the whole change back.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, Protocol

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from participants.choices import ParticipantStatus as S
from trials.hooks import connect as connect  # re-exported: lifecycle.connect(ON_..., hook)

if TYPE_CHECKING:
    from participants.models import Participant

EXITS = frozenset({S.WITHDRAWN, S.LOST_TO_FOLLOW_UP, S.DIED})
TERMINAL = frozenset({S.SCREEN_FAILED, S.COMPLETED, *EXITS})
ALLOWED: dict[str, frozenset[str]] = {
    S.SCREENING: frozenset({S.SCREEN_FAILED, S.ENROLLED}),
    S.SCREEN_FAILED: frozenset({S.SCREENING}),
    S.ENROLLED: frozenset({S.TRANSPLANTED, *EXITS}),
    S.TRANSPLANTED: frozenset({S.COMPLETED, *EXITS}),
}
# Reached only through their own services (study ID allocation; the transplantation form;
# corrections.return_to_screening, which asks RETURN_TO_SCREENING_CHECKS first).
BY_SERVICE_ONLY = frozenset({S.ENROLLED, S.TRANSPLANTED, S.SCREENING})
REASON_REQUIRED = frozenset({S.SCREEN_FAILED, *EXITS})


def check_transition(current: str, new: str) -> None:
    """Raise a ValidationError (on `status`) unless current → new is a legal move."""
    if new not in ALLOWED.get(current, frozenset()):
        raise ValidationError(
            {
                "status": _("A participant whose status is “%(current)s” cannot become “%(new)s”.")
                % {"current": S(current).label, "new": S(new).label}
            }
        )


Hook = Callable[["Participant"], None]
ON_REGISTERED: list[Hook] = []
ON_ENROLLED: list[Hook] = []
ON_EXITED: list[Hook] = []
# Run by enrol_participant before the study ID is allocated; a check refuses enrolment
# by raising ValidationError (visits checks the eligibility decision of the screening visit).
ENROLMENT_CHECKS: list[Hook] = []
# Run by corrections.return_to_screening: a screen failure is undone only when the data as
# corrected no longer make one (crfs checks the screening checklist's decision).
RETURN_TO_SCREENING_CHECKS: list[Hook] = []


class CorrectionHook(Protocol):
    """Called after demographics or ALS history were corrected, inside the correction's
    transaction: re-derives what reads them; answers lines telling the user what changed."""

    def __call__(self, participant: Participant, *, actor: Any, cause: str) -> Iterable[str]: ...


ON_CLINICAL_CORRECTED: list[CorrectionHook] = []


def run(hooks: list[Hook], participant: Participant) -> None:
    for hook in hooks:
        hook(participant)
