"""A coordinator enters an ALSFRS-R at a follow-up visit: partial saves, completion,
missing-data reasons, reasons for change, and two people editing at once."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from crfs.alsfrs_r.models import FIELD_BY_CODE, AlsfrsR
from tests.factories import member
from trials.models import Role

pytestmark = pytest.mark.django_db

ALL_FOURS = {name: 4 for code, name in FIELD_BY_CODE.items() if code != "5b"}


def url(visit, form_code="alsfrs_r"):
    p = visit.participant
    return reverse("crf-entry", args=[p.site.code, p.pk, visit.pk, form_code])


def post(client, visit, answers, *, version, complete=False, reason="", missing=None):
    data = {"version": version, "reason_for_change": reason}
    if complete:
        data["mark_complete"] = "on"
    data.update({k: v for k, v in answers.items() if v is not None})
    data.update({f"{k}__missing": v for k, v in (missing or {}).items()})
    return client.post(url(visit), data)


def test_partial_save_then_completion_stores_the_scores(client_for, coordinator_a, m06):
    client = client_for(coordinator_a)
    page = client.get(url(m06))
    assert page.status_code == 200
    assert "Normal speech processes" in page.text  # every level's wording beside its choice

    assert post(client, m06, {"q1_speech": 3}, version=0).status_code == 302
    record = AlsfrsR.objects.get(visit=m06)
    assert (record.status, record.version, record.total) == ("in_progress", 1, None)

    answers = ALL_FOURS | {"q1_speech": 3, "q8_walking": 2, "q10_dyspnoea": 3}
    assert post(client, m06, answers, version=1, complete=True).status_code == 302
    record.refresh_from_db()
    assert record.status == "complete"
    assert record.total == 48 - 1 - 2 - 1
    assert (record.bulbar, record.fine_motor, record.gross_motor, record.respiratory) == (
        11,
        12,
        10,
        11,
    )
    assert record.kings_stage == "2"  # bulbar + lower limb
    assert record.mitos_stage == 0
    assert record.delta_fs is None  # ΔFS only before treatment
    assert "King's" in record.scoring_version
    shown = client.get(url(m06)).text
    assert "Derived scores" in shown and ">44<" in shown


def test_completion_needs_every_answer_or_a_reason(client_for, coordinator_a, m06):
    client = client_for(coordinator_a)
    answers = ALL_FOURS | {"q9_climbing_stairs": None}
    response = post(client, m06, answers, version=0, complete=True)
    assert response.status_code == 400
    assert "Answer this, or give a reason it is missing." in response.text
    assert not AlsfrsR.objects.filter(visit=m06).exists()

    ok = post(
        client, m06, answers, version=0, complete=True, missing={"q9_climbing_stairs": "not_done"}
    )
    assert ok.status_code == 302
    record = AlsfrsR.objects.get(visit=m06)
    assert record.q9_climbing_stairs is None
    assert record.missing_reasons == {"q9_climbing_stairs": "not_done"}
    assert record.status == "complete" and record.total is None  # no total from an incomplete scale


def test_an_answer_and_a_missing_reason_together_are_refused(client_for, coordinator_a, m06):
    response = post(
        client_for(coordinator_a),
        m06,
        {"q1_speech": 4},
        version=0,
        missing={"q1_speech": "refused"},
    )
    assert response.status_code == 400
    assert "either an answer or a reason it is missing, not both" in response.text
    assert not AlsfrsR.objects.filter(visit=m06).exists()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("q1_speech", "7"),
        ("q1_speech", "-1"),
        ("q2_salivation", "four"),
        ("q3_swallowing__missing", "lazy"),
    ],
)
def test_bad_input_answers_with_a_field_error_and_saves_nothing(
    client_for, coordinator_a, m06, field, value
):
    response = client_for(coordinator_a).post(url(m06), {"version": 0, field: value})
    assert response.status_code == 400
    assert "Select a valid choice" in response.text
    assert not AlsfrsR.objects.filter(visit=m06).exists()


def test_5a_and_5b_together_are_refused(client_for, coordinator_a, m06):
    answers = ALL_FOURS | {"q5b_cutting_gastrostomy": 3}
    response = post(client_for(coordinator_a), m06, answers, version=0, complete=True)
    assert response.status_code == 400
    assert "not both" in response.text
    assert not AlsfrsR.objects.filter(visit=m06).exists()


def test_gastrostomy_form_uses_5b_and_stages_4a(client_for, coordinator_a, m06):
    answers = ALL_FOURS | {"q5a_cutting_no_gastrostomy": None, "q5b_cutting_gastrostomy": 2}
    assert (
        post(client_for(coordinator_a), m06, answers, version=0, complete=True).status_code == 302
    )
    record = AlsfrsR.objects.get(visit=m06)
    assert record.total == 46 and record.kings_stage == "4A"


def test_change_after_completion_needs_a_reason_which_the_audit_trail_keeps(
    client_for, coordinator_a, m06
):
    client = client_for(coordinator_a)
    post(client, m06, ALL_FOURS, version=0, complete=True)
    changed = ALL_FOURS | {"q3_swallowing": 2}
    refused = post(client, m06, changed, version=1, complete=True)
    assert refused.status_code == 400
    assert "give a reason for the change" in refused.text
    assert AlsfrsR.objects.get(visit=m06).q3_swallowing == 4

    assert (
        post(
            client, m06, changed, version=1, complete=True, reason="Transcription error"
        ).status_code
        == 302
    )
    record = AlsfrsR.objects.get(visit=m06)
    assert (record.q3_swallowing, record.version, record.total) == (2, 2, 46)
    last = record.events.order_by("pgh_id").last()
    assert last.pgh_label == "update" and last.q3_swallowing == 2
    assert last.pgh_context["reason"] == "Transcription error"
    assert last.pgh_context["actor_id"] == coordinator_a.pk


def test_two_people_editing_the_second_save_is_refused_and_nothing_is_lost(
    client_for, coordinator_a, m06, site_a
):
    post(client_for(coordinator_a), m06, {"q1_speech": 4}, version=0)
    # Both open version 1. The investigator saves first.
    investigator = member(Role.INVESTIGATOR, site_a, "inv")
    from django.test import Client

    other = Client()
    other.force_login(investigator)
    assert post(other, m06, {"q1_speech": 2}, version=1).status_code == 302

    mine = post(client_for(coordinator_a), m06, {"q1_speech": 3}, version=1)
    assert mine.status_code == 400
    assert "Someone else saved this form" in mine.text
    assert 'data-testid="conflict"' in mine.text and "inv" in mine.text
    assert AlsfrsR.objects.get(visit=m06).q1_speech == 2  # the first save stands
    assert re.search(
        r'name="q1_speech" value="3"[^>]*checked', mine.text
    )  # my answer is still there
    assert 'name="version" value="2"' in mine.text  # saving again is a deliberate overwrite

    assert post(client_for(coordinator_a), m06, {"q1_speech": 3}, version=2).status_code == 302
    assert AlsfrsR.objects.get(visit=m06).q1_speech == 3


def test_monitor_reads_but_cannot_save(client_for, monitor_a, coordinator_a, m06):
    client = client_for(monitor_a)
    page = client.get(url(m06))
    assert page.status_code == 200 and "disabled" in page.text
    assert post(client, m06, {"q1_speech": 4}, version=0).status_code == 404
    assert not AlsfrsR.objects.filter(visit=m06).exists()


def test_other_sites_and_unexpected_forms_are_404(client_for, coordinator_b, m06):
    assert client_for(coordinator_b).get(url(m06)).status_code == 404


def test_unknown_form_code_is_404(client_for, coordinator_a, m06):
    assert client_for(coordinator_a).get(url(m06, "tarot")).status_code == 404


def test_visit_page_lists_forms_with_their_status(client_for, coordinator_a, m06):
    client = client_for(coordinator_a)
    post(client, m06, {"q1_speech": 4}, version=0)
    p = m06.participant
    page = client.get(reverse("visit-detail", args=[p.site.code, p.pk, m06.pk]))
    assert url(m06) in page.text and "In progress" in page.text


def test_entry_page_query_count_does_not_grow_with_answers(
    client_for, coordinator_a, m06, django_assert_max_num_queries
):
    client = client_for(coordinator_a)
    post(client, m06, ALL_FOURS, version=0, complete=True)
    with django_assert_max_num_queries(12):
        assert client.get(url(m06)).status_code == 200


def test_one_item_missing_stores_what_the_other_items_allow_and_says_why_the_rest_is_blank(
    client_for, coordinator_a, m06
):
    client = client_for(coordinator_a)
    answers = ALL_FOURS | {"q7_turning_in_bed": None, "q1_speech": 3, "q8_walking": 3}
    missing = {"q7_turning_in_bed": "not_done"}
    assert post(client, m06, answers, version=0, complete=True, missing=missing).status_code == 302
    record = AlsfrsR.objects.get(visit=m06)
    assert record.status == "complete"
    assert (record.bulbar, record.fine_motor, record.gross_motor, record.respiratory) == (
        11,
        12,
        None,
        12,
    )
    assert record.total is None
    assert record.kings_stage == "2"  # bulbar + lower limb: item 7 is not one King's reads
    assert record.mitos_stage == 0
    assert "unanswered items" in record.scoring_version and "King's" in record.scoring_version

    shown = client.get(url(m06)).text
    blanks = shown.split('data-testid="derived-blank-reasons"')[1].split("</ul>")[0]
    assert "ALSFRS-R total: item 7 missing (not done)" in blanks
    assert "gross motor subscore: item 7 missing (not done)" in blanks
    assert "bulbar" not in blanks and "King" not in blanks and "MiToS" not in blanks
    assert "ΔFS (points per month): needs the total" in blanks


def test_a_partial_save_explains_unanswered_items(client_for, coordinator_a, m06):
    client = client_for(coordinator_a)
    answers = {"q1_speech": 4, "q2_salivation": 4, "q3_swallowing": 2, "q4_handwriting": 4}
    assert post(client, m06, answers, version=0).status_code == 302
    record = AlsfrsR.objects.get(visit=m06)
    assert (record.bulbar, record.fine_motor, record.kings_stage, record.mitos_stage) == (
        10,
        None,
        "",
        None,
    )
    blanks = client.get(url(m06)).text.split('data-testid="derived-blank-reasons"')[1]
    assert "fine motor subscore: items 5 and 6 not answered" in blanks


def test_a_form_of_an_undated_visit_cannot_be_saved_until_the_visit_is_dated(
    client_for, coordinator_a, tx_participant
):
    """M06 is overdue and undated: its page says to date the visit (with a link), shows no
    Save, and a posted form is refused without saving anything."""
    from crfs.vitals.models import Vitals
    from visits.services import record_visit_date

    visit = tx_participant.visits.get(code="M06")
    client = client_for(coordinator_a)
    page = client.get(url(visit, "vitals"))
    assert page.status_code == 200
    assert 'data-testid="visit-undated"' in page.text
    visit_page = reverse("visit-detail", args=["ISF", tx_participant.pk, visit.pk])
    assert f'href="{visit_page}#visit-date"' in page.text
    assert ">Save</button>" not in page.text
    refused = client.post(url(visit), {"version": 0, "q1_speech": 3})
    assert refused.status_code == 400
    assert "record the visit date before saving its forms" in refused.text
    assert not AlsfrsR.objects.filter(visit=visit).exists()
    assert not Vitals.objects.filter(visit=visit).exists()

    record_visit_date(actor=coordinator_a, visit=visit, actual_date=visit.target_date)
    visit.refresh_from_db()
    assert post(client, visit, {"q1_speech": 3}, version=0).status_code == 302
    assert AlsfrsR.objects.get(visit=visit).q1_speech == 3
