"""The generated access matrix (step 12): every URL pattern, every role, own site / other
site / own site's code with another site's ids / anonymous, against tests/security/
access_matrix.py, on a study seeded once for the module (two sites, each with a transplanted
participant whose every form is entered, an AE and an SAE, a con-med, a query, a lock, a
notification, an export bundle and two casebook PDFs, and a participant in screening)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from urllib.parse import urlsplit

import pytest
from django.db import connection, transaction
from django.test import override_settings
from django.urls import URLPattern, URLResolver, get_resolver

from tests.factories import (
    PASSWORD,
    SiteFactory,
    UserFactory,
    consent,
    member,
    register,
    report_adverse_event,
    screening_forms,
    transplanted_participant,
)
from tests.security.access_matrix import (
    ADMIN_ROW,
    COORDINATOR,
    DATA_MANAGER,
    DEFAULT_OBJECTS,
    INVESTIGATOR,
    MATRIX,
    SITE_ROLES,
    SUPERUSER,
    USERS,
    Case,
    Row,
    Scope,
    row_for,
)
from tests.storage import folder_storage

TX_DAY = date(2025, 8, 1)
OWN, OTHER, CROSS = "own", "other", "cross"


# --- the patterns --------------------------------------------------------------------------
def _walk(resolver, prefix: str = "", name_prefix: str = ""):
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            namespace = f"{name_prefix}{entry.namespace}:" if entry.namespace else name_prefix
            yield from _walk(entry, prefix + str(entry.pattern), namespace)
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), name_prefix + (entry.name or "")


def _excluded(route: str) -> bool:
    """Static and media files are not pages (served by WhiteNoise or the web server)."""
    return route.lstrip("^").startswith(("static/", "media/", "__debug__/"))


def all_patterns() -> list[tuple[str, str]]:
    """(route, name) of every URL pattern, once per route."""
    seen: dict[str, str] = {}
    for route, name in _walk(get_resolver()):
        if not _excluded(route):
            seen.setdefault(route, name)
    return sorted(seen.items())


PARAM = re.compile(r"<(?:\w+:)?(\w+)>|\(\?P<(\w+)>[^)]*\)")


def params_of(route: str) -> list[str]:
    return [a or b for a, b in PARAM.findall(route)]


def test_every_pattern_has_a_row():
    """A new URL without a row in the table fails here (and a row whose URL is gone too)."""
    missing = [f"{route} ({name})" for route, name in all_patterns() if not row_for(name, route)]
    assert not missing, "URL patterns with no row in tests/security/access_matrix.py: " + ", ".join(
        missing
    )
    names = {name for _route, name in all_patterns()}
    stale = sorted(set(MATRIX) - names)
    assert not stale, f"rows for URL names that no longer exist: {stale}"


def test_the_walk_sees_the_api_and_the_admin():
    routes = [route for route, _name in all_patterns()]
    assert any(r.startswith("api/v1/participants/<int:pk>/") for r in routes)
    assert any(r.startswith("admin/") for r in routes)
    assert len(routes) > 100


# --- the study -----------------------------------------------------------------------------
@dataclass
class Study:
    objects: dict[str, dict[str, object]]  # own / other -> key -> id or value
    users: dict[str, object]  # role -> user (members of the own site), superuser
    other_users: dict[str, object]


def _site_objects(site, trial, users) -> dict[str, object]:
    from crfs import registry
    from crfs.alsfrs_r.models import AlsfrsR
    from crfs.fvc.models import Fvc
    from demo.participants import _baseline_outcomes, _complete_m06
    from exports.options import PARTICIPANTS_TABLE, ExportOptions
    from exports.services import create_export_job, run_export
    from participants.choices import ParticipantStatus
    from queries.services import open_query
    from reminders import services as reminder_services
    from reminders.models import Notification
    from reports.casebook_services import create_casebook_job, run_casebook
    from reports.models import CasebookJob
    from review.services import lock_record
    from safety.services import save_conmed
    from trials import checks, records
    from trials.models import Membership

    coordinator = users[COORDINATOR]
    investigator = users[INVESTIGATOR]
    data_manager = users[DATA_MANAGER]
    participant = transplanted_participant(
        coordinator, site, trial, on=TX_DAY, name=f"Matrix {site.code}"
    )
    _baseline_outcomes(coordinator, participant)
    _complete_m06(coordinator, participant)
    m06 = participant.visits.get(code="M06")
    dates = {"onset_date": TX_DAY + timedelta(days=1), "end_date": TX_DAY + timedelta(days=4)}
    ae = report_adverse_event(coordinator, m06, **dates)
    sae = report_adverse_event(
        coordinator,
        m06,
        **dates,
        verbatim_term="Meningitis",
        term_code="meningitis",
        grade=3,
        serious=True,
        sae_hospitalisation=True,
        related_procedure="possible",
        action="hospitalisation",
    )
    conmed = save_conmed(
        actor=coordinator,
        participant=participant,
        visit=participant.visits.get(code="BL"),
        conmed_id=None,
        answers={
            "medication": "riluzole",
            "other_name": "",
            "indication": "ALS",
            "dose": Decimal("50"),
            "dose_unit": "mg",
            "route": "oral",
            "frequency": "bid",
            "start_date": date(2025, 3, 1),
            "start_precision": "month",
            "stop_date": None,
            "ongoing": True,
        },
        expected_version=0,
        complete=True,
    )
    alsfrs = AlsfrsR.objects.get(visit=m06)
    alsfrs_type = records.for_model(AlsfrsR)
    assert alsfrs_type is not None
    record_key = alsfrs_type.key
    query = open_query(
        actor=data_manager,
        site=site,
        record_type=record_key,
        record_pk=alsfrs.pk,
        field_name="",
        text="Please check the source.",
    )
    lock = lock_record(actor=data_manager, record=Fvc.objects.get(visit=m06), reason="Matrix")

    # A person in screening whose checklist fails (swallowing): override and failure pages.
    screening = register(coordinator, site, trial, screened_on=date(2026, 11, 1), name="Scr")
    consent(coordinator, screening)
    screening_forms(coordinator, screening, alsfrs={"q3_swallowing": 2})
    screening.refresh_from_db()
    assert screening.status == ParticipantStatus.SCREENING

    notification = Notification.objects.create(
        user=coordinator, site=site, subject="Matrix", body="Matrix", url="/"
    )
    export = create_export_job(
        user=investigator,
        options=ExportOptions(
            forms=(PARTICIPANTS_TABLE, "alsfrs_r"),
            visits=("SCR", "BL", "M06"),
            site_ids=(site.pk,),
            statuses=tuple(ParticipantStatus.values),
        ),
    )
    run_export(export.pk)
    casebook = create_casebook_job(user=data_manager, participant=participant)
    run_casebook(casebook.pk)
    # An identified casebook (the investigator's): its PDF is the same file (one PDF written
    # per site keeps the module's setup short; who may fetch it is what is tested).
    identified = create_casebook_job(user=investigator, participant=participant)
    casebook.refresh_from_db()
    CasebookJob.objects.filter(pk=identified.pk).update(
        **{
            f: getattr(casebook, f)
            for f in ("status", "progress", "file_name", "file_size", "pages", "finished_at")
        }
        | ({"sha256": casebook.sha256} if hasattr(casebook, "sha256") else {})
    )
    casebook.refresh_from_db()
    identified.refresh_from_db()
    assert casebook.status == "done" and not casebook.identifiers, casebook.status
    assert identified.status == "done" and identified.identifiers, identified.status

    objects: dict[str, object] = {
        "site": site.code,
        "participant": participant.pk,
        "screening": screening.pk,
        "visit": m06.pk,
        "ae": ae.pk,
        "sae": sae.pk,
        "conmed": conmed.pk,
        "query": query.pk,
        "lock": lock.pk,
        "membership": Membership.objects.get(user=coordinator, site=site).pk,
        "trial": trial.pk,
        "record_key": record_key,
        "record_id": alsfrs.pk,
        "check_key": checks.all_checks()[0].key,
        "notification": notification.pk,
        "site_pk": site.pk,
        "calendar_token": reminder_services.calendar_feed(user=coordinator).token,
        "export": export.pk,
        "casebook": casebook.pk,
        "casebook_identified": identified.pk,
    }
    visits = list(participant.visits.order_by("pk"))
    for code in registry.entry_forms():
        visit = next(v for v in visits if code in v.expected_forms())
        objects[f"visit_for_{code}"] = visit.pk
    return objects


@pytest.fixture(scope="module")
def study(django_db_setup, django_db_blocker, tmp_path_factory):
    """Seeded once for the module inside a transaction that is rolled back at its end; each
    test runs in a savepoint of it (the `db` fixture)."""
    from exports import tasks as export_tasks
    from reports import tasks as casebook_tasks
    from trials import services
    from trials.protocols import PROTOCOLS

    folder = tmp_path_factory.mktemp("matrix")
    storage = override_settings(
        STORAGES={
            **__import__("django.conf").conf.settings.STORAGES,
            "exports": folder_storage(folder / "exports"),
            "casebooks": {
                "BACKEND": "django.core.files.storage.FileSystemStorage",
                "OPTIONS": {"location": str(folder / "casebooks")},
            },
        },
    )
    storage.enable()
    # The workers' tasks are not sent from here (jobs run in-process above; started ones wait).
    saved = export_tasks.run_export_job.delay, casebook_tasks.write_casebook.delay
    export_tasks.run_export_job.delay = lambda *a: None
    casebook_tasks.write_casebook.delay = lambda *a: None
    try:
        with django_db_blocker.unblock(), transaction.atomic():
            trial = services.load_trial(protocol=PROTOCOLS["NCT02116634"])
            own_site = SiteFactory(code="ISF")
            other_site = SiteFactory(code="THR")
            users = {r: member(r, own_site, f"{r}_isf") for r in SITE_ROLES}
            other_users = {r: member(r, other_site, f"{r}_thr") for r in SITE_ROLES}
            users[SUPERUSER] = UserFactory(username="root_matrix", is_superuser=True, is_staff=True)
            study = Study(
                objects={
                    OWN: _site_objects(own_site, trial, users),
                    OTHER: _site_objects(other_site, trial, other_users),
                },
                users=users,
                other_users=other_users,
            )
            yield study
            transaction.set_rollback(True)
    finally:
        export_tasks.run_export_job.delay, casebook_tasks.write_casebook.delay = saved
        storage.disable()


# --- the expected answers ------------------------------------------------------------------
def cases_of(name: str, row: Row) -> tuple[Case, ...]:
    if name == "crf-entry":
        from crfs import registry

        return tuple(
            Case(objects={"form_code": f"={code}", "visit_pk": f"visit_for_{code}"})
            for code in registry.entry_forms()
        )
    return row.cases


def _object_params(route: str) -> list[str]:
    return [p for p in params_of(route) if p != "code"]


def _site_keys(study: Study, route: str, case: Case) -> bool:
    """Whether the URL names an object of a site (not only shared ones: the trial, a check,
    a form code), so that another site's ids can be put under the own site's code."""
    keys = [case.objects.get(p) or DEFAULT_OBJECTS[p] for p in _object_params(route)]
    keys += re.findall(r"\{(\w+)\}", case.query)
    return any(
        not k.startswith("=") and study.objects[OWN][k] != study.objects[OTHER][k] for k in keys
    )


def contexts(study: Study, route: str, row: Row, case: Case) -> list[str]:
    names_objects = _site_keys(study, route, case)
    if row.scope == Scope.SITE:
        return [OWN, OTHER, CROSS] if names_objects else [OWN, OTHER]
    if row.scope in (Scope.ANY_SITE, Scope.OWNER) and names_objects:
        return [OWN, OTHER]
    return [OWN]


def _value(study: Study, key: str, side: str):
    if key.startswith("="):
        return key[1:]
    return study.objects[side][key]


def url_of(study: Study, route: str, case: Case, context: str) -> str:
    code_side = OTHER if context == OTHER else OWN
    ids_side = OWN if context == OWN else OTHER

    def fill(match: re.Match) -> str:
        param = match.group(1) or match.group(2)
        key = case.objects.get(param) or DEFAULT_OBJECTS.get(param)
        assert key is not None, f"no object for <{param}> in {route}"
        side = code_side if param == "code" else ids_side
        return str(_value(study, key, side))

    path = "/" + PARAM.sub(fill, route).lstrip("^").rstrip("$")
    if case.query:
        values = dict(study.objects[ids_side])
        path += "?" + case.query.format(**values)
    return path


LOGIN = "/accounts/login/"


def expected(
    route: str, row: Row, case: Case, who: str | None, context: str
) -> str | int | tuple[int, ...]:
    """200/302/405 (allowed answer), "refused" (403 or 404), "login" or "admin-login"."""
    if row.scope == Scope.ADMIN:
        return "admin" if who == SUPERUSER else "admin-login"
    if who is None:
        if row.scope == Scope.PUBLIC:
            return row.ok
        return "api-login" if route.startswith("api/") else "login"
    if row.scope == Scope.PUBLIC:
        return row.ok
    if row.ok == 405:  # POST-only: a GET is refused before the view looks at anything
        return 405
    roles = case.roles if case.roles is not None else row.roles
    if context == OWN and who in roles:
        return row.ok
    return "refused"


def check(response, want, url: str, who: str | None) -> str | None:
    """None if the answer is the expected one, else what went wrong."""
    try:
        _check(response, want, url, who)
    except AssertionError as wrong:
        return f"{wrong} (expected {want})"
    return None


def _check(response, want, url: str, who: str | None):
    status = response.status_code
    where = f"{who or 'anonymous'} GET {url}: {status}"
    location = response.headers.get("Location", "")
    if want == "refused":
        assert status in (403, 404), where
    elif want == "login":
        assert status == 302 and urlsplit(location).path == LOGIN, f"{where} -> {location}"
    elif want == "api-login":
        assert status in (401, 403), where
    elif want == "admin-login":
        assert status == 302 and urlsplit(location).path == "/admin/login/", f"{where} {location}"
    elif want == "admin":
        assert status < 500 and urlsplit(location).path not in (LOGIN, "/admin/login/"), where
    elif isinstance(want, tuple):
        assert status in want, where
    elif want == 302:
        assert status == 302 and urlsplit(location).path not in (LOGIN,), f"{where} {location}"
    else:
        assert status == want, where


def _admin_routes() -> list[tuple[str, str]]:
    """The admin's routes without parameters (change lists, add forms, index, password);
    those with an object id or app label share their views with these."""
    return [(r, n) for r, n in all_patterns() if r.startswith("admin/") and not params_of(r)]


SITE_PATTERNS = [(r, n) for r, n in all_patterns() if not r.startswith("admin/")]


def _ids(items):
    return [name or route for route, name in items]


@pytest.mark.parametrize(("route", "name"), SITE_PATTERNS, ids=_ids(SITE_PATTERNS))
def test_get(study, db, client, route, name):
    row = row_for(name, route)
    assert row is not None, f"no row for {route}"
    wrong = []
    for who in (None, *USERS):
        client.logout()
        if who is not None:
            client.force_login(study.users[who])
        for case in cases_of(name, row):
            for context in contexts(study, route, row, case):
                url = url_of(study, route, case, context)
                response = client.get(url)
                wrong.append(check(response, expected(route, row, case, who, context), url, who))
    assert not [w for w in wrong if w], "\n".join(w for w in wrong if w)


def test_admin(study, db, client):
    """The admin decides by is_superuser alone (config/urls.py), so one role of a site
    stands for all of them here (the site administrator, whose name invites the mistake)."""
    wrong = []
    for who in (None, "site_admin", SUPERUSER):
        client.logout()
        if who is not None:
            client.force_login(study.users[who])
        for route, name in _admin_routes():
            url = "/" + route.lstrip("^").rstrip("$")
            row = row_for(name, route)
            assert row is not None
            want = expected(route, row, Case(), who, OWN)
            wrong.append(check(client.get(url), want, url, who))
    assert not [w for w in wrong if w], "\n".join(w for w in wrong if w)


def test_superuser_sees_no_site_page_of_a_site(study, db, client):
    """The superuser is not a member: every site page refuses them (the matrix's rows say
    so; this spot check makes the premise explicit)."""
    client.force_login(study.users[SUPERUSER])
    assert client.get(f"/sites/{study.objects[OWN]['site']}/participants/").status_code == 404


# Written rows: a POST by a refused role or at another site changes nothing.
def _writes() -> int:
    """Rows inserted, updated or deleted so far in this transaction, outside the session,
    lockout and access-log tables (a refused request may sign nothing but those)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT coalesce(sum(n_tup_ins + n_tup_upd + n_tup_del), 0) "
            "FROM pg_stat_xact_user_tables WHERE relname NOT IN ('django_session') "
            "AND relname NOT LIKE 'axes_%%' AND relname NOT LIKE 'audit_access%%'"
        )
        return int(cursor.fetchone()[0])


