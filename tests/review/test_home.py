"""Each role's home card leads with its review work, counted at a constant number of
queries whatever the number of records."""

from __future__ import annotations

import pytest
from django.urls import reverse

from crfs.alsfrs_r.models import AlsfrsR
from review import services
from review.models import Scope
from tests.factories import ALSFRS_NORMAL, home_work, member, save_crf
from trials.models import Role

pytestmark = pytest.mark.django_db


@pytest.fixture
def reviewer(site_a):
    """One person holding the three review roles at the site."""
    user = member(Role.MONITOR, site_a, "reviewer")
    member(Role.INVESTIGATOR, site_a, "reviewer")
    member(Role.DATA_MANAGER, site_a, "reviewer")
    user.refresh_from_db()  # each member() call set the password again
    return user


def count_in(text: str, label: str) -> int:
    return home_work(text, "ISF")[label]


def test_the_home_card_counts_the_work_at_constant_queries(
    client_for, reviewer, coordinator_a, data_manager_a, m06, site_a
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_for(reviewer)
    with CaptureQueriesContext(connection) as first:
        page = client.get(reverse("home"))
    assert {"Records to verify", "Records to sign"} <= set(home_work(page.text, "ISF"))
    assert count_in(page.text, "Active locks") == 0
    before = count_in(page.text, "Records to verify")

    save_crf(coordinator_a, m06, AlsfrsR, ALSFRS_NORMAL)
    services.lock(
        actor=data_manager_a,
        target=services.Target(scope=Scope.PARTICIPANT, site=site_a, participant=m06.participant),
        reason="interim",
    )
    with CaptureQueriesContext(connection) as second:
        page = client.get(reverse("home"))
    assert count_in(page.text, "Active locks") == 1
    assert count_in(page.text, "Records to verify") == before + 1  # the new ALSFRS-R
    assert len(second.captured_queries) == len(first.captured_queries)
