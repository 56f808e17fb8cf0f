"""review's handlers of trials.locking's hook lists: every save or delete of a reviewable
record asks here whether a lock covers it (one query, which also finds the verifications
and signatures the write may clear), and after a save the verifications and signatures of
values that changed are cleared, naming the change (its audit event and version)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import CharField, Q, Value
from django.utils import timezone
from django.utils.translation import gettext as _

from review import recordinfo
from review.models import Lock, Scope, Signature, SignatureKind, Verification
from trials.locking import LockInfo, RecordLocked
from trials.records import RecordType

_PENDING = "_review_pending"


def _targets(record_type, instance) -> tuple[list[str], int | None, int | None]:
    participant_id = recordinfo.participant_id(record_type, instance)
    visit_id = recordinfo.visit_id(record_type, instance)
    targets = []
    if participant_id is not None:
        targets.append(f"participant:{participant_id}")
    if visit_id is not None:
        targets.append(f"visit:{visit_id}")
    if instance.pk is not None:
        targets.append(f"record:{record_type.key}:{instance.pk}")
    return targets, participant_id, visit_id


def _covering(targets: list[str], participant_id: int | None):
    covers = Q(target__in=targets)
    if participant_id is not None:
        covers |= Q(scope=Scope.SITE, site__participants=participant_id)
    return Lock.objects.active().filter(covers)


def describe(lock: Lock) -> LockInfo:
    labels = {
        Scope.RECORD: _("This record is locked"),
        Scope.VISIT: _("The visit is locked"),
        Scope.PARTICIPANT: _("The participant is locked"),
        Scope.SITE: _("Site %(code)s is locked") % {"code": lock.site.code},
    }
    return LockInfo(
        scope=lock.scope,
        scope_label=str(labels[Scope(lock.scope)]),
        by=lock.locked_by.get_username(),
        at=lock.locked_at,
        reason=lock.reason,
    )


@dataclass
class _State:
    """What one query found for a record: the lock covering it, and the verifications and
    signatures a save of it may clear."""

    pk: Any
    atomic: bool
    lock: LockInfo | None
    pending: dict[str, Any]


_STATE = "_review_state"
_WIDEST_FIRST = ["site", "participant", "visit", "record"]


def _state(record_type: RecordType, instance: Any) -> _State:
    targets, participant_id, visit_id = _targets(record_type, instance)
    kind = CharField()
    branches = [
        _covering(targets, participant_id)
        .annotate(what=Value("lock", output_field=kind))
        .values_list("what", "pk")
    ]
    if instance.pk is not None:
        branches.append(
            Verification.objects.active()
            .filter(record_type=record_type.key, record_id=instance.pk)
            .annotate(what=Value("verification", output_field=kind))
            .values_list("what", "pk")
        )
        covered_by = Q(items__record_type=record_type.key, items__record_id=instance.pk)
    else:
        covered_by = Q(pk__in=[])
    # A record added to a signed visit or casebook changes what was signed, too.
    if visit_id is not None:
        covered_by |= Q(kind=SignatureKind.VISIT, visit_id=visit_id)
    if participant_id is not None:
        covered_by |= Q(kind=SignatureKind.CASEBOOK, participant_id=participant_id)
    branches.append(
        Signature.objects.valid()
        .filter(covered_by)
        .annotate(what=Value("signature", output_field=kind))
        .values_list("what", "pk")
    )
    first, *rest = branches
    rows = list(first.union(*rest, all=True))
    lock_ids = [pk for what, pk in rows if what == "lock"]
    lock = None
    if lock_ids:  # who, when and why: a second query, only for locked data
        locks = Lock.objects.filter(pk__in=lock_ids).select_related("locked_by", "site")
        lock = describe(min(locks, key=lambda row: _WIDEST_FIRST.index(row.scope)))
    return _State(
        pk=instance.pk,
        atomic=connection.in_atomic_block,
        lock=lock,
        pending={
            "verifications": [pk for what, pk in rows if what == "verification"],
            "signatures": sorted({pk for what, pk in rows if what == "signature"}),
            "insert": instance.pk is None,
        },
    )


def lock_of(instance: Any) -> LockInfo | None:
    """trials.locking.LOCK_FINDERS: the lock covering a record (the widest first). Kept on
    the instance: a page asks more than once, and a save in the same transaction right after
    the check (save_form, the safety services) reuses it instead of asking again."""
    record_type = recordinfo.type_of(instance)
    if record_type is None:
        return None
    state = instance.__dict__.get(_STATE)
    if state is None or state.pk != instance.pk:
        state = _state(record_type, instance)
        instance.__dict__[_STATE] = state
    return state.lock


def guard(instance: Any, *, update_fields: Any = None, deleting: bool = False) -> None:
    """trials.locking.WRITE_GUARDS: refuse a write to locked data; remember what it may clear."""
    record_type = recordinfo.type_of(instance)
    if record_type is None:
        return
    state = instance.__dict__.pop(_STATE, None)
    # A check made inside a transaction, for this row, stands for the save that follows it
    # (save_form and the safety services check is_locked, then save, in one transaction);
    # one made outside a transaction (a page's display), or for another row, is asked again.
    # No code checks in one transaction and saves the same instance in a later one.
    fresh = (
        state is not None
        and state.atomic
        and connection.in_atomic_block
        and state.pk == instance.pk
    )
    if not fresh:
        state = _state(record_type, instance)
    assert state is not None
    if state.lock is not None:
        raise RecordLocked(state.lock)
    if deleting:
        _clear(instance, record_type, state.pending, deleted=True)
    else:
        setattr(instance, _PENDING, state.pending)


def written(instance: Any) -> None:
    """trials.locking.ON_WRITTEN: clear what the saved values no longer match."""
    pending = instance.__dict__.pop(_PENDING, None)
    if not pending or not (pending["verifications"] or pending["signatures"]):
        return
    record_type = recordinfo.type_of(instance)
    if record_type is not None:
        _clear(instance, record_type, pending, deleted=False)


def _clear(instance: Any, record_type, pending: dict, *, deleted: bool) -> None:
    now = timezone.now()
    current = (
        {} if deleted else recordinfo.values_of(instance, recordinfo.checked_fields(record_type))
    )
    event: list[int | None] = []

    def event_id() -> int | None:
        if not event:  # one query, only when something is cleared
            event.append(None if deleted else recordinfo.last_event_id(instance))
        return event[0]

    version = None if deleted else recordinfo.version_of(instance)
    for verification in Verification.objects.filter(pk__in=pending["verifications"]):
        changed = [
            name
            for name, value in verification.values.items()
            if deleted or current.get(name) != value
        ]
        if changed:
            verification.cleared_at = now
            verification.cleared_fields = changed
            verification.cleared_by_event = event_id()
            verification.cleared_version = version
            verification.save()
    record_key = f"{record_type.key}:{instance.pk}"
    for signature in Signature.objects.filter(pk__in=pending["signatures"]).prefetch_related(
        "items"
    ):
        items = [
            item
            for item in signature.items.all()
            if item.record_type == record_type.key and item.record_id == instance.pk
        ]
        broken = bool(deleted or pending["insert"] or not items) or any(
            current.get(name) != value for item in items for name, value in item.values.items()
        )
        if broken:
            signature.invalidated_at = now
            signature.invalidated_by_record = record_key
            signature.invalidated_by_event = event_id()
            signature.invalidated_version = version
            signature.save()