def _export_post(objects) -> dict:
    from participants.choices import ParticipantStatus

    return {
        "forms": ["participants", "alsfrs_r"],
        "visits": ["SCR", "BL", "M06"],
        "sites": [str(objects["site_pk"])],
        "statuses": list(ParticipantStatus.values),
        "fmt": "csv",
        "layout": "long",
        "date_mode": "shift",
        "derived": "on",
    }


@dataclass(frozen=True)
class Write:
    """A write through a page: the case to fill its URL, what it posts (from the site's
    objects; None: the form as the writer's page shows it, with `changes`), and the writer
    whose POST of the same data does change the database (the control that the refusals
    below refuse a request that would have written)."""

    case: Case
    data: object  # callable(objects) -> dict, or None for the page's own form
    writer: str | None
    changes: dict | None = None


WRITES: dict[str, Write] = {
    "crf-entry": Write(
        Case(objects={"form_code": "=alsfrs_r", "visit_pk": "visit"}),
        None,
        COORDINATOR,
        # (q5b: the page checks its empty radio, which the reader takes for "on")
        {"q1_speech": "2", "q5b_cutting_gastrostomy": "", "reason_for_change": "Matrix correction"},
    ),
    "review-sign": Write(
        Case(objects={"kind": "=casebook"}), lambda o: {"password": PASSWORD}, INVESTIGATOR
    ),
    "review-record": Write(
        Case(objects={"key": "record_key", "record_id": "record_id"}),
        lambda o: {"whole": "on"},
        "monitor",
    ),
    "review-lock": Write(Case(), lambda o: {"reason": "Matrix lock"}, DATA_MANAGER),
    "review-lock-site": Write(Case(), lambda o: {"reason": "Matrix lock"}, DATA_MANAGER),
    "review-unlock": Write(Case(), lambda o: {"reason": "Matrix unlock"}, DATA_MANAGER),
    "query-detail": Write(
        Case(), lambda o: {"action": "close", "message": "Closed (matrix)"}, DATA_MANAGER
    ),
    "query-open": Write(
        Case(query="record={record_key}&record_pk={record_id}"),
        lambda o: {
            "record": o["record_key"],
            "record_pk": str(o["record_id"]),
            "field_name": "",
            "message": "Matrix query",
            "assigned_role": COORDINATOR,
        },
        DATA_MANAGER,
    ),
    "export-page": Write(Case(), _export_post, INVESTIGATOR),
    "casebook-create": Write(Case(), lambda o: {}, INVESTIGATOR),
    "export-delete": Write(Case(objects={"pk": "export"}), lambda o: {}, INVESTIGATOR),
    "notification-read": Write(Case(objects={"pk": "notification"}), lambda o: {}, COORDINATOR),
    "site-team-revoke": Write(Case(), lambda o: {}, "site_admin"),
}

