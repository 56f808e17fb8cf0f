"""Safety alerts: serious adverse events reach the site's investigators and the sponsor at once,
and escalate to the data managers and the sponsor when no investigator acknowledges in time.

They are reminder rows with a `topic` (one per SAE or SAE update, chosen by the caller), so the
beat scan claims them and `services.send_reminder` sends each once, like any reminder:

- `raise_alert` writes the rows in the caller's transaction. The immediate rows are written
  claimed and dispatched after commit; if that dispatch is lost (broker down, worker killed),
  the claim times out and the scan sends them, late, once. Escalation rows are written pending,
  due `escalate_after` from now on the server clock; the scan sends them when due.
- `resolve_alert` cancels a topic's pending escalation rows (an investigator acknowledged).

Once per topic: the topic is locked for the transaction (an advisory lock) and a topic that has
rows is not raised again, and the unique constraints on (topic, kind, recipient, channel) stop
any second row whatever happens. The message is rendered at send time in each recipient's
language (`channels.render_alert`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from datetime import timedelta

from django.db import connection, transaction
from django.utils import timezone

from participants.models import Participant
from reminders import channels, services, tasks
from reminders.models import Channel, Reminder, ReminderKind
from trials.models import Membership
from visits.models import Visit

IMMEDIATE_KINDS = frozenset({ReminderKind.SAE, ReminderKind.SAE_UPDATE})
TOPIC_MAX_LENGTH = Reminder._meta.get_field("topic").max_length or 100
PATH_MAX_LENGTH = 500  # Notification.url


def _lock_topic(topic: str) -> None:
    """Serialise raises of one topic until the transaction ends: a second raise (a retried task,
    a double save) waits for the first to commit and then sees its rows."""
    digest = hashlib.sha256(b"reminders.alert:" + topic.encode()).digest()
    key = int.from_bytes(digest[:8], "big", signed=True)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [key])


def _check(topic: str, kind: str, payload: Mapping[str, str]) -> dict[str, str]:
    """The caller's arguments, checked: these are programming errors, not user input."""
    if not topic or len(topic) > TOPIC_MAX_LENGTH:
        raise ValueError(f"an alert topic is 1 to {TOPIC_MAX_LENGTH} characters: {topic!r}")
    if kind not in IMMEDIATE_KINDS:
        raise ValueError(f"an alert is raised as {sorted(IMMEDIATE_KINDS)}, not {kind!r}")
    missing = [key for key in channels.ALERT_PAYLOAD_KEYS if key not in payload]
    if missing:
        raise ValueError(f"alert payload lacks {missing}")
    values = {key: str(payload[key]) for key in channels.ALERT_PAYLOAD_KEYS}
    path = values["path"]
    # A site-relative path: the in-app link must not lead off the site.
    if not path.startswith("/") or path.startswith("//") or len(path) > PATH_MAX_LENGTH:
        raise ValueError(f"alert path must be a site-relative URL: {path!r}")
    return values


def _rows(fields: dict, site_id: int, sponsor: str) -> list[Reminder]:
    """One row per recipient of the kind and channel: each user holding the kind's role at the
    site (in-app, and e-mail with an address), and the sponsor contact (e-mail)."""
    users = {
        m.user_id: m.user
        for m in Membership.objects.active()
        .filter(
            site_id=site_id, role__in=services.ALERT_ROLES[fields["kind"]], user__is_active=True
        )
        .select_related("user")
        .order_by("user_id")
    }
    rows = [
        Reminder(**fields, recipient=user, channel=channel)
        for user in users.values()
        for channel in channels.channels_for(user)
    ]
    if sponsor:
        rows.append(Reminder(**fields, recipient_email=sponsor, channel=Channel.EMAIL))
    return rows


def raise_alert(
    *,
    topic: str,
    kind: str,
    visit: Visit,
    payload: Mapping[str, str],
    escalate_after: timedelta | None = None,
    dispatch: Callable[[int], None] | None = None,
) -> list[int]:
    """Claim-and-send rows for an alert about `visit`'s participant: in-app + e-mail to each
    active investigator of the visit's site, e-mail to the trial's sponsor safety contact (if
    configured); when escalate_after is given, pending escalation rows due at
    now + escalate_after to the site's data managers (in-app + e-mail) and the sponsor contact
    (e-mail). Idempotent per topic: a second call with the same topic (a retried task, a double
    save) creates nothing. Call inside the caller's transaction; sending is dispatched through
    Celery after commit (transaction.on_commit). Returns the ids of the rows it created.

    `payload` holds the strings the message shows: study_id (study ID or screening number),
    term, grade, criteria, onset, reporter, and path (the site-relative URL of the AE page).
    `dispatch` replaces the Celery task (tests).
    """
    values = _check(topic, kind, payload)
    with transaction.atomic():
        _lock_topic(topic)
        if Reminder.objects.filter(topic=topic).exists():
            return []
        participant = Participant.objects.select_related("trial").get(pk=visit.participant_id)
        sponsor = participant.trial.sponsor_safety_email
        now = timezone.now()
        common = {"topic": topic, "visit_id": visit.pk, "payload": values}
        # Written already claimed: the dispatch below sends them; the scan only takes them
        # over when the claim times out (a lost dispatch).
        rows = _rows(
            {**common, "kind": kind, "due_at": now, "claimed_at": now},
            participant.site_id,
            sponsor,
        )
        if escalate_after is not None:
            escalation = ReminderKind.SAE_ESCALATION
            later = {**common, "kind": escalation, "due_at": now + escalate_after}
            rows += _rows(later, participant.site_id, sponsor)
        created = Reminder.objects.bulk_create(rows)
        now_ids = [row.pk for row in created if row.claimed_at is not None]
        if now_ids:
            transaction.on_commit(
                services.dispatcher(dispatch or tasks.dispatch_send, now_ids), robust=True
            )
    return [row.pk for row in created]


@transaction.atomic
def resolve_alert(*, topic: str) -> int:
    """An investigator acknowledged: cancel the topic's pending escalation rows (never deleted).
    Returns how many. An escalation already being sent holds its row lock; this waits for it
    and then leaves the sent row alone."""
    return Reminder.objects.filter(
        topic=topic,
        kind=ReminderKind.SAE_ESCALATION,
        sent_at__isnull=True,
        cancelled_at__isnull=True,
    ).update(cancelled_at=timezone.now(), last_error="acknowledged")
