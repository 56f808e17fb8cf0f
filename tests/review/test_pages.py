"""The review pages are scoped by site and role and answer bad input with a 404 or a form
error, never a 500."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from crfs.alsfrs_r.models import AlsfrsR
from review import services
from review.models import Scope
from tests.factories import ALSFRS_NORMAL, member, save_crf
from tests.review.conftest import record_type
from trials.models import Role

pytestmark = pytest.mark.django_db


def test_another_sites_reviewer_gets_404(client_for, coordinator_a, site_b, m06):
    record = save_crf(coordinator_a, m06, AlsfrsR, ALSFRS_NORMAL)
    participant = m06.participant
    outsider = member(Role.DATA_MANAGER, site_b, "dm_b")
    client = client_for(outsider)
    code = participant.site.code
    for url in (
        reverse("review-queue", args=[code]),
        reverse("review-participant", args=[code, participant.pk]),
        reverse("review-record", args=[code, participant.pk, "alsfrs_r", record.pk]),
        reverse("review-lock", args=[code, participant.pk]),
    ):
        assert client.get(url).status_code == 404, url
    # The participant under the outsider's own site code is not found either.
    assert (
        client.get(reverse("review-participant", args=["THR", participant.pk])).status_code == 404
    )


@pytest.mark.parametrize(
    "query",
    [
        "?visit=abc",
        "?visit=99999999",
        "?record=nothing:1",
        "?record=alsfrs_r:x",
        "?record=alsfrs_r:",
    ],
)
def test_bad_lock_targets_are_404(client_for, data_manager_a, m06, query):
    participant = m06.participant
    url = reverse("review-lock", args=[participant.site.code, participant.pk]) + query
    assert client_for(data_manager_a).get(url).status_code == 404


def test_bad_record_and_sign_addresses_are_404(client_for, investigator_a, monitor_a, m06):
    participant = m06.participant
    code = participant.site.code
    assert (
        client_for(monitor_a)
        .get(reverse("review-record", args=[code, participant.pk, "no_such_form", 1]))
        .status_code
        == 404
    )
    investigator = client_for(investigator_a)
    for url in (
        reverse("review-sign", args=[code, participant.pk, "everything"]),
        reverse("review-sign", args=[code, participant.pk, "visit"]) + "?visit=x",
        reverse("review-sign", args=[code, participant.pk, "visit"]),
    ):
        assert investigator.get(url).status_code == 404, url


def test_a_verify_form_with_an_unknown_field_is_a_form_error(
    client_for, coordinator_a, monitor_a, m06
):
    record = save_crf(coordinator_a, m06, AlsfrsR, ALSFRS_NORMAL)
    participant = m06.participant
    url = reverse(
        "review-record", args=[participant.site.code, participant.pk, "alsfrs_r", record.pk]
    )
    client = client_for(monitor_a)
    assert client.post(url, {"fields_verified": ["password"]}).status_code == 400
    assert client.post(url, {"whole": ""}).status_code == 400  # neither ticked


def test_locking_twice_is_refused_and_the_lock_shows_on_the_record_page(
    client_for, coordinator_a, data_manager_a, monitor_a, m06
):
    record = save_crf(coordinator_a, m06, AlsfrsR, ALSFRS_NORMAL)
    participant = m06.participant
    target = services.Target(
        scope=Scope.RECORD,
        site=participant.site,
        participant=participant,
        record_type=record_type("alsfrs_r"),
        record=record,
    )
    services.lock(actor=data_manager_a, target=target, reason="verified and final")
    with pytest.raises(ValidationError, match="already locked"):
        services.lock(actor=data_manager_a, target=target, reason="again")
    page = client_for(monitor_a).get(
        reverse(
            "review-record", args=[participant.site.code, participant.pk, "alsfrs_r", record.pk]
        )
    )
    assert 'data-testid="lock"' in page.text and "verified and final" in page.text
    # The other forms of the visit stay open.
    from crfs.fvc.models import Fvc
    from tests.factories import SCREENING_FVC

    save_crf(coordinator_a, m06, Fvc, SCREENING_FVC)


def test_the_participant_review_page_queries_are_constant(
    client_for, coordinator_a, monitor_a, m06
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from crfs.fvc.models import Fvc
    from tests.factories import SCREENING_FVC

    participant = m06.participant
    url = reverse("review-participant", args=[participant.site.code, participant.pk])
    client = client_for(monitor_a)
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    record = save_crf(coordinator_a, m06, AlsfrsR, ALSFRS_NORMAL)
    save_crf(coordinator_a, m06, Fvc, SCREENING_FVC)
    services.verify(actor=monitor_a, record_type=record_type("alsfrs_r"), record=record)
    with CaptureQueriesContext(connection) as more:
        page = client.get(url)
    assert f'data-testid="record-alsfrs_r-{record.pk}"' in page.text
    assert 'data-testid="verified"' in page.text
    assert len(more.captured_queries) == len(few.captured_queries)


def test_the_queue_page_lists_each_roles_work(
    client_for, coordinator_a, monitor_a, investigator_a, data_manager_a, m06, trial
):
    record = save_crf(coordinator_a, m06, AlsfrsR, ALSFRS_NORMAL)
    participant = m06.participant
    code = participant.site.code
    url = reverse("review-queue", args=[code])
    link = reverse("review-record", args=[code, participant.pk, "alsfrs_r", record.pk])
    monitor_page = client_for(monitor_a).get(url)
    assert 'id="to-verify"' in monitor_page.text and link in monitor_page.text
    assert 'id="to-sign"' not in monitor_page.text
    investigator_page = client_for(investigator_a).get(url)
    assert 'id="to-sign"' in investigator_page.text and link in investigator_page.text
    services.lock(
        actor=data_manager_a,
        target=services.Target(scope=Scope.SITE, site=participant.site),
        reason="interim analysis",
    )
    manager_page = client_for(data_manager_a).get(url)
    assert 'data-testid="lock-row"' in manager_page.text and "interim analysis" in manager_page.text
    assert reverse("review-targets", args=[code, trial.pk]) in manager_page.text
