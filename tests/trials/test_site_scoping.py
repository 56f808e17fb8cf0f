"""A coordinator works at their own site and cannot see another site's pages."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.factories import member
from trials import permissions
from trials.models import Membership, Role

pytestmark = pytest.mark.django_db


def test_coordinator_sees_own_site_on_home_and_opens_it(client_for, coordinator_a, site_a, site_b):
    client = client_for(coordinator_a)
    home = client.get(reverse("home"))
    assert home.status_code == 200
    assert site_a.name in home.text
    assert site_b.name not in home.text
    assert client.get(reverse("site", args=[site_a.code])).status_code == 200
    assert client.get(reverse("site-team", args=[site_a.code])).status_code == 200


def test_coordinator_of_site_a_gets_404_on_site_b_pages(client_for, coordinator_a, site_b):
    client = client_for(coordinator_a)
    assert client.get(reverse("site", args=[site_b.code])).status_code == 404
    assert client.get(reverse("site-team", args=[site_b.code])).status_code == 404
    assert client.get(reverse("site", args=["NOPE"])).status_code == 404


def test_anonymous_user_is_sent_to_login(client, site_a):
    response = client.get(reverse("site", args=[site_a.code]))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_roles_differ_per_site(site_a, site_b):
    user = member(Role.COORDINATOR, site_a, "dual")
    Membership.objects.create(user=user, site=site_b, role=Role.MONITOR)
    assert permissions.can(user, permissions.ENTER_DATA, site_a)
    assert not permissions.can(user, permissions.ENTER_DATA, site_b)
    assert permissions.can(user, permissions.VERIFY_SOURCE, site_b)
    assert list(permissions.sites_where(user, permissions.ENTER_DATA)) == [site_a]
    assert user.has_perm("ecrf.verify_source", site_b)
    assert not user.has_perm("ecrf.verify_source", site_a)


def test_revoked_and_inactive_site_memberships_grant_nothing(site_a):
    user = member(Role.INVESTIGATOR, site_a, "former")
    Membership.objects.filter(user=user).update(is_active=False)
    assert not permissions.can(user, permissions.VIEW_SITE, site_a)


def test_site_admin_grants_and_revokes_roles_at_own_site_only(client_for, site_a, site_b):
    admin = member(Role.SITE_ADMIN, site_a, "admin_a")
    newcomer = member(Role.MONITOR, site_b, "newcomer")
    client = client_for(admin)
    response = client.post(
        reverse("site-team", args=[site_a.code]), {"username": "newcomer", "role": Role.COORDINATOR}
    )
    assert response.status_code == 302
    membership = Membership.objects.get(user=newcomer, site=site_a)
    assert membership.role == Role.COORDINATOR

    bad = client.post(
        reverse("site-team", args=[site_a.code]), {"username": "ghost", "role": "king"}
    )
    assert bad.status_code == 400
    assert "No user with this username can be given a role." in bad.text
    assert "is not one of the available choices" in bad.text

    client.post(reverse("site-team-revoke", args=[site_a.code, membership.pk]))
    membership.refresh_from_db()
    assert membership.is_active is False
    # Cannot manage another site's team.
    other = Membership.objects.get(user=newcomer, site=site_b)
    assert client.post(reverse("site-team-revoke", args=[site_b.code, other.pk])).status_code == 404


def test_coordinator_cannot_manage_the_team(client_for, coordinator_a, site_a):
    client = client_for(coordinator_a)
    page = client.get(reverse("site-team", args=[site_a.code]))
    assert "Grant a role" not in page.text
    assert (
        client.post(
            reverse("site-team", args=[site_a.code]), {"username": "x", "role": "monitor"}
        ).status_code
        == 404
    )


def test_admin_is_for_superusers_only(client_for, site_a):
    staff = member(Role.SITE_ADMIN, site_a, "staffer")
    staff.is_staff = True
    staff.save()
    assert client_for(staff).get("/admin/").status_code == 302
