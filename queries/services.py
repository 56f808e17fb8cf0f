"""Writes of the queries app: a person opens, answers, closes and reopens queries; the edit
checks open and close their own. Every change is one transaction with its pghistory context
(the actor and what was done), so the trail shows each transition."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from participants.models import Participant
from queries.models import MessageKind, Query, QueryMessage, QueryStatus
from queries.selectors import field_label, record_of
from trials import checks, permissions, records
from trials.checks import Check, Finding
from trials.history import audit_context
from trials.models import Role, Site

# Long enough for any question or answer; a page showing a thread stays readable.
MESSAGE_MAX_LENGTH = 2000


def _text(text: str, *, required: bool = True) -> str:
    text = (text or "").strip()
    if required and not text:
        raise ValidationError({"message": _("Write a message.")})
    if len(text) > MESSAGE_MAX_LENGTH:
        raise ValidationError(
            {"message": _("Keep the message under %(n)s characters.") % {"n": MESSAGE_MAX_LENGTH}}
        )
    return text


def open_query(
    *,
    actor,
    site: Site,
    record_type: str,
    record_pk: int,
    field_name: str,
    text: str,
    assigned_role: str = Role.COORDINATOR,
) -> Query:
    """A monitor's or data manager's query on a record of `site` (or one of its fields).
    Raises PermissionDenied, or ValidationError on the form's fields."""
    if not permissions.can(actor, permissions.RAISE_QUERIES, site):
        raise PermissionDenied
    record_kind = records.get(record_type)
    record = record_of(record_kind, record_pk, site) if record_kind else None
    if record_kind is None or record is None:
        raise ValidationError({"record": _("This record does not exist at this site.")})
    errors: dict[str, Any] = {}
    if field_name and field_name not in record_kind.data_fields:
        errors["field_name"] = _("Choose a field of this record, or the whole record.")
    if assigned_role not in Role.values:
        errors["assigned_role"] = _("Choose a role.")
    try:
        text = _text(text)
    except ValidationError as error:
        errors.update(error.message_dict)
    if errors:
        raise ValidationError(errors)
    participant = record_kind.participant_of(record)
    visit = record_kind.visit_of(record)
    now = timezone.now()
    with transaction.atomic(), audit_context(actor_id=actor.pk, reason="query opened"):
        query = Query.objects.create(
            site=site,
            participant=participant,
            visit=visit,
            record_type=record_kind.key,
            record_pk=record.pk,
            field_name=field_name,
            assigned_role=assigned_role,
            opened_by=actor,
            opened_at=now,
        )
        QueryMessage.objects.create(
            query=query, author=actor, kind=MessageKind.OPENED, text=text, created_at=now
        )
    return query


class Action:
    REPLY = "reply"
    ANSWER = "answer"
    CLOSE = "close"
    REOPEN = "reopen"
    ALL = (REPLY, ANSWER, CLOSE, REOPEN)


def allowed_actions(user, query: Query) -> list[str]:
    """What the user may do with the query now (the thread page shows these buttons)."""
    raises = permissions.can(user, permissions.RAISE_QUERIES, query.site)
    enters = permissions.can(user, permissions.ENTER_DATA, query.site)
    allowed = []
    if not query.is_closed and (raises or enters):
        allowed.append(Action.REPLY)
    if query.status == QueryStatus.OPEN and enters:
        allowed.append(Action.ANSWER)
    if not query.is_closed and raises:
        allowed.append(Action.CLOSE)
    if query.status != QueryStatus.OPEN and raises:
        allowed.append(Action.REOPEN)
    return allowed


_REFUSED = {
    Action.REPLY: _("This query is closed: reopen it to write in it."),
    Action.ANSWER: _("Only an open query can be answered (this one is %(status)s)."),
    Action.CLOSE: _("This query is already closed."),
    Action.REOPEN: _("This query is open already."),
}

_KIND = {
    Action.REPLY: MessageKind.MESSAGE,
    Action.ANSWER: MessageKind.ANSWER,
    Action.CLOSE: MessageKind.CLOSED,
    Action.REOPEN: MessageKind.REOPENED,
}


