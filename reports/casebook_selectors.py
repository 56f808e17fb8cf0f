"""The reads of the casebook: who may print whose casebook, and everything a participant's
casebook holds, gathered into plain rows the PDF writer lays out (it reads no model).

The content is generic over trials.records (every reviewable record type and its data
fields, in the order its page shows them) and each model's _meta (labels with their units,
choices, derived columns), so a new instrument is printed without code here."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import models
from django.db.models import Prefetch
from django.http import Http404
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from audit import selectors as audit_selectors
from clinic import selectors as clinic_selectors
from crfs.base import FormRecord, MissingReason
from participants.models import Participant
from queries.models import Query, QueryMessage
from queries.selectors import field_label
from reports.models import CasebookJob
from review.models import Signature, SignatureItem, Verification
from review.selectors import RecordState, locks_of_participant, record_states
from trials import permissions, records
from trials.models import Site

# The casebook carries the audit trail's summary, so those who may read a site's audit log
# (investigators, monitors, data managers) may print it; the identities only with
# VIEW_IDENTIFIERS besides (investigators).
MAY_PRINT = permissions.VIEW_AUDIT_LOG
IDENTITY_FIELDS = ("full_name", "national_id", "phone", "email", "address")
IDENTIFIER_FIELDS = audit_selectors.IDENTIFIER_FIELDS
NOTHING = "—"


def may_print(user, site: Site) -> bool:
    return permissions.can(user, MAY_PRINT, site)


def may_see_identifiers(user, site: Site) -> bool:
    return permissions.can(user, permissions.VIEW_IDENTIFIERS, site)


def participant_for_casebook(user, code: str, pk: int) -> Participant:
    """A participant of a site where the user may print casebooks; 404 for any other."""
    site = permissions.get_site_or_404(user, code, MAY_PRINT)
    participant = (
        Participant.objects.select_related("site", "trial").filter(site=site, pk=pk).first()
    )
    if participant is None:
        raise Http404
    return participant


def visible_jobs(user) -> models.QuerySet[CasebookJob]:
    """Jobs of participants at sites where the user may print now; identified casebooks only
    while the user may also see identities there (a role revoked takes them away)."""
    sites = permissions.sites_where(user, MAY_PRINT)
    identified = permissions.sites_where(user, permissions.VIEW_IDENTIFIERS)
    return (
        CasebookJob.objects.filter(participant__site__in=sites)
        .filter(
            models.Q(identifiers=False) | models.Q(participant__site__in=identified),
        )
        .select_related("participant", "participant__site", "requested_by")
    )


def get_job_or_404(user, code: str, pk: int) -> CasebookJob:
    job = visible_jobs(user).filter(pk=pk, participant__site__code=code).first()
    if job is None:
        raise Http404
    return job


def latest_job(user, participant: Participant) -> CasebookJob | None:
    """The user's own latest casebook of the participant (the panel shows its state)."""
    return (
        visible_jobs(user)
        .filter(participant=participant, requested_by=user)
        .order_by("-created_at", "-pk")
        .first()
    )


# --- the content --------------------------------------------------------------------------


@dataclass
class Item:
    label: str
    value: str
    # A missing-data reason, or "derived" for a computed value.
    note: str = ""


@dataclass
class Message:
    at: str
    who: str
    kind: str
    text: str


@dataclass
class QueryView:
    number: int
    about: str  # the field's label, when the query is about one
    status: str
    opened: str
    assigned_to: str
    messages: list[Message] = field(default_factory=list)


@dataclass
class AuditLine:
    record: str
    created: str
    changes: int
    last_at: str
    last_by: str
    reason: str


@dataclass
class RecordBlock:
    key: str
    pk: int
    title: str
    status: str = ""
    answers: list[Item] = field(default_factory=list)
    derived: list[Item] = field(default_factory=list)
    children: list[tuple[str, list[Item]]] = field(default_factory=list)
    review: list[str] = field(default_factory=list)
    queries: list[QueryView] = field(default_factory=list)
    audit: AuditLine | None = None


@dataclass
class FormLine:
    label: str
    state: str
    record: RecordBlock | None = None


@dataclass
class VisitBlock:
    code: str
    label: str
    facts: list[Item]
    forms: list[FormLine]


