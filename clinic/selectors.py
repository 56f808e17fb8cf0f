"""Reads for the participant list and page and the visit page; constant query counts."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING

from django.db import models
from django.db.models import (
    CharField,
    Count,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from crfs import registry
from crfs.screening.selectors import mark_screening, with_screening
from participants.choices import ParticipantStatus
from participants.models import AlsHistory, Consent, Demographics, Participant, StatusChange
from queries.selectors import Counts, counts_for_records
from review.selectors import RecordRef, RecordState, states_of
from safety.models import AdverseEvent, AdverseEventAssessment, ConcomitantMedication
from safety.selectors import SafetyStatus, VisitSafety, als_drug_changes, visit_safety_status
from trials import records
from trials.digits import ascii_digits
from trials.models import Site
from trials.prepared import Prepared
from trials.protocols.forms import FORM_CATALOGUE
from visits.choices import VisitStatus
from visits.models import Transplantation, Visit

if TYPE_CHECKING:
    from crfs.screening.selectors import ScreenedParticipant

DUE_FILTERS = {
    "overdue": _("Overdue"),
    "open": _("Window open now"),
    "soon": _("Window opens within 30 days"),
}

SOON_DAYS = 30

# Dated outside its window: read from the dates, not the stored status, so a visit whose window
# moved after it was dated (a corrected transplantation) counts too.
OUT_OF_WINDOW = Q(actual_date__isnull=False) & (
    Q(actual_date__lt=F("window_start")) | Q(actual_date__gt=F("window_end"))
)

CONSENT_FILTERS = {
    "needed": _("Consent not yet recorded"),
    "reconsent": _("Re-consent needed"),
}

FORMS_FILTERS = {
    "in_progress": _("A form in progress"),
}


def _next_visit(field: str) -> Subquery:
    """The participant's next open visit (earliest window; unknown windows last)."""
    upcoming = (
        Visit.objects.open()
        .filter(participant=OuterRef("pk"))
        .order_by(F("window_start").asc(nulls_last=True), "position", "sequence")
        .values(field)[:1]
    )
    return Subquery(upcoming)


def _has_deviation() -> Coalesce:
    """Whether the participant has a visit dated outside its window: a scalar subquery read
    for each row shown (their few visits, by index). As an EXISTS, PostgreSQL may instead
    hash every out-of-window visit of the study before the first row (a full scan of the
    visits, milliseconds at 10,000 participants, for a page of 50)."""
    deviating = (
        Visit.objects.filter(OUT_OF_WINDOW, participant=OuterRef("pk"))
        .order_by()
        .annotate(deviates=Value(True, output_field=models.BooleanField()))
        .values("deviates")[:1]
    )
    return Coalesce(Subquery(deviating), Value(False), output_field=models.BooleanField())


def participant_list(
    site: Site,
    *,
    today: date,
    query: str = "",
    status: str = "",
    due: str = "",
    consent: str = "",
    forms: str = "",
    search_names: bool = False,
) -> QuerySet[ScreenedParticipant]:
    """Participants of one site with their next visit, in one SQL query (plus paging)."""
    participants = with_screening(Participant.objects.filter(site=site), today).annotate(
        next_visit_code=_next_visit("code"),
        next_visit_target=_next_visit("target_date"),
        next_window_start=_next_visit("window_start"),
        next_window_end=_next_visit("window_end"),
        has_deviation=_has_deviation(),
    )
    if search_names:
        participants = participants.select_related("identity")
    query = ascii_digits(query.strip())
    if query:
        match = Q(study_id__icontains=query) | Q(screening_number__icontains=query)
        if search_names:
            match |= Q(identity__full_name__icontains=query)
        participants = participants.filter(match)
    if status:
        participants = participants.filter(status=status)
    if consent == "needed":
        participants = participants.filter(has_consent=False, status=ParticipantStatus.SCREENING)
    elif consent == "reconsent":
        participants = participants.filter(needs_reconsent=True)
    if forms == "in_progress":
        started = Q()
        for branch in registry.in_progress(visit__participant=OuterRef("pk")):
            started |= Q(Exists(branch))
        participants = participants.filter(started)
    if due == "overdue":
        participants = participants.filter(next_window_end__lt=today)
    elif due == "open":
        participants = participants.filter(next_window_start__lte=today, next_window_end__gte=today)
    elif due == "soon":
        participants = participants.filter(
            next_window_start__gt=today, next_window_start__lte=today + timedelta(days=SOON_DAYS)
        )
    return participants.order_by("screening_number")


