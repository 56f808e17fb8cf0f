"""Writes for participants: registration, enrolment and status changes.

Each service runs in one transaction, checks the actor's capability at the
participant's site, validates dates against the site-local calendar, records a
StatusChange, and calls the lifecycle hooks (participants.lifecycle) last.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any
from uuid import UUID

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from participants import lifecycle
from participants.choices import ContactMethod, ContactOutcome, WithdrawnBy, YesNoUnknown
from participants.choices import ParticipantStatus as S
from participants.models import (
    AlsHistory,
    Consent,
    ConsentVersion,
    ContactAttempt,
    Demographics,
    EndOfStudy,
    Participant,
    ParticipantIdentity,
    SiteSequence,
    StatusChange,
)
from participants.models.identity import comparable_national_id
from participants.models.sequence import SequenceKind
from participants.study_ids import format_screening_number, format_study_id
from trials import permissions
from trials.history import audit_context
from trials.jalali import display_date
from trials.models import Site, Trial


def _require(actor, capability: str, site: Site) -> None:
    if not permissions.can(actor, capability, site):
        raise PermissionDenied


def _not_in_future(site: Site, day: date, field: str) -> None:
    if day > site.local_today():
        raise ValidationError({field: _("This date is in the future at the site.")})


def _locked(participant: Participant) -> Participant:
    """Lock the participant's row only (`of`), not the site and trial joined in: they are
    not queued. Both come with it: the checks read the site, the hooks the trial's protocol."""
    return (
        Participant.objects.select_for_update(of=("self",))
        .select_related("site", "trial")
        .get(pk=participant.pk)
    )


def _transition(participant: Participant, new: str, day: date, actor, reason: str = "") -> None:
    lifecycle.check_transition(participant.status, new)
    if day < participant.status_date:
        raise ValidationError(
            {
                "effective_date": _(
                    "The change cannot take effect before the current status began (%(date)s)."
                )
                % {"date": display_date(participant.status_date)}
            }
        )
    StatusChange.objects.create(
        participant=participant,
        from_status=participant.status,
        to_status=new,
        effective_date=day,
        reason=reason,
        changed_by=actor,
    )
    participant.status = new
    participant.status_date = day


def _registration_errors(screened_on: date, demographics: dict, als_history: dict) -> dict:
    errors: dict[str, str] = {}
    born = demographics.get("date_of_birth")
    onset = als_history.get("onset_date")
    diagnosis = als_history.get("diagnosis_date")
    if born and born >= screened_on:
        errors["date_of_birth"] = _("The date of birth must precede the screening date.")
    if born and (screened_on.year - born.year) > 110:
        errors["date_of_birth"] = _("This date of birth gives an age over 110 years.")
    if onset and onset > screened_on:
        errors["onset_date"] = _("Symptom onset cannot be after the screening date.")
    if onset and born and onset < born:
        errors["onset_date"] = _("Symptom onset cannot precede the date of birth.")
    if diagnosis and diagnosis > screened_on:
        errors["diagnosis_date"] = _("The diagnosis cannot be after the screening date.")
    return errors


def _save_clean(
    instance, *, exclude: tuple[str, ...] = (), validate_constraints: bool = True
) -> None:
    """`full_clean` (its arguments as given), then save; a new row is inserted straight away,
    without the UPDATE Django tries first when the primary key is a one-to-one.

    Callers exclude the foreign keys to rows they hold (locked, created in this transaction,
    the actor): looking those up again costs a query each and cannot fail. full_clean then
    also skips the unique checks and constraints naming them, so a caller excludes a field
    only where it has established those itself. The database enforces them all regardless.
    """
    instance.full_clean(exclude=exclude, validate_constraints=validate_constraints)
    instance.save(force_insert=instance._state.adding)


class RegistrationRefused(ValidationError):
    """A registration refused, with every problem found (field → messages). `earlier` is the
    record already registered with the national ID when the actor may see it (a page links
    to it), else None."""

    def __init__(self, errors: dict[str, list[str]], earlier: Participant | None = None):
        super().__init__(errors)
        self.earlier = earlier


def national_id_key(national_id: str) -> str:
    """What two spellings of one national ID share: dashes and letter case vary in typing."""
    return national_id.replace("-", "").upper()


def earlier_registration(trial: Trial, national_id: str) -> Participant | None:
    """The participant of `trial` already registered with this national ID, if any."""
    key = national_id_key(national_id or "")
    if not key:
        return None
    return (
        Participant.objects.filter(trial=trial)
        .alias(key=comparable_national_id("identity__national_id"))
        .filter(key=key)
        .select_related("site")
        .order_by("pk")
        .first()
    )