@dataclass
class SignatureLine:
    kind: str
    scope: str
    signed_by: str
    signed_at: str
    meaning: str
    state: str
    records: int


@dataclass
class ChartView:
    title: str
    svg: bytes
    notes: list[str]
    # (caption, columns, rows) of each of the chart's data tables.
    tables: list[tuple[str, list[str], list[list[str]]]]


@dataclass
class Casebook:
    participant_label: str
    site: str
    trial: str
    time_zone: str
    generated_at: str
    version: str
    identifiers: list[Item] | None
    summary: list[Item]
    participant_records: list[RecordBlock]
    other_records: list[RecordBlock]
    visits: list[VisitBlock]
    adverse_events: list[RecordBlock]
    conmeds: list[RecordBlock]
    signatures: list[SignatureLine]
    locks: list[str]
    audit: list[AuditLine]
    # The trajectory charts, as on the participant page.
    charts: list[ChartView] = field(default_factory=list)


class _Format:
    """Values as a reader of the casebook reads them: choices by their label, dates as ISO
    dates, times in the site's zone with their offset."""

    def __init__(self, zone: Any, users: dict[int, str]):
        self.zone = zone
        self.users = users

    def moment(self, value: dt.datetime | None) -> str:
        if value is None:
            return NOTHING
        return timezone.localtime(value, self.zone).strftime("%Y-%m-%d %H:%M %z")

    def value(self, record: models.Model, f: models.Field) -> str:
        raw = getattr(record, f.attname)
        if raw is None or raw == "":
            return ""
        if f.choices:
            labels = {str(k): str(v) for k, v in f.flatchoices}
            return labels.get(str(raw), str(raw))
        if isinstance(f, models.ForeignKey):
            if f.related_model is not None and f.related_model._meta.label == "auth.User":
                return self.users.get(raw, f"#{raw}")
            return str(getattr(record, f.name))
        if isinstance(raw, bool):
            return _("Yes") if raw else _("No")
        if isinstance(raw, dt.datetime):
            return self.moment(raw)
        if isinstance(raw, dt.date):
            return raw.isoformat()
        if isinstance(raw, float):
            return f"{raw:.4g}" if abs(raw) < 1e6 else f"{raw:.0f}"
        if isinstance(raw, Decimal):
            return format(raw.normalize(), "f") if raw == raw.to_integral() else str(raw)
        if isinstance(raw, dict):
            return ", ".join(f"{k}: {v}" for k, v in raw.items())
        if isinstance(raw, list):
            return ", ".join(str(v) for v in raw)
        return str(raw)


def _label(model: type[models.Model], name: str) -> str:
    return field_label(model, name)


def _missing_label(reason: str) -> str:
    try:
        return str(MissingReason(reason).label)
    except ValueError:
        return reason


def _record_block(
    record_type: records.RecordType,
    record: models.Model,
    fmt: _Format,
    *,
    identifiers: bool,
    title: str = "",
    children: Iterable[models.Model] = (),
) -> RecordBlock:
    model = type(record)
    block = RecordBlock(
        key=record_type.key,
        pk=record.pk,
        title=title or capfirst(record_type.label),
    )
    status = getattr(record, "get_status_display", None)
    if callable(status) and isinstance(record, FormRecord):
        block.status = str(status())
    missing = getattr(record, "missing_reasons", None) or {}
    for name in record_type.data_fields:
        if name in IDENTIFIER_FIELDS and not identifiers:
            continue
        f = model._meta.get_field(name)
        if not isinstance(f, models.Field):
            continue
        value = fmt.value(record, f)
        note = _missing_label(missing[name]) if not value and name in missing else ""
        block.answers.append(Item(_label(model, name), value or NOTHING, note))
    if isinstance(record, FormRecord):
        shown = set(record_type.data_fields)
        for name in record.derived_field_names():
            f = model._meta.get_field(name)
            if name in shown or not isinstance(f, models.Field) or not f.editable:
                continue
            if isinstance(f, models.ForeignKey | models.UUIDField):
                continue
            value = fmt.value(record, f)
            block.derived.append(Item(_label(model, name), value or NOTHING))
    for number, child in enumerate(children, start=1):
        title = capfirst(str(type(child)._meta.verbose_name))
        items = []
        for f in type(child)._meta.concrete_fields:
            if f.primary_key or isinstance(f, models.UUIDField) or f.related_model is model:
                continue
            value = fmt.value(child, f)
            if value:
                items.append(Item(_label(type(child), f.name), value))
        block.children.append((f"{title} {number}", items))
    return block