def post(*, actor, query: Query, action: str, text: str) -> Query:
    """A message in the thread, with its transition: a reply keeps the status, an answer
    (data entry) makes it answered, close and reopen (monitor, data manager) close and
    reopen it. A close may go without words; the rest need a message."""
    if action not in Action.ALL:
        raise ValidationError({"action": _("Choose what to do.")})
    text = _text(text, required=action != Action.CLOSE)
    with transaction.atomic():
        query = Query.objects.select_for_update().select_related("site").get(pk=query.pk)
        if action not in allowed_actions(actor, query):
            if not (
                permissions.can(actor, permissions.RAISE_QUERIES, query.site)
                or permissions.can(actor, permissions.ENTER_DATA, query.site)
            ):
                raise PermissionDenied
            raise ValidationError(
                {"message": _REFUSED[action] % {"status": query.get_status_display()}}
            )
        now = timezone.now()
        if action == Action.ANSWER:
            query.status = QueryStatus.ANSWERED
        elif action == Action.CLOSE:
            query.status = QueryStatus.CLOSED
            query.closed_at, query.closed_by, query.closed_by_check = now, actor, False
        elif action == Action.REOPEN:
            query.status = QueryStatus.OPEN
            query.closed_at, query.closed_by, query.closed_by_check = None, None, False
        with audit_context(actor_id=actor.pk, reason=f"query {action}"):
            if action != Action.REPLY:
                query.save()
            QueryMessage.objects.create(
                query=query, author=actor, kind=_KIND[action], text=text, created_at=now
            )
    return query


# --- after a record is saved -----------------------------------------------------------------


def on_record_saved(
    record, *, participant_id: int, actor: Any, reason: str, fields: Collection[str]
) -> None:
    """trials.checks.ON_RECORD_SAVED: the work runs after the commit, in a task (no query
    here: the writers' query counts are part of their tests)."""
    from queries import tasks

    record_kind = records.for_model(type(record))
    if record_kind is None:
        return
    args = (
        record_kind.key,
        record.pk,
        participant_id,
        getattr(actor, "pk", None),
        reason,
        sorted(fields),
    )
    transaction.on_commit(lambda: tasks.after_record_saved.delay(*args), robust=True)


def after_record_saved(
    record_type: str,
    record_pk: int,
    participant_id: int,
    actor_id: int | None,
    reason: str,
    fields: Sequence[str],
) -> None:
    """A person's queries on what changed are answered by the change; the checks that read
    this record type run again for the participant."""
    actor = get_user_model().objects.filter(pk=actor_id).first() if actor_id else None
    if fields and actor is not None:
        answer_by_correction(record_type, record_pk, actor=actor, reason=reason, fields=fields)
    record_kind = records.get(record_type)
    label = record_kind.label if record_kind else record_type
    cause = _("%(record)s saved by %(user)s") % {
        "record": label,
        "user": actor.get_username() if actor else "?",
    }
    for check in checks.triggered_by(record_type):
        sync_check(check, [participant_id], cause=cause)


def answer_by_correction(
    record_type: str, record_pk: int, *, actor, reason: str, fields: Collection[str]
) -> list[Query]:
    """Open queries of people on a changed field (or on the whole record) are answered: the
    thread says what changed and why; the person who asked reads it and closes the query."""
    record_kind = records.get(record_type)
    with transaction.atomic():
        answered = list(
            Query.objects.select_for_update().filter(
                Q(field_name="") | Q(field_name__in=list(fields)),
                record_type=record_type,
                record_pk=record_pk,
                check_key="",
                status=QueryStatus.OPEN,
            )
        )
        if not answered:
            return []
        names = ", ".join(_field_label(record_kind, name) for name in sorted(fields))
        text = _("Corrected: %(fields)s. Reason: %(reason)s") % {
            "fields": names,
            "reason": reason or _("none given"),
        }
        now = timezone.now()
        with audit_context(actor_id=actor.pk, reason="query answered by a correction"):
            Query.objects.filter(pk__in=[q.pk for q in answered]).update(
                status=QueryStatus.ANSWERED, updated_at=now
            )
            QueryMessage.objects.bulk_create(
                QueryMessage(
                    query=q, author=actor, kind=MessageKind.CORRECTION, text=text, created_at=now
                )
                for q in answered
            )
    return answered


def _field_label(record_kind: records.RecordType | None, name: str) -> str:
    return field_label(record_kind.model, name) if record_kind else name


# --- edit checks -------------------------------------------------------------------------------


@dataclass(frozen=True)
class SyncResult:
    opened: int = 0
    reopened: int = 0
    closed: int = 0

    def __add__(self, other: SyncResult) -> SyncResult:
        return SyncResult(
            self.opened + other.opened, self.reopened + other.reopened, self.closed + other.closed
        )


