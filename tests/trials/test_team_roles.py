"""A site administrator manages the team without being able to escalate their own access or
leave the site without an administrator, and every change is on the record."""

from __future__ import annotations

import threading

import pytest
from django.contrib.auth import get_user_model
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.factories import UserFactory, member
from trials import permissions, services
from trials.models import Membership, Role


@pytest.fixture
def admin_a(site_a):
    return member(Role.SITE_ADMIN, site_a, "admin_a")


def grant(client, site, username, role):
    return client.post(reverse("site-team", args=[site.code]), {"username": username, "role": role})


def history_rows(page) -> str:
    """The text of the team page's history table (so the team list above does not count)."""
    text = page.text
    return text[text.index('id="team-history"') :]


@pytest.mark.django_db
def test_a_site_admin_cannot_grant_themselves_a_role(client_for, admin_a, site_a):
    client = client_for(admin_a)
    response = grant(client, site_a, "admin_a", Role.INVESTIGATOR)
    assert response.status_code == 400
    assert "You cannot change your own roles" in response.text
    assert not permissions.can(admin_a, permissions.VIEW_IDENTIFIERS, site_a)
    assert not Membership.objects.filter(user=admin_a, role=Role.INVESTIGATOR).exists()


@pytest.mark.django_db
def test_the_only_site_admin_cannot_revoke_their_own_role(client_for, admin_a, site_a):
    """One click used to leave the site with no administrator."""
    client = client_for(admin_a)
    own = Membership.objects.get(user=admin_a, site=site_a)
    team = client.get(reverse("site-team", args=[site_a.code]))
    assert reverse("site-team-revoke", args=[site_a.code, own.pk]) not in team.text

    response = client.post(reverse("site-team-revoke", args=[site_a.code, own.pk]))
    assert response.status_code == 400
    assert "You cannot change your own roles" in response.text
    own.refresh_from_db()
    assert own.is_active
    assert Membership.objects.active().filter(site=site_a, role=Role.SITE_ADMIN).count() == 1
    assert client.get(reverse("site-team", args=[site_a.code])).status_code == 200


@pytest.mark.django_db
def test_revoking_a_role_asks_for_confirmation_first(client_for, admin_a, coordinator_a, site_a):
    client = client_for(admin_a)
    membership = Membership.objects.get(user=coordinator_a, site=site_a)
    url = reverse("site-team-revoke", args=[site_a.code, membership.pk])
    assert f'href="{url}"' in client.get(reverse("site-team", args=[site_a.code])).text

    question = client.get(url)
    assert question.status_code == 200
    assert "Revoke the role" in question.text
    assert "coord_a" in question.text
    membership.refresh_from_db()
    assert membership.is_active  # looking at the question changes nothing

    done = client.post(url)
    assert done.status_code == 302
    membership.refresh_from_db()
    assert not membership.is_active
    # The confirmation sent twice finds the role already gone.
    again = client.post(url, follow=True)
    assert "This role was already revoked." in again.text


@pytest.mark.django_db
def test_the_unknown_user_answer_is_the_same_for_accounts_that_cannot_get_a_role(
    client_for, admin_a, site_a
):
    UserFactory(username="sleeper", is_active=False)
    get_user_model().objects.create_superuser("root", "root@example.org", "x")
    client = client_for(admin_a)
    answers = {}
    for username in ("ghost", "sleeper", "root"):
        response = grant(client, site_a, username, Role.INVESTIGATOR)
        assert response.status_code == 400, username
        answers[username] = response.context["form"].errors.as_data()
    texts = {
        u: [m for e in errors["username"] for m in e.messages] for u, errors in answers.items()
    }
    assert texts["ghost"] == texts["sleeper"] == texts["root"]
    assert set(answers["root"]) == {"username"}
    assert not Membership.objects.filter(user__username__in=["sleeper", "root"]).exists()


@pytest.mark.django_db
def test_grants_and_revocations_are_listed_on_the_team_page(
    client_for, admin_a, coordinator_a, site_a
):
    UserFactory(username="newcomer")
    client = client_for(admin_a)
    assert grant(client, site_a, "newcomer", Role.MONITOR).status_code == 302
    monitor = Membership.objects.get(user__username="newcomer", site=site_a)
    client.post(reverse("site-team-revoke", args=[site_a.code, monitor.pk]))

    # Anyone who sees the team sees its history, with who changed what for whom.
    history = history_rows(client_for(coordinator_a).get(reverse("site-team", args=[site_a.code])))
    rows = history.split("<tr>")[2:]
    revoked, granted = rows[0], rows[1]  # newest first
    for row, change in ((revoked, "revoked"), (granted, "granted")):
        assert change in row
        assert "newcomer" in row
        assert "Monitor" in row
        assert "admin_a" in row
    # Memberships made outside the pages (the factories, the demo loader) name no actor.
    assert "coord_a" in history


@pytest.mark.django_db
def test_the_team_history_costs_the_same_queries_however_long(client_for, admin_a, site_a):
    client = client_for(admin_a)
    url = reverse("site-team", args=[site_a.code])

    def grant_and_revoke(username):
        UserFactory(username=username)
        grant(client, site_a, username, Role.COORDINATOR)
        membership = Membership.objects.get(user__username=username)
        client.post(reverse("site-team-revoke", args=[site_a.code, membership.pk]))

    grant_and_revoke("first")
    client.get(url)  # shows the messages of the changes, as the next page will
    with CaptureQueriesContext(connection) as short:
        client.get(url)
    for i in range(5):
        grant_and_revoke(f"temp{i}")
    client.get(url)
    with CaptureQueriesContext(connection) as long:
        page = client.get(url)
    assert history_rows(page).count("temp4") == 2
    assert len(long) == len(short)


def _in_thread(target, results: dict, key: str):
    def run():
        try:
            results[key] = target()
        except BaseException as error:  # surfaced by the test thread
            results[key] = error
        finally:
            connections.close_all()  # each thread had its own connection

    return threading.Thread(target=run)


@pytest.mark.django_db(transaction=True)
def test_two_admins_revoking_each_other_at_once_leave_one_admin(site_a):
    first = member(Role.SITE_ADMIN, site_a, "first_admin")
    second = member(Role.SITE_ADMIN, site_a, "second_admin")
    first_role = Membership.objects.get(user=first)
    second_role = Membership.objects.get(user=second)
    # Both requests have passed the page's permission check before either revokes.
    assert permissions.can(first, permissions.MANAGE_TEAM, site_a)
    assert permissions.can(second, permissions.MANAGE_TEAM, site_a)
    start = threading.Barrier(2)

    def revoke(actor, membership):
        def run():
            start.wait()
            return services.revoke_role(actor=actor, membership=membership)

        return run

    results: dict = {}
    threads = [
        _in_thread(revoke(first, second_role), results, "first"),
        _in_thread(revoke(second, first_role), results, "second"),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    admins = Membership.objects.active().filter(site=site_a, role=Role.SITE_ADMIN)
    assert admins.count() == 1
    refused = [r for r in results.values() if isinstance(r, Exception)]
    assert len(refused) == 1