def _validated_rows(
    *,
    actor,
    site: Site,
    trial: Trial | None,
    screened_on: date | None,
    identity: dict,
    demographics: dict,
    als_history: dict,
) -> tuple[ParticipantIdentity, Demographics, AlsHistory]:
    """The registration's identity, demographics and history rows, validated (without their
    participant); RegistrationRefused with every problem of every field at once, so that a
    person fixes them in one round. Fields missing from the dicts are not checked."""
    errors: dict[str, list[str]] = {}
    if screened_on is not None:
        if screened_on > site.local_today():
            errors["screened_on"] = [_("This date is in the future at the site.")]
        for field, message in _registration_errors(screened_on, demographics, als_history).items():
            errors.setdefault(field, []).append(message)
    rows = (
        ParticipantIdentity(**identity),
        Demographics(**demographics),
        AlsHistory(**als_history),
    )
    for row, values in zip(rows, (identity, demographics, als_history), strict=True):
        # The participant is not made yet, and a field left out was not given.
        absent = [f.name for f in row._meta.concrete_fields if f.name not in values]
        try:
            # Every check constraint of Demographics repeats a field validator (its
            # checks_repeating_validators): asking the database too cannot find more.
            row.full_clean(exclude=absent, validate_constraints=not isinstance(row, Demographics))
        except ValidationError as error:
            for field, messages in error.message_dict.items():
                known = errors.setdefault(field, [])
                known.extend(m for m in messages if m not in known)
    earlier = None
    if trial is not None and national_id_key(identity.get("national_id") or ""):
        found = earlier_registration(trial, identity["national_id"])
        if found is not None and permissions.can(actor, permissions.VIEW_PARTICIPANTS, found.site):
            earlier = found
            errors.setdefault("national_id", []).append(
                _("This national ID is already registered in this trial as %(number)s (%(site)s).")
                % {"number": found.screening_number, "site": found.site.code}
            )
        elif found is not None:
            # The record is at a site the actor cannot see: say no more than that it exists.
            errors.setdefault("national_id", []).append(
                _("This national ID is already registered in this trial at another site.")
            )
    if errors:
        raise RegistrationRefused(errors, earlier)
    return rows


def check_registration(
    *,
    actor,
    site: Site,
    trial: Trial | None,
    screened_on: date | None,
    identity: dict,
    demographics: dict,
    als_history: dict,
) -> None:
    """What register_participant would refuse in these values, as RegistrationRefused: for a
    page whose own checks failed, to report every other field's problem in the same round.
    Values missing (trial, date, a dict's fields) are not checked. Nothing is locked, so a
    registration can still be refused later for a national ID registered meanwhile."""
    _validated_rows(
        actor=actor,
        site=site,
        trial=trial,
        screened_on=screened_on,
        identity=identity,
        demographics=demographics,
        als_history=als_history,
    )


def _registered_by_form(
    form_token: UUID, site: Site, screened_on: date, identity: dict, demographics: dict
) -> Participant | None:
    """The participant a submission of this registration form registered already, if the
    form now says the same person; refused when it was changed after registering someone."""
    saved = (
        Participant.objects.filter(form_token=form_token)
        .select_related("site", "trial", "identity", "demographics")
        .first()
    )
    if saved is None:
        return None
    same = (
        saved.site_id == site.pk
        and saved.screened_on == screened_on
        and saved.identity.full_name == identity.get("full_name")
        and saved.demographics.date_of_birth == demographics.get("date_of_birth")
    )
    if same:
        return saved
    raise ValidationError(
        _(
            "This form has registered a person already (%(number)s). To register another "
            "person, check the answers below and register again."
        )
        % {"number": saved.screening_number}
    )


