"""The queries pages name a field as its form does (the field's verbose name, capitalised),
never by its database name, and a record type by its label, capitalised: the site's list, a
participant's list and a query's thread."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from crfs.vitals.models import Vitals
from queries import services
from tests.factories import save_crf

pytestmark = pytest.mark.django_db


@pytest.fixture
def queries(m06, coordinator_a, monitor_a, site_a):
    vitals = save_crf(coordinator_a, m06, Vitals, {"weight_kg": Decimal(61)}, complete=False)
    on_weight = services.open_query(
        actor=monitor_a,
        site=site_a,
        record_type="vitals",
        record_pk=vitals.pk,
        field_name="weight_kg",
        text="Weight in the source is 16 kg?",
    )
    on_date = services.open_query(
        actor=monitor_a,
        site=site_a,
        record_type="visit",
        record_pk=m06.pk,
        field_name="actual_date",
        text="The visit date in the notes differs.",
    )
    return on_weight, on_date


def _cells(html: str) -> str:
    """The table's body (the filter's select lists the record types too)."""
    return html.split('data-testid="queries"', 1)[1]


def test_site_and_participant_lists_show_labels(queries, m06, client_for, monitor_a):
    client = client_for(monitor_a)
    for url in (
        reverse("query-list", args=["ISF"]),
        reverse("participant-queries", args=["ISF", m06.participant_id]),
    ):
        table = _cells(client.get(url).content.decode())
        assert "<td>Weight (kg)</td>" in table
        assert "<td>Visit date</td>" in table
        assert "<td>Vital signs and weight</td>" in table
        assert "<td>Visit</td>" in table
        assert "weight_kg" not in table and "actual_date" not in table
        assert "vital signs and weight" not in table


def test_thread_shows_labels(queries, client_for, monitor_a):
    client = client_for(monitor_a)
    on_weight, on_date = queries
    weight = client.get(reverse("query-detail", args=["ISF", on_weight.pk])).content.decode()
    facts = weight.split('data-testid="query-facts"', 1)[1].split("</dl>", 1)[0]
    assert "Vital signs and weight" in facts and "Weight (kg) ·" in facts
    assert "weight_kg" not in facts and "vital signs and weight" not in facts
    visit = client.get(reverse("query-detail", args=["ISF", on_date.pk])).content.decode()
    facts = visit.split('data-testid="query-facts"', 1)[1].split("</dl>", 1)[0]
    assert "Visit date ·" in facts and "actual_date" not in facts


def test_open_query_form_offers_labels(queries, m06, client_for, monitor_a):
    on_weight, _ = queries
    url = reverse("query-open", args=["ISF"]) + f"?record=vitals&record_pk={on_weight.record_pk}"
    form = client_for(monitor_a).get(url).content.decode()
    assert '<option value="weight_kg">Weight (kg)</option>' in form


def test_the_list_filter_names_record_types_by_their_labels(queries, client_for, monitor_a):
    page = client_for(monitor_a).get(reverse("query-list", args=["ISF"])).content.decode()
    assert '<option value="vitals">Vital signs and weight</option>' in page
    assert '<option value="visit">Visit</option>' in page
