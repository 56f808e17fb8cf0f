"""A NUL byte anywhere a request carries text (path, query string, form fields) is a 400
before any view runs: PostgreSQL refuses NUL in text, which made these 500s."""

from __future__ import annotations

import pytest
from django.urls import reverse

from participants.models import Participant
from tests.factories import member
from trials.models import Role

pytestmark = pytest.mark.django_db


def assert_refused(response) -> None:
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/plain")
    assert "NUL" in response.text


def test_a_nul_in_the_path_of_an_anonymous_calendar_feed_is_a_400(client):
    assert_refused(client.get("/calendar/%00.ics"))


@pytest.mark.parametrize("path", ["/sites/%00/participants/", "/sites/ISF%00/team/"])
def test_a_nul_in_the_path_of_a_signed_in_page_is_a_400(client_for, coordinator_a, path):
    assert_refused(client_for(coordinator_a).get(path))


@pytest.mark.parametrize("query", ["q=%00", "q=abc%00def", "status=%00", "%00=1"])
def test_a_nul_in_the_participant_list_query_is_a_400(client_for, coordinator_a, site_a, query):
    url = reverse("participant-list", args=[site_a.code])
    assert_refused(client_for(coordinator_a).get(f"{url}?{query}"))


@pytest.mark.parametrize("query", ["site=%00", "participant=%00", "page=%00"])
def test_a_nul_in_an_api_filter_is_a_400(client_for, site_a, query):
    investigator = member(Role.INVESTIGATOR, site_a, "inv_a")
    url = reverse("api-participants")
    assert_refused(client_for(investigator).get(f"{url}?{query}"))


def test_a_nul_in_a_form_field_is_a_400_and_saves_nothing(client_for, coordinator_a, site_a, trial):
    client = client_for(coordinator_a)
    url = reverse("participant-register", args=[site_a.code])
    response = client.post(url, {"initials": "A\x00B", "national_id": "1234567890"})
    assert_refused(response)
    assert not Participant.objects.exists()


def test_a_nul_in_the_session_cookie_is_a_400(client, coordinator_a):
    client.cookies["sessionid"] = "abcdefgh\x00ijkl"
    assert_refused(client.get(reverse("home")))


def test_a_nul_in_the_api_token_header_is_a_400(client):
    assert_refused(client.get(reverse("api-participants"), HTTP_AUTHORIZATION="Token a\x00b"))


def test_a_nul_in_the_user_agent_of_a_failed_login_is_a_400(client, coordinator_a):
    from axes.models import AccessAttempt

    response = client.post(
        reverse("login"), {"username": "coord_a", "password": "wrong"}, HTTP_USER_AGENT="x\x00y"
    )
    assert_refused(response)
    assert not AccessAttempt.objects.exists()


def test_an_ordinary_query_still_works(client_for, coordinator_a, site_a):
    url = reverse("participant-list", args=[site_a.code])
    assert client_for(coordinator_a).get(f"{url}?q=abc").status_code == 200
