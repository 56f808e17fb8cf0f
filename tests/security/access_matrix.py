"""The access matrix: for every URL pattern, who may use it (step 12).

One row per route name of `config.urls` (walked recursively with `get_resolver()`), the
API under /api/ included. tests/security/test_access_matrix.py walks every row with every
role (a member of one site), a superuser of no site and an anonymous visitor, on the
user's own site, on another site, and on the own site's code with another site's object
ids, and asserts the answer written here. A route missing from this table fails the test.

The roles are those of trials.models.Role; `SUPERUSER` is a superuser holding no role at any
site (the Django admin's user: clinical pages are not theirs, trials/permissions.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from trials.models import Role

COORDINATOR = Role.COORDINATOR.value
INVESTIGATOR = Role.INVESTIGATOR.value
MONITOR = Role.MONITOR.value
DATA_MANAGER = Role.DATA_MANAGER.value
SITE_ADMIN = Role.SITE_ADMIN.value
SUPERUSER = "superuser"

SITE_ROLES = (COORDINATOR, INVESTIGATOR, MONITOR, DATA_MANAGER, SITE_ADMIN)
USERS = (*SITE_ROLES, SUPERUSER)

EVERY_ROLE = frozenset(SITE_ROLES)
EVERYONE_SIGNED_IN = frozenset(USERS)
NOBODY: frozenset[str] = frozenset()
# The capabilities of trials/permissions.py, as roles.
ENTER = frozenset({COORDINATOR, INVESTIGATOR})  # ENTER_DATA, VIEW_IDENTIFIERS, ENROL
SIGN = frozenset({INVESTIGATOR})  # REVIEW_AND_SIGN
VERIFY = frozenset({MONITOR})  # VERIFY_SOURCE
RAISE = frozenset({MONITOR, DATA_MANAGER})  # RAISE_QUERIES
LOCK = frozenset({DATA_MANAGER})  # LOCK_DATA, RUN_CHECKS
EXPORT = frozenset({INVESTIGATOR, DATA_MANAGER})  # EXPORT_DATA
AUDIT = frozenset({INVESTIGATOR, MONITOR, DATA_MANAGER})  # VIEW_AUDIT_LOG (and casebooks)
ACCESS_LOG = frozenset({DATA_MANAGER, SITE_ADMIN})  # VIEW_ACCESS_LOG
TEAM = frozenset({SITE_ADMIN})  # MANAGE_TEAM
# A query is seen by whoever raises queries or answers them (enters data).
QUERY_PARTIES = RAISE | ENTER


class Scope:
    """What an object id in the URL belongs to, and so what "another site" means."""

    SITE = "site"  # under sites/<code>/ (objects of that site)
    ANY_SITE = "any-site"  # no site in the URL: the user's sites where the role holds
    USER = "user"  # the signed-in user's own things (no site)
    OWNER = "owner"  # an object requested by one user (export jobs): only theirs
    PUBLIC = "public"  # no sign-in needed
    ADMIN = "admin"  # the Django admin: superusers only


@dataclass(frozen=True)
class Case:
    """One way to fill a pattern: which study object each URL parameter names (`objects`,
    parameter -> key of the seeded site's objects), a query string (may name objects in
    braces), and the roles allowed for this case when they differ from the row's."""

    objects: dict[str, str] = field(default_factory=dict)
    query: str = ""
    roles: frozenset[str] | None = None


@dataclass(frozen=True)
class Row:
    roles: frozenset[str]  # who may GET the page (for POST-only views: who may POST)
    scope: str = Scope.SITE
    # The answer to an allowed GET: 200, a redirect (302) or 405 for a POST-only view.
    ok: int | tuple[int, ...] = 200
    # Who may write through it (POST), when it accepts POST; None: GET only.
    writers: frozenset[str] | None = None
    cases: tuple[Case, ...] = (Case(),)
    note: str = ""


# Default parameter -> object key, for parameters a row does not name.
DEFAULT_OBJECTS = {
    "code": "site",
    "pk": "participant",
    "visit_pk": "visit",
    "ae_pk": "ae",
    "conmed_pk": "conmed",
    "query_pk": "query",
    "lock_pk": "lock",
    "membership_id": "membership",
    "trial_pk": "trial",
    "job_pk": "casebook",
    "token": "calendar_token",
}

_RECORD = {"key": "record_key", "record_id": "record_id"}

