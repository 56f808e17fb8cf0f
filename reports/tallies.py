# ruff: noqa: S608 - table and column names come from _meta, values are parameters
"""The dashboard's figures, kept per participant and summed per site.

Form completeness, SDV progress, visit attendance, adverse events, statuses, enrolment and
screen failures count every visit, form and record of the study (over two seconds of SQL at
10,000 participants, every time anything is saved). They add up over participants, so each
participant's counts are kept (`ParticipantTally`) with their sum per site (`SiteTally`),
and only the participants whose data changed are counted again:

- A trigger on every table these counts read (`SOURCES`, installed by migration 0005) notes
  each participant a statement touches in `StaleParticipant`, with the writing transaction's
  id, in that transaction: whatever writes (the services, the admin, a command, raw SQL) and
  however many rows, and a rolled-back write notes nothing. A change that concerns a whole
  trial (its SDV targets, its protocol) notes all its participants; a TRUNCATE asks for a
  recount of everything.
- `tallies_services.refresh` (before the dashboard reads, and hourly from Celery beat)
  deletes the noted participants it sees committed, counts them again from the raw rows and
  applies the difference to their sites' sums, in one transaction, one refresh at a time.
  A participant noted by a transaction still running stays noted: its rows are not visible
  yet, and the next refresh counts them. What a refresh reads is never older than the notes
  it deleted, so no committed change is left uncounted.
- `fingerprint()` names the code the counts follow (the forms each visit expects, the
  record types and their data fields): when it changes, everything is counted again.

The counts themselves are the dashboard's definitions (reports.dashboard): forms expected at
attended visits by state; targeted records with data and how many are verified
(review.selectors.sdv_totals_of_participants); scheduled visits attended in or out of their
window or missed; adverse events by grade and relatedness; the participant's status, month
of screening and of enrolment, and failed screening criteria. What moves with the calendar
day (overdue and open windows, the age of queries) is not kept: the dashboard reads it.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable
from datetime import date
from typing import Any

from django.db import connection
from django.db.models import Count, Q

from clinic import selectors as clinic_selectors
from crfs import registry
from crfs.base import FormStatus
from crfs.eligibility.models import Eligibility
from crfs.screening.selectors import OTHER_FAILURE, SCREENING_CODES
from participants.choices import ParticipantStatus
from participants.models import Participant
from review.selectors import sdv_totals_of_participants
from safety import choices as safety_choices
from safety.models import AdverseEvent
from trials import records
from trials.models import Trial
from trials.protocols import PROTOCOLS
from trials.protocols.definitions import UNSCHEDULED_CODE
from visits.choices import VisitStatus
from visits.models import Visit

VERSION = 2  # bump when what a count means changes
STALE_TABLE = "reports_staleparticipant"
PARTICIPANT_TABLE = "reports_participanttally"
SITE_TABLE = "reports_sitetally"
STATE_TABLE = "reports_tallystate"
FUNCTION = "reports_note_stale"
TRIGGER = "reports_stale"  # + _ins, _upd, _del, _trunc
# Refreshes take turns (pg_advisory_xact_lock): a second one waits for the first to commit
# and then reads its sums, instead of reading sums the first is still changing.
LOCK_KEY = 0x7265706F72747331  # "reports1"

# Keys of a participant's counts.
EXPECTED, COMPLETE, IN_PROGRESS = "expected", "complete", "in_progress"
SDV_TOTAL, SDV_VERIFIED = "sdv:total", "sdv:verified"
IN_WINDOW, OUT_OF_WINDOW, MISSED = "in_window", "out_of_window", "missed"
RELATED, NOT_RELATED, UNKNOWN = "related", "not_related", "unknown"
NOT_GRADED = 0


def form_key(code: str, state: str) -> str:
    return f"form:{code}:{state}"


def visit_key(code: str, attendance: str) -> str:
    return f"visit:{code}:{attendance}"


def ae_key(grade: int | None, relatedness: str) -> str:
    return f"ae:{grade or NOT_GRADED}:{relatedness}"


def status_key(status: str) -> str:
    return f"status:{status}"


def month_key(kind: str, month: date) -> str:
    """kind: "screened" or "enrolled"; the month's first day."""
    return f"{kind}:{month:%Y-%m}"


def failure_key(code: str) -> str:
    return f"failed:{code}"


# --- which rows name which participants ---------------------------------------------------


