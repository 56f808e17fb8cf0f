"""A coordinator enters the EMG / nerve conduction form: CMAP amplitudes, optional
MUNIX and the per-muscle needle findings on one page, saved in one service call
(same completion, reason-for-change and optimistic-locking rules as every form)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from crfs.emg.models import Emg, EmgMuscleFinding
from crfs.emg.scoring import MUSCLES, MuscleFinding, Region, Side, munix_sum, summarize
from tests.factories import member
from tests.html_form import PageForm
from trials.models import Role

pytestmark = pytest.mark.django_db

TX_DAY = date(2025, 8, 1)
CMAP = {"cmap_median": "5.20", "cmap_ulnar": "6.1", "cmap_peroneal": "2.35", "cmap_tibial": "4"}
MUNIX = {
    "munix_side": "right",
    "munix_apb": "80.5",
    "munix_adm": "95",
    "munix_biceps": "150.2",
    "munix_ta": "70",
    "munix_edb": "40.1",
    "munix_ah": "60",
}
DENERVATED = {"fibrillations": 2, "fasciculations": "present", "mup": "neurogenic"}
# Cervical: biceps (musculocutaneous, C5-C6) + FDI (ulnar, C8-T1) both with LMN evidence:
# meets Awaji. Lumbosacral: TA and EDB share the deep peroneal nerve: does not.
FINDINGS = [
    {"muscle": "biceps", "side": "right", **DENERVATED, "recruitment": "reduced"},
    {"muscle": "fdi", "side": "right", **DENERVATED, "recruitment": "discrete"},
    {"muscle": "tongue", "side": "left", "fibrillations": 0, "fasciculations": "present"}
    | {"mup": "normal", "recruitment": "normal"},
    {"muscle": "ta", "side": "left", **DENERVATED, "recruitment": "reduced"},
    {"muscle": "edb", "side": "left", **DENERVATED, "recruitment": "reduced"},
]


def url(visit):
    p = visit.participant
    return reverse("crf-entry", args=[p.site.code, p.pk, visit.pk, "emg"])


def form_data(answers, rows, *, version, complete=False, reason="", missing=None):
    """The page's POST: every catalogue muscle listed (blank unless in `rows`) + extra rows."""
    listed = list(rows)
    filled = {row["muscle"] for row in rows}
    listed += [{"muscle": code} for code in MUSCLES if code not in filled]
    listed += [{}, {}]
    data = {
        "version": version,
        "reason_for_change": reason,
        "finding-TOTAL_FORMS": len(listed),
        "finding-INITIAL_FORMS": 0,
        "finding-MIN_NUM_FORMS": 0,
        "finding-MAX_NUM_FORMS": 1000,
    }
    if complete:
        data["mark_complete"] = "on"
    data.update({k: v for k, v in answers.items() if v is not None})
    data.update({f"{k}__missing": v for k, v in (missing or {}).items()})
    for i, row in enumerate(listed):
        data.update({f"finding-{i}-{k}": v for k, v in row.items() if v is not None})
    return data


def post(client, visit, answers, rows=(), **kwargs):
    return client.post(url(visit), form_data(answers, rows, **kwargs))


def pure_summary(rows):
    return summarize(
        MuscleFinding.of(
            r["muscle"],
            side=Side(r["side"]),
            fibrillations=r["fibrillations"],
            fasciculations=r["fasciculations"],
            mup=r["mup"],
            recruitment=r["recruitment"],
        )
        for r in rows
    )


def assert_summary_stored(record: Emg, rows) -> None:
    summary = pure_summary(rows)
    for region in Region:
        result = summary.regions[region]
        tested = bool(result.muscles_tested)
        assert getattr(record, f"{region}_active") == (
            result.active_denervation if tested else None
        )
        assert getattr(record, f"{region}_chronic") == (
            result.chronic_denervation if tested else None
        )
        assert getattr(record, f"{region}_awaji_lmn") == (
            result.meets_awaji_lmn if tested else None
        )