def _participant_records(participant: Participant) -> dict[str, list[models.Model]]:
    """Every record of every reviewable type of the participant, by type key (one query per
    type), with the visit each hangs from."""
    found: dict[str, list[models.Model]] = {}
    for record_type in records.all_types():
        path = record_type.participant_path or "pk"
        related = [record_type.visit_path] if record_type.visit_path else []
        found[record_type.key] = list(
            record_type.model._default_manager.filter(**{path: participant.pk})
            .select_related(*related)
            .order_by("pk")
        )
    return found


def _children(found: dict[str, list[models.Model]]) -> dict[tuple[str, int], list[models.Model]]:
    """The rows a form's page enters with it (EMG muscle findings), the investigator's rows
    about a record (an eligibility override, an AE assessment): every model with a key to a
    form record, but its audit events; one query per such model."""
    import pghistory.models

    result: dict[tuple[str, int], list[models.Model]] = defaultdict(list)
    for key, rows in found.items():
        record_type = records.get(key)
        if not rows or record_type is None or not issubclass(record_type.model, FormRecord):
            continue
        for relation in record_type.model._meta.related_objects:
            child = relation.related_model
            if not isinstance(child, type) or issubclass(child, pghistory.models.Event):
                continue
            if not (relation.one_to_many or relation.one_to_one):
                continue
            to_parent = relation.field
            for row in child._default_manager.filter(
                **{f"{to_parent.name}__in": [r.pk for r in rows]}
            ).order_by("pk"):
                result[(key, getattr(row, to_parent.attname))].append(row)
    return result


def _queries(participant: Participant, fmt: _Format) -> dict[tuple[str, int], list[QueryView]]:
    result: dict[tuple[str, int], list[QueryView]] = defaultdict(list)
    rows = (
        Query.objects.filter(participant=participant)
        .select_related("opened_by")
        .prefetch_related(
            Prefetch("messages", queryset=QueryMessage.objects.select_related("author"))
        )
        .order_by("opened_at", "pk")
    )
    for query in rows:
        record_type = records.get(query.record_type)
        model = record_type.model if record_type else None
        view = QueryView(
            number=query.pk,
            about=_label(model, query.field_name) if model and query.field_name else "",
            status=str(query.get_status_display()),
            opened=fmt.moment(query.opened_at),
            assigned_to=str(query.get_assigned_role_display()),
        )
        for message in query.messages.all():
            view.messages.append(
                Message(
                    at=fmt.moment(message.created_at),
                    who=message.author.get_username() if message.author else _("edit check"),
                    kind=str(message.get_kind_display()),
                    text=message.text,
                )
            )
        result[(query.record_type, query.record_pk)].append(view)
    return result


def _verifications(participant: Participant, fmt: _Format) -> dict[tuple[str, int], list[str]]:
    result: dict[tuple[str, int], list[str]] = defaultdict(list)
    rows = (
        Verification.objects.filter(participant=participant)
        .select_related("verified_by")
        .order_by("verified_at", "pk")
    )
    for v in rows:
        what = _("field %(field)s") % {"field": v.field} if v.field else _("whole record")
        line = _("Source verified (%(what)s) by %(who)s on %(at)s") % {
            "what": what,
            "who": v.verified_by.get_username(),
            "at": fmt.moment(v.verified_at),
        }
        if v.cleared_at is not None:
            line += " · " + _("cleared on %(at)s by a change of %(fields)s") % {
                "at": fmt.moment(v.cleared_at),
                "fields": ", ".join(v.cleared_fields) or NOTHING,
            }
        result[(v.record_type, v.record_id)].append(line)
    return result