def _path_sql(model: Any, path: str, rows: str) -> str:
    """SELECT of the participant ids of `rows` (a relation of `model`'s rows) following the
    foreign keys of `path` ("participant", "visit__participant")."""
    *hops, last = path.split("__")
    alias, current, joins = "r", model, []
    for i, name in enumerate(hops):
        field = current._meta.get_field(name)
        target = field.related_model
        joins.append(f'JOIN "{target._meta.db_table}" j{i} ON j{i}.id = {alias}."{field.column}"')
        alias, current = f"j{i}", target
    column = current._meta.get_field(last).column
    return " ".join([f'SELECT {alias}."{column}" FROM {rows} r', *joins])


def sources() -> dict[str, str]:
    """{table: SELECT of the participant ids its changed rows concern}, `%1$I` standing for
    the changed rows' relation (the trigger's `format` argument): every table the counts
    read (sorted by table)."""
    participants = Participant._meta.db_table
    found = {
        participants: "SELECT id FROM %1$I",
        Trial._meta.db_table: f"SELECT p.id FROM {participants} p JOIN %1$I t ON t.id = p.trial_id",
        Visit._meta.db_table: "SELECT participant_id FROM %1$I",
    }
    for spec in registry.entry_forms().values():
        found[spec.model._meta.db_table] = _path_sql(spec.model, "visit__participant", "%1$I")
    for record_type in records.all_types():
        found[record_type.model._meta.db_table] = _path_sql(
            record_type.model, record_type.participant_path, "%1$I"
        )
    from review.models import SdvTargets, Verification

    found[Verification._meta.db_table] = "SELECT participant_id FROM %1$I"
    found[SdvTargets._meta.db_table] = (
        f"SELECT p.id FROM {participants} p JOIN %1$I s ON s.trial_id = p.trial_id"
    )
    return dict(sorted(found.items()))


def function_sql() -> str:
    return f"""
        CREATE OR REPLACE FUNCTION {FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'TRUNCATE' THEN
                UPDATE {STATE_TABLE} SET fingerprint = '';
                RETURN NULL;
            END IF;
            IF TG_OP IN ('INSERT', 'UPDATE') THEN
                EXECUTE format(
                    'INSERT INTO {STALE_TABLE} (participant_id, xid)'
                    ' SELECT DISTINCT s.x, pg_current_xact_id()::text::bigint'
                    ' FROM (' || TG_ARGV[0] || ') s(x) WHERE s.x IS NOT NULL'
                    ' ON CONFLICT DO NOTHING', 'changed_new');
            END IF;
            IF TG_OP IN ('UPDATE', 'DELETE') THEN
                EXECUTE format(
                    'INSERT INTO {STALE_TABLE} (participant_id, xid)'
                    ' SELECT DISTINCT s.x, pg_current_xact_id()::text::bigint'
                    ' FROM (' || TG_ARGV[0] || ') s(x) WHERE s.x IS NOT NULL'
                    ' ON CONFLICT DO NOTHING', 'changed_old');
            END IF;
            RETURN NULL;
        END $$;
    """


def _literal(sql: str) -> str:
    return "'" + sql.replace("'", "''") + "'"


def install_sql(table: str, select: str) -> list[str]:
    """The four triggers of one table (idempotent). Transition tables allow one event per
    trigger."""
    arg = _literal(select)
    on = f'ON "{table}"'
    return [
        f"CREATE OR REPLACE TRIGGER {TRIGGER}_ins AFTER INSERT {on}"
        f" REFERENCING NEW TABLE AS changed_new FOR EACH STATEMENT EXECUTE FUNCTION {FUNCTION}({arg});",
        f"CREATE OR REPLACE TRIGGER {TRIGGER}_upd AFTER UPDATE {on}"
        " REFERENCING OLD TABLE AS changed_old NEW TABLE AS changed_new"
        f" FOR EACH STATEMENT EXECUTE FUNCTION {FUNCTION}({arg});",
        f"CREATE OR REPLACE TRIGGER {TRIGGER}_del AFTER DELETE {on}"
        f" REFERENCING OLD TABLE AS changed_old FOR EACH STATEMENT EXECUTE FUNCTION {FUNCTION}({arg});",
        f"CREATE OR REPLACE TRIGGER {TRIGGER}_trunc AFTER TRUNCATE {on}"
        f" FOR EACH STATEMENT EXECUTE FUNCTION {FUNCTION}({arg});",
    ]


def uninstall_sql(table: str) -> list[str]:
    return [
        f'DROP TRIGGER IF EXISTS {TRIGGER}_{kind} ON "{table}";'
        for kind in ("ins", "upd", "del", "trunc")
    ]