def test_page_prelists_every_catalogue_muscle(client_for, coordinator_a, m06):
    page = client_for(coordinator_a).get(url(m06))
    assert page.status_code == 200
    html = page.text
    for code, muscle in MUSCLES.items():
        assert f'value="{code}"' in html and muscle.name in html
    assert 'name="finding-TOTAL_FORMS" value="24"' in html  # 20 muscles + 4 free rows
    assert m06.actual_date.isoformat() in html  # study date = visit date


def test_partial_save_then_completion_stores_rows_and_summaries(client_for, coordinator_a, m06):
    client = client_for(coordinator_a)
    response = post(client, m06, {"cmap_median": "5.2"}, FINDINGS[:1], version=0)
    assert response.status_code == 302
    record = Emg.objects.get(visit=m06)
    assert (record.status, record.version, record.cmap_ulnar) == ("in_progress", 1, None)
    assert list(record.findings.values_list("muscle", "side", "region")) == [
        ("biceps", "right", "cervical")
    ]
    assert record.cervical_chronic is True and record.cervical_awaji_lmn is False  # one muscle
    assert record.bulbar_active is None  # region not tested
    assert record.munix_sum is None

    response = post(client, m06, CMAP | MUNIX, FINDINGS, version=1, complete=True)
    assert response.status_code == 302
    record.refresh_from_db()
    assert record.status == "complete" and record.version == 2
    assert record.study_date == m06.actual_date
    assert str(record.cmap_peroneal) == "2.35"
    stored = [f.as_row() for f in record.findings.order_by("pk")]
    assert sorted(stored, key=str) == sorted(FINDINGS, key=str)
    assert_summary_stored(record, FINDINGS)
    assert record.cervical_awaji_lmn is True and record.lumbosacral_awaji_lmn is False
    assert record.bulbar_active is False and record.thoracic_active is None
    expected = munix_sum(
        {k.removeprefix("munix_"): float(v) for k, v in MUNIX.items() if k != "munix_side"}
    )
    assert record.munix_sum == expected.total and record.munix_version == expected.version
    assert "Awaji" in record.summary_version

    page = client.get(url(m06)).text
    assert "Derived scores" in page
    posted = PageForm.read(page)
    biceps = next(k for k, v in posted.items() if v == "biceps").removesuffix("-muscle")
    assert (posted[f"{biceps}-side"], posted[f"{biceps}-fibrillations"]) == ("right", "2")


def test_the_page_posts_back_what_it_shows(client_for, coordinator_a, m06):
    """Saved rows come back in the formset; submitting the page unchanged changes nothing."""
    client = client_for(coordinator_a)
    assert post(client, m06, CMAP | MUNIX, FINDINGS, version=0, complete=True).status_code == 302
    as_shown = PageForm.read(client.get(url(m06)).text)
    as_shown.pop("csrfmiddlewaretoken", None)
    assert as_shown["mark_complete"] == "on"
    assert client.post(url(m06), as_shown).status_code == 302
    record = Emg.objects.get(visit=m06)
    assert record.version == 1 and record.findings.count() == len(FINDINGS)


def test_completion_needs_every_amplitude_or_its_reason(client_for, coordinator_a, m06):
    client = client_for(coordinator_a)
    answers = CMAP | {"cmap_tibial": None}
    refused = post(client, m06, answers, FINDINGS, version=0, complete=True)
    assert refused.status_code == 400
    assert "cmap_tibial" in refused.context["form"].errors
    assert not Emg.objects.exists() and not EmgMuscleFinding.objects.exists()

    ok = post(
        client,
        m06,
        answers,
        FINDINGS,
        version=0,
        complete=True,
        missing={"cmap_tibial": "not_done"},
    )
    assert ok.status_code == 302
    record = Emg.objects.get(visit=m06)
    assert record.missing_reasons == {"cmap_tibial": "not_done"} and record.findings.count() == 5


