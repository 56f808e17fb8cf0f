"""What the fuzz tests need around the strategies: a small seeded study with a record of every
kind a URL names, the URL patterns filled with its ids, the forms read off its pages, and a
snapshot of the database to prove a refused request saved nothing."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlsplit

from django.db import connection
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django.urls.exceptions import Resolver404

# --- URL patterns -----------------------------------------------------------------------------


def url_patterns() -> list[tuple[str, str, list[str]]]:
    """(name, route, parameter names) of every named URL pattern but the Django admin's."""
    found: list[tuple[str, str, list[str]]] = []

    def walk(resolver: URLResolver, prefix: str) -> None:
        for p in resolver.url_patterns:
            if isinstance(p, URLResolver):
                if getattr(p, "app_name", None) == "admin":
                    continue
                walk(p, prefix + str(p.pattern))
            elif isinstance(p, URLPattern) and p.name:
                route = prefix + str(p.pattern)
                found.append((p.name, route, re.findall(r"<(?:\w+:)?(\w+)>", route)))

    walk(get_resolver(), "")
    seen: set[str] = set()
    unique = []
    for item in found:  # accounts/login/ is routed twice (ours first): the first one serves
        if item[0] not in seen:
            seen.add(item[0])
            unique.append(item)
    return unique


def fill(route: str, kwargs: dict[str, Any]) -> str:
    return "/" + re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(kwargs[m.group(1)]), route)


def url_name(path: str) -> str | None:
    try:
        return resolve(urlsplit(path).path).url_name
    except Resolver404:
        return None


# --- Forms read off a page ------------------------------------------------------------------


@dataclass
class PageForm:
    """One <form> of a page: where it goes and what a browser could send."""

    method: str
    action: str
    # field name → values the page offers (its value, every option, a checkbox's "on")
    fields: dict[str, list[str]] = field(default_factory=dict)
    # what the page would submit as it stands
    initial: dict[str, str] = field(default_factory=dict)

    @property
    def key(self) -> tuple[str, str, tuple[str, ...]]:
        return (self.method, self.action, tuple(sorted(self.fields)))


class _FormParser(HTMLParser):
    def __init__(self, page: str):
        super().__init__(convert_charrefs=True)
        self.page = page
        self.forms: list[PageForm] = []
        self._form: PageForm | None = None
        self._select: str | None = None
        self._textarea: str | None = None

    def _add(self, name: str, value: str, *, submitted: bool) -> None:
        assert self._form is not None
        values = self._form.fields.setdefault(name, [])
        if value not in values:
            values.append(value)
        if submitted:
            self._form.initial.setdefault(name, value)

    def handle_starttag(self, tag, attrs):
        a = {k: (v or "") for k, v in attrs}
        if tag == "form":
            action = a.get("action") or self.page
            self._form = PageForm(a.get("method", "get").lower(), urlsplit(action).path)
            self.forms.append(self._form)
            return
        if self._form is None or not a.get("name"):
            if tag == "option" and self._form is not None and self._select:
                self._add(self._select, a.get("value", ""), submitted="selected" in a)
            return
        name = a["name"]
        if name == "csrfmiddlewaretoken":
            return
        if tag == "input":
            kind = a.get("type", "text")
            if kind in ("checkbox", "radio"):
                self._add(name, a.get("value") or "on", submitted="checked" in a)
            elif kind == "submit":
                self._add(name, a.get("value", ""), submitted=False)
            elif kind != "file":
                self._add(name, a.get("value", ""), submitted=True)
        elif tag == "button" and a.get("type", "submit") == "submit":
            self._add(name, a.get("value", ""), submitted=False)
        elif tag == "select":
            self._select = name
            self._form.fields.setdefault(name, [])
        elif tag == "option" and self._select:
            self._add(self._select, a.get("value", ""), submitted="selected" in a)
        elif tag == "textarea":
            self._textarea = name
            self._add(name, "", submitted=True)

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None


