"""A coordinator enters the quality-of-life forms at a follow-up visit: the 40-item
ALSAQ-40 grid (scores stored as the pure functions compute them, constant queries)
and the optional SEIQoL-DW (weights must sum to 100 to complete)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from crfs.base import FormRecord
from crfs.qol.models import ALSAQ5_FIELDS, ALSAQ40_FIELDS, Alsaq40, Seiqol
from crfs.qol.scoring import AlsaqDomain, Cue, alsaq5, alsaq40, seiqol_dw
from tests.html_form import PageForm

pytestmark = pytest.mark.django_db


def url(visit, form_code):
    p = visit.participant
    return reverse("crf-entry", args=[p.site.code, p.pk, visit.pk, form_code])


def post(client, visit, form_code, answers, *, version, complete=False, reason="", missing=None):
    data = {"version": version, "reason_for_change": reason}
    if complete:
        data["mark_complete"] = "on"
    data.update({k: v for k, v in answers.items() if v is not None})
    data.update({f"{k}__missing": v for k, v in (missing or {}).items()})
    return client.post(url(visit, form_code), data)


# --- ALSAQ-40 ---------------------------------------------------------------------

# A varied, complete set of answers: item n -> n % 5.
ANSWERS = {number: number % 5 for number in ALSAQ40_FIELDS}
FULL = {ALSAQ40_FIELDS[n]: v for n, v in ANSWERS.items()}


def assert_alsaq_scores_stored(record: Alsaq40, answers: dict[int, int | None]) -> None:
    expected, short = alsaq40(answers), alsaq5(answers)
    for domain in AlsaqDomain:
        assert getattr(record, domain.value) == expected.domains[domain].score
        assert getattr(record, ALSAQ5_FIELDS[domain]) == short.items[domain]
    assert record.summary_index == expected.summary_index
    assert record.alsaq5_total == short.total


def test_alsaq40_page_is_a_compact_grid_without_the_copyrighted_wording(
    client_for, coordinator_a, m06
):
    page = client_for(coordinator_a).get(url(m06, "alsaq40"))
    assert page.status_code == 200
    html = page.text
    assert "past 2 weeks" in html and "licensed ALSAQ-40 paper questionnaire" in html
    assert html.count('type="radio"') == 40 * 5  # no blank "---------" choice
    assert "---------" not in html
    for header in ("Never", "Rarely", "Sometimes", "Often", "Always or cannot do at all"):
        assert header in html
    assert "Physical mobility item 1" in html and "Emotional reactions item 10" in html
    # One radio group per item: Tab goes item to item, arrows choose inside it.
    assert html.count('name="item_01"') == 5 and html.count('name="item_40"') == 5


def test_alsaq40_partial_save_then_completion_stores_the_pure_scores(
    client_for, coordinator_a, m06
):
    client = client_for(coordinator_a)
    first_ten = {ALSAQ40_FIELDS[n]: ANSWERS[n] for n in range(1, 11)}
    assert post(client, m06, "alsaq40", first_ten, version=0).status_code == 302
    record = Alsaq40.objects.get(visit=m06)
    assert (record.status, record.version) == ("in_progress", 1)
    partial = {n: ANSWERS.get(n) if n <= 10 else None for n in ALSAQ40_FIELDS}
    assert_alsaq_scores_stored(record, partial)
    assert record.physical_mobility is not None and record.independence is None

    assert post(client, m06, "alsaq40", FULL, version=1, complete=True).status_code == 302
    record.refresh_from_db()
    assert record.status == "complete" and record.version == 2
    assert_alsaq_scores_stored(record, ANSWERS)
    assert record.summary_index is not None and record.alsaq5_total is not None
    assert "ALSAQ-40" in record.scoring_version and "ALSAQ-5" in record.scoring_version
    assert "Derived scores" in client.get(url(m06, "alsaq40")).text


def test_alsaq40_completion_needs_every_item_or_its_reason_and_imputes(
    client_for, coordinator_a, m06
):
    client = client_for(coordinator_a)
    answers = FULL | {"item_22": None}
    refused = post(client, m06, "alsaq40", answers, version=0, complete=True)
    assert refused.status_code == 400
    assert "Answer this, or give a reason it is missing." in refused.text
    assert not Alsaq40.objects.exists()

    ok = post(
        client, m06, "alsaq40", answers, version=0, complete=True, missing={"item_22": "refused"}
    )
    assert ok.status_code == 302
    record = Alsaq40.objects.get(visit=m06)
    assert record.missing_reasons == {"item_22": "refused"}
    assert_alsaq_scores_stored(record, ANSWERS | {22: None})
    assert record.eating_drinking is not None  # 1 of 3 missing: imputed
    assert record.alsaq5_eating_drinking is None and record.alsaq5_total is None
    page = client.get(url(m06, "alsaq40")).text
    assert 'data-testid="missing-reasons" open' in page  # the reason is visible on reopening


def test_alsaq40_domain_over_half_missing_is_not_scored(client_for, coordinator_a, m06):
    answers = FULL | {"item_21": None, "item_22": None}
    missing = {"item_21": "unknown", "item_22": "unknown"}
    response = post(
        client_for(coordinator_a),
        m06,
        "alsaq40",
        answers,
        version=0,
        complete=True,
        missing=missing,
    )
    assert response.status_code == 302
    record = Alsaq40.objects.get(visit=m06)
    assert record.eating_drinking is None and record.summary_index is None
    assert record.physical_mobility == alsaq40(ANSWERS).domains[AlsaqDomain.PHYSICAL_MOBILITY].score


@pytest.mark.parametrize(
    ("field", "value"),
    [("item_01", "5"), ("item_02", "-1"), ("item_03", "often"), ("item_04__missing", "lazy")],
)
def test_alsaq40_bad_input_is_a_400_field_error_and_saves_nothing(
    client_for, coordinator_a, m06, field, value
):
    response = client_for(coordinator_a).post(url(m06, "alsaq40"), {"version": 0, field: value})
    assert response.status_code == 400
    assert "Select a valid choice" in response.text
    assert not Alsaq40.objects.exists()


def test_alsaq40_page_opens_and_saves_with_a_constant_number_of_queries(
    client_for, coordinator_a, m06, django_assert_max_num_queries
):
    client = client_for(coordinator_a)
    one = {"item_01": 2}

    def counted(action) -> int:
        with CaptureQueriesContext(connection) as queries:
            action()
        return len(queries)

    # Saving: the same count for one answer as for forty.
    with django_assert_max_num_queries(18):
        assert post(client, m06, "alsaq40", one, version=0).status_code == 302
    save_one = counted(lambda: post(client, m06, "alsaq40", {"item_01": 3}, version=1))
    with django_assert_max_num_queries(18):
        save_all = counted(lambda: post(client, m06, "alsaq40", FULL, version=2, complete=True))
    assert save_all == save_one

    # Opening: the same count with forty answers as with one.
    with django_assert_max_num_queries(11):
        open_all = counted(lambda: client.get(url(m06, "alsaq40")))
    Alsaq40.objects.filter(visit=m06).update(**dict.fromkeys(FULL) | {"item_01": 1})
    open_one = counted(lambda: client.get(url(m06, "alsaq40")))
    assert open_all == open_one


# --- SEIQoL-DW --------------------------------------------------------------------

CUES = [
    ("family", "80", "30"),
    ("health", "40", "25"),
    ("faith", "90", "20"),
    ("work", "20", "15"),
    ("friends", "70", "10"),
]


def cue_answers(cues=CUES) -> dict[str, str]:
    answers = {}
    for number, (name, level, weight) in enumerate(cues, start=1):
        answers |= {
            f"cue_{number}_name": name,
            f"cue_{number}_level": level,
            f"cue_{number}_weight": weight,
        }
    return answers


def test_seiqol_partial_save_then_completion_stores_the_index(client_for, coordinator_a, m06):
    client = client_for(coordinator_a)
    page = client.get(url(m06, "seiqol"))
    assert page.status_code == 200 and "never names of people" in page.text

    partial = {k: v for k, v in cue_answers().items() if k.startswith(("cue_1_", "cue_2_"))}
    assert post(client, m06, "seiqol", partial, version=0).status_code == 302
    record = Seiqol.objects.get(visit=m06)
    assert (record.status, record.index, record.cue_1_name) == ("in_progress", None, "family")
    assert record.cue_3_name is None  # unanswered stays NULL, not ""

    assert post(client, m06, "seiqol", cue_answers(), version=1, complete=True).status_code == 302
    record.refresh_from_db()
    expected = seiqol_dw([Cue(n, float(lv), float(w)) for n, lv, w in CUES])
    assert record.status == "complete"
    assert record.index == expected.index == (80 * 30 + 40 * 25 + 90 * 20 + 20 * 15 + 70 * 10) / 100
    assert record.weight_sum == 100
    assert "SEIQoL-DW" in record.scoring_version


def test_seiqol_completion_refuses_weights_not_summing_to_100(client_for, coordinator_a, m06):
    client = client_for(coordinator_a)
    bad = cue_answers() | {"cue_5_weight": "5"}  # sum 95
    response = post(client, m06, "seiqol", bad, version=0, complete=True)
    assert response.status_code == 400
    form = response.context["form"]
    # One message, on the first weight; the page's error summary links to it.
    assert [name for name in form.errors if "weight" in name] == ["cue_1_weight"]
    message = "The weights sum to 95; they must sum to 100"
    assert response.text.count(message) == 1 + response.text.count('href="#id_cue_1_weight"')
    assert not Seiqol.objects.exists()

    # A partial save may hold unbalanced weights (the disc is not finished): no index.
    assert post(client, m06, "seiqol", bad, version=0).status_code == 302
    record = Seiqol.objects.get(visit=m06)
    assert record.index is None and record.weight_sum == 95

    # Within the +/- 0.5 rounding tolerance completes.
    close = cue_answers() | {"cue_5_weight": "10.4"}
    assert post(client, m06, "seiqol", close, version=1, complete=True).status_code == 302
    record.refresh_from_db()
    assert record.status == "complete" and record.weight_sum == pytest.approx(100.4)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("cue_1_level", "101", "less than or equal to 100"),
        ("cue_2_weight", "-3", "greater than or equal to 0"),
        ("cue_3_level", "high", "Enter a number"),
        ("cue_4_level__missing", "lazy", "Select a valid choice"),
    ],
)
def test_seiqol_bad_input_is_a_400_field_error_and_saves_nothing(
    client_for, coordinator_a, m06, field, value, message
):
    response = post(
        client_for(coordinator_a), m06, "seiqol", cue_answers() | {field: value}, version=0
    )
    assert response.status_code == 400
    assert message in response.text
    assert field in response.context["form"].errors
    assert not Seiqol.objects.exists()


def test_seiqol_duplicate_cue_names_do_not_complete(client_for, coordinator_a, m06):
    answers = cue_answers() | {"cue_2_name": "Family"}
    response = post(client_for(coordinator_a), m06, "seiqol", answers, version=0, complete=True)
    assert response.status_code == 400
    assert "cue_2_name" in response.context["form"].errors
    assert not Seiqol.objects.exists()


def test_free_text_fields_are_declared_for_de_identified_exports():
    assert FormRecord.free_text_fields == ()
    assert Alsaq40.free_text_fields == ()
    assert Seiqol.free_text_fields == tuple(f"cue_{n}_name" for n in range(1, 6))


@pytest.mark.parametrize(
    ("form_code", "answers", "model"),
    [("alsaq40", FULL, Alsaq40), ("seiqol", cue_answers(), Seiqol)],
)
def test_the_page_posts_back_what_it_shows(
    client_for, coordinator_a, m06, form_code, answers, model
):
    client = client_for(coordinator_a)
    assert post(client, m06, form_code, answers, version=0, complete=True).status_code == 302
    as_shown = PageForm.read(client.get(url(m06, form_code)).text)
    assert as_shown["item_40" if form_code == "alsaq40" else "cue_5_name"] == str(
        answers["item_40" if form_code == "alsaq40" else "cue_5_name"]
    )
    assert client.post(url(m06, form_code), as_shown).status_code == 302
    assert model.objects.get(visit=m06).version == 1  # unchanged: no new version


def test_scores_stored_with_the_old_alsaq5_items_are_re_derived_and_audited(coordinator_a, m06):
    """ALSAQ-5 was scored from items 8, 17, 22, 29, 35 before the mapping was corrected to
    9, 11, 22, 25, 34; stored records are re-derived by crfs.rederive, with the reason."""
    from crfs import rederive
    from tests.factories import save_crf

    answers = ANSWERS | {8: 0, 17: 0, 29: 0, 35: 0, 9: 4, 11: 4, 25: 4, 34: 4, 22: 2}
    record = save_crf(
        coordinator_a, m06, Alsaq40, {ALSAQ40_FIELDS[n]: v for n, v in answers.items()}
    )
    # As the old mapping stored it.
    Alsaq40.objects.filter(pk=record.pk).update(
        alsaq5_physical_mobility=0,
        alsaq5_independence=0,
        alsaq5_communication=0,
        alsaq5_emotional_reactions=0,
        alsaq5_total=10.0,
        scoring_version="ALSAQ-40 (Jenkinson 1999); ALSAQ-5 (Jenkinson 2001)",
    )
    rederive.rederive(
        Alsaq40.objects.all(), actor=coordinator_a, cause="ALSAQ-5 item mapping corrected"
    )

    record = Alsaq40.objects.get(pk=record.pk)
    assert_alsaq_scores_stored(record, answers)
    assert record.alsaq5_physical_mobility == 100 and record.alsaq5_total == 90
    assert record.scoring_version.endswith("items 9, 11, 22, 25, 34)")
    event = record.events.order_by("-pgh_id").first()
    assert event.pgh_context["reason"].startswith("ALSAQ-5 item mapping corrected")
