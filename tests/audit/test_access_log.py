"""The access log: logins, failed logins, lockouts, logouts, password changes, role grants
and revocations (and exports, through `log_access`), readable by a site's administrators and
data managers for their site, by superusers for every site; filterable, constant queries."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from audit.models import AccessEvent, AccessKind
from audit.services import log_access
from tests.factories import PASSWORD, UserFactory, member
from trials import services
from trials.models import Membership, Role

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_a(site_a):
    return member(Role.SITE_ADMIN, site_a, "admin_a")


@pytest.fixture
def data_manager_a(site_a):
    return member(Role.DATA_MANAGER, site_a, "dm_a")


def kinds(**filters) -> list[str]:
    """The kinds logged, oldest first (an account's first password, set by the factory, is
    logged as a password change too: left out here)."""
    events = AccessEvent.objects.filter(**filters).exclude(kind=AccessKind.PASSWORD_CHANGED)
    return list(events.order_by("at", "pk").values_list("kind", flat=True))


def test_logins_failures_lockout_and_logout_are_logged_with_the_address(coordinator_a):
    client = Client(REMOTE_ADDR="10.1.2.3")
    client.post(reverse("login"), {"username": "coord_a", "password": "wrong"})
    client.post(reverse("login"), {"username": "nobody_here", "password": "wrong"})
    client.post(reverse("login"), {"username": "coord_a", "password": PASSWORD})
    client.post(reverse("logout"))
    assert kinds(username="coord_a") == ["login_failed", "login", "logout"]
    failed = AccessEvent.objects.get(username="nobody_here")
    assert failed.kind == AccessKind.LOGIN_FAILED and failed.user_id is None
    assert failed.address == "10.1.2.3"
    assert AccessEvent.objects.get(kind="login").user_id == coordinator_a.pk

    for _ in range(5):
        client.post(reverse("login"), {"username": "coord_a", "password": "wrong"})
    assert AccessKind.LOCKOUT in kinds(username="coord_a")


def test_a_password_change_is_logged(coordinator_a, client_for):
    client = client_for(coordinator_a)
    response = client.post(
        reverse("password_change"),
        {
            "old_password": PASSWORD,
            "new_password1": "a-new-Long-passphrase-9",
            "new_password2": "a-new-Long-passphrase-9",
        },
    )
    assert response.status_code == 302
    changes = AccessEvent.objects.filter(user=coordinator_a, kind=AccessKind.PASSWORD_CHANGED)
    assert changes.count() == 2  # the factory's first password, then the change


def test_role_grants_and_revocations_are_logged_at_the_site(admin_a, site_a):
    newcomer = UserFactory(username="newcomer")
    membership = services.grant_role(actor=admin_a, site=site_a, user=newcomer, role=Role.MONITOR)
    services.revoke_role(actor=admin_a, membership=membership)
    granted, revoked = AccessEvent.objects.filter(site=site_a).order_by("pk")
    assert (granted.kind, revoked.kind) == (AccessKind.ROLE_GRANTED, AccessKind.ROLE_REVOKED)
    assert (
        granted.user_id == admin_a.pk
        and "newcomer" in granted.detail
        and "Monitor" in granted.detail
    )
    # Granting a role already held changes nothing and logs nothing.
    services.grant_role(actor=admin_a, site=site_a, user=newcomer, role=Role.MONITOR)
    services.grant_role(actor=admin_a, site=site_a, user=newcomer, role=Role.MONITOR)
    assert kinds(site=site_a) == ["role_granted", "role_revoked", "role_granted"]


def test_log_access_writes_one_row_per_site_of_an_export(coordinator_a, site_a, site_b):
    rows = log_access(
        AccessKind.EXPORT_CREATED, user=coordinator_a, sites=[site_a, site_b], detail="export 7"
    )
    assert sorted(r.site.code for r in rows) == ["ISF", "THR"]
    with pytest.raises(ValueError):
        log_access("teleported", user=coordinator_a)


def test_the_access_log_cannot_be_rewritten(coordinator_a):
    log_access(AccessKind.LOGIN, user=coordinator_a)
    for statement in (
        "UPDATE audit_accessevent SET kind = 'logout'",
        "DELETE FROM audit_accessevent",
    ):
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement)


def test_site_admins_and_data_managers_read_their_sites_log(
    admin_a, data_manager_a, coordinator_a, monitor_a, site_a, site_b, client_for
):
    outsider = member(Role.COORDINATOR, site_b, "coord_b")
    log_access(AccessKind.LOGIN, user=coordinator_a)
    log_access(AccessKind.LOGIN, user=outsider)
    log_access(AccessKind.LOGIN_FAILED, username="coord_a")
    log_access(AccessKind.EXPORT_DOWNLOADED, user=data_manager_a, site=site_a, detail="bundle 3")
    log_access(AccessKind.EXPORT_DOWNLOADED, user=outsider, site=site_b, detail="bundle 4")
    url = reverse("access-log", args=["ISF"])
    for reader in (admin_a, data_manager_a):
        html = client_for(reader).get(url).content.decode()
        assert "bundle 3" in html and "coord_a" in html
        assert "bundle 4" not in html and "coord_b" not in html
    for other in (coordinator_a, monitor_a):
        assert client_for(other).get(url).status_code == 404
    assert client_for(admin_a).get(reverse("access-log", args=["THR"])).status_code == 404

    filtered = client_for(admin_a).get(url, {"kind": "login_failed"}).content.decode()
    assert filtered.count('data-kind="login_failed"') == 1 and 'data-kind="login"' not in filtered
    by_user = client_for(admin_a).get(url, {"user": "DM_A"}).content.decode()
    assert "bundle 3" in by_user and "coord_a" not in by_user
    assert client_for(admin_a).get(url, {"kind": "nonsense", "page": "-1"}).status_code == 200


def test_superusers_read_every_sites_log_and_nobody_else(
    admin_a, coordinator_a, site_b, client_for
):
    log_access(AccessKind.EXPORT_CREATED, user=coordinator_a, site=site_b, detail="bundle 9")
    root = UserFactory(username="root", is_superuser=True, is_staff=True)
    assert "bundle 9" in client_for(root).get(reverse("access-log-all")).content.decode()
    assert client_for(admin_a).get(reverse("access-log-all")).status_code == 403


def test_the_access_log_takes_the_same_queries_for_one_row_or_many(
    admin_a, coordinator_a, client_for
):
    client = client_for(admin_a)
    url = reverse("access-log", args=["ISF"])
    log_access(AccessKind.LOGIN, user=coordinator_a)
    with CaptureQueriesContext(connection) as one:
        client.get(url)
    for _ in range(30):
        log_access(AccessKind.LOGIN, user=coordinator_a)
    Membership.objects.create(
        user=UserFactory(), site=admin_a.memberships.first().site, role=Role.MONITOR
    )
    with CaptureQueriesContext(connection) as many:
        assert client.get(url).status_code == 200
    assert len(many.captured_queries) == len(one.captured_queries)


def test_the_home_page_links_the_logs_for_those_who_may_read_them(
    admin_a, monitor_a, coordinator_a, client_for
):
    audit_log = reverse("audit-log", args=["ISF"])
    access_log = reverse("access-log", args=["ISF"])
    admin_home = client_for(admin_a).get(reverse("home")).content.decode()
    assert access_log in admin_home and audit_log not in admin_home
    monitor_home = client_for(monitor_a).get(reverse("home")).content.decode()
    assert audit_log in monitor_home and access_log not in monitor_home
    coordinator_home = client_for(coordinator_a).get(reverse("home")).content.decode()
    assert audit_log not in coordinator_home and access_log not in coordinator_home