class FormState(models.TextChoices):
    """What one expected form of one visit looks like on the participant and visit pages."""

    NOT_STARTED = "not_started", _("Not started")
    IN_PROGRESS = "in_progress", _("In progress")
    COMPLETE = "complete", _("Complete")
    VERIFIED = "verified", _("Source verified")
    SIGNED = "signed", _("Signed")
    LOCKED = "locked", _("Locked")
    # Kept on the participant, not at a visit (consent, demographics, ALS history,
    # transplantation): recorded or not.
    RECORDED = "recorded", _("Recorded")
    NOT_RECORDED = "not_recorded", _("Not recorded")
    # The visit's safety questions (adverse events, concomitant medication): something was
    # reported at the visit, or the explicit answer "nothing since the last visit", or neither.
    REPORTED = "reported", _("Reported at this visit")
    NOTHING_NEW = "nothing_new", _("Nothing new since the last visit (answered)")
    NOT_ANSWERED = "not_answered", _("Not answered")
    # Expected by the protocol, but this system has no entry page for it yet.
    NO_PAGE = "no_page", _("No page yet")
    NOT_EXPECTED = "not_expected", _("Not expected at this visit")
    VISIT_MISSED = "visit_missed", _("Visit missed")


COMPLETE_STATES = frozenset(
    {
        FormState.COMPLETE,
        FormState.VERIFIED,
        FormState.SIGNED,
        FormState.LOCKED,
        FormState.RECORDED,
        FormState.REPORTED,
        FormState.NOTHING_NEW,
    }
)
FORM_STATE_ICONS = {
    FormState.NOT_STARTED: "bi-circle",
    FormState.IN_PROGRESS: "bi-circle-half",
    FormState.COMPLETE: "bi-check-circle-fill",
    FormState.VERIFIED: "bi-patch-check-fill",
    FormState.SIGNED: "bi-pen-fill",
    FormState.LOCKED: "bi-lock-fill",
    FormState.RECORDED: "bi-check-circle-fill",
    FormState.NOT_RECORDED: "bi-circle",
    FormState.REPORTED: "bi-clipboard2-check-fill",
    FormState.NOTHING_NEW: "bi-check2-circle",
    FormState.NOT_ANSWERED: "bi-question-circle",
    FormState.NO_PAGE: "bi-hourglass",
    FormState.NOT_EXPECTED: "bi-dash-lg",
    FormState.VISIT_MISSED: "bi-x-circle",
}
# The order of the legend under the matrix.
LEGEND = [(state, FORM_STATE_ICONS[state]) for state in FormState]

# Expected forms whose data sit on the participant rather than at a visit.
PARTICIPANT_FORMS = ("consent", "demographics", "als_history", "transplantation")
# Their correction pages, for those who enter data (the consent page is the enroller's).
PARTICIPANT_FORM_PAGES = {
    "demographics": "participant-demographics",
    "als_history": "participant-als-history",
    "transplantation": "transplantation",
}
# The visit's safety questions, answered on the safety app's page of the visit rather than a
# case report form of the visit.
SAFETY_FORMS = ("adverse_events", "conmeds")


@dataclass(frozen=True)
class FormCell:
    code: str
    label: str
    visit_code: str
    state: FormState
    # The page where the form is entered or viewed; empty when there is none for this user.
    href: str = ""
    # Said instead of the state's name when the cell knows more ("2 events reported").
    detail: str = ""
    # The entry form's record (trials.records key and id), its review state and its
    # unresolved queries; None when the form has no record yet.
    record_key: str = ""
    record_pk: int | None = None
    review: RecordState | None = None
    queries: Counts | None = None
    # The record's entry state (in progress, complete) under a review state that outranks it.
    entry: FormState | None = None

    @property
    def entry_label(self) -> str:
        return str((self.entry or self.state).label)

    @property
    def entry_icon(self) -> str:
        return FORM_STATE_ICONS[self.entry or self.state]

    @property
    def open_queries(self) -> int:
        return self.queries.unresolved if self.queries else 0

    @property
    def is_complete(self) -> bool:
        return self.state in COMPLETE_STATES

    @property
    def state_label(self) -> str:
        return self.detail or str(self.state.label)

    @property
    def icon(self) -> str:
        return FORM_STATE_ICONS[self.state]


