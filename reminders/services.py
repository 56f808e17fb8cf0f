"""Writes for reminders: keep the rows in step with the visits, claim the due ones, send each once.

- `sync_participant` recomputes a participant's reminders; the services that change visits,
  the transplantation or the participant's status call it explicitly (and the ON_EXITED
  lifecycle hook). Pending rows move, sent rows are kept, rows that no longer apply are
  cancelled (never deleted).
- `deferred_sync()` is for bulk writers (seed_demo, imports): inside it, `sync_participant`
  only notes the participant, and each noted participant is synced once when the block
  ends, instead of after every single change.
- `claim_due` is the beat scan: it claims due rows with SELECT … FOR UPDATE SKIP LOCKED
  (so concurrent scans claim disjoint sets) and dispatches one send per id after commit.
  A claim whose dispatch was lost is claimed again after the claim timeout.
- `send_reminder` re-checks everything under the row lock, sends, and sets sent_at, so a
  retried or duplicated task sends nothing more.
- Safety alerts (`reminders.alerts`) are rows with a topic: the same scan claims and sends
  them; sync never touches them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone

from participants.choices import ParticipantStatus
from participants.models import Participant
from reminders import channels, selectors, timing
from reminders.models import (
    CalendarFeed,
    Notification,
    Reminder,
    ReminderKind,
    ReminderPreference,
    new_calendar_token,
)
from trials.i18n import language_for
from trials.models import Membership, Role
from trials.protocols.definitions import ReminderDef
from visits.choices import VisitStatus
from visits.models import Visit

logger = logging.getLogger(__name__)

CLAIM_BATCH = 500
MAX_ATTEMPTS = 5
REMINDED_ROLES = frozenset({Role.COORDINATOR})
ESCALATION_ROLES = frozenset({Role.INVESTIGATOR})
# Who receives each kind of safety alert (besides the trial's sponsor safety contact).
ALERT_ROLES: dict[str, frozenset[str]] = {
    ReminderKind.SAE: frozenset({Role.INVESTIGATOR}),
    ReminderKind.SAE_UPDATE: frozenset({Role.INVESTIGATOR}),
    ReminderKind.SAE_ESCALATION: frozenset({Role.DATA_MANAGER}),
}

# Visit, kind, recipient, channel. A schedule row always has a recipient user (the check
# constraint leaves a NULL user to the sponsor contact's alert rows), so None never matches.
Key = tuple[int, str, int | None, str]


def roles_for(definition: ReminderDef) -> frozenset[str]:
    return REMINDED_ROLES | ESCALATION_ROLES if definition.escalate else REMINDED_ROLES


def claim_timeout() -> timedelta:
    return timedelta(minutes=settings.REMINDER_CLAIM_TIMEOUT_MINUTES)


# --- Keeping the schedule in step with the visits.


@dataclass
class SyncResult:
    created: int = 0
    moved: int = 0
    cancelled: int = 0
    kept_sent: int = 0


def _desired(
    participant: Participant, visits: Iterable[Visit], now: datetime
) -> dict[Key, datetime]:
    """Every reminder the participant's open, planned visits should have, with its due time."""
    if participant.has_ended:
        return {}
    protocol = participant.trial.protocol
    site = participant.site
    members = list(
        Membership.objects.active()
        .filter(site=site, user__is_active=True, role__in=REMINDED_ROLES | ESCALATION_ROLES)
        .select_related("user")
    )
    desired: dict[Key, datetime] = {}
    for visit in visits:
        if not visit.is_open or visit.sequence != 0:
            continue
        # A scheduled visit has its target and window planned together; others have none.
        if visit.target_date is None or visit.window_start is None or visit.window_end is None:
            continue
        try:
            definitions = protocol.visit(visit.code).reminders
        except KeyError:
            continue
        dues = timing.due_times(
            definitions,
            target=visit.target_date,
            window_start=visit.window_start,
            window_end=visit.window_end,
            hour=settings.REMINDER_LOCAL_HOUR,
            zone=site.zone,
            now=now,
        )
        for due in dues:
            roles = roles_for(due.definition)
            for membership in members:
                if membership.role not in roles:
                    continue
                for channel in channels.channels_for(membership.user):
                    key = (visit.pk, due.definition.kind.value, membership.user_id, channel)
                    desired[key] = due.at
    return desired


