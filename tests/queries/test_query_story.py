"""A monitor queries a value, the coordinator corrects it with a reason from the record's
page, the query is answered by the correction and the monitor closes it; every transition is
in the audit trail. Bad input is a field error; another site's query is a 404."""

from __future__ import annotations

import pytest
from django.urls import reverse

from crfs.alsfrs_r.models import AlsfrsR
from queries import services
from queries.models import MessageKind, Query, QueryStatus
from tests.factories import ALSFRS_NORMAL, member, save_crf
from trials.models import Role

pytestmark = pytest.mark.django_db


@pytest.fixture
def alsfrs(m06, coordinator_a):
    return save_crf(coordinator_a, m06, AlsfrsR, ALSFRS_NORMAL | {"q3_swallowing": 1})


def open_url(record, field=""):
    return (
        reverse("query-open", args=["ISF"])
        + f"?record=alsfrs_r&record_pk={record.pk}&field={field}"
    )


def test_monitor_opens_coordinator_corrects_with_reason_monitor_closes(
    alsfrs, m06, monitor_a, coordinator_a, client_for, on_commit
):
    monitor = client_for(monitor_a)
    form = monitor.get(open_url(alsfrs, "q3_swallowing")).content.decode()
    assert 'value="q3_swallowing" selected' in form
    response = monitor.post(
        open_url(alsfrs),
        {
            "record": "alsfrs_r",
            "record_pk": alsfrs.pk,
            "field_name": "q3_swallowing",
            "message": "The source says 3 for swallowing.",
            "assigned_role": "coordinator",
        },
    )
    query = Query.objects.get()
    thread_url = reverse("query-detail", args=["ISF", query.pk])
    assert response.status_code == 302 and response["Location"] == thread_url
    assert (query.status, query.opened_by, query.participant_id, query.visit_id) == (
        "open",
        monitor_a,
        m06.participant_id,
        m06.pk,
    )

    # The coordinator reads it, follows the link to the form and corrects it with a reason.
    coordinator = client_for(coordinator_a)
    thread = coordinator.get(thread_url).content.decode()
    entry_url = reverse("crf-entry", args=["ISF", m06.participant_id, m06.pk, "alsfrs_r"])
    assert entry_url in thread and "The source says 3" in thread
    assert coordinator.get(entry_url).status_code == 200
    values = ALSFRS_NORMAL | {
        "q3_swallowing": 3,
        "version": alsfrs.version,
        "mark_complete": "on",
        "reason_for_change": "transcription error",
    }
    with on_commit():
        saved = coordinator.post(entry_url, values)
    assert saved.status_code == 302, saved.context["form"].errors
    query.refresh_from_db()
    assert query.status == QueryStatus.ANSWERED
    correction = query.messages.order_by("pk").last()
    assert correction.kind == MessageKind.CORRECTION and correction.author == coordinator_a
    assert "transcription error" in correction.text

    # The monitor sees the answer and the value now, and closes the query.
    monitor = client_for(monitor_a)  # one test client: logged in as the monitor again
    thread = monitor.get(thread_url).content.decode()
    assert 'data-testid="current-value">3 · ' in thread and "Close the query" in thread
    assert monitor.post(thread_url, {"action": "close", "message": ""}).status_code == 302
    query.refresh_from_db()
    assert (query.status, query.closed_by) == ("closed", monitor_a)

    # Every transition is in the trail, with who did it.
    history = list(query.events.order_by("pgh_id").values_list("status", "pgh_context__actor_id"))
    assert [s for s, _a in history] == ["open", "answered", "closed"]
    assert history[0][1] == monitor_a.pk and history[-1][1] == monitor_a.pk

    # Reopened: open again, the reason in the thread.
    assert (
        monitor.post(thread_url, {"action": "reopen", "message": "One more item."}).status_code
        == 302
    )
    query.refresh_from_db()
    assert query.status == "open" and query.closed_at is None