def _lock_check(check: Check[Any]) -> None:
    """One run of a check at a time (a save's task, the nightly batch, the bulk page): two
    runs would both see a finding without its query and both insert it."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"queries.check:{check.key}"])


def sync_check(check: Check[Any], participant_ids: Sequence[int], *, cause: str) -> SyncResult:
    """Make the check's queries match what it finds now for these participants: a new
    finding opens a query (once: one query per check, record and finding, ever), a finding
    back after the check closed its query reopens it, a query whose finding is gone is closed
    with a message saying so. A query a person closed stays closed."""
    with transaction.atomic():
        _lock_check(check)
        found: dict[tuple[str, int, str], tuple[int, Finding]] = {}
        for pid, findings in check.findings(participant_ids).items():
            for finding in findings:
                found[(finding.record_type, finding.record_pk, finding.key)] = (pid, finding)
        existing = {
            (q.record_type, q.record_pk, q.finding_key): q
            for q in Query.objects.select_for_update().filter(
                check_key=check.key, participant_id__in=participant_ids
            )
        }
        now = timezone.now()
        messages: list[QueryMessage] = []
        reopen = [
            q for key, q in existing.items() if key in found and q.is_closed and q.closed_by_check
        ]
        close = [q for key, q in existing.items() if key not in found and not q.is_closed]
        new = [(pid, f) for key, (pid, f) in found.items() if key not in existing]
        with audit_context(reason=f"edit check {check.key}: {cause}"):
            if new:
                sites = dict(
                    Participant.objects.filter(pk__in={pid for pid, _f in new}).values_list(
                        "pk", "site_id"
                    )
                )
                created = Query.objects.bulk_create(
                    Query(
                        site_id=sites[pid],
                        participant_id=pid,
                        visit_id=f.visit_id,
                        record_type=f.record_type,
                        record_pk=f.record_pk,
                        field_name=f.field,
                        check_key=check.key,
                        finding_key=f.key,
                        opened_at=now,
                    )
                    for pid, f in new
                )
                messages += [
                    QueryMessage(query=q, kind=MessageKind.OPENED, text=f.message, created_at=now)
                    for q, (_pid, f) in zip(created, new, strict=True)
                ]
            if reopen:
                Query.objects.filter(pk__in=[q.pk for q in reopen]).update(
                    status=QueryStatus.OPEN, closed_at=None, closed_by_check=False, updated_at=now
                )
                messages += [
                    QueryMessage(
                        query=q,
                        kind=MessageKind.REOPENED,
                        text=_("Reopened automatically: %(finding)s (after: %(cause)s)")
                        % {
                            "finding": found[(q.record_type, q.record_pk, q.finding_key)][
                                1
                            ].message,
                            "cause": cause,
                        },
                        created_at=now,
                    )
                    for q in reopen
                ]
            if close:
                Query.objects.filter(pk__in=[q.pk for q in close]).update(
                    status=QueryStatus.CLOSED, closed_at=now, closed_by_check=True, updated_at=now
                )
                messages += [
                    QueryMessage(
                        query=q,
                        kind=MessageKind.CLOSED,
                        text=_(
                            "Closed automatically: the check no longer finds this in the data "
                            "(after: %(cause)s)."
                        )
                        % {"cause": cause},
                        created_at=now,
                    )
                    for q in close
                ]
            QueryMessage.objects.bulk_create(messages)
    return SyncResult(len(new), len(reopen), len(close))


BATCH = 500


def run_check(check: Check[Any], participant_ids: Iterable[int], *, cause: str) -> SyncResult:
    """The check over many participants, BATCH at a time (a transaction each)."""
    ids = list(participant_ids)
    result = SyncResult()
    for start in range(0, len(ids), BATCH):
        result += sync_check(check, ids[start : start + BATCH], cause=cause)
    return result


def run_check_at_site(*, actor, site: Site, check_key: str) -> SyncResult:
    """A data manager runs one check over every participant of the site (the bulk page);
    running it again changes nothing."""
    if not permissions.can(actor, permissions.RUN_CHECKS, site):
        raise PermissionDenied
    check = checks.get(check_key)
    if check is None:
        raise ValidationError({"check": _("There is no such check.")})
    ids = Participant.objects.filter(site=site).order_by("pk").values_list("pk", flat=True)
    cause = _("run at %(site)s by %(user)s") % {"site": site.code, "user": actor.get_username()}
    with audit_context(actor_id=actor.pk):
        return run_check(check, ids, cause=cause)


def run_all_checks() -> SyncResult:
    """The nightly batch: every check over every participant."""
    ids = list(Participant.objects.order_by("pk").values_list("pk", flat=True))
    result = SyncResult()
    for check in checks.all_checks():
        result += run_check(check, ids, cause=_("nightly run"))
    return result
