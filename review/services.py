"""The writes of review: locks, source data verification, e-signatures, targeted SDV.

Each takes the acting user, checks their capability at the record's site with
trials.permissions (a service called from a shell is held to the same rules as a page),
runs in one transaction and names itself in the audit context.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from review import recordinfo
from review.models import (
    MEANING,
    Lock,
    Scope,
    SdvTargets,
    Signature,
    SignatureItem,
    SignatureKind,
    Verification,
)
from trials import permissions, records
from trials.history import audit_context
from trials.records import RecordType
from trials.signing import TOKEN_REFUSED, identity_errors


def _require(actor, capability: str, site) -> None:
    if not permissions.can(actor, capability, site):
        raise PermissionDenied(_("You may not do this at this site."))


def _reason(text: str, field: str = "reason") -> str:
    text = (text or "").strip()
    if not text:
        raise ValidationError({field: _("Give a reason.")})
    return text


@dataclass(frozen=True)
class Target:
    """What a lock covers: a site, a participant, a visit or one record."""

    scope: str
    site: Any
    participant: Any = None
    record_type: RecordType | None = None
    record: Any = None

    @property
    def key(self) -> str:
        if self.scope == Scope.SITE:
            return f"site:{self.site.pk}"
        if self.scope == Scope.PARTICIPANT:
            return f"participant:{self.participant.pk}"
        if self.scope == Scope.VISIT:
            return f"visit:{self.record.pk}"
        assert self.record_type is not None
        return f"record:{self.record_type.key}:{self.record.pk}"


def lock(*, actor, target: Target, reason: str) -> Lock:
    """Lock data (a data manager): nothing it covers changes until it is unlocked."""
    _require(actor, permissions.LOCK_DATA, target.site)
    reason = _reason(reason)
    try:
        with transaction.atomic(), audit_context(actor_id=actor.pk, reason=f"lock: {reason}"):
            return Lock.objects.create(
                scope=target.scope,
                target=target.key,
                site=target.site,
                participant=target.participant,
                record_type=target.record_type.key if target.record_type else "",
                record_id=target.record.pk if target.record is not None else None,
                reason=reason,
                locked_by=actor,
                locked_at=timezone.now(),
            )
    except IntegrityError as error:
        raise ValidationError(_("This is already locked.")) from error


def lock_record(*, actor, record: Any, reason: str) -> Lock:
    """Lock one record, whatever its type (for scripts and tests that hold a record)."""
    record_type = records.for_model(type(record))
    if record_type is None:
        raise ValueError(f"{type(record).__name__} is not a reviewable record")
    participant = record_type.participant_of(record)
    return lock(
        actor=actor,
        target=Target(
            scope=Scope.RECORD,
            site=participant.site,
            participant=participant,
            record_type=record_type,
            record=record,
        ),
        reason=reason,
    )


@transaction.atomic
def unlock(*, actor, lock: Lock, reason: str) -> Lock:
    _require(actor, permissions.LOCK_DATA, lock.site)
    reason = _reason(reason)
    lock = Lock.objects.select_for_update().get(pk=lock.pk)
    if lock.unlocked_at is not None:
        raise ValidationError(_("This lock was already lifted."))
    with audit_context(actor_id=actor.pk, reason=f"unlock: {reason}"):
        lock.unlocked_by = actor
        lock.unlocked_at = timezone.now()
        lock.unlock_reason = reason
        lock.save()
    return lock


def _record_context(record_type: RecordType, record: Any) -> tuple[Any, int | None]:
    participant = record_type.participant_of(record)
    return participant, recordinfo.visit_id(record_type, record)


@transaction.atomic
def verify(
    *, actor, record_type: RecordType, record: Any, fields: list[str] | None = None
) -> list[Verification]:
    """Mark a record (fields None) or some of its fields source-verified (a monitor)."""
    participant, visit_id = _record_context(record_type, record)
    _require(actor, permissions.VERIFY_SOURCE, participant.site)
    checked = recordinfo.checked_fields(record_type)
    unknown = [name for name in fields or () if name not in checked]
    if unknown:
        raise ValidationError(_("Unknown field: %(names)s") % {"names": ", ".join(unknown)})
    values = recordinfo.values_of(record, checked)
    wanted = [""] if fields is None else fields
    already = set(
        Verification.objects.active()
        .filter(record_type=record_type.key, record_id=record.pk, field__in=wanted)
        .values_list("field", flat=True)
    )
    now = timezone.now()
    made = []
    with audit_context(actor_id=actor.pk, reason="source data verified"):
        for name in wanted:
            if name in already:
                continue
            made.append(
                Verification.objects.create(
                    record_type=record_type.key,
                    record_id=record.pk,
                    field=name,
                    site=participant.site,
                    participant=participant,
                    visit_id=visit_id,
                    values=values if name == "" else {name: values[name]},
                    record_version=recordinfo.version_of(record),
                    verified_by=actor,
                    verified_at=now,
                )
            )
    return made


# --- e-signatures --------------------------------------------------------------------


def _check_password(actor, password: str, token: str = "") -> None:
    failed = identity_errors(actor, password, token)
    if "password" in failed:
        raise ValidationError({"password": _("The password is not correct.")})
    if failed:
        raise ValidationError({"token": TOKEN_REFUSED})


def records_of_participant(
    participant, *, visit_id: int | None = None
) -> list[tuple[RecordType, Any]]:
    """Every record of a participant (or of one visit of theirs): one query per record type."""
    found: list[tuple[RecordType, Any]] = []
    for record_type in records.all_types():
        if visit_id is not None:
            if record_type.visit_path is None:
                continue
            lookup = {
                "pk" if record_type.visit_path == "" else f"{record_type.visit_path}_id": visit_id
            }
        else:
            lookup = {f"{record_type.participant_path}_id": participant.pk}
        rows = record_type.model._default_manager.filter(**lookup)
        if record_type.visit_path:  # titles and states read the visit: with the row
            rows = rows.select_related(record_type.visit_path)
        found.extend((record_type, row) for row in rows)
    return found


@transaction.atomic
def sign(
    *,
    actor,
    participant,
    kind: str,
    password: str,
    token: str = "",
    visit: Any = None,
    chosen: list[tuple[RecordType, Any]] | None = None,
) -> Signature:
    """An investigator signs a visit, the participant's casebook, or chosen records (e.g. a set
    of adverse events): the meaning, the time and each record's version are stored."""
    _require(actor, permissions.REVIEW_AND_SIGN, participant.site)
    _check_password(actor, password, token)
    if kind == SignatureKind.VISIT:
        if visit is None or visit.participant_id != participant.pk:
            raise ValidationError(_("Choose a visit of this participant."))
        signed = records_of_participant(participant, visit_id=visit.pk)
    elif kind == SignatureKind.CASEBOOK:
        signed = records_of_participant(participant)
    else:
        signed = [
            (t, r) for t, r in chosen or () if recordinfo.participant_id(t, r) == participant.pk
        ]
    if not signed:
        raise ValidationError(_("There is nothing to sign."))
    with audit_context(actor_id=actor.pk, reason=f"signed ({kind})"):
        signature = Signature.objects.create(
            kind=kind,
            site=participant.site,
            participant=participant,
            visit_id=visit.pk if visit is not None and kind == SignatureKind.VISIT else None,
            meaning=str(MEANING),
            signed_by=actor,
            signed_at=timezone.now(),
        )
        by_model: dict[type, list[Any]] = {}
        for record_type, record in signed:
            by_model.setdefault(record_type.model, []).append(record.pk)
        events = {model: recordinfo.last_event_ids(model, ids) for model, ids in by_model.items()}
        SignatureItem.objects.bulk_create(
            SignatureItem(
                signature=signature,
                record_type=record_type.key,
                record_id=record.pk,
                record_version=recordinfo.version_of(record),
                event_id=events[record_type.model].get(record.pk),
                values=recordinfo.values_of(record, recordinfo.checked_fields(record_type)),
            )
            for record_type, record in signed
        )
    return signature


# --- targeted SDV --------------------------------------------------------------------


def target_choices() -> list[tuple[str, str]]:
    """Record types a trial may target; a type with a `serious` flag also as serious only."""
    choices = []
    for record_type in records.all_types():
        choices.append((record_type.key, record_type.label))
        if any(f.name == "serious" for f in record_type.model._meta.concrete_fields):
            choices.append(
                (
                    f"{record_type.key}:serious",
                    _("%(label)s (serious only)") % {"label": record_type.label},
                )
            )
    return choices


@transaction.atomic
def set_sdv_targets(*, actor, site, trial, targets: list[str]) -> SdvTargets:
    """Targeted SDV of a trial (a data manager): the record types to verify; none = all."""
    _require(actor, permissions.LOCK_DATA, site)
    known = {key for key, _label in target_choices()}
    unknown = [t for t in targets if t not in known]
    if unknown:
        raise ValidationError(
            {"targets": _("Unknown record type: %(t)s") % {"t": ", ".join(unknown)}}
        )
    with audit_context(actor_id=actor.pk, reason="targeted SDV changed"):
        row, _created = SdvTargets.objects.update_or_create(
            trial=trial, defaults={"targets": sorted(set(targets)), "updated_by": actor}
        )
    return row