def _signatures(
    participant: Participant, fmt: _Format, visits: dict[int, str]
) -> tuple[list[SignatureLine], dict[tuple[str, int], list[str]]]:
    signatures = list(
        Signature.objects.filter(participant=participant)
        .select_related("signed_by")
        .prefetch_related(Prefetch("items", queryset=SignatureItem.objects.order_by("pk")))
        .order_by("signed_at", "pk")
    )
    lines = []
    per_record: dict[tuple[str, int], list[str]] = defaultdict(list)
    for s in signatures:
        state = (
            _("Valid")
            if s.invalidated_at is None
            else _("Invalidated on %(at)s") % {"at": fmt.moment(s.invalidated_at)}
        )
        scope = visits.get(s.visit_id, "") if s.visit_id else participant.label
        items = list(s.items.all())
        lines.append(
            SignatureLine(
                kind=str(s.get_kind_display()),
                scope=scope,
                signed_by=s.signed_by.get_username(),
                signed_at=fmt.moment(s.signed_at),
                meaning=s.meaning,
                state=str(state),
                records=len(items),
            )
        )
        for item in items:
            per_record[(item.record_type, item.record_id)].append(
                _("Signed (%(kind)s) by %(who)s on %(at)s · %(state)s")
                % {
                    "kind": s.get_kind_display(),
                    "who": s.signed_by.get_username(),
                    "at": fmt.moment(s.signed_at),
                    "state": state,
                }
            )
    return lines, per_record


def _audit(
    participant: Participant, zone: Any, *, identifiers: bool
) -> dict[tuple[str, str], AuditLine]:
    """Per record of the participant's trail: created, number of changes, the last change."""
    page = audit_selectors.history(
        audit_selectors.Scope(site=participant.site, participant_id=participant.pk),
        per_page=10**9,
        identifiers=identifiers,
        zone=zone,
    )
    fmt = _Format(zone, {})
    by_record: dict[tuple[str, str], list[audit_selectors.Entry]] = defaultdict(list)
    for entry in page.entries:  # newest first
        by_record[(entry.tracked.key, entry.record_id)].append(entry)
    result = {}
    for (key, record_id), entries in by_record.items():
        last = entries[0]
        created = next((e for e in reversed(entries) if e.kind == "insert"), None)
        where = f" · {last.visit}" if last.visit is not None else ""
        result[(key, record_id)] = AuditLine(
            record=f"{capfirst(last.record_label)} #{record_id}{where}",
            created=fmt.moment(created.at) if created else NOTHING,
            changes=sum(1 for e in entries if e.kind != "insert"),
            last_at=fmt.moment(last.at),
            last_by=last.who or NOTHING,
            reason=last.reason,
        )
    return result


def _visit_facts(progress: clinic_selectors.VisitProgress, fmt: _Format) -> list[Item]:
    visit = progress.visit
    facts = [Item(_("Status"), progress.status_label)]
    window = ""
    if visit.window_start or visit.window_end:
        window = f"{visit.window_start or '…'} to {visit.window_end or '…'}"
    for label, value in (
        (_("Target date"), visit.target_date.isoformat() if visit.target_date else ""),
        (_("Window"), window),
        (_("Visit date"), visit.actual_date.isoformat() if visit.actual_date else ""),
        (_("Days from target"), "" if visit.days_from_target is None else visit.days_from_target),
        (_("Reason missed"), visit.missed_reason),
        (_("Reason for the unscheduled visit"), visit.unscheduled_reason),
    ):
        if value != "":
            facts.append(Item(str(label), str(value)))
    return facts


def _user_names(found: dict[str, list[models.Model]]) -> dict[int, str]:
    from django.contrib.auth import get_user_model

    ids: set[int] = set()
    for rows in found.values():
        for record in rows:
            for f in record._meta.concrete_fields:
                if (
                    isinstance(f, models.ForeignKey)
                    and f.related_model is get_user_model()
                    and getattr(record, f.attname) is not None
                ):
                    ids.add(getattr(record, f.attname))
    return dict(get_user_model().objects.filter(pk__in=ids).values_list("pk", "username"))


def _attach(
    block: RecordBlock,
    queries: dict[tuple[str, int], list[QueryView]],
    review: list[str],
    audit: dict[tuple[str, str], AuditLine],
    tracked_keys: dict[str, str],
) -> RecordBlock:
    block.queries = queries.get((block.key, block.pk), [])
    block.review = review
    block.audit = audit.get((tracked_keys.get(block.key, ""), str(block.pk)))
    return block


