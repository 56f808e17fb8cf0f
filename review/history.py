"""review's part of a record's history (trials.timeline.HISTORY_SOURCES): its source data
verifications and their clearing, the e-signatures that covered it and their invalidation, and
the locks that covered it (its own, its visit's, its participant's, its site's) with their
unlocking — four queries for any number of records of one type."""

from __future__ import annotations

from collections.abc import Sequence

from django.core.exceptions import FieldDoesNotExist
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from review.models import Lock, Scope, SignatureItem, SignatureKind, Verification
from trials.records import RecordType
from trials.timeline import HistoryEntry


def _field_label(record_type: RecordType, name: str) -> str:
    if not name:
        return _("The whole record")
    try:
        found = record_type.model._meta.get_field(name)
    except FieldDoesNotExist:  # a field since removed from the model: its stored name
        return name
    return capfirst(str(getattr(found, "verbose_name", name)))


def _name(user) -> str:
    return user.get_username() if user is not None else ""


def _verifications(record_type: RecordType, ids: Sequence[int]) -> list[HistoryEntry]:
    found = []
    rows = Verification.objects.filter(record_type=record_type.key, record_id__in=ids)
    for row in rows.select_related("verified_by"):
        found.append(
            HistoryEntry(
                record_type=record_type.key,
                record_id=row.record_id,
                at=row.verified_at,
                kind="verified",
                label=_("Source data verified"),
                who=_name(row.verified_by),
                detail=_field_label(record_type, row.field),
                tone="success",
            )
        )
        if row.cleared_at is not None:
            fields = ", ".join(_field_label(record_type, name) for name in row.cleared_fields)
            detail = _("%(fields)s changed") % {"fields": fields} if fields else ""
            if row.cleared_version is not None:
                detail = _("%(detail)s (version %(version)s)") % {
                    "detail": detail or _("Changed"),
                    "version": row.cleared_version,
                }
            found.append(
                HistoryEntry(
                    record_type=record_type.key,
                    record_id=row.record_id,
                    at=row.cleared_at,
                    kind="verification_cleared",
                    label=_("Verification cleared by a change"),
                    detail=detail,
                    tone="warning",
                )
            )
    return found


def _signatures(record_type: RecordType, ids: Sequence[int]) -> list[HistoryEntry]:
    kinds = dict(SignatureKind.choices)
    found = []
    items = SignatureItem.objects.filter(
        record_type=record_type.key, record_id__in=ids
    ).select_related("signature__signed_by")
    for item in items:
        signature = item.signature
        what = str(kinds.get(signature.kind, signature.kind))
        found.append(
            HistoryEntry(
                record_type=record_type.key,
                record_id=item.record_id,
                at=signature.signed_at,
                kind="signed",
                label=_("E-signed (%(what)s)") % {"what": what.lower()},
                who=_name(signature.signed_by),
                detail=signature.meaning,
                tone="primary",
            )
        )
        if signature.invalidated_at is not None:
            key, _sep, pk = signature.invalidated_by_record.partition(":")
            by_this = key == record_type.key and pk == str(item.record_id)
            detail = (
                _("by a change of this record")
                if by_this
                else _("by a change of %(record)s") % {"record": signature.invalidated_by_record}
            )
            if signature.invalidated_version is not None and by_this:
                detail += " " + _("(version %(version)s)") % {
                    "version": signature.invalidated_version
                }
            found.append(
                HistoryEntry(
                    record_type=record_type.key,
                    record_id=item.record_id,
                    at=signature.invalidated_at,
                    kind="signature_invalidated",
                    label=_("E-signature invalidated"),
                    detail=detail,
                    tone="danger",
                )
            )
    return found


_LOCKED = {
    Scope.RECORD: (lambda: _("Record locked"), lambda: _("Record unlocked")),
    Scope.VISIT: (lambda: _("Visit locked"), lambda: _("Visit unlocked")),
    Scope.PARTICIPANT: (lambda: _("Participant locked"), lambda: _("Participant unlocked")),
    Scope.SITE: (lambda: _("Site locked"), lambda: _("Site unlocked")),
}


def _locks(record_type: RecordType, ids: Sequence[int]) -> list[HistoryEntry]:
    """The locks that covered each record: its own, and those of its visit, participant and
    site (while the record exists; a deleted record shows the locks of itself alone)."""
    participant_path = record_type.participant_path
    columns = [
        "pk",
        participant_path or "pk",
        f"{participant_path}__site" if participant_path else "site",
    ]
    if record_type.visit_path is not None:
        columns.append(record_type.visit_path or "pk")
    rows = record_type.model._default_manager.filter(pk__in=ids).values_list(*columns)
    covered_by: dict[str, set[int]] = {}  # lock target → the records it covers
    for pk, participant_id, site_id, *visit in rows:
        covered_by.setdefault(f"record:{record_type.key}:{pk}", set()).add(pk)
        covered_by.setdefault(f"participant:{participant_id}", set()).add(pk)
        covered_by.setdefault(f"site:{site_id}", set()).add(pk)
        if visit and visit[0] is not None:
            covered_by.setdefault(f"visit:{visit[0]}", set()).add(pk)
    for pk in ids:  # a deleted record: its own locks
        covered_by.setdefault(f"record:{record_type.key}:{pk}", set()).add(pk)
    locks = (
        Lock.objects.filter(target__in=list(covered_by))
        .select_related("locked_by", "unlocked_by")
        .order_by("locked_at", "pk")
    )
    found = []
    for lock in locks:
        locked_label, unlocked_label = _LOCKED[Scope(lock.scope)]
        for pk in sorted(covered_by.get(lock.target, ())):
            found.append(
                HistoryEntry(
                    record_type=record_type.key,
                    record_id=pk,
                    at=lock.locked_at,
                    kind="locked",
                    label=locked_label(),
                    who=_name(lock.locked_by),
                    reason=lock.reason,
                    tone="dark",
                )
            )
            if lock.unlocked_at is not None:
                found.append(
                    HistoryEntry(
                        record_type=record_type.key,
                        record_id=pk,
                        at=lock.unlocked_at,
                        kind="unlocked",
                        label=unlocked_label(),
                        who=_name(lock.unlocked_by),
                        reason=lock.unlock_reason,
                        tone="info",
                    )
                )
    return found


def record_history(record_type: RecordType, ids: Sequence[int]) -> list[HistoryEntry]:
    return [
        *_verifications(record_type, ids),
        *_signatures(record_type, ids),
        *_locks(record_type, ids),
    ]