def installed() -> dict[str, set[tuple[str, str]]]:
    """{table: {(trigger, its SELECT)}} as the database has them."""
    result: dict[str, set[tuple[str, str]]] = defaultdict(set)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, t.tgname, encode(t.tgargs, 'escape') FROM pg_trigger t"
            " JOIN pg_class c ON c.oid = t.tgrelid"
            " WHERE t.tgname LIKE %s AND NOT t.tgisinternal",
            [TRIGGER + "\\_%"],
        )
        for table, name, args in cursor.fetchall():
            # tgargs holds each argument followed by a NUL byte (shown as \000).
            result[table].add((name, args.split("\\000")[0]))
    return result


# --- what the counts follow -----------------------------------------------------------------


def _expected(nct_id: str, visit_code: str) -> tuple[str, ...]:
    protocol = PROTOCOLS.get(nct_id)
    if protocol is None:
        return ()
    if visit_code == UNSCHEDULED_CODE:
        return protocol.unscheduled_forms
    try:
        return protocol.visit(visit_code).forms
    except KeyError:
        return ()


def fingerprint() -> str:
    """The code the counts follow, hashed: the forms every protocol's visits expect, the
    entry forms, the record types (their tables, paths and data fields)."""
    protocols = [
        (
            nct_id,
            tuple(protocol.unscheduled_forms),
            tuple((visit.code, tuple(visit.forms)) for visit in protocol.visits),
        )
        for nct_id, protocol in sorted(PROTOCOLS.items())
    ]
    forms = [(code, spec.model._meta.db_table) for code, spec in registry.entry_forms().items()]
    types = [
        (t.key, t.model._meta.db_table, t.participant_path, tuple(t.data_fields))
        for t in records.all_types()
    ]
    raw = repr((VERSION, protocols, forms, types, sources()))
    return hashlib.sha256(raw.encode()).hexdigest()


# --- counting participants from the raw rows -----------------------------------------------


