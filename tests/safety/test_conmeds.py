"""The concomitant medication log: riluzole and edaravone offered first, any other drug named
in text; partial start and stop dates; stop before start refused."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from safety.models import ConcomitantMedication
from tests.safety.conftest import conmed_post

pytestmark = pytest.mark.django_db


def new_url(visit):
    return reverse("conmed-new", args=["ISF", visit.participant_id])


def test_a_coordinator_records_riluzole_at_baseline(m06, coordinator_a, client_for):
    baseline = m06.participant.visits.get(code="BL")
    client = client_for(coordinator_a)
    page = client.get(new_url(baseline)).content.decode()
    # The ALS drugs come first.
    assert page.index("Riluzole") < page.index("Edaravone") < page.index("Other (name it)")

    response = client.post(new_url(baseline), conmed_post(baseline))

    assert response.status_code == 302
    med = ConcomitantMedication.objects.get()
    assert (med.name, med.dose, med.frequency, med.visit) == (
        "Riluzole",
        Decimal(50),
        "bid",
        baseline,
    )
    assert (med.start_date, med.start_precision, med.ongoing) == (date(2025, 3, 1), "month", True)
    log = client.get(reverse("conmed-list", args=["ISF", m06.participant_id])).content.decode()
    assert "Riluzole" in log and "2025-03" in log


def test_another_drug_is_named_in_text(m06, coordinator_a, client_for):
    client = client_for(coordinator_a)
    unnamed = client.post(new_url(m06), conmed_post(m06, medication="other"))
    assert unnamed.status_code == 400
    assert "Name the medication." in str(unnamed.context["form"].errors["other_name"])
    named = client.post(
        new_url(m06),
        conmed_post(m06, medication="other", other_name="Baclofen", indication="Spasticity"),
    )
    assert named.status_code == 302
    assert ConcomitantMedication.objects.get().name == "Baclofen"


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        (
            {"start_date": "2025-09-10", "stop_date": "2025-09-01", "ongoing": None},
            "stop_date",
            "The medication cannot stop before it started.",
        ),
        (
            {"start_date": "2025-09", "stop_date": "2025-10-01"},
            "stop_date",
            "An ongoing record has no end date",
        ),
        ({"start_date": "yesterday"}, "start_date", "Enter a date as YYYY-MM-DD"),
        ({"dose": "-5"}, "dose", "A dose is more than zero."),
        ({"dose": "two"}, "dose", "Enter a number."),
        ({"dose": "99999999"}, "dose", "no more than 7 digits before the decimal point"),
        ({"route": "rectal"}, "route", "Select a valid choice."),
        ({"indication": "x" * 5000}, "indication", "at most 200 characters"),
    ],
)
def test_bad_input_is_a_field_error_and_saves_nothing(
    m06, coordinator_a, client_for, changes, field, message
):
    response = client_for(coordinator_a).post(new_url(m06), conmed_post(m06, **changes))
    assert response.status_code == 400
    assert any(message in str(e) for e in response.context["form"].errors[field])
    assert not ConcomitantMedication.objects.exists()


def test_a_stopped_medication_with_a_month_only_stop(m06, coordinator_a, client_for):
    # Stopped "2025-09", started 2025-09-15: the month may end after the start: accepted.
    data = conmed_post(m06, start_date="2025-09-15", stop_date="2025-09", ongoing=None)
    assert client_for(coordinator_a).post(new_url(m06), data).status_code == 302
    med = ConcomitantMedication.objects.get()
    assert med.stop_display == "2025-09" and not med.ongoing


def test_a_monitor_reads_and_cannot_write(m06, coordinator_a, monitor_a, client_for):
    client_for(coordinator_a).post(new_url(m06), conmed_post(m06))
    med = ConcomitantMedication.objects.get()
    client = client_for(monitor_a)
    edit = reverse("conmed-edit", args=["ISF", m06.participant_id, med.pk])
    assert client.get(edit).status_code == 200
    assert client.post(edit, conmed_post(m06, version=1, dose="100")).status_code == 404
    med.refresh_from_db()
    assert med.dose == Decimal(50)


def test_the_log_takes_the_same_queries_for_one_medication_or_four(
    m06, coordinator_a, client_for, django_assert_max_num_queries, django_assert_num_queries
):
    client = client_for(coordinator_a)
    url = reverse("conmed-list", args=["ISF", m06.participant_id])
    client.post(new_url(m06), conmed_post(m06))
    with django_assert_max_num_queries(20) as one:
        assert client.get(url).status_code == 200
    queries = len(one.captured_queries)
    for _i in range(3):
        client.post(new_url(m06), conmed_post(m06, medication="edaravone", route="iv"))
    with django_assert_num_queries(queries):
        assert client.get(url).content.decode().count("Edaravone") >= 3


def test_als_drug_changes_by_visit_for_the_timeline(
    m06, coordinator_a, client_for, django_assert_num_queries
):
    from safety.selectors import als_drug_changes

    baseline = m06.participant.visits.get(code="BL")
    client = client_for(coordinator_a)
    client.post(new_url(baseline), conmed_post(baseline))
    client.post(new_url(m06), conmed_post(m06, medication="edaravone", route="iv"))
    client.post(
        new_url(m06), conmed_post(m06, medication="other", other_name="Baclofen", indication="x")
    )
    with django_assert_num_queries(1):
        changes = als_drug_changes(m06.participant)
    assert {visit: [m.name for m in meds] for visit, meds in changes.items()} == {
        baseline.pk: ["Riluzole"],
        m06.pk: ["Edaravone"],
    }