def _review_lines(
    key: str,
    pk: int,
    state: RecordState | None,
    sdv: dict[tuple[str, int], list[str]],
    signed: dict[tuple[str, int], list[str]],
    fmt: _Format,
) -> list[str]:
    lines = list(sdv.get((key, pk), [])) + list(signed.get((key, pk), []))
    if state is not None and state.lock is not None:
        lock = state.lock
        lines.append(
            _("Locked (%(scope)s) by %(who)s on %(at)s: %(reason)s")
            % {
                "scope": lock.scope_label,
                "who": lock.by,
                "at": fmt.moment(lock.at),
                "reason": lock.reason,
            }
        )
    if not lines:
        lines.append(_("Not source verified, not signed, not locked"))
    return lines


def casebook(
    participant: Participant,
    *,
    identifiers: bool,
    version: str,
    now: dt.datetime | None = None,
    progress: Any = None,
) -> Casebook:
    """Everything the participant's casebook prints, read in a fixed number of queries per
    record type (not per visit or record)."""
    site = participant.site
    zone = site.zone
    report = progress or (lambda percent: None)
    found = _participant_records(participant)
    children = _children(found)
    report(10)
    fmt = _Format(zone, _user_names({**found, "": [c for rows in children.values() for c in rows]}))
    today = site.local_today()
    timeline = clinic_selectors.timeline(participant, today)
    visit_names = {row.visit.pk: row.visit.display_code for row in timeline}
    queries = _queries(participant, fmt)
    sdv = _verifications(participant, fmt)
    signature_lines, signed = _signatures(participant, fmt, visit_names)
    every: list[tuple[records.RecordType, Any]] = [
        (record_type, record)
        for record_type in records.all_types()
        for record in found[record_type.key]
    ]
    states = record_states(every, participant_id=participant.pk) if every else {}
    report(20)
    audit = _audit(participant, zone, identifiers=identifiers)
    report(30)
    tracked_keys = {
        t.record_type.key: t.key for t in audit_selectors.tracked_models() if t.record_type
    }

    def block_of(record_type: records.RecordType, record: Any, title: str = "") -> RecordBlock:
        block = _record_block(
            record_type,
            record,
            fmt,
            identifiers=identifiers,
            title=title,
            children=children.get((record_type.key, record.pk), ()),
        )
        review = _review_lines(
            record_type.key, record.pk, states.get((record_type.key, record.pk)), sdv, signed, fmt
        )
        return _attach(block, queries, review, audit, tracked_keys)

    by_visit: dict[tuple[int, str], Any] = {}
    for key, rows in found.items():
        record_type = records.get(key)
        if record_type is None or not record_type.visit_path:
            continue
        for record in rows:
            visit_id = getattr(record, "visit_id", None)
            if visit_id is not None:
                by_visit[(visit_id, key)] = record
    used: set[tuple[str, int]] = set()
    visits = []
    for row in timeline:
        lines = []
        for cell in row.forms:
            block = None
            key = cell.record_key or cell.code
            stored = by_visit.get((row.visit.pk, key))
            if stored is not None:
                record_type = records.get(key)
                assert record_type is not None
                block = block_of(record_type, stored, title=cell.label)
                used.add((key, stored.pk))
            lines.append(FormLine(cell.label, cell.state_label, block))
        # The visit's own safety answers ("nothing since the last visit").
        review = by_visit.get((row.visit.pk, "visit_safety_review"))
        if review is not None:
            record_type = records.get("visit_safety_review")
            assert record_type is not None
            block = block_of(record_type, review)
            used.add(("visit_safety_review", review.pk))
            lines.append(FormLine(block.title, block.status, block))
        visit_label = ""
        definition = row.visit.definition if not row.visit.is_unscheduled else None
        if definition is not None:
            visit_label = str(definition.label)
        visits.append(
            VisitBlock(
                code=row.visit.display_code,
                label=visit_label,
                facts=_visit_facts(row, fmt),
                forms=lines,
            )
        )
    report(50)

    own = []
    for key in ("demographics", "als_history"):
        record_type = records.get(key)
        if record_type is None:
            continue
        for record in found.get(key, []):
            own.append(block_of(record_type, record))
            used.add((key, record.pk))

    def log_of(key: str) -> list[RecordBlock]:
        record_type = records.get(key)
        if record_type is None:
            return []
        blocks = []
        for record in found.get(key, []):
            visit = visit_names.get(getattr(record, "visit_id", None) or 0, "")
            number = getattr(record, "number", None)
            title = capfirst(record_type.label)
            if number is not None:
                title += f" {number}"
            if visit:
                title += " · " + _("reported at %(visit)s") % {"visit": visit}
            blocks.append(block_of(record_type, record, title=title))
            used.add((key, record.pk))
        return blocks

    adverse_events = log_of("adverse_event")
    conmeds = log_of("conmed")
    others = [
        block_of(record_type, record)
        for record_type, record in every
        if (record_type.key, record.pk) not in used and record_type.key != "visit"
    ]
    report(60)

    summary = [
        Item(_("Study ID"), participant.label),
        Item(_("Screening number"), participant.screening_number),
        Item(_("Site"), f"{site.code} · {site.name}"),
        Item(_("Status"), str(participant.get_status_display())),
        Item(_("Screening date"), participant.screened_on.isoformat()),
        Item(
            _("Enrolment date"),
            participant.enrolled_on.isoformat() if participant.enrolled_on else NOTHING,
        ),
        Item(
            _("End of study date"),
            participant.exited_on.isoformat() if participant.exited_on else NOTHING,
        ),
    ]
    summary += _transplantation(participant, fmt)
    summary += _consents(participant)
    return Casebook(
        participant_label=participant.label,
        site=site.code,
        trial=f"{participant.trial.nct_id} · {participant.trial.title}",
        time_zone=site.time_zone,
        generated_at=fmt.moment(now or timezone.now()),
        version=version,
        identifiers=_identity(participant, fmt) if identifiers else None,
        summary=summary,
        participant_records=own,
        other_records=others,
        visits=visits,
        adverse_events=adverse_events,
        conmeds=conmeds,
        signatures=signature_lines,
        locks=[
            _("%(scope)s locked by %(who)s on %(at)s: %(reason)s")
            % {
                "scope": lock.get_scope_display(),
                "who": lock.locked_by.get_username(),
                "at": fmt.moment(lock.locked_at),
                "reason": lock.reason,
            }
            for lock in locks_of_participant(participant)
        ],
        audit=sorted(audit.values(), key=lambda line: (line.created, line.record)),
    )


