"""Screening pages: consent, the checklist page, override, screen failure, the screening log;
site scoping, field errors with 400, constant query counts."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

import pytest
from django.urls import reverse

from crfs.eligibility.models import Eligibility, EligibilityOverride
from crfs.screening import services as screening
from participants import services as participant_services
from participants.models import Consent, ContactAttempt
from tests.factories import (
    ALSFRS_NORMAL,
    PASSWORD,
    consent,
    consent_version,
    enrol,
    investigator_of,
    register,
    screening_forms,
    transplanted_participant,
)

pytestmark = pytest.mark.django_db
TODAY = date(2026, 3, 10)


def url(name, participant, *extra):
    return reverse(name, args=[participant.site.code, participant.pk, *extra])


@pytest.fixture
def person(frozen, coordinator_a, site_a, trial):
    return register(coordinator_a, site_a, trial, screened_on=TODAY - timedelta(days=5))


def checklist_url(participant):
    return url("crf-entry", participant, participant.visits.get(code="SCR").pk, "eligibility")


def test_every_new_page_is_404_for_another_sites_user(
    frozen, client_for, coordinator_a, coordinator_b, site_a, site_b, trial
):
    other = register(coordinator_b, site_b, trial, screened_on=TODAY - timedelta(days=5))
    consent(coordinator_b, other)
    screening_forms(coordinator_b, other, alsfrs={"q3_swallowing": 1})
    investigator_b = investigator_of(site_b)
    client = client_for(coordinator_a)
    pages = [
        url("participant-consent", other),
        url("participant-contact", other),
        url("eligibility-override", other),
        url("screen-failure", other),
        checklist_url(other),
        reverse("screening-log", args=["THR"]),
        reverse("screening-log-csv", args=["THR"]),
    ]
    for page in pages:
        assert client.get(page).status_code == 404, page
        assert client.post(page, {"reason": "x", "password": PASSWORD}).status_code in {404, 405}
        if "/screening-log" not in page:  # a participant of THR is not reachable via ISF
            own = page.replace("/sites/THR/", "/sites/ISF/")
            assert client.get(own).status_code == 404, own
    # Even an investigator elsewhere cannot sign for this site.
    investigator_a = investigator_of(site_a)
    response = client_for(investigator_a).post(
        url("eligibility-override", other), {"reason": "x", "password": PASSWORD}
    )
    assert response.status_code == 404
    assert not EligibilityOverride.objects.exists()
    assert investigator_b  # the other site's investigator exists; only site scoping refused


def test_checklist_page_before_consent_is_refused_then_works(client_for, coordinator_a, person):
    client = client_for(coordinator_a)
    page = client.get(checklist_url(person))
    assert page.status_code == 200
    assert 'data-testid="consent-needed"' in page.text
    assert page.context["form"]["el_escorial"].value() == "probable"  # from the ALS history
    refused = client.post(checklist_url(person), {"version": 0, "el_escorial": "definite"})
    assert refused.status_code == 400
    assert "no study form can be saved before the signed consent" in refused.text
    assert not Eligibility.objects.exists()

    visit_page = client.get(url("visit-detail", person, person.visits.get(code="SCR").pk))
    assert 'data-testid="consent-needed"' in visit_page.text

    consented = client.post(
        url("participant-consent", person),
        {
            "version": consent_version(person.trial).pk,
            "signed_on": "2026-03-05",
            "taken_by": coordinator_a.pk,
        },
    )
    assert consented.status_code == 302
    ok = client.post(checklist_url(person), {"version": 0, "el_escorial": "definite"})
    assert ok.status_code == 302
    assert Eligibility.objects.get().el_escorial == "definite"


@pytest.mark.parametrize(
    "data",
    [
        {"signed_on": "2026-03-11"},  # future
        {"signed_on": "05/03/2026"},
        {"version": "999"},
        {"taken_by": "999"},
    ],
)
def test_consent_page_bad_input_is_400_with_field_errors(client_for, coordinator_a, person, data):
    good = {
        "version": consent_version(person.trial).pk,
        "signed_on": "2026-03-05",
        "taken_by": coordinator_a.pk,
    }
    response = client_for(coordinator_a).post(url("participant-consent", person), good | data)
    assert response.status_code == 400
    assert set(response.context["form"].errors) & set(data)
    assert not Consent.objects.exists()


def test_checklist_page_shows_derived_answers_with_their_source(client_for, coordinator_a, person):
    consent(coordinator_a, person)
    screening_forms(coordinator_a, person, alsfrs={"q8_walking": 1})
    page = client_for(coordinator_a).get(checklist_url(person))
    assert page.status_code == 200
    assert "Screening ALSFRS-R item 8 = 1" in page.text
    assert "unknown — FVC not entered" in page.text or "% predicted" in page.text
    assert "Screen failure" in page.text


@pytest.mark.parametrize(
    ("field", "value"),
    [("ex_diabetes", "maybe"), ("el_escorial", "likely"), ("polysomnography_date", "soon")],
)
def test_checklist_bad_input_is_400_and_saves_nothing(
    client_for, coordinator_a, person, field, value
):
    consent(coordinator_a, person)
    response = client_for(coordinator_a).post(checklist_url(person), {"version": 0, field: value})
    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert not Eligibility.objects.exists()


def test_override_page_for_investigators_only_with_reason_and_password(
    client_for, coordinator_a, person, site_a
):
    consent(coordinator_a, person)
    screening_forms(coordinator_a, person, alsfrs={"q8_walking": 1})
    override_url = url("eligibility-override", person)
    assert client_for(coordinator_a).get(override_url).status_code == 404

    investigator = investigator_of(site_a)
    client = client_for(investigator)
    detail = client.get(url("participant-detail", person))
    assert override_url in detail.text
    empty = client.post(override_url, {"reason": "", "password": ""})
    assert empty.status_code == 400
    assert set(empty.context["form"].errors) == {"reason", "password"}
    wrong = client.post(override_url, {"reason": "Fracture", "password": "nope"})
    assert wrong.status_code == 400 and "password" in wrong.context["form"].errors
    assert not EligibilityOverride.objects.exists()

    signed = client.post(
        override_url, {"reason": "Walking limited by fracture", "password": PASSWORD}
    )
    assert signed.status_code == 302
    detail = client.get(url("participant-detail", person))
    assert 'data-testid="override-details"' in detail.text
    assert "Walking limited by fracture" in detail.text
    listing = client.get(reverse("participant-list", args=["ISF"]))
    assert f'data-testid="override-{person.pk}"' in listing.text


def test_screen_failure_page_names_the_failed_criteria(client_for, coordinator_a, person):
    consent(coordinator_a, person)
    screening_forms(coordinator_a, person, ex_diabetes=True)
    client = client_for(coordinator_a)
    page = client.get(url("screen-failure", person))
    assert page.status_code == 200 and "Diabetes" in page.text
    assert client.post(url("screen-failure", person), {"effective_date": "x"}).status_code == 400
    done = client.post(url("screen-failure", person), {"effective_date": "2026-03-10"})
    assert done.status_code == 302
    person.refresh_from_db()
    assert person.status == "screen_failed"
    assert person.status_changes.last().reason == "Screen failure: Diabetes"


def test_re_consent_needed_shows_on_the_page_and_in_the_list(
    client_for, coordinator_a, person, trial
):
    consent(coordinator_a, person)
    client = client_for(coordinator_a)
    assert 'data-testid="reconsent"' not in client.get(url("participant-detail", person)).text
    participant_services.add_consent_version(
        trial=trial, version="2.0", approval_date=TODAY - timedelta(days=3), active_from=TODAY
    )
    detail = client.get(url("participant-detail", person))
    assert 'data-testid="reconsent"' in detail.text and "version 2.0" in detail.text
    listing = client.get(reverse("participant-list", args=["ISF"]), {"consent": "reconsent"})
    assert [p.pk for p in listing.context["page"]] == [person.pk]
    assert f'data-testid="reconsent-{person.pk}"' in listing.text


def test_contact_attempt_page(client_for, coordinator_a, person):
    client = client_for(coordinator_a)
    page_url = url("participant-contact", person)
    bad = client.post(page_url, {"attempted_on": "2026-03-09", "method": "pigeon", "outcome": "x"})
    assert bad.status_code == 400
    assert {"method", "outcome"} <= set(bad.context["form"].errors)
    assert not ContactAttempt.objects.exists()
    ok = client.post(
        page_url, {"attempted_on": "2026-03-09", "method": "phone", "outcome": "no_answer"}
    )
    assert ok.status_code == 302 and ContactAttempt.objects.count() == 1


def _screening_population(coordinator, site, trial):
    """2 in screening (1 consented), 2 screen failures (diabetes; walking + diabetes),
    1 enrolled on an investigator's override (walking), 1 transplanted (eligible) and withdrawn."""
    register(coordinator, site, trial, screened_on=TODAY - timedelta(days=3), name="Waiting")
    failures = []
    for changes in ({"ex_diabetes": True}, {"ex_diabetes": True, "alsfrs": {"q8_walking": 0}}):
        p = register(coordinator, site, trial, screened_on=TODAY - timedelta(days=9))
        consent(coordinator, p)
        screening_forms(coordinator, p, **changes)
        failures.append(
            screening.record_screen_failure(actor=coordinator, participant=p, effective_date=TODAY)
        )
    consent(coordinator, register(coordinator, site, trial, screened_on=TODAY, name="Consented"))
    overridden = register(coordinator, site, trial, screened_on=TODAY - timedelta(days=8))
    consent(coordinator, overridden)
    screening_forms(coordinator, overridden, alsfrs={"q8_walking": 1})
    screening.override_eligibility(
        actor=investigator_of(site),
        participant=overridden,
        reason="Walking limited by an ankle fracture, not by ALS",
        password=PASSWORD,
    )
    enrol(coordinator, overridden, TODAY - timedelta(days=1))
    done = transplanted_participant(coordinator, site, trial, on=date(2025, 6, 1))
    participant_services.change_status(
        actor=coordinator,
        participant=done,
        to_status="withdrawn",
        effective_date=TODAY,
        reason="Moved abroad",
        details={"withdrawn_by": "participant", "follow_up_allowed": False},
    )