def rows_with(**changes):
    return [FINDINGS[0] | changes, *FINDINGS[1:]]


@pytest.mark.parametrize(
    ("answers", "rows", "field", "message"),
    [
        (CMAP | {"cmap_median": "31"}, FINDINGS, "cmap_median", "less than or equal to 30"),
        (CMAP | {"cmap_ulnar": "-0.5"}, FINDINGS, "cmap_ulnar", "greater than or equal to 0"),
        (CMAP | {"cmap_peroneal": "low"}, FINDINGS, "cmap_peroneal", "Enter a number"),
        (CMAP | {"munix_apb": "5000"}, FINDINGS, "munix_apb", "less than or equal to 1000"),
        (CMAP | {"cmap_tibial__missing": "lazy"}, FINDINGS, "cmap_tibial__missing", "valid choice"),
        (CMAP, rows_with(fibrillations="7"), "finding-0-fibrillations", "valid choice"),
        (CMAP, rows_with(fibrillations="many"), "finding-0-fibrillations", "valid choice"),
        (CMAP, rows_with(mup="weird"), "finding-0-mup", "valid choice"),
        (CMAP, rows_with(side=None), "finding-0-side", "Needed when the muscle has findings"),
        (CMAP, rows_with(muscle="gluteus_maximus"), "finding-0-muscle", "valid choice"),
        # The same muscle and side twice: the second row is refused on its side.
        (CMAP, [*FINDINGS, FINDINGS[0]], "finding-5-side", "already entered on this side"),
    ],
)
def test_bad_input_is_a_400_field_error_and_saves_nothing(
    client_for, coordinator_a, m06, answers, rows, field, message
):
    response = post(client_for(coordinator_a), m06, answers, rows, version=0, complete=True)
    assert response.status_code == 400
    assert message in response.text
    form = response.context["form"]
    if field.startswith("finding-"):
        _prefix, index, name = field.split("-")
        assert name in form.findings.forms[int(index)].errors
    else:
        assert field in form.errors
    assert not Emg.objects.exists() and not EmgMuscleFinding.objects.exists()


def test_a_bad_row_on_an_existing_record_changes_nothing(client_for, coordinator_a, m06):
    client = client_for(coordinator_a)
    assert post(client, m06, CMAP, FINDINGS, version=0).status_code == 302
    bad = post(client, m06, CMAP | {"cmap_median": "9"}, [*FINDINGS, FINDINGS[1]], version=1)
    assert bad.status_code == 400
    record = Emg.objects.get(visit=m06)
    assert (record.version, str(record.cmap_median)) == (1, "5.20")
    assert record.findings.count() == 5


def test_blank_rows_are_ignored_and_clearing_a_row_deletes_it_with_an_audit_event(
    client_for, coordinator_a, m06
):
    client = client_for(coordinator_a)
    # A side chosen without any finding is still a blank row.
    blank_with_side = {"muscle": "deltoid", "side": "left"}
    assert post(client, m06, CMAP, [*FINDINGS, blank_with_side], version=0).status_code == 302
    record = Emg.objects.get(visit=m06)
    assert record.findings.count() == 5

    # Same answers and rows again: nothing changed, no new version.
    assert post(client, m06, CMAP, FINDINGS, version=1).status_code == 302
    record.refresh_from_db()
    assert record.version == 1

    assert post(client, m06, CMAP, FINDINGS[1:], version=1, complete=True).status_code == 302
    record.refresh_from_db()
    assert record.version == 2 and not record.findings.filter(muscle="biceps").exists()
    assert record.cervical_awaji_lmn is False  # FDI alone
    deleted = EmgMuscleFinding.pgh_event_model.objects.filter(pgh_label="delete")
    assert list(deleted.values_list("muscle", flat=True)) == ["biceps"]