# Participant ids whose sync is deferred to the end of the current `deferred_sync` block
# (None outside one). A dict keeps the order they were first noted in.
_deferred: ContextVar[dict[int, None] | None] = ContextVar("deferred_reminder_syncs", default=None)


@contextmanager
def deferred_sync() -> Iterator[None]:
    """Defer `sync_participant` calls for the duration of the block; at its end, sync each
    participant noted once (in the order first noted), with the time at the end.

    The rows that remain are the ones syncing after every change would leave pending
    (a sync depends only on the participant's state at the time it runs), without the
    rows an intermediate sync would create and a later one cancel, and in one sync
    instead of one per change. For bulk writers such as seed_demo. Use it inside the
    transaction that makes the changes (``with transaction.atomic(), deferred_sync():``)
    so the sync commits with them. If the block raises, nothing is synced: the changes
    are expected to roll back (otherwise the daily sync_all catches up). A nested block
    leaves the syncing to the outermost one.
    """
    if _deferred.get() is not None:
        yield
        return
    noted: dict[int, None] = {}
    token = _deferred.set(noted)
    try:
        yield
    finally:
        _deferred.reset(token)
    for pk in noted:
        _sync(Participant(pk=pk))


def sync_participant(participant: Participant, *, now: datetime | None = None) -> SyncResult:
    """Recompute the reminders of a participant's visits (call after any change to them).

    Inside `deferred_sync()` this only notes the participant (and returns an empty result);
    the block's end syncs it.
    """
    noted = _deferred.get()
    if noted is not None:
        noted[participant.pk] = None
        return SyncResult()
    return _sync(participant, now=now)


# No savepoint of its own: the services call it last, in their transaction, and an error
# here rolls the whole change back anyway.
@transaction.atomic(savepoint=False)
def _sync(participant: Participant, *, now: datetime | None = None) -> SyncResult:
    now = now or timezone.now()
    participant = Participant.objects.select_related("site", "trial").get(pk=participant.pk)
    visits = list(participant.visits.all())
    desired = _desired(participant, visits, now)
    result = SyncResult()
    # By the visits' ids, not a join on the participant: the plan is then an index scan
    # whatever the table statistics say (during a bulk load they lag, and the join became
    # a sequential scan of every reminder, per participant).
    # Alert rows (with a topic) share the visit but are not the schedule's: left alone.
    existing = (
        Reminder.objects.select_for_update(of=("self",))
        .filter(visit_id__in=[visit.pk for visit in visits], topic="")
        .order_by("pk")
    )
    cancelled, moved = [], []
    for reminder in existing:
        due = desired.pop(
            (reminder.visit_id, reminder.kind, reminder.recipient_id, reminder.channel), None
        )
        if reminder.sent_at is not None:
            result.kept_sent += 1
        elif due is None:
            if reminder.cancelled_at is None:
                reminder.cancelled_at = now
                cancelled.append(reminder.pk)
        elif reminder.due_at != due or reminder.cancelled_at is not None:
            reminder.due_at = due
            reminder.cancelled_at = reminder.claimed_at = None
            reminder.attempts = 0
            reminder.last_error = ""
            moved.append(reminder)
    # One statement each, whatever the number of rows (an end of study cancels them all).
    if cancelled:
        Reminder.objects.filter(pk__in=cancelled).update(cancelled_at=now)
    if moved:
        Reminder.objects.bulk_update(
            moved, ["due_at", "cancelled_at", "claimed_at", "attempts", "last_error"]
        )
    result.cancelled, result.moved = len(cancelled), len(moved)
    Reminder.objects.bulk_create(
        Reminder(visit_id=visit_id, kind=kind, recipient_id=user_id, channel=channel, due_at=due)
        for (visit_id, kind, user_id, channel), due in desired.items()
    )
    result.created = len(desired)
    return result


def sync_visit(visit: Visit) -> SyncResult:
    return sync_participant(visit.participant)


def on_exited(participant: Participant) -> None:
    """Lifecycle hook (ON_EXITED): an ended participant's pending reminders are cancelled."""
    sync_participant(participant)