def test_screening_log_counts_match_the_data(client_for, coordinator_a, site_a, trial):
    _screening_population(coordinator_a, site_a, trial)
    page = client_for(coordinator_a).get(reverse("screening-log", args=["ISF"]))
    assert page.status_code == 200
    log = page.context["log"]
    assert log.counts == {
        "screened": 6,
        "in_screening": 2,
        "failed": 2,
        "consented": 5,
        "eligible": 2,
        "overridden": 1,  # the walking override; the transplanted one is eligible outright
        "enrolled": 2,
        "transplanted": 1,
        "completed": 0,
        "withdrawn": 1,
        "lost_to_follow_up": 0,
        "died": 0,
    }
    assert [(code, n) for code, _label, n in log.failures_by_criterion] == [
        ("alsfrs_walking", 1),
        ("diabetes", 2),
    ]

    download = client_for(coordinator_a).get(reverse("screening-log-csv", args=["ISF"]))
    assert download["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(download.content.decode())))
    assert len(rows) == 6
    failed = [r for r in rows if r["status"] == "screen_failed"]
    assert sorted(r["failed_criteria"] for r in failed) == ["alsfrs_walking;diabetes", "diabetes"]
    assert sum(r["eligibility_overridden"] == "yes" for r in rows) == 1
    assert "Test Person" not in download.content.decode()  # no names in the log


def test_screening_log_queries_do_not_grow_with_participants(
    client_for, coordinator_a, site_a, trial, django_assert_num_queries, frozen
):
    client = client_for(coordinator_a)
    log_url = reverse("screening-log", args=["ISF"])
    csv_url = reverse("screening-log-csv", args=["ISF"])
    client.get(log_url)  # warm the session
    register(coordinator_a, site_a, trial, screened_on=TODAY)

    def count(target) -> int:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as queries:
            assert client.get(target).status_code == 200
        return len(queries)

    small = (count(log_url), count(csv_url))
    _screening_population(coordinator_a, site_a, trial)
    assert (count(log_url), count(csv_url)) == small
    with django_assert_num_queries(small[0]):
        client.get(log_url)


def test_participant_list_queries_stay_constant_with_screening_columns(
    client_for, coordinator_a, site_a, trial, frozen
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_for(coordinator_a)
    list_url = reverse("participant-list", args=["ISF"])
    register(coordinator_a, site_a, trial, screened_on=TODAY)
    client.get(list_url)
    with CaptureQueriesContext(connection) as before:
        client.get(list_url)
    _screening_population(coordinator_a, site_a, trial)
    with CaptureQueriesContext(connection) as after:
        client.get(list_url)
    assert len(after) == len(before)


def test_alsfrs_form_lists_saves_after_consent_only(client_for, coordinator_a, person):
    visit = person.visits.get(code="SCR")
    form_url = url("crf-entry", person, visit.pk, "alsfrs_r")
    client = client_for(coordinator_a)
    data = {"version": 0, **ALSFRS_NORMAL}
    assert client.post(form_url, data).status_code == 400
    consent(coordinator_a, person)
    assert client.post(form_url, data).status_code == 302


def test_screening_log_csv_quotes_text_that_starts_like_a_formula(
    client_for, coordinator_a, site_a, trial
):
    done = transplanted_participant(coordinator_a, site_a, trial, on=date(2025, 6, 1))
    participant_services.change_status(
        actor=coordinator_a,
        participant=done,
        to_status="withdrawn",
        effective_date=TODAY,
        reason='=HYPERLINK("http://x","y")',
        details={"withdrawn_by": "participant", "follow_up_allowed": False},
    )
    download = client_for(coordinator_a).get(reverse("screening-log-csv", args=["ISF"]))
    rows = list(csv.DictReader(io.StringIO(download.content.decode())))
    assert [r["status_reason"] for r in rows] == ['\'=HYPERLINK("http://x","y")']
    assert rows[0]["screened_on"][:1].isdigit()  # dates and codes are left as they are