def forms_of(page: str, html: str) -> list[PageForm]:
    parser = _FormParser(page)
    parser.feed(html)
    return parser.forms


# --- The database before and after -----------------------------------------------------------

# Written on purpose by a refused request: sessions (the login), django-axes' counts of failed
# logins and the access log's "failed login" (the lockout depends on both).
ALWAYS_IGNORED = {"django_session"}
LOGIN_RECORDS = {
    "axes_accessattempt",
    "axes_accessfailurelog",
    "axes_accesslog",
    "audit_accessevent",
}


def snapshot(ignore: set[str] = frozenset()) -> dict[str, str]:  # type: ignore[assignment]
    """table → digest of every row (its text form, ordered): any insert, update or delete in
    any table, the audit event tables included, changes it. One query."""
    tables = [
        t
        for t in connection.introspection.table_names()
        if t not in ALWAYS_IGNORED and t not in ignore
    ]
    # Table names from the database itself, not from input.
    digest = "md5(coalesce(string_agg(x::text, ',' ORDER BY x::text), ''))"
    parts = [f"SELECT '{t}' AS t, (SELECT {digest} FROM \"{t}\" x) AS h" for t in tables]  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(parts))
        return dict(cursor.fetchall())


def changed(before: dict[str, str], after: dict[str, str]) -> list[str]:
    return sorted(t for t in after if before.get(t) != after[t])


# --- The seeded study -----------------------------------------------------------------------

TX_DAY = date(2025, 8, 1)


@dataclass
class Study:
    user: Any  # every role at the site
    contexts: list[dict[str, Any]]  # URL parameters, one dict per participant reached