def test_changing_only_a_row_after_completion_needs_a_reason_kept_in_the_audit(
    client_for, coordinator_a, m06
):
    client = client_for(coordinator_a)
    assert post(client, m06, CMAP, FINDINGS, version=0, complete=True).status_code == 302
    changed = rows_with(fibrillations=4)
    refused = post(client, m06, CMAP, changed, version=1, complete=True)
    assert refused.status_code == 400 and "give a reason for the change" in refused.text
    assert EmgMuscleFinding.objects.get(muscle="biceps").fibrillations == 2

    ok = post(client, m06, CMAP, changed, version=1, complete=True, reason="Misread the report")
    assert ok.status_code == 302
    record = Emg.objects.get(visit=m06)
    assert record.version == 2
    biceps = EmgMuscleFinding.objects.get(muscle="biceps")
    assert biceps.fibrillations == 4
    event = biceps.events.order_by("pgh_id").last()
    assert event.pgh_label == "update" and event.fibrillations == 4
    assert event.pgh_context["reason"] == "Misread the report"
    assert event.pgh_context["actor_id"] == coordinator_a.pk
    # Untouched rows were not rewritten: one insert event each, no update.
    fdi = EmgMuscleFinding.objects.get(muscle="fdi")
    assert list(fdi.events.values_list("pgh_label", flat=True)) == ["insert"]


def test_two_people_editing_the_second_save_is_refused_and_the_first_stays(
    client_for, coordinator_a, m06, site_a
):
    assert post(client_for(coordinator_a), m06, CMAP, FINDINGS, version=0).status_code == 302
    # Both open version 1. The investigator saves first: TA now 4+ fibrillations.
    investigator = member(Role.INVESTIGATOR, site_a, "inv")
    other = Client()
    other.force_login(investigator)
    theirs = [*FINDINGS[:3], FINDINGS[3] | {"fibrillations": 4}, FINDINGS[4]]
    assert post(other, m06, CMAP, theirs, version=1).status_code == 302

    # The coordinator, from version 1, changes the median CMAP and adds the deltoid.
    deltoid = {"muscle": "deltoid", "side": "right", **DENERVATED, "recruitment": "reduced"}
    mine = post(
        client_for(coordinator_a),
        m06,
        CMAP | {"cmap_median": "4.8"},
        [*FINDINGS, deltoid],
        version=1,
    )
    assert mine.status_code == 400
    assert "Someone else saved this form" in mine.text and "inv" in mine.text
    conflict = mine.context["conflict"]
    labels = [label for label, _saved, _yours in conflict["changes"]]
    assert "Deltoid, right" in labels and "Tibialis anterior, left" in labels
    record = Emg.objects.get(visit=m06)
    assert record.version == 2 and str(record.cmap_median) == "5.20"  # the first save stands
    assert EmgMuscleFinding.objects.get(muscle="ta").fibrillations == 4
    assert not EmgMuscleFinding.objects.filter(muscle="deltoid").exists()
    assert 'value="4.8"' in mine.text  # my input is still on the page
    assert 'name="version" value="2"' in mine.text

    # Saving again is a deliberate overwrite with my rows.
    assert (
        post(
            client_for(coordinator_a),
            m06,
            CMAP | {"cmap_median": "4.8"},
            [*FINDINGS, deltoid],
            version=2,
        ).status_code
        == 302
    )
    record.refresh_from_db()
    assert str(record.cmap_median) == "4.80" and record.findings.count() == 6
    assert EmgMuscleFinding.objects.get(muscle="ta").fibrillations == 2


def test_completion_needs_the_visit_date(client_for, coordinator_a, site_a, trial, frozen):
    from tests.factories import transplanted_participant

    participant = transplanted_participant(coordinator_a, site_a, trial, on=TX_DAY)
    visit = participant.visits.get(code="M12")  # no date recorded yet
    response = post(client_for(coordinator_a), visit, CMAP, FINDINGS, version=0, complete=True)
    assert response.status_code == 400
    assert "record the visit date before saving its forms" in response.text
    assert not Emg.objects.exists()