def _identity(participant: Participant, fmt: _Format) -> list[Item]:
    from participants.models import Demographics, ParticipantIdentity

    items = []
    identity = ParticipantIdentity.objects.filter(participant=participant).first()
    if identity is not None:
        for name in IDENTITY_FIELDS:
            f = ParticipantIdentity._meta.get_field(name)
            assert isinstance(f, models.Field)
            items.append(Item(_label(ParticipantIdentity, name), fmt.value(identity, f) or NOTHING))
    demographics = Demographics.objects.filter(participant=participant).first()
    if demographics is not None:
        items.append(
            Item(_label(Demographics, "date_of_birth"), demographics.date_of_birth.isoformat())
        )
    return items


def _transplantation(participant: Participant, fmt: _Format) -> list[Item]:
    from visits.models import Transplantation

    tx = Transplantation.objects.filter(participant=participant).first()
    if tx is None:
        return [Item(_("Transplantation"), _("Not recorded"))]
    items = []
    skip = {"id", "participant", "created_at", "updated_at", "form_token"}
    for f in Transplantation._meta.concrete_fields:
        if f.name in skip:
            continue
        value = fmt.value(tx, f) if not isinstance(f, models.ForeignKey) else ""
        if isinstance(f, models.ForeignKey):
            value = str(getattr(tx, f.name))
        items.append(Item(capfirst(str(f.verbose_name)), value or NOTHING))
    return items


def _consents(participant: Participant) -> list[Item]:
    from participants.models import Consent

    return [
        Item(
            _("Consent"),
            _("version %(version)s signed on %(date)s")
            % {
                "version": consent.version.version,
                "date": consent.signed_on.isoformat(),
            },
        )
        for consent in Consent.objects.filter(participant=participant)
        .select_related("version")
        .order_by("signed_on", "pk")
    ]