@dataclass
class VisitProgress:
    """One visit: attendance (from its dates) and data completeness (from its forms), apart."""

    visit: Visit
    status: VisitStatus
    forms: list[FormCell]  # the forms the protocol expects at this visit, in its order
    # Riluzole or edaravone records made at this visit (the participant page's timeline).
    drug_changes: list[ConcomitantMedication] = field(default_factory=list)

    @property
    def status_label(self) -> str:
        return str(self.status.label)

    @property
    def expects_data(self) -> bool:
        """A missed or no longer expected visit has no forms to complete."""
        return self.status not in (VisitStatus.MISSED, VisitStatus.NOT_EXPECTED)

    @property
    def expected_count(self) -> int:
        return len(self.forms)

    @property
    def complete_count(self) -> int:
        return sum(cell.is_complete for cell in self.forms)

    @property
    def form_labels(self) -> list[str]:
        return [cell.label for cell in self.forms]

    def cell(self, code: str) -> FormCell:
        for cell in self.forms:
            if cell.code == code:
                return cell
        label = str(FORM_CATALOGUE[code].label)
        return FormCell(code, label, self.visit.display_code, FormState.NOT_EXPECTED)


@dataclass(frozen=True)
class MatrixRow:
    code: str
    label: str
    cells: list[FormCell]  # one per visit, in the matrix's visit order


@dataclass(frozen=True)
class SubjectMatrix:
    """The participant's visits (columns) by the forms any of them expects (rows)."""

    visits: list[VisitProgress]
    rows: list[MatrixRow]


@dataclass(frozen=True)
class _Stored:
    """An entry form's record as the matrix reads it: its id, status and review."""

    key: str  # the trials.records key of its model
    pk: int
    status: str
    review: RecordState
    queries: Counts | None


def _by_id(model: type[models.Model], pk: int) -> models.Model:
    record = model()
    record.pk = pk
    return record


def _entry_records(lookup: str) -> Prepared:
    """(visit id, form code, status, id) of every entry form's record whose `lookup` (the
    visit's participant, or the visit) is the value given: a UNION ALL over the instruments,
    its SQL built once (it costs more to build than to run)."""

    def build(_shape: object, value: int) -> QuerySet:
        first, *rest = [
            spec.model.objects.filter(**{lookup: value})
            .order_by()
            .annotate(entry_form=Value(spec.code, output_field=CharField()))
            .values_list("visit_id", "entry_form", "status", "pk")
            for spec in registry.entry_forms().values()
        ]
        return first.union(*rest, all=True)

    return Prepared(build)


_ENTRY_RECORDS = {
    "visit__participant_id": _entry_records("visit__participant_id"),
    "visit_id": _entry_records("visit_id"),
}


def _form_records(
    participant_id: int, participant_records: dict[str, int], **visit_filter: int
) -> tuple[dict[tuple[int, str], _Stored], dict[str, _Stored]]:
    """{(visit id, form code): record} of every entry form's record matching `visit_filter`,
    with its review state and unresolved queries: one query for the records (a UNION over
    the instruments), four for their states and one for their queries, whatever the number
    of visits and forms."""
    keys = {}
    for spec in registry.entry_forms().values():
        record_type = records.for_model(spec.model)
        keys[spec.code] = (record_type.key if record_type else "", spec.model)
    ((lookup, value),) = visit_filter.items()
    rows = _ENTRY_RECORDS[lookup].rows(value)
    # The participant's own records (demographics, ALS history) are reviewed with them.
    kept = {code: records.get(code) for code in participant_records}
    refs = [
        RecordRef(keys[code][0], pk, participant_id, visit_id)
        for visit_id, code, _status, pk in rows
        if keys[code][0]
    ] + [
        RecordRef(code, pk, participant_id, None)
        for code, pk in participant_records.items()
        if kept[code] is not None
    ]
    states = states_of(refs)
    # Instances built from the ids (not read): the model and id counts_for_records keys by.
    counts = counts_for_records(
        [_by_id(keys[code][1], pk) for _visit_id, code, _status, pk in rows]
        + [
            _by_id(record_type.model, participant_records[code])
            for code, record_type in kept.items()
            if record_type is not None
        ]
    )
    own = {
        code: _Stored(
            key=code,
            pk=pk,
            status="",
            review=states.get((code, pk)) or RecordState(),
            queries=counts.get((code, pk)),
        )
        for code, pk in participant_records.items()
    }
    return {
        (visit_id, code): _Stored(
            key=keys[code][0],
            pk=pk,
            status=status,
            review=states.get((keys[code][0], pk)) or RecordState(),
            queries=counts.get((keys[code][0], pk)),
        )
        for visit_id, code, status, pk in rows
    }, own


