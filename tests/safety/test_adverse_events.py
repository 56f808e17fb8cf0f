"""A coordinator records adverse events in the participant's log; each names the visit it
was reported at and follows the write-path rules of a form (partial save with missing-data
reasons, a reason for change once complete, optimistic locking, the audit trail), plus the
event's own rules, all reported at once as field errors."""

from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse

from participants import services as participant_services
from review import services as review
from safety.models import AdverseEvent
from tests.factories import member, register
from tests.safety.conftest import ae_post, serious_post
from trials.models import Role

pytestmark = pytest.mark.django_db


def new_url(visit):
    participant = visit.participant
    return reverse("adverse-event-new", args=[participant.site.code, participant.pk])


def edit_url(ae):
    participant = ae.participant
    return reverse("adverse-event-edit", args=[participant.site.code, participant.pk, ae.pk])


def test_a_coordinator_reports_an_adverse_event_at_month_6(m06, coordinator_a, client_for):
    client = client_for(coordinator_a)
    page = client.get(new_url(m06) + f"?visit={m06.pk}")
    assert page.status_code == 200
    assert f'<option value="{m06.pk}" selected>' in page.content.decode()

    response = client.post(new_url(m06), ae_post(m06))

    ae = AdverseEvent.objects.get()
    assert response.status_code == 302 and response.url == edit_url(ae)
    assert (ae.number, ae.visit, ae.term_code, ae.grade, ae.serious) == (
        1,
        m06,
        "post_lp_headache",
        2,
        False,
    )
    assert (ae.onset_date, ae.onset_precision) == (date(2025, 8, 2), "day")
    assert ae.status == "complete" and ae.version == 1 and ae.created_by == coordinator_a
    log = client.get(reverse("adverse-event-list", args=["ISF", m06.participant_id]))
    assert "Headache (post-lumbar puncture)" in log.content.decode()
    # Audited with the actor, like every form.
    event = ae.events.get()
    assert event.pgh_context["actor_id"] == coordinator_a.pk


def test_partial_dates_and_a_partial_save_with_a_missing_reason(m06, coordinator_a, client_for):
    client = client_for(coordinator_a)
    # In progress: only what is known so far.
    response = client.post(
        new_url(m06),
        {
            "visit": str(m06.pk),
            "verbatim_term": "Back ache",
            "onset_date": "2025-08",
            "version": "0",
        },
    )
    assert response.status_code == 302
    ae = AdverseEvent.objects.get()
    assert ae.status == "in_progress" and ae.grade is None
    assert (ae.onset_date, ae.onset_precision) == (date(2025, 8, 1), "month")

    # Complete needs every answer or a reason it is missing.
    refused = client.post(edit_url(ae), ae_post(m06, version=1, grade="", onset_date="2025-08"))
    assert refused.status_code == 400
    assert "Answer this, or give a reason it is missing." in refused.content.decode()

    accepted = client.post(
        edit_url(ae),
        ae_post(m06, version=1, grade="", grade__missing="unknown", onset_date="2025-08"),
    )
    assert accepted.status_code == 302
    ae.refresh_from_db()
    assert ae.status == "complete" and ae.missing_reasons == {"grade": "unknown"}
    assert ae.onset_display == "2025-08"


def test_a_change_after_completion_needs_a_reason(m06, coordinator_a, client_for):
    client = client_for(coordinator_a)
    client.post(new_url(m06), ae_post(m06))
    ae = AdverseEvent.objects.get()

    refused = client.post(edit_url(ae), ae_post(m06, version=1, grade="3"))
    assert refused.status_code == 400
    assert "give a reason for the change" in refused.content.decode()

    client.post(edit_url(ae), ae_post(m06, version=1, grade="3", reason_for_change="source"))
    ae.refresh_from_db()
    assert ae.grade == 3 and ae.version == 2
    assert ae.events.order_by("pgh_id").last().pgh_context["reason"] == "source"