def test_a_service_save_without_rows_leaves_them_and_scores_from_the_stored_ones(
    client_for, coordinator_a, m06
):
    """save_form(children=None), e.g. from a script: the stored rows stay and still count."""
    from crfs.entry import save_form

    assert post(client_for(coordinator_a), m06, CMAP, FINDINGS, version=0).status_code == 302
    record = save_form(
        record_class=Emg,
        visit=m06,
        user=coordinator_a,
        answers={"cmap_median": Decimal("3.00")},
        expected_version=1,
        complete=False,
    )
    record.refresh_from_db()
    assert record.version == 2 and record.findings.count() == len(FINDINGS)
    assert_summary_stored(record, FINDINGS)
    assert record.cervical_awaji_lmn is True


# --- the needle examination: at least one muscle row, or the reason it is missing ----------

NO_MUSCLE = "Enter the findings of at least one muscle, or give the reason the needle"
MUSCLES_AND_REASON = "Muscle findings are entered: remove them or the reason"


def service_save(user, visit, *, rows=None, missing=None, complete=True, **answers):
    """save_form as a script would call it: Decimal answers, rows keyed by their label."""
    from crfs.emg.models import finding_label
    from crfs.entry import save_form

    current = Emg.objects.filter(visit=visit).first()
    return save_form(
        record_class=Emg,
        visit=visit,
        user=user,
        answers={k: Decimal(v) for k, v in CMAP.items()} | answers,
        missing_reasons=missing,
        expected_version=current.version if current else 0,
        complete=complete,
        children=None if rows is None else {finding_label(r["muscle"], r["side"]): r for r in rows},
    )


def test_the_page_offers_a_reason_for_a_missing_needle_examination(client_for, coordinator_a, m06):
    html = client_for(coordinator_a).get(url(m06)).text
    assert 'name="needle_muscles__missing"' in html
    assert '<label class="form-label small mb-0" for="id_needle_muscles__missing">' in html
    assert "Needle examination missing because" in html
    assert PageForm.read(html)["needle_muscles__missing"] == ""


def test_completing_without_any_muscle_or_reason_is_refused_on_the_page(
    client_for, coordinator_a, m06
):
    client = client_for(coordinator_a)
    assert post(client, m06, CMAP, version=0).status_code == 302  # a partial save may
    record = Emg.objects.get(visit=m06)
    assert (record.status, record.version, record.needle_muscles) == ("in_progress", 1, None)

    refused = post(client, m06, CMAP, version=1, complete=True)
    assert refused.status_code == 400
    form = refused.context["form"]
    assert NO_MUSCLE in " ".join(form.errors["needle_muscles__missing"])
    assert NO_MUSCLE in refused.text and "is-invalid" in refused.text
    record.refresh_from_db()
    assert (record.status, record.version) == ("in_progress", 1)
    assert not record.findings.exists()


def test_a_script_completing_without_any_muscle_or_reason_is_refused(coordinator_a, m06):
    from django.core.exceptions import ValidationError

    service_save(coordinator_a, m06, complete=False)
    with pytest.raises(ValidationError) as refused:
        service_save(coordinator_a, m06, rows=[])
    assert NO_MUSCLE in " ".join(refused.value.message_dict["needle_muscles"])
    record = Emg.objects.get(visit=m06)
    assert (record.status, record.version) == ("in_progress", 1)


