"""Review and queries where the site works: a form a monitor verified and queried shows it on
the subject matrix, the visit page and the participant page; once the data manager locks the
participant, the matrix says locked and the CRF, safety and correction pages show the lock
and offer no Save. The pages' query counts do not grow with queries, verifications or locks."""

from __future__ import annotations

import pytest
from django.urls import reverse

from clinic.selectors import FormState
from crfs.alsfrs_r.models import AlsfrsR
from queries import services as query_services
from review import services as review_services
from review.models import Scope
from tests.factories import ALSFRS_NORMAL, enrol, investigator_of, member, register, save_crf
from trials import records
from trials.models import Role

pytestmark = pytest.mark.django_db

SAVE = '<button type="submit" class="btn btn-primary mt-2">'


@pytest.fixture
def alsfrs(m06, coordinator_a):
    return save_crf(coordinator_a, m06, AlsfrsR, ALSFRS_NORMAL)


@pytest.fixture
def data_manager_a(site_a):
    return member(Role.DATA_MANAGER, site_a)


def _cell(response, visit_code: str, form_code: str):
    matrix = response.context["matrix"]
    row = next(row for row in matrix.rows if row.code == form_code)
    return next(cell for cell in row.cells if cell.visit_code == visit_code)


def _verify_and_query(monitor, record, site) -> None:
    review_services.verify(actor=monitor, record_type=records.get("alsfrs_r"), record=record)
    query_services.open_query(
        actor=monitor,
        site=site,
        record_type="alsfrs_r",
        record_pk=record.pk,
        field_name="q3_swallowing",
        text="The source says 3 for swallowing.",
    )


def _raise(monitor, site, key: str, pk: int, text: str) -> None:
    query_services.open_query(
        actor=monitor, site=site, record_type=key, record_pk=pk, field_name="", text=text
    )


def _lock_participant(actor, participant) -> None:
    review_services.lock(
        actor=actor,
        target=review_services.Target(
            scope=Scope.PARTICIPANT, site=participant.site, participant=participant
        ),
        reason="Interim analysis",
    )


def test_a_verified_and_queried_form_shows_on_the_matrix_visit_and_participant_pages(
    alsfrs, m06, tx_participant, site_a, monitor_a, coordinator_a, client_for
):
    client = client_for(coordinator_a)
    url = reverse("participant-detail", args=["ISF", tx_participant.pk])
    before = _cell(client.get(url), "M06", "alsfrs_r")
    assert (before.state, before.open_queries) == (FormState.COMPLETE, 0)

    _verify_and_query(monitor_a, alsfrs, site_a)

    page = client.get(url)
    cell = _cell(page, "M06", "alsfrs_r")
    assert (cell.state, cell.open_queries) == (FormState.VERIFIED, 1)
    assert 'data-testid="cell-M06-alsfrs_r-queries"' in page.text
    card = page.context
    assert (card["sdv"].verified, card["open_queries"].open) == (1, 1)
    assert 'data-testid="review-card"' in page.text
    assert reverse("review-participant", args=["ISF", tx_participant.pk]) in page.text
    assert reverse("participant-queries", args=["ISF", tx_participant.pk]) in page.text
    # Signing and locking are the investigator's and the data manager's, not the coordinator's.
    assert 'data-testid="review-sign-casebook"' not in page.text
    assert 'data-testid="review-lock-participant"' not in page.text

    visit = client.get(reverse("visit-detail", args=["ISF", tx_participant.pk, m06.pk]))
    assert 'data-testid="form-alsfrs_r-queries"' in visit.text
    assert 'data-testid="verified"' in visit.text
    assert 'data-testid="visit-queries"' in visit.text  # the query is at this visit
    assert 'data-testid="sign-visit"' not in visit.text

    entry = client.get(reverse("crf-entry", args=["ISF", tx_participant.pk, m06.pk, "alsfrs_r"]))
    assert 'data-testid="record-queries"' in entry.text
    assert "1 open query" in entry.text
    assert 'data-testid="lock"' not in entry.text and SAVE in entry.text


def test_the_investigator_and_data_manager_get_their_links(
    alsfrs, m06, tx_participant, site_a, data_manager_a, client_for
):
    investigator = client_for(investigator_of(site_a))
    page = investigator.get(reverse("participant-detail", args=["ISF", tx_participant.pk]))
    sign = reverse("review-sign", args=["ISF", tx_participant.pk, "casebook"])
    assert sign in page.text
    visit = investigator.get(reverse("visit-detail", args=["ISF", tx_participant.pk, m06.pk]))
    sign_visit = reverse("review-sign", args=["ISF", tx_participant.pk, "visit"])
    assert f"{sign_visit}?visit={m06.pk}" in visit.text

    manager = client_for(data_manager_a)
    page = manager.get(reverse("participant-detail", args=["ISF", tx_participant.pk]))
    assert reverse("review-lock", args=["ISF", tx_participant.pk]) in page.text
    assert reverse("audit-participant-history", args=["ISF", tx_participant.pk]) in page.text
    visit = manager.get(reverse("visit-detail", args=["ISF", tx_participant.pk, m06.pk]))
    lock_visit = reverse("review-lock", args=["ISF", tx_participant.pk])
    assert f"{lock_visit}?visit={m06.pk}" in visit.text
    assert "Raise a query on the visit" in visit.text