@transaction.atomic
def register_participant(
    *,
    actor,
    site: Site,
    trial: Trial,
    screened_on: date,
    identity: dict,
    demographics: dict,
    als_history: dict,
    form_token: UUID | None = None,
) -> Participant:
    """Register a person being screened: screening number, identity, demographics, history.

    Refused (RegistrationRefused, every problem at once) when a value is invalid or the
    national ID is already registered in the trial. `form_token` is the nonce of the form
    the registration was entered on: the same form submitted again with the same person
    answers the participant its first submission registered (a national ID is optional, so
    it cannot tell a double submit by itself).
    """
    _require(actor, permissions.ENROL, site)
    if form_token is not None or national_id_key(identity.get("national_id") or ""):
        # Two registrations of one person (a double submit, two sites) would both find no
        # earlier record unless they queue: lock the trial's row. NO KEY UPDATE, so the
        # inserts that reference the trial (which take KEY SHARE) do not wait on it.
        list(Trial.objects.select_for_update(no_key=True).filter(pk=trial.pk).values("pk"))
    if form_token is not None:
        saved = _registered_by_form(form_token, site, screened_on, identity, demographics)
        if saved is not None:
            return saved
    identity_row, demographics_row, history_row = _validated_rows(
        actor=actor,
        site=site,
        trial=trial,
        screened_on=screened_on,
        identity=identity,
        demographics=demographics,
        als_history=als_history,
    )
    with audit_context(actor_id=actor.pk, reason="register participant"):
        number = SiteSequence.objects.next_value(site, SequenceKind.SCREENING)
        participant = Participant(
            site=site,
            trial=trial,
            screening_number=format_screening_number(site.code, number),
            status=S.SCREENING,
            status_date=screened_on,
            screened_on=screened_on,
            created_by=actor,
            form_token=form_token,
        )
        # Site, trial and actor are in hand; the token was looked up above under the lock. Both constraints hold by construction: the number
        # comes from the site's sequence, and status and study ID are set together.
        _save_clean(
            participant,
            exclude=("site", "trial", "created_by", "form_token"),
            validate_constraints=False,
        )
        StatusChange.objects.create(
            participant=participant,
            to_status=S.SCREENING,
            effective_date=screened_on,
            changed_by=actor,
        )
        # Validated above but for their participant, created in this transaction (so it has
        # no identity, demographics or history yet).
        for row in (identity_row, demographics_row, history_row):
            row.participant = participant
            row.save(force_insert=True)
        lifecycle.run(lifecycle.ON_REGISTERED, participant)
    return participant


@transaction.atomic
def enrol_participant(*, actor, participant: Participant, enrolled_on: date) -> Participant:
    """Enrol a screened participant: allocate the study ID (never reused) and open baseline."""
    _require(actor, permissions.ENROL, participant.site)
    participant = _locked(participant)
    lifecycle.check_transition(participant.status, S.ENROLLED)
    _not_in_future(participant.site, enrolled_on, "effective_date")
    _check_consent_for_enrolment(participant, enrolled_on)
    lifecycle.run(lifecycle.ENROLMENT_CHECKS, participant)
    with audit_context(actor_id=actor.pk, reason="enrol participant"):
        number = SiteSequence.objects.next_value(participant.site, SequenceKind.STUDY_ID)
        participant.study_id = format_study_id(participant.site.code, number)
        _transition(participant, S.ENROLLED, enrolled_on, actor)
        participant.enrolled_on = enrolled_on
        participant.save()
        lifecycle.run(lifecycle.ON_ENROLLED, participant)
    return participant


def _end_of_study_errors(
    participant: Participant, to_status: str, effective_date: date, details: Mapping[str, Any]
) -> dict[str, str]:
    """What an end of study of kind `to_status` still lacks (field → message)."""
    errors: dict[str, str] = {}
    if to_status == S.WITHDRAWN:
        if details.get("withdrawn_by") not in WithdrawnBy.values:
            errors["withdrawn_by"] = _("Say who decided the withdrawal.")
        if details.get("follow_up_allowed") not in (True, False):
            errors["follow_up_allowed"] = _("Say whether follow-up data may still be collected.")
    elif to_status == S.DIED:
        if not str(details.get("death_cause") or "").strip():
            errors["death_cause"] = _("Give the cause of death (or “unknown”).")
        if details.get("death_als_related") not in YesNoUnknown.values:
            errors["death_als_related"] = _("Say whether the death was related to ALS.")
    elif to_status == S.LOST_TO_FOLLOW_UP:
        attempts = participant.contact_attempts.filter(attempted_on__lte=effective_date)
        if attempts.count() < MIN_CONTACT_ATTEMPTS:
            errors["effective_date"] = _(
                "Record at least %(n)d attempt to contact the participant before declaring "
                "them lost to follow-up."
            ) % {"n": MIN_CONTACT_ATTEMPTS}
    return errors


MIN_CONTACT_ATTEMPTS = 1
END_OF_STUDY = frozenset({S.COMPLETED, *lifecycle.EXITS})