def _form_counts(ids: list[int]) -> dict[int, dict[str, int]]:
    """{participant id: {form key: n}}: of the forms the protocol expects at their attended
    visits (a visit with a date), how many, and how many complete (or beyond) and in
    progress. One query: the participants' attended visits read once, each form's records
    by state joined to them."""
    visit_table, participant_table = Visit._meta.db_table, Participant._meta.db_table
    trial_table = Trial._meta.db_table
    forms = registry.entry_forms()
    branches = [
        "SELECT NULL::text, a.participant_id, a.nct_id, a.code, NULL::text, count(*)"
        " FROM attended a GROUP BY a.participant_id, a.nct_id, a.code"
    ]
    params: list[Any] = [ids]
    for code, spec in forms.items():
        branches.append(
            "SELECT %s::text, a.participant_id, a.nct_id, a.code, f.status, count(*)"
            f" FROM {spec.model._meta.db_table} f JOIN attended a ON a.id = f.visit_id"
            " GROUP BY a.participant_id, a.nct_id, a.code, f.status"
        )
        params.append(code)
    sql = (
        "WITH attended AS MATERIALIZED ("
        f" SELECT v.id, v.code, v.participant_id, t.nct_id FROM {visit_table} v"
        f" JOIN {participant_table} p ON p.id = v.participant_id"
        f" JOIN {trial_table} t ON t.id = p.trial_id"
        " WHERE p.id = ANY(%s) AND v.actual_date IS NOT NULL) " + " UNION ALL ".join(branches)
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        fetched = cursor.fetchall()
    counts: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for form, pid, nct_id, visit_code, status, n in fetched:
        expected = _expected(nct_id, visit_code)
        if form is None:  # attended visits at the timepoint: each expected form counts
            for expected_form in expected:
                counts[pid][form_key(expected_form, EXPECTED)] += n
        elif form not in expected:
            continue
        elif status == FormStatus.IN_PROGRESS:
            counts[pid][form_key(form, IN_PROGRESS)] += n
        else:
            counts[pid][form_key(form, COMPLETE)] += n
    return counts


def _visit_counts(ids: list[int], counts: dict[int, dict[str, int]]) -> None:
    """Scheduled visits attended in or out of their window, or missed, as
    visits.schedule.visit_status decides (clinic.selectors.OUT_OF_WINDOW)."""
    dated = Q(actual_date__isnull=False)
    rows = (
        Visit.objects.filter(participant_id__in=ids)
        .exclude(code=UNSCHEDULED_CODE)
        .order_by()
        .values("participant_id", "code")
        .annotate(
            in_window=Count("pk", filter=dated & ~clinic_selectors.OUT_OF_WINDOW),
            out_of_window=Count("pk", filter=clinic_selectors.OUT_OF_WINDOW),
            missed=Count("pk", filter=Q(actual_date__isnull=True, status=VisitStatus.MISSED)),
        )
        .values_list("participant_id", "code", "in_window", "out_of_window", "missed")
    )
    for pid, code, in_window, out_of_window, missed in rows:
        counts[pid][visit_key(code, IN_WINDOW)] += in_window
        counts[pid][visit_key(code, OUT_OF_WINDOW)] += out_of_window
        counts[pid][visit_key(code, MISSED)] += missed


def _adverse_event_counts(ids: list[int], counts: dict[int, dict[str, int]]) -> None:
    """Adverse events by CTCAE grade and relatedness to the procedure or the cells as
    entered, as the adverse-event listing filters them: related if either is possible or
    more; not related if both are recorded and neither is; else not recorded."""
    related = Q(related_procedure__in=safety_choices.RELATED) | Q(
        related_cells__in=safety_choices.RELATED
    )
    both = Q(related_procedure__isnull=False, related_cells__isnull=False)
    rows = (
        AdverseEvent.objects.filter(participant_id__in=ids)
        .order_by()
        .values("participant_id", "grade")
        .annotate(
            related=Count("pk", filter=related),
            not_related=Count("pk", filter=~related & both),
            unknown=Count("pk", filter=~related & ~both),
        )
        .values_list("participant_id", "grade", "related", "not_related", "unknown")
    )
    for pid, grade, is_related, not_related, unknown in rows:
        counts[pid][ae_key(grade, RELATED)] += is_related
        counts[pid][ae_key(grade, NOT_RELATED)] += not_related
        counts[pid][ae_key(grade, UNKNOWN)] += unknown


def _screen_failure_counts(ids: list[int], counts: dict[int, dict[str, int]]) -> None:
    """The failed criteria of a screen failure's checklist, as the screening log counts
    them: each failed criterion, or "other" with none (or no checklist)."""
    sql = f"""
        SELECT p.id, COALESCE(failed.code, %s)
        FROM {Participant._meta.db_table} p
        LEFT JOIN LATERAL (
            SELECT e.failed_criteria FROM {Eligibility._meta.db_table} e
            JOIN {Visit._meta.db_table} v ON v.id = e.visit_id
            WHERE v.participant_id = p.id AND v.code = ANY(%s)
            LIMIT 1
        ) checklist ON true
        LEFT JOIN LATERAL jsonb_array_elements_text(checklist.failed_criteria) AS failed(code)
            ON true
        WHERE p.id = ANY(%s) AND p.status = %s
    """
    with connection.cursor() as cursor:
        cursor.execute(
            sql,
            [
                OTHER_FAILURE,
                list(SCREENING_CODES),
                ids,
                ParticipantStatus.SCREEN_FAILED.value,
            ],
        )
        for pid, code in cursor.fetchall():
            counts[pid][failure_key(code)] += 1


def count(ids: Iterable[int]) -> dict[int, tuple[int, dict[str, int]]]:
    """{participant id: (site id, {key: n})} counted from the raw rows, for those of `ids`
    that exist (zeros left out). Seven queries whatever the number of participants."""
    ids = sorted(set(ids))
    if not ids:
        return {}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id, site_id, status, screened_on, enrolled_on"
            f" FROM {Participant._meta.db_table} WHERE id = ANY(%s)",
            [ids],
        )
        people = cursor.fetchall()
    forms = _form_counts(ids)
    _visit_counts(ids, forms)
    _adverse_event_counts(ids, forms)
    _screen_failure_counts(ids, forms)
    sdv = sdv_totals_of_participants(ids)
    result = {}
    for pid, site_id, status, screened_on, enrolled_on in people:
        counts = {key: n for key, n in forms.get(pid, {}).items() if n}
        counts[status_key(status)] = 1
        if screened_on is not None:
            counts[month_key("screened", screened_on)] = 1
        if enrolled_on is not None:
            counts[month_key("enrolled", enrolled_on)] = 1
        progress = sdv.get(pid)
        if progress is not None and progress.total:
            counts[SDV_TOTAL] = progress.total
        if progress is not None and progress.verified:
            counts[SDV_VERIFIED] = progress.verified
        result[pid] = (site_id, counts)
    return result


# --- the kept sums --------------------------------------------------------------------------


def site_sums(site_ids: Iterable[int]) -> dict[int, dict[str, int]]:
    """{site id: {key: n}} as kept (one query). Call tallies_services.refresh first."""
    result: dict[int, dict[str, int]] = defaultdict(dict)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT site_id, key, n FROM {SITE_TABLE} WHERE site_id = ANY(%s) AND n <> 0",
            [list(site_ids)],
        )
        for site_id, key, n in cursor.fetchall():
            result[site_id][key] = n
    return result