WRITE_ROWS = sorted(
    (route, name) for route, name in SITE_PATTERNS if MATRIX.get(name, ADMIN_ROW).writers
)


def _writer_page_data(client, study, side: str, url: str, write: Write, writer: str) -> dict:
    from tests.html_form import PageForm

    users = study.users if side == OWN else study.other_users
    client.force_login(users[writer])
    page = client.get(url)
    assert page.status_code == 200, f"{writer} GET {url}: {page.status_code}"
    return PageForm.read(page.text) | (write.changes or {})


@pytest.mark.parametrize(("route", "name"), WRITE_ROWS, ids=_ids(WRITE_ROWS))
def test_refused_post_changes_nothing(study, db, client, route, name):
    """A POST from a role the table does not let write, from anyone at another site, with
    another site's ids under the own site's code, or signed out: refused (403/404, or the
    login page), and not one row written. For the write views of WRITES the same data,
    posted by a writer, does write (so the refusals refuse a request that would)."""
    row = MATRIX[name]
    assert row.writers is not None
    write = WRITES.get(name)
    case = write.case if write else cases_of(name, row)[0]
    wrong = []
    posts: dict[str, dict] = {}
    for context in contexts(study, route, row, case):
        url = url_of(study, route, case, context)
        side = OWN if context == OWN else OTHER
        if write is None:
            data: dict = {}
        elif write.data is None:
            writer_url = url if context != CROSS else url_of(study, route, case, OTHER)
            data = _writer_page_data(client, study, side, writer_url, write, write.writer or "")
        else:
            data = write.data(study.objects[side])  # type: ignore[operator]
        posts[context] = data
        for who in (None, *USERS):
            if context == OWN and who in row.writers:
                continue
            client.logout()
            if who is not None:
                client.force_login(study.users[who])
            before = _writes()
            response = client.post(url, data)
            written = _writes() - before
            status = response.status_code
            where = f"{who or 'anonymous'} POST {url}: {status}, {written} rows written"
            location = urlsplit(response.headers.get("Location", "")).path
            if who is None:
                ok = status == 302 and location == LOGIN
            elif row.scope == Scope.ANY_SITE and context == OTHER:
                ok = status in (200, 403, 404)  # the form refuses another site's id
            else:
                ok = status in (403, 404, 405)
            if not ok or written:
                wrong.append(where)
    if write is not None and write.writer is not None:
        url = url_of(study, route, write.case, OWN)
        client.logout()
        client.force_login(study.users[write.writer])
        before = _writes()
        response = client.post(url, posts[OWN])
        form = (response.context or {}).get("form") if response.status_code == 400 else None
        errors = form.errors if form is not None else None
        assert response.status_code in (200, 302), f"control {url}: {response.status_code} {errors}"
        assert _writes() > before, f"the control POST of {write.writer} to {url} wrote nothing"
    assert not wrong, "\n".join(wrong)