def _loaded_forms_recorded(participant: Participant) -> tuple[set[str], dict[str, int]] | None:
    """_participant_forms_recorded from what `participant_record` loaded with the participant
    (no query); None when it was not loaded."""
    one_to_ones = (Participant.demographics, Participant.als_history, Participant.transplantation)
    if not hasattr(participant, "has_consent") or not all(
        relation.is_cached(participant) for relation in one_to_ones
    ):
        return None
    found = {
        "consent": participant.has_consent,
        "demographics": getattr(participant, "demographics", None),
        "als_history": getattr(participant, "als_history", None),
        "transplantation": getattr(participant, "transplantation", None),
    }
    ids = {code: found[code].pk for code in ("demographics", "als_history") if found[code]}
    return {code for code in PARTICIPANT_FORMS if found[code]}, ids


def _participant_forms_recorded(participant: Participant) -> tuple[set[str], dict[str, int]]:
    """Which of PARTICIPANT_FORMS the participant has, and the ids of their demographics and
    ALS history (reviewable records), in one query (none after `participant_record`)."""
    loaded = _loaded_forms_recorded(participant)
    if loaded is not None:
        return loaded
    row = (
        Participant.objects.filter(pk=participant.pk)
        .values(
            has_consent=Exists(Consent.objects.filter(participant=OuterRef("pk"))),
            demographics_id=Subquery(
                Demographics.objects.filter(participant=OuterRef("pk")).values("pk")[:1]
            ),
            als_history_id=Subquery(
                AlsHistory.objects.filter(participant=OuterRef("pk")).values("pk")[:1]
            ),
            has_transplantation=Exists(Transplantation.objects.filter(participant=OuterRef("pk"))),
        )
        .get()
    )
    present = {
        "consent": row["has_consent"],
        "demographics": row["demographics_id"] is not None,
        "als_history": row["als_history_id"] is not None,
        "transplantation": row["has_transplantation"],
    }
    found = {"demographics": row["demographics_id"], "als_history": row["als_history_id"]}
    ids = {code: pk for code, pk in found.items() if pk is not None}
    return {code for code in PARTICIPANT_FORMS if present[code]}, ids


@dataclass(frozen=True)
class _Context:
    participant: Participant
    today: date
    statuses: dict[tuple[int, str], _Stored]
    recorded: set[str]
    # The participant's own reviewable records (demographics, ALS history), by form code.
    own: dict[str, _Stored]
    safety: dict[int, VisitSafety]
    may_enter: bool
    may_enrol: bool


def _safety_detail(code: str, answer: SafetyStatus, safety: VisitSafety) -> str:
    if answer == SafetyStatus.RECORDED and code == "adverse_events":
        n = safety.adverse_event_count
        return ngettext("%(n)d event reported", "%(n)d events reported", n) % {"n": n}
    if answer == SafetyStatus.RECORDED:
        n = safety.conmed_count
        return ngettext("%(n)d medication recorded", "%(n)d medications recorded", n) % {"n": n}
    if answer == SafetyStatus.NONE and code == "adverse_events":
        return str(_("None since the last visit (answered)"))
    if answer == SafetyStatus.NONE:
        return str(_("No change since the last visit (answered)"))
    return ""