def test_a_correction_of_another_field_leaves_the_query_open(
    alsfrs, m06, monitor_a, coordinator_a, on_commit
):
    query = services.open_query(
        actor=monitor_a,
        site=m06.participant.site,
        record_type="alsfrs_r",
        record_pk=alsfrs.pk,
        field_name="q3_swallowing",
        text="Please check.",
    )
    with on_commit():
        save_crf(
            coordinator_a,
            m06,
            AlsfrsR,
            ALSFRS_NORMAL | {"q3_swallowing": 1, "q1_speech": 3},
            reason="speech",
        )
    query.refresh_from_db()
    assert query.status == "open"


def test_bad_input_is_a_field_error(alsfrs, m06, monitor_a, coordinator_a, client_for):
    monitor = client_for(monitor_a)
    base = {
        "record": "alsfrs_r",
        "record_pk": alsfrs.pk,
        "field_name": "",
        "assigned_role": "coordinator",
    }
    empty = monitor.post(open_url(alsfrs), base | {"message": "   "})
    assert empty.status_code == 400 and "message" in empty.context["form"].errors
    unknown = monitor.post(open_url(alsfrs), base | {"field_name": "no_such_field", "message": "x"})
    assert unknown.status_code == 400 and 'id="id_field_name"' in unknown.content.decode()
    assert "field_name" in unknown.context["form"].errors
    assert not Query.objects.exists()
    # A record that does not exist, or a made-up record type: 404, not 500.
    assert (
        monitor.get(
            reverse("query-open", args=["ISF"]) + "?record=alsfrs_r&record_pk=999999"
        ).status_code
        == 404
    )
    assert (
        monitor.get(reverse("query-open", args=["ISF"]) + "?record=nope&record_pk=1").status_code
        == 404
    )
    assert (
        monitor.get(
            reverse("query-open", args=["ISF"]) + "?record=alsfrs_r&record_pk=99999999999999999999"
        ).status_code
        == 404
    )

    query = services.open_query(
        actor=monitor_a,
        site=m06.participant.site,
        record_type="alsfrs_r",
        record_pk=alsfrs.pk,
        field_name="",
        text="Please check.",
    )
    services.post(actor=monitor_a, query=query, action="close", text="")
    url = reverse("query-detail", args=["ISF", query.pk])
    answered = client_for(coordinator_a).post(url, {"action": "answer", "message": "Done."})
    assert answered.status_code == 400 and "message" in answered.context["form"].errors
    bogus = client_for(coordinator_a).post(url, {"action": "delete", "message": "x"})
    assert bogus.status_code == 400 and "action" in bogus.context["form"].errors
    query.refresh_from_db()
    assert query.status == "closed" and query.messages.count() == 2


def test_another_site_sees_a_404(alsfrs, m06, monitor_a, coordinator_b, client_for, site_b):
    query = services.open_query(
        actor=monitor_a,
        site=m06.participant.site,
        record_type="alsfrs_r",
        record_pk=alsfrs.pk,
        field_name="",
        text="Please check.",
    )
    other = client_for(coordinator_b)
    assert other.get(reverse("query-detail", args=["ISF", query.pk])).status_code == 404
    assert other.get(reverse("query-detail", args=["THR", query.pk])).status_code == 404
    assert other.get(reverse("query-list", args=["ISF"])).status_code == 404
    assert (
        other.get(reverse("participant-queries", args=["THR", m06.participant_id])).status_code
        == 404
    )
    # A monitor of the other site cannot query this site's record through its own site code.
    monitor_b = member(Role.MONITOR, site_b, "monitor_b")
    assert (
        client_for(monitor_b)
        .get(reverse("query-open", args=["THR"]) + f"?record=alsfrs_r&record_pk={alsfrs.pk}")
        .status_code
        == 404
    )