def seed_study(client) -> Study:
    """A site with a user holding every role, and a participant of each kind the pages differ
    on (screening, transplanted with a month-6 visit and its records, locked), with an adverse
    event, a medication, a query, a lock, an export, a casebook, a notification, a calendar
    feed and a password-reset link: every id a URL pattern names."""
    from django.contrib.auth.tokens import default_token_generator
    from django.urls import reverse
    from django.utils.encoding import force_bytes
    from django.utils.http import urlsafe_base64_encode

    from crfs import registry
    from crfs.alsfrs_r.models import AlsfrsR
    from exports.options import ExportOptions
    from exports.services import create_export_job
    from queries.services import open_query
    from reminders.models import Notification
    from reminders.services import regenerate_calendar_token
    from reports.casebook_services import create_casebook_job
    from review import services as review_services
    from review.models import Scope
    from tests.factories import (
        ALSFRS_NORMAL,
        SiteFactory,
        consent,
        member,
        register,
        report_adverse_event,
        save_crf,
        transplanted_participant,
    )
    from trials import services as trial_services
    from trials.models import Membership, Role
    from trials.protocols import PROTOCOLS
    from visits.services import record_visit_date

    trial = trial_services.load_trial(protocol=PROTOCOLS["NCT02116634"])
    site = SiteFactory(code="ISF", name="Neurosciences Research Center, Isfahan")
    SiteFactory(code="THR", name="Tehran site")
    user = member(Role.COORDINATOR, site, "fuzzer")
    for role in (Role.INVESTIGATOR, Role.MONITOR, Role.DATA_MANAGER, Role.SITE_ADMIN):
        Membership.objects.create(user=user, site=site, role=role)
    coordinator = member(Role.COORDINATOR, site, "fuzz_coordinator")
    other = member(Role.MONITOR, site, "fuzz_monitor")

    tx = transplanted_participant(coordinator, site, trial, on=TX_DAY)
    m06 = tx.visits.get(code="M06")
    record_visit_date(actor=coordinator, visit=m06, actual_date=m06.target_date - timedelta(days=2))
    m06.refresh_from_db()
    alsfrs = save_crf(coordinator, m06, AlsfrsR, ALSFRS_NORMAL)

    ae = report_adverse_event(coordinator, m06)
    client.force_login(coordinator)
    conmed_url = reverse("conmed-new", args=[site.code, tx.pk])
    response = client.post(
        conmed_url,
        {
            "visit": str(m06.pk),
            "medication": "riluzole",
            "indication": "ALS",
            "dose": "50",
            "dose_unit": "mg",
            "route": "oral",
            "frequency": "bid",
            "start_date": "2025-03",
            "ongoing": "on",
            "version": "0",
            "mark_complete": "on",
        },
    )
    assert response.status_code == 302, response.content[:2000]
    conmed = tx.conmeds.get()
    query = open_query(
        actor=user,
        site=site,
        record_type="alsfrs_r",
        record_pk=alsfrs.pk,
        field_name="q1_speech",
        text="Please check the speech score.",
    )

    today = site.local_today()
    screening = register(coordinator, site, trial, screened_on=today - timedelta(days=3))
    consent(coordinator, screening)
    scr = screening.visits.get(code="SCR")
    locked = register(coordinator, site, trial, screened_on=today - timedelta(days=4), name="L")
    lock = review_services.lock(
        actor=user,
        target=review_services.Target(scope=Scope.PARTICIPANT, site=site, participant=locked),
        reason="fuzz: a locked participant",
    )

    job = create_export_job(
        user=user,
        options=ExportOptions(
            forms=tuple(registry.entry_forms()),
            visits=("M06",),
            site_ids=(site.pk,),
            statuses=("transplanted",),
        ),
    )
    casebook = create_casebook_job(user=user, participant=tx)
    note = Notification.objects.create(user=user, site=site, subject="Due", body="M06 is due")
    feed = regenerate_calendar_token(user=user)

    common = {
        "code": site.code,
        "trial_pk": trial.pk,
        "membership_id": Membership.objects.get(user=other).pk,
        "lock_pk": lock.pk,
        "query_pk": query.pk,
        "job_pk": casebook.pk,
        "token": feed.token,
        "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
        "kind": "visit",
        "key": "alsfrs_r",
        "record_id": alsfrs.pk,
    }
    contexts = [
        common
        | {
            "pk": tx.pk,
            "visit_pk": m06.pk,
            "ae_pk": ae.pk,
            "conmed_pk": conmed.pk,
            "export_pk": job.pk,
            "notification_pk": note.pk,
        },
        common | {"pk": screening.pk, "visit_pk": scr.pk, "kind": "casebook"},
        common | {"pk": locked.pk, "visit_pk": locked.visits.get(code="SCR").pk},
    ]
    # Password reset: the token of the user as the link in the e-mail carries it.
    contexts[0]["reset_token"] = default_token_generator.make_token(user)
    return Study(user=user, contexts=contexts)


# Parameters whose name in the route is not unique across apps: the app's URL decides.
_PK_OF = {
    "export-job": "export_pk",
    "export-job-status": "export_pk",
    "export-download": "export_pk",
    "export-delete": "export_pk",
    "api-export": "export_pk",
    "notification-read": "notification_pk",
    "api-participant": "pk",
}


def urls_of(name: str, route: str, params: list[str], study: Study) -> list[str]:
    """The route filled with the study's ids, once per context that makes a different URL."""
    urls: list[str] = []
    for context in study.contexts:
        kwargs = dict(context)
        if "pk" in params and name in _PK_OF:
            kwargs["pk"] = context.get(_PK_OF[name])
        if name == "password_reset_confirm":
            kwargs["token"] = context.get("reset_token")
        if "form_code" in params:
            from crfs import registry

            for code in registry.entry_forms():
                url = fill(route, kwargs | {"form_code": code})
                if url not in urls:
                    urls.append(url)
            continue
        if any(kwargs.get(p) is None for p in params):
            continue
        url = fill(route, kwargs)
        if url not in urls:
            urls.append(url)
    return urls