def test_a_locked_participant_shows_locked_and_offers_no_save(
    alsfrs, m06, tx_participant, data_manager_a, coordinator_a, client_for
):
    client = client_for(coordinator_a)
    demographics_url = reverse("participant-demographics", args=["ISF", tx_participant.pk])
    history_url = reverse("participant-als-history", args=["ISF", tx_participant.pk])
    visit_url = reverse("visit-detail", args=["ISF", tx_participant.pk, m06.pk])
    entry_url = reverse("crf-entry", args=["ISF", tx_participant.pk, m06.pk, "alsfrs_r"])
    assert "Save the correction" in client.get(demographics_url).text
    assert 'id="visit-date"' in client.get(visit_url).text

    _lock_participant(data_manager_a, tx_participant)

    page = client.get(reverse("participant-detail", args=["ISF", tx_participant.pk]))
    assert _cell(page, "M06", "alsfrs_r").state == FormState.LOCKED
    # The participant's own records too (demographics, ALS history: kept at screening).
    assert _cell(page, "SCR", "demographics").state == FormState.LOCKED
    assert _cell(page, "SCR", "als_history").state == FormState.LOCKED
    assert "Interim analysis" in page.text  # the Review card's locks
    entry = client.get(entry_url)
    assert 'data-testid="lock"' in entry.text and "Interim analysis" in entry.text
    assert SAVE not in entry.text
    assert "Keyboard: Tab moves" not in entry.text  # no answer can be typed
    # A form not yet started at the locked visit is locked as well.
    fvc = client.get(reverse("crf-entry", args=["ISF", tx_participant.pk, m06.pk, "fvc"]))
    assert 'data-testid="lock"' in fvc.text and SAVE not in fvc.text
    for url in (demographics_url, history_url):
        correction = client.get(url)
        assert 'data-testid="lock"' in correction.text
        assert "Save the correction" not in correction.text
    visit = client.get(visit_url)
    assert 'data-testid="lock"' in visit.text
    assert 'id="visit-date"' not in visit.text and "Mark as missed" not in visit.text
    assert 'data-testid="locked"' in visit.text  # the form's badge


def test_record_pages_cost_the_same_queries_for_one_or_several_queries_and_verifications(
    alsfrs,
    m06,
    tx_participant,
    site_a,
    monitor_a,
    data_manager_a,
    coordinator_a,
    client_for,
    django_assert_num_queries,
):
    """A locked page reads its lock once (one more query than unlocked: the lock's row);
    queries and verifications cost the same whatever their number."""
    client = client_for(coordinator_a)
    urls = [
        reverse("crf-entry", args=["ISF", tx_participant.pk, m06.pk, "alsfrs_r"]),
        reverse("participant-demographics", args=["ISF", tx_participant.pk]),
        reverse("visit-detail", args=["ISF", tx_participant.pk, m06.pk]),
        reverse("participant-detail", args=["ISF", tx_participant.pk]),
    ]
    _verify_and_query(monitor_a, alsfrs, site_a)
    _lock_participant(data_manager_a, tx_participant)
    for url in urls:
        client.get(url)  # warm the per-process caches
    counts = {}
    for url in urls:
        with django_assert_num_queries(100, exact=False) as one:
            client.get(url)
        counts[url] = len(one.captured_queries)
    demographics = tx_participant.demographics
    for text in ("Swallowing again?", "And speech?"):
        _raise(monitor_a, site_a, "alsfrs_r", alsfrs.pk, text)
    _raise(monitor_a, site_a, "demographics", demographics.pk, "Height?")
    review_services.verify(
        actor=monitor_a, record_type=records.get("demographics"), record=demographics
    )
    for url in urls:
        with django_assert_num_queries(counts[url], info=url):
            response = client.get(url)
        assert 'data-testid="lock"' in response.text or url == urls[-1]


def test_the_participant_list_counts_open_queries_in_one_query(
    frozen,
    alsfrs,
    tx_participant,
    site_a,
    trial,
    monitor_a,
    coordinator_a,
    client_for,
    django_assert_num_queries,
):
    others = [
        enrol(
            coordinator_a,
            register(coordinator_a, site_a, trial, screened_on=frozen.date(), name=f"P{i}"),
            frozen.date(),
        )
        for i in range(3)
    ]
    client = client_for(coordinator_a)
    url = reverse("participant-list", args=["ISF"])
    _verify_and_query(monitor_a, alsfrs, site_a)
    with django_assert_num_queries(9) as one:
        page = client.get(url)
    assert f'data-testid="queries-{tx_participant.pk}"' in page.text
    assert {p.pk: p.open_queries for p in page.context["page"]}[tx_participant.pk] == 1
    for other in others:
        _raise(monitor_a, site_a, "demographics", other.demographics.pk, "Height?")
    with django_assert_num_queries(len(one.captured_queries)):
        page = client.get(url)
    assert all(f'data-testid="queries-{other.pk}"' in page.text for other in others)


def test_locked_safety_records_show_the_lock_and_their_queries_and_offer_no_save(
    m06, tx_participant, site_a, monitor_a, data_manager_a, coordinator_a, client_for
):
    from tests.clinic.test_safety_on_clinic_pages import medicate
    from tests.safety.conftest import report

    event = report(coordinator_a, m06)
    medication = medicate(coordinator_a, m06)
    client = client_for(coordinator_a)
    ae_url = reverse("adverse-event-edit", args=["ISF", tx_participant.pk, event.pk])
    conmed_url = reverse("conmed-edit", args=["ISF", tx_participant.pk, medication.pk])
    save = '<button type="submit" class="btn btn-primary">'
    for url in (ae_url, conmed_url):
        page = client.get(url)
        assert save in page.text and 'data-testid="lock"' not in page.text
    _raise(monitor_a, site_a, "adverse_event", event.pk, "Onset date?")
    _lock_participant(data_manager_a, tx_participant)
    for url in (ae_url, conmed_url):
        page = client.get(url)
        assert 'data-testid="lock"' in page.text and "Interim analysis" in page.text
        assert save not in page.text
    assert "1 open query" in client.get(ae_url).text
    assert "open query" not in client.get(conmed_url).text