def test_a_coordinator_cannot_open_or_close(alsfrs, m06, monitor_a, coordinator_a, client_for):
    client = client_for(coordinator_a)
    assert client.get(open_url(alsfrs)).status_code == 404
    query = services.open_query(
        actor=monitor_a,
        site=m06.participant.site,
        record_type="alsfrs_r",
        record_pk=alsfrs.pk,
        field_name="",
        text="Please check.",
    )
    refused = client.post(reverse("query-detail", args=["ISF", query.pk]), {"action": "close"})
    assert refused.status_code == 400
    query.refresh_from_db()
    assert query.status == "open"


def test_the_lists_filter_and_show_age(alsfrs, m06, monitor_a, client_for, time_machine):
    site = m06.participant.site
    services.open_query(
        actor=monitor_a,
        site=site,
        record_type="alsfrs_r",
        record_pk=alsfrs.pk,
        field_name="q3_swallowing",
        text="Old one.",
        assigned_role="investigator",
    )
    time_machine.move_to("2026-03-25T08:00Z", tick=False)
    services.open_query(
        actor=monitor_a,
        site=site,
        record_type="visit",
        record_pk=m06.pk,
        field_name="actual_date",
        text="New one.",
    )
    client = client_for(monitor_a)
    url = reverse("query-list", args=["ISF"])
    rows = client.get(url).context["rows"]
    assert [(q.record_type, age) for q, age, _k, _c in rows] == [("alsfrs_r", 15), ("visit", 0)]
    assert [q.record_type for q, *_ in client.get(url + "?age=14").context["rows"]] == ["alsfrs_r"]
    assert [q.record_type for q, *_ in client.get(url + "?role=coordinator").context["rows"]] == [
        "visit"
    ]
    assert [q.record_type for q, *_ in client.get(url + "?record_type=visit").context["rows"]] == [
        "visit"
    ]
    assert client.get(url + "?check=manual").context["rows"].__len__() == 2
    assert client.get(url + "?check=weight_change").context["rows"] == []
    assert client.get(url + "?status=closed").context["rows"] == []
    assert client.get(url + "?age=abc").status_code == 400
    mine = client.get(reverse("participant-queries", args=["ISF", m06.participant_id]))
    assert len(mine.context["rows"]) == 2


def test_the_record_badge_and_the_home_page_lead_to_the_queries(
    alsfrs, m06, monitor_a, coordinator_a, client_for
):
    from django.template.loader import render_to_string

    from queries import selectors

    site = m06.participant.site
    services.open_query(
        actor=monitor_a,
        site=site,
        record_type="alsfrs_r",
        record_pk=alsfrs.pk,
        field_name="",
        text="Please check.",
    )
    counts = selectors.counts_for_records([alsfrs])[("alsfrs_r", alsfrs.pk)]
    badge = render_to_string(
        "queries/_record_queries.html",
        {"site": site, "key": "alsfrs_r", "pk": alsfrs.pk, "counts": counts, "may_raise": True},
    )
    assert f"?record_type=alsfrs_r&amp;record_pk={alsfrs.pk}" in badge and "1 open query" in badge
    listed = client_for(monitor_a).get(
        reverse("query-list", args=["ISF"]) + f"?record_type=alsfrs_r&record_pk={alsfrs.pk}"
    )
    assert len(listed.context["rows"]) == 1
    home = client_for(coordinator_a).get(reverse("home")).content.decode()
    assert "Queries to answer" in home and "Queries to close" not in home


def test_hostile_addresses_are_a_404_or_a_field_error(
    alsfrs, monitor_a, data_manager_a, client_for
):
    client = client_for(monitor_a)
    huge = "9" * 25
    listed = client.get(
        reverse("query-list", args=["ISF"]) + f"?record_type=alsfrs_r&record_pk={huge}"
    )
    assert listed.status_code in (200, 400)
    assert client.get(f"/sites/ISF/queries/{huge}/").status_code == 404
    assert (
        client.get(reverse("query-list", args=["ISF"]) + "?status=nope&role=x").status_code == 400
    )
    manager = client_for(data_manager_a)
    assert manager.get(reverse("check-run", args=["ISF", "x" * 300])).status_code == 404
