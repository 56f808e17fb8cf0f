"""Corrections of the demographics and ALS history recorded at registration, and the way back
from a screen failure that the corrected data undo.

A correction is validated as registration validates (plausible ranges, partial onset dates,
diagnosis not before onset, the dates' order against birth and screening), needs a reason,
is refused when it changes nothing or when the row changed since the page was opened (its
`version`), and is audited with the reason. Inside the same transaction it runs
`lifecycle.ON_CLINICAL_CORRECTED`, where crfs re-derives what reads these values (FVC %
predicted, ΔFS, BMI, the screening checklist) and says what it re-derived.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.utils.translation import gettext as _

from participants import lifecycle, partial_dates
from participants.choices import ParticipantStatus as S
from participants.models import AlsHistory, Demographics, Participant
from participants.services import _locked, _transition
from trials import permissions
from trials.history import audit_context
from trials.jalali import display_date

DEMOGRAPHICS_FIELDS = ("date_of_birth", "sex", "height_cm", "weight_kg", "ethnicity")
HISTORY_FIELDS = (
    "onset_date",
    "onset_precision",
    "onset_region",
    "diagnosis_date",
    "el_escorial",
    "family_history",
    "riluzole",
    "edaravone",
)


@dataclass
class Corrected:
    """A saved correction: the labels of the fields it changed, and what the hooks re-derived."""

    participant: Participant
    changed: list[str] = field(default_factory=list)
    rederived: list[str] = field(default_factory=list)


class StaleCorrection(ValidationError):
    """The row was corrected by someone else since the page was opened: nothing saved.
    `current_version` lets the page take the newer row as its base once the person has seen
    the values now stored."""

    def __init__(self, message: str, current_version: int):
        super().__init__(message)
        self.current_version = current_version


def _label(model: type[models.Model], name: str) -> str:
    meta_field = model._meta.get_field(name)
    assert isinstance(meta_field, models.Field)
    return str(meta_field.verbose_name)


def _shown(row: models.Model, name: str) -> str:
    """A stored value as the page shows it (choices by label, dates ISO, onset partial)."""
    if isinstance(row, AlsHistory) and name in ("onset_date", "onset_precision"):
        return row.onset_display
    value = getattr(row, name)
    display = getattr(row, f"get_{name}_display", None)
    if display is not None and value not in ("", None):
        return str(display())
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _demographics_errors(participant: Participant, row: Demographics) -> dict[str, str]:
    """The checks of registration that relate the date of birth to the other dates."""
    born = row.date_of_birth
    if not isinstance(born, date):
        return {}  # its own field error says why
    screened = participant.screened_on
    if born > participant.site.local_today():
        return {"date_of_birth": _("This date is in the future at the site.")}
    if born >= screened:
        return {
            "date_of_birth": _("The date of birth must precede the screening date (%(date)s).")
            % {"date": display_date(screened)}
        }
    if screened.year - born.year > 110:
        return {"date_of_birth": _("This date of birth gives an age over 110 years.")}
    history = AlsHistory.objects.filter(participant=participant).first()
    if history is not None and history.onset_date < born:
        return {
            "date_of_birth": _("The date of birth cannot be after symptom onset (%(onset)s).")
            % {"onset": history.onset_display}
        }
    return {}


def _history_errors(participant: Participant, row: AlsHistory) -> dict[str, str]:
    """The checks of registration that relate onset and diagnosis to birth and screening."""
    errors: dict[str, str] = {}
    screened = participant.screened_on
    onset, diagnosis = row.onset_date, row.diagnosis_date
    if isinstance(onset, date):
        born = (
            Demographics.objects.filter(participant=participant)
            .values_list("date_of_birth", flat=True)
            .first()
        )
        if onset > screened:
            errors["onset_date"] = _(
                "Symptom onset cannot be after the screening date (%(date)s)."
            ) % {"date": display_date(screened)}
        elif born is not None and onset < born:
            # Not the date itself: the person correcting may not see identifiers.
            errors["onset_date"] = _("Symptom onset cannot precede the date of birth.")
    if isinstance(diagnosis, date) and diagnosis > screened:
        errors["diagnosis_date"] = _(
            "The diagnosis cannot be after the screening date (%(date)s)."
        ) % {"date": display_date(screened)}
    return errors


def _row_errors(participant: Participant, row: Demographics | AlsHistory) -> dict[str, list[str]]:
    """Every problem of the row as changed (field → messages), as registration finds them."""
    errors: dict[str, list[str]] = {}
    try:
        # The participant is in hand; the constraints only repeat the field validators.
        row.full_clean(exclude=["participant"], validate_constraints=False)
    except ValidationError as error:
        errors = error.message_dict
    cross = (
        _demographics_errors(participant, row)
        if isinstance(row, Demographics)
        else _history_errors(participant, row)
    )
    for name, message in cross.items():
        if name not in errors:  # its own error says more
            errors[name] = [message]
    return errors


def _normalised(changes: Mapping[str, Any]) -> Mapping[str, Any]:
    """A partial onset is stored as the first day of its period."""
    onset, precision = changes.get("onset_date"), changes.get("onset_precision")
    if isinstance(onset, date) and precision in partial_dates.PRECISIONS:
        first = partial_dates.PartialDate.of(onset, precision).first_day
        return dict(changes) | {"onset_date": first}
    return changes


def check_correction(
    participant: Participant,
    model: type[Demographics] | type[AlsHistory],
    changes: Mapping[str, Any],
) -> dict[str, list[str]]:
    """What a correction with these `changes` would be refused for (field → messages), the
    other fields as stored: for a page whose own checks failed, so that every field is
    answered in one round. Nothing is locked or saved."""
    row = model.objects.filter(participant=participant).first()
    if row is None:
        return {}
    for name, value in _normalised(changes).items():
        setattr(row, name, value)
    return _row_errors(participant, row)


def _correct(
    *,
    actor,
    participant: Participant,
    model: type[Demographics] | type[AlsHistory],
    names: tuple[str, ...],
    changes: Mapping[str, Any],
    expected_version: int,
    reason: str,
    what: str,
) -> Corrected:
    if not permissions.can(actor, permissions.ENTER_DATA, participant.site):
        raise PermissionDenied
    if "date_of_birth" in changes and not permissions.can(
        actor, permissions.VIEW_IDENTIFIERS, participant.site
    ):
        raise PermissionDenied  # an identifier: the page does not offer it to this user
    unknown = set(changes) - set(names)
    if unknown:
        raise ValueError(f"not a field of {model.__name__}: {sorted(unknown)}")
    participant = _locked(participant)
    row = model.objects.select_for_update().get(participant=participant)
    if row.version != expected_version:
        # Only the fields this user edits: the date of birth stays hidden from one who may
        # not see it.
        differing = [n for n in changes if n != "onset_precision" and getattr(row, n) != changes[n]]
        now = "; ".join(f"{_label(model, n)}: {_shown(row, n)}" for n in differing) or "—"
        raise StaleCorrection(
            _(
                "Someone else corrected these details since you opened this page, so nothing "
                "was saved. Now stored where your entries differ: %(values)s. Your entries are "
                "kept below: check them and save again."
            )
            % {"values": now},
            row.version,
        )
    before = {name: getattr(row, name) for name in names}
    for name, value in changes.items():
        setattr(row, name, value)
    errors = _row_errors(participant, row)
    if errors:
        raise ValidationError(errors)
    changed = [name for name in names if getattr(row, name) != before[name]]
    if not changed:
        raise ValidationError(
            _("Nothing was changed: correct a value, or leave the page with Cancel.")
        )
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": _("Give the reason for the correction.")})
    labels = list(dict.fromkeys(_label(model, n) for n in changed if n != "onset_precision"))
    if "onset_precision" in changed and _label(model, "onset_date") not in labels:
        labels.append(_label(model, "onset_date"))
    with audit_context(actor_id=actor.pk, reason=reason):
        row.version += 1
        row.save()
        if isinstance(row, Demographics):
            participant.demographics = row
        else:
            participant.als_history = row
        # The audit trail of what the hooks re-derive names the correction and its reason.
        cause = f"{what} corrected: {reason}"
        lines: list[str] = []
        for hook in lifecycle.ON_CLINICAL_CORRECTED:
            lines.extend(hook(participant, actor=actor, cause=cause) or ())
    return Corrected(participant=participant, changed=labels, rederived=lines)


@transaction.atomic
def correct_demographics(
    *,
    actor,
    participant: Participant,
    changes: Mapping[str, Any],
    expected_version: int,
    reason: str,
) -> Corrected:
    """Correct the demographics (`changes`: field → value; the date of birth only by a user who
    may see identifiers); refused unless the row is still at `expected_version`."""
    return _correct(
        actor=actor,
        participant=participant,
        model=Demographics,
        names=DEMOGRAPHICS_FIELDS,
        changes=changes,
        expected_version=expected_version,
        reason=reason,
        what="demographics",
    )


@transaction.atomic
def correct_als_history(
    *,
    actor,
    participant: Participant,
    changes: Mapping[str, Any],
    expected_version: int,
    reason: str,
) -> Corrected:
    """Correct the ALS history (the onset as a date normalised to its precision's period and
    the precision); refused unless the row is still at `expected_version`."""
    return _correct(
        actor=actor,
        participant=participant,
        model=AlsHistory,
        names=HISTORY_FIELDS,
        changes=_normalised(changes),
        expected_version=expected_version,
        reason=reason,
        what="ALS history",
    )


def why_not_return_to_screening(participant: Participant) -> str | None:
    """Why the participant cannot return to screening now, or None when they can."""
    if participant.status != S.SCREEN_FAILED:
        return _("Only a screen failure can return to screening.")
    try:
        with transaction.atomic():  # the checks may lock what they read (a page has no transaction)
            lifecycle.run(lifecycle.RETURN_TO_SCREENING_CHECKS, participant)
    except ValidationError as refused:
        return " ".join(refused.messages)
    return None


@transaction.atomic
def return_to_screening(*, actor, participant: Participant, reason: str) -> Participant:
    """Screen failure → screening, today, when the checklist as it now stands (after a
    correction) no longer makes one; recorded as a status change with the reason."""
    if not permissions.can(actor, permissions.ENROL, participant.site):
        raise PermissionDenied
    participant = _locked(participant)
    if participant.status != S.SCREEN_FAILED:
        raise ValidationError(_("Only a screen failure can return to screening."))
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": _("Give the reason for the return to screening.")})
    lifecycle.run(lifecycle.RETURN_TO_SCREENING_CHECKS, participant)
    with audit_context(actor_id=actor.pk, reason=reason):
        _transition(participant, S.SCREENING, participant.site.local_today(), actor, reason)
        participant.exited_on = None  # screening goes on: the screen failure ended nothing
        participant.save()
    return participant