@transaction.atomic
def change_status(
    *,
    actor,
    participant: Participant,
    to_status: str,
    effective_date: date,
    reason: str,
    details: Mapping[str, Any] | None = None,
) -> Participant:
    """Screen failure, completion, withdrawal, loss to follow-up or death, with date and reason.

    The end of study is recorded with its details: a withdrawal says who decided it and
    whether follow-up data may still be collected (`withdrawn_by`, `follow_up_allowed`),
    a death its cause and whether it was ALS-related (`death_cause`, `death_als_related`;
    the date of death is the effective date), and loss to follow-up needs the attempts to
    reach the participant recorded first (record_contact_attempt).
    """
    _require(actor, permissions.ENROL, participant.site)
    participant = _locked(participant)
    if to_status in lifecycle.BY_SERVICE_ONLY:
        raise ValidationError(
            {
                "status": _(
                    "This change has its own page: enrolment, the transplantation form or "
                    "the return to screening."
                )
            }
        )
    lifecycle.check_transition(participant.status, to_status)
    reason = reason.strip()
    if to_status in lifecycle.REASON_REQUIRED and not reason:
        raise ValidationError({"reason": _("Give the reason for this change.")})
    _not_in_future(participant.site, effective_date, "effective_date")
    details = details or {}
    if to_status in END_OF_STUDY:
        errors = _end_of_study_errors(participant, to_status, effective_date, details)
        if errors:
            raise ValidationError(errors)
    with audit_context(actor_id=actor.pk, reason=reason or f"status {to_status}"):
        _transition(participant, to_status, effective_date, actor, reason)
        if to_status in lifecycle.TERMINAL:
            participant.exited_on = effective_date
        participant.save()
        if to_status in END_OF_STUDY:
            withdrawn = to_status == S.WITHDRAWN
            died = to_status == S.DIED
            end = EndOfStudy(
                participant=participant,
                outcome=to_status,
                ended_on=effective_date,
                reason=reason,
                withdrawn_by=details.get("withdrawn_by", "") if withdrawn else "",
                follow_up_allowed=details.get("follow_up_allowed") if withdrawn else None,
                death_cause=str(details.get("death_cause", "")).strip() if died else "",
                death_als_related=details.get("death_als_related", "") if died else "",
                recorded_by=actor,
            )
            # A participant not yet at an end of study has no EndOfStudy row (the row is made
            # only here, with the terminal status), and _end_of_study_errors has required the
            # details the constraints ask for, with a field error each.
            _save_clean(end, exclude=("participant", "recorded_by"), validate_constraints=False)
            participant.end_of_study = end
        lifecycle.run(lifecycle.ON_EXITED, participant)
    return participant


@transaction.atomic
def record_contact_attempt(
    *,
    actor,
    participant: Participant,
    attempted_on: date,
    method: str,
    outcome: str,
    notes: str = "",
    form_token: UUID | None = None,
) -> ContactAttempt:
    """One attempt to reach a participant who does not come (phone, letter, next of kin …).

    `form_token` is the nonce of the form it was entered on: the same form submitted again
    with the same answers answers the attempt its first submission saved.
    """
    _require(actor, permissions.ENTER_DATA, participant.site)
    participant = _locked(participant)
    notes = notes.strip()
    if form_token is not None:
        # The participant's lock queues the submissions of one form, so a second one finds
        # the row the first committed (the unique token would refuse it anyway).
        saved = ContactAttempt.objects.filter(form_token=form_token).first()
        if saved is not None:
            same = (saved.participant_id, saved.attempted_on, saved.method, saved.outcome)
            if same == (participant.pk, attempted_on, method, outcome) and saved.notes == notes:
                return saved
            raise ValidationError(
                _(
                    "This form was saved already (the attempt of %(date)s). To record another "
                    "attempt, check the answers below and save again."
                )
                % {"date": display_date(saved.attempted_on)}
            )
    if participant.has_ended:
        raise ValidationError(_("The participant's study has ended."))
    _not_in_future(participant.site, attempted_on, "attempted_on")
    if attempted_on < participant.screened_on:
        raise ValidationError({"attempted_on": _("This date precedes screening.")})
    if method not in ContactMethod.values:
        raise ValidationError({"method": _("Choose how the participant was contacted.")})
    if outcome not in ContactOutcome.values:
        raise ValidationError({"outcome": _("Choose the outcome of the attempt.")})
    with audit_context(actor_id=actor.pk, reason="contact attempt"):
        attempt = ContactAttempt(
            participant=participant,
            attempted_on=attempted_on,
            method=method,
            outcome=outcome,
            notes=notes,
            recorded_by=actor,
            form_token=form_token,
        )
        # Locked; the actor; the token looked up above under the lock.
        _save_clean(attempt, exclude=("participant", "recorded_by", "form_token"))
    return attempt