def _safety_cell(ctx: _Context, visit: Visit, status: VisitStatus, code: str) -> FormCell:
    """A safety question of the visit, as `safety.selectors.visit_safety_status` answers it:
    reported (events or medication recorded at the visit) and "nothing since the last visit"
    both answer it; the cell opens the visit's safety page, where both are given."""
    label, visit_code = str(FORM_CATALOGUE[code].label), visit.display_code
    safety = ctx.safety.get(visit.pk) or VisitSafety()
    answer = safety.statuses.get(code, SafetyStatus.NOT_ANSWERED)
    if answer == SafetyStatus.RECORDED:
        state = FormState.REPORTED
    elif answer == SafetyStatus.NONE:
        state = FormState.NOTHING_NEW
    elif status == VisitStatus.MISSED:
        return FormCell(code, label, visit_code, FormState.VISIT_MISSED)
    elif status == VisitStatus.NOT_EXPECTED:
        return FormCell(code, label, visit_code, FormState.NOT_EXPECTED)
    else:
        state = FormState.NOT_ANSWERED
    # Everyone who sees the participant may open it (read-only without ENTER_DATA).
    href = reverse("visit-safety", args=[ctx.participant.site.code, ctx.participant.pk, visit.pk])
    return FormCell(code, label, visit_code, state, href, _safety_detail(code, answer, safety))


def _reviewed(state: FormState, review: RecordState) -> FormState:
    """Review outranks entry: locked, then signed, then verified."""
    if review.locked:
        return FormState.LOCKED
    if review.signed:
        return FormState.SIGNED
    if review.verified:
        return FormState.VERIFIED
    return state


def _cell(ctx: _Context, visit: Visit, status: VisitStatus, code: str) -> FormCell:
    label, visit_code = str(FORM_CATALOGUE[code].label), visit.display_code
    site_code, pk = ctx.participant.site.code, ctx.participant.pk
    if code in PARTICIPANT_FORMS:
        recorded = code in ctx.recorded
        state = FormState.RECORDED if recorded else FormState.NOT_RECORDED
        # Each has its own page, open only to those who record it (the participant page
        # shows the values to everyone else).
        href = ""
        if code == "consent" and ctx.may_enrol:
            href = reverse("participant-consent", args=[site_code, pk])
        elif code in PARTICIPANT_FORM_PAGES and ctx.may_enter and recorded:
            href = reverse(PARTICIPANT_FORM_PAGES[code], args=[site_code, pk])
        own = ctx.own.get(code)
        if own is None:
            return FormCell(code, label, visit_code, state, href)
        return FormCell(
            code,
            label,
            visit_code,
            _reviewed(state, own.review),
            href,
            record_key=own.key,
            record_pk=own.pk,
            review=own.review,
            queries=own.queries,
            entry=state,
        )
    if code in SAFETY_FORMS:
        return _safety_cell(ctx, visit, status, code)
    if registry.get(code) is None:
        return FormCell(code, label, visit_code, FormState.NO_PAGE)
    stored = ctx.statuses.get((visit.pk, code))
    if stored is not None:
        state = _reviewed(FormState(stored.status), stored.review)
    elif status == VisitStatus.MISSED:
        state = FormState.VISIT_MISSED
    elif status == VisitStatus.NOT_EXPECTED:
        state = FormState.NOT_EXPECTED
    else:
        state = FormState.NOT_STARTED
    # Everyone who sees the participant may open an entry page (read-only without
    # ENTER_DATA); a missed visit without data has nothing to open.
    href = (
        ""
        if state in (FormState.VISIT_MISSED, FormState.NOT_EXPECTED)
        else reverse("crf-entry", args=[site_code, pk, visit.pk, code])
    )
    if stored is None:
        return FormCell(code, label, visit_code, state, href)
    return FormCell(
        code,
        label,
        visit_code,
        state,
        href,
        record_key=stored.key,
        record_pk=stored.pk,
        review=stored.review,
        queries=stored.queries,
        entry=FormState(stored.status),
    )


def _progress(ctx: _Context, visit: Visit) -> VisitProgress:
    status = visit.status_on(ctx.today)
    forms = [_cell(ctx, visit, status, code) for code in visit.expected_forms()]
    return VisitProgress(visit=visit, status=status, forms=forms)


def timeline(
    participant: Participant, today: date, *, may_enter: bool = False, may_enrol: bool = False
) -> list[VisitProgress]:
    """Every visit of the participant in protocol order, with today's attendance, its
    forms' completeness, review state and queries and the ALS drug changes recorded at it:
    at most thirteen queries whatever the number of visits (visits, form records, their
    review states (four) and queries, participant-level forms, the three of the safety
    answers, the ALS drugs)."""
    visits = sorted(
        participant.visits.all(),
        key=lambda v: (v.position, v.actual_date or v.target_date or date.max, v.sequence),
    )
    for visit in visits:
        visit.participant = participant
    recorded, own_ids = _participant_forms_recorded(participant)
    statuses, own = _form_records(participant.pk, own_ids, visit__participant_id=participant.pk)
    ctx = _Context(
        participant=participant,
        today=today,
        statuses=statuses,
        recorded=recorded,
        own=own,
        safety=visit_safety_status(visits),
        may_enter=may_enter,
        may_enrol=may_enrol,
    )
    drugs = als_drug_changes(participant)
    progress = [_progress(ctx, visit) for visit in visits]
    for row in progress:
        row.drug_changes = drugs.get(row.visit.pk, [])
    return progress