def test_a_stale_page_is_refused_and_shows_what_changed(m06, coordinator_a, client_for):
    client = client_for(coordinator_a)
    client.post(new_url(m06), ae_post(m06, complete=False))
    ae = AdverseEvent.objects.get()
    client.post(edit_url(ae), ae_post(m06, version=1, complete=False, grade="3"))

    # A second page opened at version 1 saves grade 1.
    stale = client.post(edit_url(ae), ae_post(m06, version=1, complete=False, grade="1"))

    assert stale.status_code == 400
    assert stale.context["conflict"]["changes"] == [("CTCAE grade", 3, 1)]
    assert 'data-testid="conflict"' in stale.content.decode()
    ae.refresh_from_db()
    assert ae.grade == 3 and ae.version == 2


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        (
            {"onset_date": "2025-08-10", "end_date": "2025-08-02"},
            "end_date",
            "The event cannot end before its onset.",
        ),
        (
            {"serious": "true"},
            "serious",
            "A serious event meets at least one seriousness criterion: tick it.",
        ),
        (
            {"sae_life_threatening": "on"},
            "sae_life_threatening",
            "A seriousness criterion is ticked: answer 'serious' with yes.",
        ),
        (
            {"grade": "5", "serious": "true", "sae_death": "on"},
            "outcome",
            "A grade 5 event is fatal: its outcome is 'fatal'.",
        ),
        ({"term_code": "not-a-term"}, "term_code", "Select a valid choice."),
        ({"onset_date": "2025-02-30"}, "onset_date", "Enter a date as YYYY-MM-DD"),
        ({"onset_date": "2026-03-20"}, "onset_date", "This date is in the future."),
        ({"verbatim_term": "x" * 10_000}, "verbatim_term", "at most 200 characters"),
        ({"grade": "9"}, "grade", "Select a valid choice."),
        (
            {"onset_date": "2026-02-03", "end_date": ""},
            "onset_date",
            "It cannot begin after the visit it is recorded at (M06, 2026-01-30).",
        ),
        ({"ongoing": "on"}, "end_date", "An ongoing record has no end date"),
        ({"end_date": ""}, "end_date", "Give the end date, or tick 'ongoing'."),
    ],
)
def test_each_rule_is_a_field_error_and_saves_nothing(
    m06, coordinator_a, client_for, changes, field, message
):
    response = client_for(coordinator_a).post(new_url(m06), ae_post(m06, **changes))
    assert response.status_code == 400
    assert any(message in str(error) for error in response.context["form"].errors[field])
    assert not AdverseEvent.objects.exists()


def test_every_broken_rule_is_reported_at_once(m06, coordinator_a, client_for):
    response = client_for(coordinator_a).post(
        new_url(m06),
        ae_post(
            m06,
            onset_date="2025-08-10",
            end_date="2025-08-02",
            serious="true",
            grade="5",
            outcome="recovered",
        ),
    )
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert {"end_date", "serious", "outcome"} <= set(errors)
    assert 'data-testid="error-summary"' in response.content.decode()


def test_an_event_before_the_consent_is_medical_history(m06, coordinator_a, client_for):
    # Consent was signed on the screening day, 2025-06-22.
    response = client_for(coordinator_a).post(
        new_url(m06), ae_post(m06, onset_date="2025-05", end_date="2025-06-01")
    )
    assert response.status_code == 400
    assert "it is medical history, not an adverse event" in str(
        response.context["form"].errors["onset_date"]
    )
    assert 'data-testid="offer-history"' in response.content.decode()
    history = reverse("participant-als-history", args=["ISF", m06.participant_id])
    assert history in response.content.decode()
    # A month that contains the consent day may have begun after it: accepted.
    accepted = client_for(coordinator_a).post(
        new_url(m06), ae_post(m06, onset_date="2025-06", end_date="2025-07-01")
    )
    assert accepted.status_code == 302


def test_a_fatal_outcome_needs_the_death_in_the_end_of_study_form(m06, coordinator_a, client_for):
    client = client_for(coordinator_a)
    fatal = serious_post(
        m06,
        grade="5",
        sae_death="on",
        ongoing=None,
        end_date="2026-02-05",
        outcome="fatal",
    )
    fatal.pop("ongoing")
    refused = client.post(new_url(m06), fatal)
    assert refused.status_code == 400
    assert "needs the death recorded in the end-of-study form" in str(
        refused.context["form"].errors["outcome"]
    )
    page = refused.content.decode()
    status_url = reverse("participant-status", args=["ISF", m06.participant_id])
    assert 'data-testid="offer-death"' in page and status_url in page

    participant_services.change_status(
        actor=coordinator_a,
        participant=m06.participant,
        to_status="died",
        effective_date=date(2026, 2, 5),
        reason="Meningitis",
        details={"death_cause": "Meningitis", "death_als_related": "no"},
    )
    assert client.post(new_url(m06), fatal).status_code == 302


def test_a_monitor_reads_the_log_and_cannot_write(m06, coordinator_a, monitor_a, client_for):
    client_for(coordinator_a).post(new_url(m06), ae_post(m06))
    ae = AdverseEvent.objects.get()
    client = client_for(monitor_a)
    assert (
        client.get(reverse("adverse-event-list", args=["ISF", m06.participant_id])).status_code
        == 200
    )
    page = client.get(edit_url(ae))
    assert page.status_code == 200 and "<fieldset disabled>" in page.content.decode()
    assert client.post(edit_url(ae), ae_post(m06, version=1, grade="4")).status_code == 404
    assert client.post(new_url(m06), ae_post(m06)).status_code == 404
    assert AdverseEvent.objects.count() == 1