def test_a_needle_examination_not_done_completes_with_its_reason(client_for, coordinator_a, m06):
    client = client_for(coordinator_a)
    response = post(
        client, m06, CMAP, version=0, complete=True, missing={"needle_muscles": "not_done"}
    )
    assert response.status_code == 302
    record = Emg.objects.get(visit=m06)
    assert record.status == "complete" and record.version == 1
    assert record.missing_reasons == {"needle_muscles": "not_done"}
    assert record.needle_muscles is None and not record.findings.exists()
    assert record.cervical_active is None and record.summary_version == ""

    # The page as shown, posted back unchanged: no new version, no reason for change asked.
    as_shown = PageForm.read(client.get(url(m06)).text)
    as_shown.pop("csrfmiddlewaretoken", None)
    assert as_shown["needle_muscles__missing"] == "not_done"
    assert client.post(url(m06), as_shown).status_code == 302
    record.refresh_from_db()
    assert record.version == 1


def test_muscles_and_a_needle_reason_together_are_refused(client_for, coordinator_a, m06):
    client = client_for(coordinator_a)
    for complete in (False, True):
        refused = post(
            client,
            m06,
            CMAP,
            FINDINGS,
            version=0,
            complete=complete,
            missing={"needle_muscles": "not_done"},
        )
        assert refused.status_code == 400
        assert MUSCLES_AND_REASON in " ".join(
            refused.context["form"].errors["needle_muscles__missing"]
        )
    assert not Emg.objects.exists() and not EmgMuscleFinding.objects.exists()


def test_a_script_giving_muscles_and_a_needle_reason_is_refused(coordinator_a, m06):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as refused:
        service_save(coordinator_a, m06, rows=FINDINGS, missing={"needle_muscles": "refused"})
    assert MUSCLES_AND_REASON in " ".join(refused.value.message_dict["needle_muscles"])
    assert not Emg.objects.exists() and not EmgMuscleFinding.objects.exists()


def test_the_count_of_muscles_is_stored_and_an_unchanged_page_saves_nothing(
    client_for, coordinator_a, m06
):
    client = client_for(coordinator_a)
    assert post(client, m06, CMAP, FINDINGS, version=0, complete=True).status_code == 302
    record = Emg.objects.get(visit=m06)
    assert record.status == "complete" and record.needle_muscles == len(FINDINGS) == 5
    assert record.missing_reasons == {}

    # The same page again, without a reason for change: accepted, nothing saved.
    again = post(client, m06, CMAP, FINDINGS, version=1, complete=True)
    assert again.status_code == 302
    record.refresh_from_db()
    assert record.version == 1 and record.events.count() == 1

    # One muscle fewer is a change: it needs a reason, then the count follows the rows.
    fewer = post(client, m06, CMAP, FINDINGS[1:], version=1, complete=True)
    assert fewer.status_code == 400 and "give a reason for the change" in fewer.text
    assert (
        post(
            client, m06, CMAP, FINDINGS[1:], version=1, complete=True, reason="Biceps not examined"
        ).status_code
        == 302
    )
    record.refresh_from_db()
    assert (record.version, record.needle_muscles) == (2, 4)


def test_a_script_cannot_store_a_count_other_than_the_rows(coordinator_a, m06):
    record = service_save(coordinator_a, m06, rows=FINDINGS[:2], complete=False, needle_muscles=9)
    record.refresh_from_db()
    assert record.needle_muscles == 2
    # Rows not submitted: the stored rows are counted.
    record = service_save(coordinator_a, m06, complete=False, needle_muscles=None)
    record.refresh_from_db()
    assert (record.needle_muscles, record.findings.count()) == (2, 2)


def test_a_formset_error_is_shown_once_in_the_error_summary(client_for, coordinator_a, m06):
    data = form_data(CMAP, FINDINGS, version=0) | {"finding-TOTAL_FORMS": 2001}  # tampered
    response = client_for(coordinator_a).post(url(m06), data)
    assert response.status_code == 400
    message = "Please submit at most 1000 forms."
    assert response.text.count(message) == 1
    summary = response.text.split('data-testid="error-summary"', 1)[1].split("</div>", 1)[0]
    assert message in summary
    assert not Emg.objects.exists()