MATRIX: dict[str, Row] = {
    # --- public, sign-in and the user's own pages -------------------------------------------
    "healthz": Row(EVERYONE_SIGNED_IN, Scope.PUBLIC),
    # For operators: 503 while no worker has sent its heartbeat (none runs in the tests).
    "healthz-workers": Row(EVERYONE_SIGNED_IN, Scope.PUBLIC, ok=(200, 503)),
    "login": Row(EVERYONE_SIGNED_IN, Scope.PUBLIC),
    # Django 5: signing out is a POST; a GET is refused (405) for everyone.
    "logout": Row(NOBODY, Scope.PUBLIC, ok=405),
    "password_change": Row(EVERYONE_SIGNED_IN, Scope.USER),
    "password_change_done": Row(EVERYONE_SIGNED_IN, Scope.USER),
    "password_reset": Row(EVERYONE_SIGNED_IN, Scope.PUBLIC),
    "password_reset_done": Row(EVERYONE_SIGNED_IN, Scope.PUBLIC),
    # A made-up token: the page says the link is invalid (200), for anyone.
    "password_reset_confirm": Row(
        EVERYONE_SIGNED_IN,
        Scope.PUBLIC,
        cases=(Case(objects={"uidb64": "=bogus", "token": "=bogus-token"}),),
    ),
    "password_reset_complete": Row(EVERYONE_SIGNED_IN, Scope.PUBLIC),
    "set_language": Row(EVERYONE_SIGNED_IN, Scope.PUBLIC, ok=302, cases=(Case(query="next=/"),)),
    "home": Row(EVERYONE_SIGNED_IN, Scope.USER),
    # The navbar's language switch, before signing in too: POST only.
    "accounts-language": Row(EVERYONE_SIGNED_IN, Scope.PUBLIC, ok=405),
    "accounts-preferences": Row(EVERYONE_SIGNED_IN, Scope.USER, writers=EVERYONE_SIGNED_IN),
    # A session that passed the second factor is sent on (to ?next or home).
    "accounts-verify": Row(EVERYONE_SIGNED_IN, Scope.USER, ok=302),
    "accounts-enrol": Row(EVERYONE_SIGNED_IN, Scope.USER),
    "accounts-backup-codes": Row(EVERYONE_SIGNED_IN, Scope.USER, ok=302),
    "accounts-security": Row(EVERYONE_SIGNED_IN, Scope.USER),
    "accounts-keep-alive": Row(EVERYONE_SIGNED_IN, Scope.PUBLIC, ok=405),
    "notifications": Row(EVERYONE_SIGNED_IN, Scope.USER, writers=EVERYONE_SIGNED_IN),
    "notification-read": Row(
        EVERYONE_SIGNED_IN,
        Scope.OWNER,
        ok=405,
        writers=frozenset({COORDINATOR}),
        cases=(Case(objects={"pk": "notification"}),),
        note="POST-only; a notification is its recipient's (the site's coordinator)",
    ),
    "reminder-preferences": Row(EVERYONE_SIGNED_IN, Scope.USER, writers=EVERYONE_SIGNED_IN),
    "calendar": Row(EVERYONE_SIGNED_IN, Scope.USER, writers=EVERYONE_SIGNED_IN),
    # The feed's secret token is the credential (calendar apps cannot sign in).
    "calendar-feed": Row(EVERYONE_SIGNED_IN, Scope.PUBLIC, note="a capability URL"),
    "api-token": Row(EVERYONE_SIGNED_IN, Scope.USER, writers=EVERYONE_SIGNED_IN),
    "access-log-all": Row(frozenset({SUPERUSER}), Scope.USER),
    # --- a site --------------------------------------------------------------------------------
    "site": Row(EVERY_ROLE),
    "site-team": Row(EVERY_ROLE, writers=TEAM),
    "site-team-revoke": Row(TEAM, writers=TEAM),
    "participant-list": Row(EVERY_ROLE),
    "deviation-list": Row(EVERY_ROLE),
    "participant-detail": Row(EVERY_ROLE),
    "visit-detail": Row(EVERY_ROLE, writers=ENTER),
    "participant-register": Row(ENTER, writers=ENTER),
    "participant-enrol": Row(ENTER, writers=ENTER, cases=(Case(objects={"pk": "screening"}),)),
    "participant-status": Row(ENTER, writers=ENTER),
    "participant-consent": Row(ENTER, writers=ENTER),
    "participant-contact": Row(ENTER, writers=ENTER),
    "participant-demographics": Row(ENTER, writers=ENTER),
    "participant-als-history": Row(ENTER, writers=ENTER),
    "participant-return-to-screening": Row(ENTER, writers=ENTER),
    "transplantation": Row(ENTER, writers=ENTER),
    "visit-unscheduled": Row(ENTER, writers=ENTER),
    "screening-log": Row(EVERY_ROLE),
    "screening-log-csv": Row(EVERY_ROLE),
    "eligibility-override": Row(SIGN, writers=SIGN, cases=(Case(objects={"pk": "screening"}),)),
    "screen-failure": Row(ENTER, writers=ENTER, cases=(Case(objects={"pk": "screening"}),)),
    # Every form of the catalogue, each at a visit that asks for it (test fills form_code).
    "crf-entry": Row(EVERY_ROLE, writers=ENTER, note="one case per entry form"),
    "ae-listing": Row(EVERY_ROLE),
    "adverse-event-list": Row(EVERY_ROLE),
    "adverse-event-new": Row(EVERY_ROLE, writers=ENTER, cases=(Case(query="visit={visit}"),)),
    "adverse-event-edit": Row(
        EVERY_ROLE, writers=ENTER, cases=(Case(), Case(objects={"ae_pk": "sae"}))
    ),
    "adverse-event-assess": Row(SIGN, writers=SIGN, cases=(Case(objects={"ae_pk": "sae"}),)),
    "conmed-list": Row(EVERY_ROLE),
    "conmed-new": Row(EVERY_ROLE, writers=ENTER),
    "conmed-edit": Row(EVERY_ROLE, writers=ENTER),
    "visit-safety": Row(EVERY_ROLE, writers=ENTER),
    # --- audit ------------------------------------------------------------------------------
    "audit-log": Row(AUDIT),
    "audit-log-csv": Row(AUDIT),
    "audit-record-history": Row(EVERY_ROLE, cases=(Case(objects=_RECORD),)),
    "audit-participant-history": Row(EVERY_ROLE),
    "audit-visit-history": Row(EVERY_ROLE),
    "access-log": Row(ACCESS_LOG),
    # --- review: SDV, signatures, locks -----------------------------------------------------
    "review-queue": Row(EVERY_ROLE),
    "review-lock-site": Row(LOCK, writers=LOCK),
    "review-unlock": Row(LOCK, writers=LOCK),
    "review-targets": Row(LOCK, writers=LOCK),
    "review-participant": Row(EVERY_ROLE),
    "review-lock": Row(
        LOCK,
        writers=LOCK,
        cases=(Case(), Case(query="visit={visit}"), Case(query="record={record_key}:{record_id}")),
    ),
    "review-sign": Row(
        SIGN,
        writers=SIGN,
        cases=(
            Case(objects={"kind": "=casebook"}),
            Case(objects={"kind": "=visit"}, query="visit={visit}"),
            Case(objects={"kind": "=records"}),
        ),
    ),
    "review-record": Row(EVERY_ROLE, writers=VERIFY, cases=(Case(objects=_RECORD),)),
    # --- queries and edit checks ------------------------------------------------------------
    "query-list": Row(EVERY_ROLE),
    "query-open": Row(
        RAISE, writers=RAISE, cases=(Case(query="record={record_key}&record_pk={record_id}"),)
    ),
    # Read by every role of the site, as the list; answered, replied to or closed by the
    # parties (who raise queries or enter data).
    "query-detail": Row(EVERY_ROLE, writers=QUERY_PARTIES),
    "participant-queries": Row(EVERY_ROLE),
    "check-list": Row(EVERY_ROLE),
    "check-run": Row(LOCK, writers=LOCK, cases=(Case(objects={"key": "check_key"}),)),
    # --- reminders, dashboards --------------------------------------------------------------
    "site-reminders": Row(EVERY_ROLE),
    # A user of no site (the superuser) gets the page with no figure.
    "reports-dashboard": Row(EVERYONE_SIGNED_IN, Scope.ANY_SITE),
    "reports-dashboard-site": Row(EVERY_ROLE),
    "reports-cohort": Row(EXPORT, Scope.ANY_SITE),
    "reports-cohort-csv": Row(EXPORT, Scope.ANY_SITE),
    "reports-cohort-participants-csv": Row(EXPORT, Scope.ANY_SITE),
    # --- casebook PDFs: the site's printers (VIEW_AUDIT_LOG); identified ones only for those
    # who may see identities there.
    "casebook-create": Row(AUDIT, ok=405, writers=AUDIT),
    "casebook-job": Row(
        AUDIT,
        cases=(Case(), Case(objects={"job_pk": "casebook_identified"}, roles=SIGN)),
    ),
    "casebook-status": Row(
        AUDIT,
        cases=(Case(), Case(objects={"job_pk": "casebook_identified"}, roles=SIGN)),
    ),
    "casebook-download": Row(
        AUDIT,
        cases=(Case(), Case(objects={"job_pk": "casebook_identified"}, roles=SIGN)),
    ),
    # --- dataset exports: the page for exporters; a job only for whoever requested it ------
    "export-page": Row(EXPORT, Scope.ANY_SITE, writers=EXPORT),
    "export-log": Row(EXPORT, Scope.ANY_SITE),
    "export-job": Row(SIGN, Scope.OWNER, cases=(Case(objects={"pk": "export"}),)),
    "export-job-status": Row(SIGN, Scope.OWNER, cases=(Case(objects={"pk": "export"}),)),
    "export-download": Row(SIGN, Scope.OWNER, cases=(Case(objects={"pk": "export"}),)),
    "export-delete": Row(
        SIGN, Scope.OWNER, ok=405, writers=SIGN, cases=(Case(objects={"pk": "export"}),)
    ),
    # --- the read API: every role reads its sites; ?site= and ?participant= of another site
    # are refused (404), a detail of another site's object too.
    "api-participants": Row(
        EVERYONE_SIGNED_IN,
        Scope.ANY_SITE,
        cases=(Case(), Case(query="site={site}", roles=EVERY_ROLE)),
    ),
    "api-participant": Row(
        EVERY_ROLE, Scope.ANY_SITE, cases=(Case(objects={"pk": "participant"}),)
    ),
    "api-visits": Row(
        EVERYONE_SIGNED_IN,
        Scope.ANY_SITE,
        cases=(Case(), Case(query="participant={participant}", roles=EVERY_ROLE)),
    ),
    "api-forms": Row(EVERYONE_SIGNED_IN, Scope.ANY_SITE),
    # api-form-<code>: one row per entry form, added below.
    "api-adverse-events": Row(
        EVERYONE_SIGNED_IN,
        Scope.ANY_SITE,
        cases=(
            Case(),
            Case(query="participant={participant}", roles=EVERY_ROLE),
            Case(query="site={site}", roles=EVERY_ROLE),
        ),
    ),
    "api-conmeds": Row(
        EVERYONE_SIGNED_IN,
        Scope.ANY_SITE,
        cases=(
            Case(),
            Case(query="participant={participant}", roles=EVERY_ROLE),
            Case(query="site={site}", roles=EVERY_ROLE),
        ),
    ),
    "api-exports": Row(EVERYONE_SIGNED_IN, Scope.USER),
    "api-export": Row(SIGN, Scope.OWNER, cases=(Case(objects={"pk": "export"}),)),
    "api-schema": Row(EVERYONE_SIGNED_IN, Scope.USER),
    "api-docs": Row(EVERYONE_SIGNED_IN, Scope.USER),
}

# The API's form endpoints: one per entry form of the catalogue (exports/api/urls.py).
API_FORM_ROW = Row(
    EVERYONE_SIGNED_IN,
    Scope.ANY_SITE,
    cases=(Case(), Case(query="participant={participant}", roles=EVERY_ROLE)),
)

# The Django admin (every admin/ route): superusers only; anyone else is sent to its login,
# which (with its logout) is open to all.
ADMIN_ROW = Row(frozenset({SUPERUSER}), Scope.ADMIN)
ADMIN_OPEN = {
    "admin:login": Row(EVERYONE_SIGNED_IN, Scope.PUBLIC, ok=(200, 302)),
    "admin:logout": Row(EVERYONE_SIGNED_IN, Scope.PUBLIC, ok=(302, 405)),
}


def row_for(name: str, route: str) -> Row | None:
    """The row of a route: admin routes share one, the API's form routes another."""
    if route.startswith("admin/"):
        return ADMIN_OPEN.get(name, ADMIN_ROW)
    if name.startswith("api-form-"):
        return API_FORM_ROW
    return MATRIX.get(name)