# --- Informed consent ---------------------------------------------------------


def current_consent_version(trial: Trial, day: date) -> ConsentVersion | None:
    """The version in use on `day`: the most recently activated of the active ones."""
    return (
        ConsentVersion.objects.filter(trial=trial).active_on(day).order_by("-active_from").first()
    )


def _check_consent_for_enrolment(participant: Participant, day: date) -> None:
    signed = set(
        participant.consents.filter(signed_on__lte=day)
        .order_by()  # the default order would join the participant and its site
        .values_list("version_id", flat=True)
    )
    if not signed:
        raise ValidationError(
            _("Informed consent is not recorded: record the signed consent before enrolment.")
        )
    current = current_consent_version(participant.trial, day)
    if current is not None and current.pk not in signed:
        raise ValidationError(
            _(
                "The participant has not signed the consent form in use (version %(version)s): "
                "record the re-consent before enrolment."
            )
            % {"version": current.version}
        )


@transaction.atomic
def add_consent_version(
    *,
    trial: Trial,
    version: str,
    approval_date: date,
    active_from: date,
    retire_previous: bool = True,
) -> ConsentVersion:
    """A newly approved consent form version; the one in use until then ends the day before."""
    with audit_context(reason=f"consent version {version}"):
        if retire_previous:
            for old in ConsentVersion.objects.filter(trial=trial, active_to__isnull=True).filter(
                active_from__lt=active_from
            ):
                old.active_to = date.fromordinal(active_from.toordinal() - 1)
                _save_clean(old)
        new = ConsentVersion(
            trial=trial, version=version, approval_date=approval_date, active_from=active_from
        )
        _save_clean(new)
    return new


@transaction.atomic
def record_consent(
    *, actor, participant: Participant, version: ConsentVersion, signed_on: date, taken_by
) -> Consent:
    """A signed consent (or re-consent) of `version`, taken by a member of the study team."""
    _require(actor, permissions.ENROL, participant.site)
    participant = _locked(participant)
    if participant.has_ended and not participant.follow_up_continues:
        raise ValidationError(_("The participant's study has ended."))
    if version.trial_id != participant.trial_id:
        raise ValidationError({"version": _("This consent form belongs to another trial.")})
    _not_in_future(participant.site, signed_on, "signed_on")
    if not version.is_active_on(signed_on):
        raise ValidationError(
            {
                "signed_on": _(
                    "Version %(version)s was not in use on this date (in use from %(start)s to %(end)s)."
                )
                % {
                    "version": version.version,
                    "start": display_date(version.active_from),
                    "end": display_date(version.active_to) or "…",
                }
            }
        )
    if not permissions.can(taken_by, permissions.ENROL, participant.site):
        raise ValidationError(
            {"taken_by": _("Consent is taken by a coordinator or investigator of this site.")}
        )
    if participant.consents.filter(version=version).exists():
        raise ValidationError({"version": _("The participant has already signed this version.")})
    with audit_context(actor_id=actor.pk, reason=f"consent v{version.version}"):
        consent = Consent(
            participant=participant,
            version=version,
            signed_on=signed_on,
            taken_by=taken_by,
            recorded_by=actor,
        )
        # All four are in hand and checked above; a second signature of the version
        # (consent_once_per_version) is refused above with its own message, the participant
        # locked meanwhile.
        _save_clean(consent, exclude=("participant", "version", "taken_by", "recorded_by"))
    return consent


def record_transplanted(*, actor, participant: Participant, performed_on: date) -> None:
    """enrolled → transplanted; called by visits.services inside its own transaction."""
    if performed_on < (participant.enrolled_on or participant.screened_on):
        raise ValidationError(
            {"performed_date": _("The transplantation cannot precede enrolment.")}
        )
    _transition(participant, S.TRANSPLANTED, performed_on, actor)
    participant.save(update_fields=["status", "status_date"])


def move_transplanted_date(*, participant: Participant, performed_on: date) -> None:
    """A corrected transplantation date moves the date of the 'transplanted' status too."""
    if performed_on < (participant.enrolled_on or participant.screened_on):
        raise ValidationError(
            {"performed_date": _("The transplantation cannot precede enrolment.")}
        )
    participant.status_changes.filter(to_status=S.TRANSPLANTED).update(effective_date=performed_on)
    if participant.status == S.TRANSPLANTED:
        participant.status_date = performed_on
        participant.save(update_fields=["status_date"])