def sync_all(*, participants: Iterable[Participant] | None = None) -> int:
    """Re-sync every participant who may have reminders (daily: picks up team changes)."""
    if participants is None:
        pending = Q(
            visits__reminders__sent_at__isnull=True,
            visits__reminders__cancelled_at__isnull=True,
            visits__reminders__topic="",
        )
        participants = (
            Participant.objects.filter(Q(status=ParticipantStatus.TRANSPLANTED) | pending)
            .distinct()
            .order_by("pk")
        )
    count = 0
    for participant in participants:
        sync_participant(participant)
        count += 1
    return count


# --- The scan: claim due rows, dispatch one send per id after commit.


def dispatcher(dispatch: Callable[[int], None], ids: list[int]) -> Callable[[], None]:
    def dispatch_claimed() -> None:
        """Dispatch each id; on the first failure (broker down) stop: the claims time out
        and a later scan dispatches them again."""
        for pk in ids:
            dispatch(pk)

    return dispatch_claimed


def due_reminders(now: datetime) -> QuerySet[Reminder]:
    """Pending, due, and not claimed (or claimed longer ago than the timeout): the scan's rows.

    Served by the partial index `reminder_due_scan` (due_at WHERE sent_at IS NULL AND
    cancelled_at IS NULL): sent and cancelled rows, the vast majority, are not in it.
    """
    return (
        Reminder.objects.filter(sent_at__isnull=True, cancelled_at__isnull=True, due_at__lte=now)
        .filter(Q(claimed_at__isnull=True) | Q(claimed_at__lt=now - claim_timeout()))
        .order_by("due_at")
    )


def claim_batch(*, now: datetime, size: int, dispatch: Callable[[int], None]) -> list[int]:
    """Claim up to `size` due reminders in the caller's transaction; dispatch after commit.

    Rows locked by a concurrent scan are skipped, so two scans never claim the same row.
    """
    ids = list(
        due_reminders(now).select_for_update(skip_locked=True).values_list("pk", flat=True)[:size]
    )
    if ids:
        Reminder.objects.filter(pk__in=ids).update(claimed_at=now)
        transaction.on_commit(dispatcher(dispatch, ids), robust=True)
    return ids


def claim_due(
    *,
    dispatch: Callable[[int], None],
    now: datetime | None = None,
    batch_size: int = CLAIM_BATCH,
) -> list[int]:
    """Claim every due reminder, one transaction per batch; returns the claimed ids."""
    now = now or timezone.now()
    claimed: list[int] = []
    while True:
        with transaction.atomic():
            ids = claim_batch(now=now, size=batch_size, dispatch=dispatch)
        claimed.extend(ids)
        if len(ids) < batch_size:
            return claimed


# --- Sending one reminder, exactly once.

SENT = "sent"
ALREADY_SENT = "already_sent"
CANCELLED = "cancelled"
NOT_DUE = "not_due"
MISSING = "missing"
FAILED = "failed"


def _definition(reminder: Reminder) -> ReminderDef | None:
    visit_def = reminder.visit.definition
    if visit_def is None:
        return None
    return next((d for d in visit_def.reminders if d.kind.value == reminder.kind), None)


def why_not(reminder: Reminder, preference: ReminderPreference | None) -> str:
    """Why this reminder must not be sent now (empty if it may): later edits always win."""
    if reminder.is_alert:
        return alert_why_not(reminder)
    visit = reminder.visit
    participant = visit.participant
    if participant.has_ended:
        return "participant has left the study"
    if visit.actual_date is not None or visit.status in (
        VisitStatus.MISSED,
        VisitStatus.NOT_EXPECTED,
    ):
        return "visit is no longer expected"
    definition = _definition(reminder)
    if definition is None:
        return "the protocol no longer defines this reminder"
    recipient = reminder.recipient
    assert recipient is not None  # the check constraint: visit reminders go to users
    member = (
        Membership.objects.active()
        .filter(site=participant.site, user=recipient, role__in=roles_for(definition))
        .exists()
    )
    if not (recipient.is_active and member):
        return "recipient is no longer on the site team"
    if preference is not None and reminder.kind in preference.muted_kinds:
        return "muted by the recipient"
    if reminder.channel not in channels.channels_for(recipient):
        return "recipient has no address for this channel"
    return ""