def test_another_sites_coordinator_sees_nothing(m06, coordinator_a, coordinator_b, client_for):
    client_for(coordinator_a).post(new_url(m06), ae_post(m06))
    ae = AdverseEvent.objects.get()
    client = client_for(coordinator_b)
    assert client.get(edit_url(ae)).status_code == 404
    assert (
        client.get(reverse("adverse-event-list", args=["ISF", m06.participant_id])).status_code
        == 404
    )
    # Nor under their own site's code.
    assert (
        client.get(
            reverse("adverse-event-edit", args=["THR", m06.participant_id, ae.pk])
        ).status_code
        == 404
    )


def test_only_visits_that_ask_for_adverse_events(m06, coordinator_a, client_for):
    baseline = m06.participant.visits.get(code="BL")  # dated, but asks for no AEs
    response = client_for(coordinator_a).post(new_url(m06), ae_post(baseline))
    assert response.status_code == 400 and "visit" in response.context["form"].errors


def test_no_adverse_event_before_the_consent_is_recorded(
    frozen, site_a, trial, coordinator_a, client_for
):
    participant = register(coordinator_a, site_a, trial, screened_on=date(2026, 3, 1))
    url = reverse("adverse-event-new", args=["ISF", participant.pk])
    scr = participant.visits.get(code="SCR")
    response = client_for(coordinator_a).post(url, ae_post(scr))
    assert response.status_code == 400 and not AdverseEvent.objects.exists()


def test_the_log_takes_the_same_queries_for_one_event_or_five(
    m06, coordinator_a, client_for, django_assert_max_num_queries, django_assert_num_queries
):
    client = client_for(coordinator_a)
    url = reverse("adverse-event-list", args=["ISF", m06.participant_id])
    client.post(new_url(m06), ae_post(m06))
    with django_assert_max_num_queries(20) as one:
        assert client.get(url).status_code == 200
    queries = len(one.captured_queries)  # read now: the next requests reset the query log
    for _i in range(4):
        client.post(new_url(m06), serious_post(m06))
    with django_assert_num_queries(queries):
        page = client.get(url)
    assert page.content.decode().count("Bacterial meningitis") == 4


def test_numbers_count_per_participant(m06, coordinator_a, client_for):
    client = client_for(coordinator_a)
    client.post(new_url(m06), ae_post(m06))
    client.post(new_url(m06), ae_post(m06, term_code="back_pain"))
    assert list(AdverseEvent.objects.values_list("number", flat=True)) == [1, 2]


@pytest.mark.parametrize(
    "changes",
    [
        {"visit": "99999999999999999999"},
        {"visit": "M06"},
        {"form_token": "not-a-uuid"},
        {"version": "-1"},
        {"serious": "maybe"},
        {"onset_date": "2025-08-02-01"},
        {"onset_date": "۲۰۲۵-۰۸-۰۲"},  # Persian digits are read as a date, not refused
    ],
)
def test_hostile_input_is_a_form_error_never_a_500(m06, coordinator_a, client_for, changes):
    response = client_for(coordinator_a).post(new_url(m06), ae_post(m06) | changes)
    if "۲" in changes.get("onset_date", ""):
        assert response.status_code == 302
        assert AdverseEvent.objects.get().onset_date == date(2025, 8, 2)
    else:
        assert response.status_code == 400


def test_an_unknown_event_is_a_404(m06, coordinator_a, client_for):
    client = client_for(coordinator_a)
    url = reverse("adverse-event-edit", args=["ISF", m06.participant_id, 99999999999999999999])
    assert client.get(url).status_code == 404
    assess = reverse("adverse-event-assess", args=["ISF", m06.participant_id, 12345])
    assert client.get(assess).status_code == 404


def test_a_locked_event_takes_no_change(m06, site_a, coordinator_a, client_for):
    client = client_for(coordinator_a)
    client.post(new_url(m06), ae_post(m06))
    ae = AdverseEvent.objects.get()
    data_manager = member(Role.DATA_MANAGER, site_a, "dm")
    review.lock_record(actor=data_manager, record=ae, reason="SAE reconciled")
    page = client.get(edit_url(ae)).content.decode()
    assert "<fieldset disabled>" in page
    response = client.post(edit_url(ae), ae_post(m06, version=1, grade="3", reason_for_change="x"))
    assert response.status_code == 400
    assert "This record is locked" in str(response.context["form"].non_field_errors())
    ae.refresh_from_db()
    assert ae.grade == 2