def subject_matrix(progress: list[VisitProgress]) -> SubjectMatrix:
    """The timeline turned into visits by forms; no query."""
    expected = {cell.code for row in progress for cell in row.forms}
    codes = [code for code in FORM_CATALOGUE if code in expected]
    rows = [
        MatrixRow(
            code=code,
            label=str(FORM_CATALOGUE[code].label),
            cells=[row.cell(code) for row in progress],
        )
        for code in codes
    ]
    return SubjectMatrix(visits=progress, rows=rows)


def visit_progress(
    visit: Visit, today: date, *, may_enter: bool = False, may_enrol: bool = False
) -> VisitProgress:
    """One visit's attendance and forms (the visit page): at most ten queries (form
    records, their review states (four) and queries, participant-level forms, the three of
    the safety answers)."""
    recorded, own_ids = _participant_forms_recorded(visit.participant)
    statuses, own = _form_records(visit.participant_id, own_ids, visit_id=visit.pk)
    ctx = _Context(
        participant=visit.participant,
        today=today,
        statuses=statuses,
        recorded=recorded,
        own=own,
        safety=visit_safety_status([visit]),
        may_enter=may_enter,
        may_enrol=may_enrol,
    )
    return _progress(ctx, visit)


@dataclass(frozen=True)
class SafetySummary:
    """The participant's safety logs in numbers, for the participant page's Safety card."""

    events: int
    serious: int
    # Serious events no investigator has assessed yet (the AE listing's "unacknowledged").
    unacknowledged: int
    medications: int


def _count(records: QuerySet) -> Coalesce:
    counted = records.order_by().values("participant").annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def safety_summary(participant: Participant) -> SafetySummary:
    """Adverse events, serious ones, unacknowledged serious ones and medications of the
    participant, in one query."""
    events = AdverseEvent.objects.filter(participant=OuterRef("pk"))
    serious = events.filter(serious=True)
    # Named apart from the participant's reverse relations (adverse_events, conmeds).
    row = (
        Participant.objects.filter(pk=participant.pk)
        .values(
            n_events=_count(events),
            n_serious=_count(serious),
            n_unacknowledged=_count(
                serious.filter(
                    ~Exists(AdverseEventAssessment.objects.filter(adverse_event=OuterRef("pk")))
                )
            ),
            n_medications=_count(ConcomitantMedication.objects.filter(participant=OuterRef("pk"))),
        )
        .get()
    )
    return SafetySummary(
        events=row["n_events"],
        serious=row["n_serious"],
        unacknowledged=row["n_unacknowledged"],
        medications=row["n_medications"],
    )


def participant_record(site: Site, pk: int) -> ScreenedParticipant | None:
    """The site's participant `pk` (None: no such participant there) with identity,
    demographics, history, transplantation, end of study, consent and screening state in one
    query, and its status changes, consents and contact attempts in three more."""
    record = (
        with_screening(Participant.objects.filter(site=site), site.local_today())
        .select_related(
            "site",
            "trial",
            "identity",
            "demographics",
            "als_history",
            "transplantation",
            "end_of_study",
        )
        .prefetch_related(
            Prefetch("status_changes", StatusChange.objects.select_related("changed_by")),
            Prefetch("consents", Consent.objects.select_related("version", "taken_by")),
            "contact_attempts",
        )
        .filter(pk=pk)
        .first()
    )
    if record is not None:
        mark_screening([record])
    return record


def deviations(site: Site) -> QuerySet[Visit]:
    """The site's visits dated outside their window (protocol deviations), latest first, in
    one query."""
    return (
        Visit.objects.filter(OUT_OF_WINDOW, participant__site=site)
        .select_related("participant")
        .order_by("-actual_date", "participant__screening_number", "position")
    )