def alert_why_not(reminder: Reminder) -> str:
    """Why a safety alert must not be sent now. Unlike a visit reminder it is not muted and
    outlives the visit and the participant's end of study (safety follow-up goes on); a
    user still needs the role it was raised for, at the participant's site."""
    recipient = reminder.recipient
    if recipient is None:  # the sponsor contact, at the address stored when it was raised
        return ""
    member = (
        Membership.objects.active()
        .filter(
            site=reminder.visit.participant.site,
            user=recipient,
            role__in=ALERT_ROLES[reminder.kind],
        )
        .exists()
    )
    if not (recipient.is_active and member):
        return "recipient is no longer on the site team"
    if reminder.channel not in channels.channels_for(recipient):
        return "recipient has no address for this channel"
    return ""


def send_reminder(reminder_id: int, *, now: datetime | None = None) -> str:
    """Send one reminder if it is still due and applicable; at most once, whoever calls."""
    with transaction.atomic():
        reminder = (
            Reminder.objects.select_for_update(of=("self",))
            .select_related("visit__participant__site", "visit__participant__trial", "recipient")
            .filter(pk=reminder_id)
            .first()
        )
        if reminder is None:
            return MISSING
        if reminder.sent_at is not None:
            return ALREADY_SENT
        if reminder.cancelled_at is not None:
            return CANCELLED
        now = now or timezone.now()
        if reminder.due_at > now:  # moved later after it was claimed: a later scan sends it
            Reminder.objects.filter(pk=reminder.pk).update(claimed_at=None)
            return NOT_DUE
        preference = (
            ReminderPreference.objects.filter(user=reminder.recipient_id).first()
            if reminder.recipient_id is not None
            else None  # a contact without an account reads the site's language
        )
        reason = why_not(reminder, preference)
        if reason:
            Reminder.objects.filter(pk=reminder.pk).update(cancelled_at=now, last_error=reason)
            return CANCELLED
        # The language of reminders the recipient chose, else their interface language, else
        # the site's (a sponsor contact without an account reads the site's).
        language = language_for(
            reminder.recipient,
            preference.language if preference else None,
            site=reminder.visit.participant.site,
        )
        try:
            with transaction.atomic():
                message = channels.render(reminder, language)
                channels.SENDERS[reminder.channel](reminder, message)
        except Exception as error:
            attempts = reminder.attempts + 1
            logger.warning("reminder %s: attempt %s failed: %s", reminder.pk, attempts, error)
            # The next scan retries a few times; then a visit reminder is given up, but a
            # safety alert never is: it stays claimed, so it is retried once per claim
            # timeout until it goes out.
            exhausted = attempts >= MAX_ATTEMPTS
            if exhausted and reminder.is_alert:
                logger.error("safety alert %s still not sent: %s", reminder.pk, error)
            Reminder.objects.filter(pk=reminder.pk).update(
                attempts=attempts,
                last_error=f"{type(error).__name__}: {error}"[:2000],
                claimed_at=now if exhausted and reminder.is_alert else None,
                cancelled_at=now if exhausted and not reminder.is_alert else None,
            )
            return FAILED
        updated = Reminder.objects.filter(pk=reminder.pk, sent_at__isnull=True).update(
            sent_at=now, last_error=""
        )
        return SENT if updated else ALREADY_SENT


# --- The recipient's side: notifications, preferences, calendar feed.


def _own_notification(user, pk: int) -> Notification:
    notification = selectors.notifications_for(user).filter(pk=pk).first()
    if notification is None:
        raise Http404
    return notification


def mark_read(*, user, pk: int) -> Notification:
    notification = _own_notification(user, pk)
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])
    return notification


def mark_all_read(*, user) -> int:
    return (
        selectors.notifications_for(user)
        .filter(read_at__isnull=True)
        .update(read_at=timezone.now())
    )


@transaction.atomic
def save_preferences(*, user, language: str, muted_kinds: list[str]) -> ReminderPreference:
    preference, _ = ReminderPreference.objects.select_for_update().get_or_create(user=user)
    preference.language = language
    preference.muted_kinds = sorted(set(muted_kinds))
    preference.full_clean()
    preference.save()
    return preference


def calendar_feed(*, user) -> CalendarFeed:
    feed, _ = CalendarFeed.objects.get_or_create(user=user)
    return feed


@transaction.atomic
def regenerate_calendar_token(*, user) -> CalendarFeed:
    """A new secret URL; the old one answers 404 from now on."""
    feed, created = CalendarFeed.objects.select_for_update().get_or_create(user=user)
    if not created:
        feed.token = new_calendar_token()
        feed.save(update_fields=["token", "created_at"])
    return feed
