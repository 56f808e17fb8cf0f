"""The cohort view, as an investigator reads it: every number of the change-from-baseline
table and every slope recomputed here from the raw rows (visits, forms, transplantation, end
of study), with missing values of every kind, a partial onset date and out-of-window visits;
site scoping of the page and both CSVs; bad filters; constant query counts."""

from __future__ import annotations

import csv
import io
import statistics
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from crfs.alsfrs_r.models import AlsfrsR
from crfs.fvc.models import Fvc
from participants import services as participant_services
from participants.models import AlsHistory, EndOfStudy, Participant
from reports import cohort
from tests.factories import (
    ALSFRS_NORMAL,
    SCREENING_FVC,
    enrol,
    member,
    register,
    save_crf,
    transplant,
)
from trials.models import Role
from visits.models import Transplantation, Visit
from visits.services import mark_visit_missed, record_visit_date

OLD_TX = date(2024, 1, 10)  # every follow-up due before NOW (10 March 2026)
CODES = [code for code, _m in cohort.TIMEPOINTS]


@pytest.fixture
def investigator_a(site_a):
    return member(Role.INVESTIGATOR, site_a, "investigator_a")


@pytest.fixture
def data_manager_a(site_a):
    return member(Role.DATA_MANAGER, site_a, "dm_a")


def person(actor, site, trial, tx_on: date, *, name: str, **history):
    """Registered 40 days and enrolled 35 days before the transplantation, baseline dated a
    week before it (as tests.factories.transplanted_participant, with an ALS history of
    its own)."""
    participant = register(
        actor, site, trial, screened_on=tx_on - timedelta(days=40), name=name, **history
    )
    participant = enrol(actor, participant, tx_on - timedelta(days=35))
    record_visit_date(
        actor=actor, visit=participant.visits.get(code="BL"), actual_date=tx_on - timedelta(days=7)
    )
    transplant(actor, participant, tx_on)
    participant.refresh_from_db()
    return participant


def visit(participant, code: str) -> Visit:
    return participant.visits.get(code=code, sequence=0)


def dated(actor, participant, code: str, days_from_target: int = 0) -> Visit:
    v = visit(participant, code)
    return record_visit_date(
        actor=actor, visit=v, actual_date=v.target_date + timedelta(days=days_from_target)
    )


def alsfrs(actor, v: Visit, lost: int, **changes):
    """An ALSFRS-R whose total is 48 - `lost` (points taken from the walking-first items)."""
    answers = dict(ALSFRS_NORMAL)
    for field in ("q8_walking", "q9_climbing_stairs", "q7_turning_in_bed", "q4_handwriting"):
        take = min(lost, 4)
        answers[field] -= take
        lost -= take
    answers |= changes
    return answers


def save_alsfrs(actor, v: Visit, lost: int, *, complete: bool = True, missing=None, **changes):
    from crfs.entry import save_form

    return save_form(
        record_class=AlsfrsR,
        visit=v,
        user=actor,
        answers=alsfrs(actor, v, lost, **changes),
        missing_reasons=missing,
        expected_version=0,
        complete=complete,
    )


def fvc(litres: str) -> dict:
    best = Decimal(litres)
    return SCREENING_FVC | {
        "trial_1_litres": best - Decimal("0.07"),
        "trial_2_litres": best,
        "trial_3_litres": best - Decimal("0.04"),
    }


@pytest.fixture
def study(frozen, coordinator_a, coordinator_b, site_a, site_b, trial):
    """Site A: six transplanted participants with every kind of missing value; site B: one."""
    c = coordinator_a
    people = {}

    # P1: partial (month) onset; M12 out of window; M18 missed; M24's ALSFRS-R not done
    # (one item with a missing-data reason), its FVC not entered.
    p1 = people["p1"] = person(c, site_a, trial, OLD_TX, name="P One")
    save_alsfrs(c, visit(p1, "BL"), 6)
    save_crf(c, visit(p1, "BL"), Fvc, fvc("2.65"))
    save_alsfrs(c, dated(c, p1, "M06", -3), 9)
    save_crf(c, visit(p1, "M06"), Fvc, fvc("2.50"))
    save_alsfrs(c, dated(c, p1, "M12", 35), 13)
    save_crf(c, visit(p1, "M12"), Fvc, fvc("2.30"))
    mark_visit_missed(actor=c, visit=visit(p1, "M18"), reason="In hospital")
    save_alsfrs(
        c,
        dated(c, p1, "M24", 2),
        16,
        missing={"q9_climbing_stairs": "not_done"},
        q9_climbing_stairs=None,
    )

    # P2: onset known to the day, in an upper limb; M06's ALSFRS-R in progress without the total;
    # M12 done; withdrawn afterwards without follow-up (M18, M24 not expected).
    p2 = people["p2"] = person(
        c,
        site_a,
        trial,
        OLD_TX,
        name="P Two",
        onset_date=date(2022, 6, 20),
        onset_precision="day",
        onset_region="upper_limb",
    )
    save_alsfrs(c, visit(p2, "BL"), 4)
    save_crf(c, visit(p2, "BL"), Fvc, fvc("2.70"))
    save_alsfrs(c, dated(c, p2, "M06", 10), 6, complete=False, q1_speech=None)
    save_crf(c, visit(p2, "M06"), Fvc, fvc("2.60"))
    save_alsfrs(c, dated(c, p2, "M12", -20), 7)
    participant_services.change_status(
        actor=c,
        participant=p2,
        to_status="withdrawn",
        effective_date=visit(p2, "M12").actual_date + timedelta(days=20),
        reason="Moved away",
        details={"withdrawn_by": "participant", "follow_up_allowed": False},
    )

    # P3: transplanted 1 Aug 2025; M06 (window 4 Jan - 1 Mar 2026) overdue.
    p3 = people["p3"] = person(c, site_a, trial, date(2025, 8, 1), name="P Three")
    save_alsfrs(c, visit(p3, "BL"), 10)

    # P4: transplanted 1 Sep 2025; no baseline ALSFRS-R; M06 (window from 1 Feb 2026) done
    # early in its window: a value without a baseline.
    p4 = people["p4"] = person(c, site_a, trial, date(2025, 9, 1), name="P Four")
    save_crf(c, visit(p4, "BL"), Fvc, fvc("2.40"))
    save_alsfrs(c, dated(c, p4, "M06", -20), 12)

    # P5: transplanted 1 Nov 2025: one value, no slope; M06 not yet due.
    p5 = people["p5"] = person(c, site_a, trial, date(2025, 11, 1), name="P Five")
    save_alsfrs(c, visit(p5, "BL"), 3)

    # P6: died after M06.
    p6 = people["p6"] = person(c, site_a, trial, OLD_TX, name="P Six")
    save_alsfrs(c, visit(p6, "BL"), 20)
    save_alsfrs(c, dated(c, p6, "M06"), 27)
    participant_services.change_status(
        actor=c,
        participant=p6,
        to_status="died",
        effective_date=visit(p6, "M06").actual_date + timedelta(days=30),
        reason="Respiratory failure",
        details={"death_cause": "Respiratory failure", "death_als_related": "yes"},
    )

    # Site B: never seen by site A's users.
    pb = people["b"] = person(coordinator_b, site_b, trial, OLD_TX, name="P Bee")
    save_alsfrs(coordinator_b, visit(pb, "BL"), 1)
    save_alsfrs(coordinator_b, dated(coordinator_b, pb, "M06"), 30)
    return people


# --- the independent computation ---------------------------------------------------------

MONTH_DAYS = 30.4375


def _reason(v: Visit | None, record, value, end: EndOfStudy | None, today: date) -> str:
    if v is None:
        return "no_visit"
    if v.actual_date is not None and value is not None:
        return "present"
    if v.status == "missed":
        return "visit_missed"
    if v.status == "not_expected":
        return f"ended_{end.outcome}" if end else "not_expected"
    if v.actual_date is None:
        if v.window_end < today:
            return "overdue"
        return "window_open" if v.window_start <= today else "not_yet_due"
    if record is None:
        return "form_not_entered"
    given = set(record.missing_reasons.values())
    for r in ("not_done", "refused", "unknown", "not_applicable"):
        if r in given:
            return f"form_{r}"
    return "form_incomplete" if record.status == "in_progress" else "not_derived"


def raw_cohort(sites) -> dict:
    """{participant id: {"study_id", "tx", "dfs", "obs": {(outcome, code): (value, months,
    oow, reason)}}} from the rows, with plain Python."""
    out = {}
    for p in Participant.objects.filter(site__in=sites):
        tx = Transplantation.objects.filter(participant=p).first()
        if tx is None:
            continue
        end = EndOfStudy.objects.filter(participant=p).first()
        today = p.site.local_today()
        obs = {}
        for code in CODES:
            v = Visit.objects.filter(participant=p, code=code, sequence=0).first()
            for outcome, model, attr in (
                ("alsfrs_r", AlsfrsR, "total"),
                ("fvc", Fvc, "percent_predicted"),
            ):
                record = model.objects.filter(visit=v).first() if v else None
                value = getattr(record, attr) if record else None
                value = float(value) if value is not None and v.actual_date else None
                months = (
                    (v.actual_date - tx.performed_on).days / MONTH_DAYS
                    if v and v.actual_date
                    else None
                )
                oow = bool(
                    v and v.actual_date and not (v.window_start <= v.actual_date <= v.window_end)
                )
                obs[(outcome, code)] = (value, months, oow, _reason(v, record, value, end, today))
        out[p.pk] = {"study_id": p.study_id, "obs": obs, "participant": p}
    return out


def ols(xs: list[float], ys: list[float]) -> float | None:
    if len(xs) < 2:
        return None
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    sxx = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sxx


def quartiles(values: list[float]) -> tuple[float, float, float]:
    if len(values) == 1:
        return values[0], values[0], values[0]
    q1, q2, q3 = statistics.quantiles(values, n=4, method="inclusive")
    return q1, q2, q3


def close(a, b, tol=1e-6) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return abs(float(a) - float(b)) <= tol


def expected_table(raw: dict) -> dict:
    table = {}
    for outcome in ("alsfrs_r", "fvc"):
        for code in CODES:
            stats_of, missing, values, oow = [], {}, [], 0
            for person_ in raw.values():
                value, _months, out, reason = person_["obs"][(outcome, code)]
                if value is not None:
                    values.append(value)
                base = person_["obs"][(outcome, "BL")][0]
                if code != "BL" and reason == "present" and base is None:
                    reason = "no_baseline"
                if reason == "present":
                    stats_of.append(value if code == "BL" else value - base)
                    oow += out
                else:
                    missing[reason] = missing.get(reason, 0) + 1
            row = {"n": len(stats_of), "missing": missing, "oow": oow, "value_n": len(values)}
            if stats_of:
                q1, med, q3 = quartiles(stats_of)
                row |= {
                    "mean": statistics.fmean(stats_of),
                    "sd": statistics.stdev(stats_of) if len(stats_of) > 1 else None,
                    "median": med,
                    "q1": q1,
                    "q3": q3,
                }
            if values:
                row["value_mean"] = statistics.fmean(values)
                row["value_se"] = (
                    statistics.stdev(values) / len(values) ** 0.5 if len(values) > 1 else None
                )
            table[(outcome, code)] = row
    return table


def delta_fs_from_rows(participant) -> float | None:
    """(48 - baseline total) / months from onset (a partial onset at mid-period)."""
    record = AlsfrsR.objects.filter(visit__participant=participant, visit__code="BL").first()
    if record is None or record.total is None:
        return None
    history = AlsHistory.objects.get(participant=participant)
    onset = history.onset_date
    if history.onset_precision == "month":
        onset = onset.replace(day=15)
    elif history.onset_precision == "year":
        onset = date(onset.year, 7, 1)
    months = (record.visit.actual_date - onset).days / MONTH_DAYS
    return (48 - record.total) / months


# --- stories -----------------------------------------------------------------------------


def test_every_number_of_the_table_and_the_slopes_matches_the_raw_rows(study, site_a):
    raw = raw_cohort([site_a])
    flt = cohort.CohortFilter(sites=[site_a])
    table = {(s.outcome.key, s.code): s for s in cohort.change_table(flt)}
    expected = expected_table(raw)
    for key, want in expected.items():
        got = table[key]
        assert got.n == want["n"], key
        assert got.missing == want["missing"], key
        assert got.n + got.missing_total == len(raw), key  # everyone counted once
        assert got.out_of_window == want["oow"], key
        for name in ("mean", "sd", "median", "q1", "q3"):
            assert close(getattr(got, name), want.get(name)), (key, name)
        assert got.value_n == want["value_n"], key
        assert close(got.value_mean, want.get("value_mean")), key
        assert close(got.value_se, want.get("value_se")), key

    # The story's missing values, by name, so the rules above are not only mirrored.
    alsfrs = {code: table[("alsfrs_r", code)].missing for code in CODES}
    assert alsfrs["BL"] == {"form_not_entered": 1}  # P4
    assert alsfrs["M06"] == {
        "form_incomplete": 1,  # P2
        "overdue": 1,  # P3
        "no_baseline": 1,  # P4
        "not_yet_due": 1,  # P5
    }
    assert alsfrs["M18"]["visit_missed"] == 1 and alsfrs["M18"]["ended_withdrawn"] == 1
    assert alsfrs["M18"]["ended_died"] == 1
    assert alsfrs["M24"]["form_not_done"] == 1  # P1
    assert table[("fvc", "M24")].missing["form_not_entered"] == 1  # P1 at M24
    assert table[("alsfrs_r", "M12")].out_of_window == 1  # P1 at M12

    rows = cohort.participant_slopes(flt)
    slopes = {s.participant_id: s for s, _visits in rows}
    assert set(slopes) == set(raw)
    for s, visits in rows:
        for code in CODES:
            alsfrs_value, months, oow, _r = raw[s.participant_id]["obs"][("alsfrs_r", code)]
            fvc_value = raw[s.participant_id]["obs"][("fvc", code)][0]
            got = visits.get(code)
            if months is None:
                assert got is None, (s.study_id, code)
                continue
            assert got is not None and close(got.months, months), (s.study_id, code)
            assert close(got.alsfrs_r, alsfrs_value) and close(got.fvc, fvc_value)
            assert got.out_of_window == oow
    for pid, person_ in raw.items():
        for outcome, slope, n in (
            ("alsfrs_r", slopes[pid].alsfrs_slope, slopes[pid].alsfrs_points),
            ("fvc", slopes[pid].fvc_slope, slopes[pid].fvc_points),
        ):
            pts = [
                (months, value)
                for (o, _code), (value, months, _oow, _r) in person_["obs"].items()
                if o == outcome and value is not None
            ]
            assert n == len(pts)
            assert close(slope, ols([m for m, _ in pts], [v for _, v in pts]), 1e-9), (pid, outcome)
        assert close(slopes[pid].delta_fs, delta_fs_from_rows(person_["participant"]), 1e-3)
    p1, p2, p5 = study["p1"], study["p2"], study["p5"]
    assert slopes[p1.pk].delta_fs_imputed is True and slopes[p2.pk].delta_fs_imputed is False
    assert slopes[p5.pk].alsfrs_slope is None and slopes[p5.pk].alsfrs_points == 1
    assert slopes[p1.pk].alsfrs_points == 3  # BL, M06, M12 (M18 missed, M24 has no total)
    assert slopes[p1.pk].alsfrs_loss_rate == -slopes[p1.pk].alsfrs_slope > 0


def test_investigator_and_data_manager_read_the_page_and_csvs_of_their_own_sites_only(
    study, client_for, investigator_a, data_manager_a, site_a, site_b
):
    client = client_for(investigator_a)
    page = client.get(reverse("reports-cohort"))
    assert page.status_code == 200
    text = page.text
    for own in ("p1", "p2", "p5"):
        assert study[own].study_id in text
    assert study["b"].study_id not in text
    assert "P One" not in text and "1234567890" not in text  # study IDs only
    assert "Months from transplantation" in text and "ALSFRS-R total (points, 0-48)" in text
    assert "Pre-treatment ΔFS (points lost per month)" in text
    assert "no slope" in text  # P5 is listed without one
    # A study ID opens the participant's page (and its trajectory).
    assert reverse("participant-detail", args=[site_a.code, study["p1"].pk]) in text
    assert text.count("<svg") == 3

    table_csv = client.get(reverse("reports-cohort-csv"))
    assert table_csv.status_code == 200
    rows = list(csv.DictReader(io.StringIO(table_csv.content.decode("utf-8-sig"))))
    flt = cohort.CohortFilter(sites=[site_a])
    summaries = {(s.outcome.key, s.code): s for s in cohort.change_table(flt)}
    assert len(rows) == len(summaries) == 10
    for row in rows:
        s = summaries[(row["outcome"], row["visit"])]
        assert int(row["n"]) == s.n and int(row["missing"]) == s.missing_total
        assert close(row["mean"] or None, s.mean, 1e-4) and close(row["q3"] or None, s.q3, 1e-4)
        for key, _label in cohort.MISSING_REASONS:
            assert int(row[f"missing_{key}"]) == s.missing.get(key, 0)

    people_csv = client.get(reverse("reports-cohort-participants-csv"))
    listed = list(csv.DictReader(io.StringIO(people_csv.content.decode("utf-8-sig"))))
    assert {r["study_id"] for r in listed} == {
        study[k].study_id for k in ("p1", "p2", "p3", "p4", "p5", "p6")
    }
    p1 = next(r for r in listed if r["study_id"] == study["p1"].study_id)
    assert p1["m18_alsfrs_r"] == "" and p1["m12_out_of_window"] == "1"
    assert float(p1["bl_alsfrs_r"]) == 42.0 and p1["site"] == "ISF"

    # A data manager narrows the cohort; values outside the choices are form errors.
    client = client_for(data_manager_a)
    arm = client.get(reverse("reports-cohort"), {"onset_region": "upper_limb"})
    assert arm.context["cohort_size"] == 1 and study["p2"].study_id in arm.text
    assert study["p1"].study_id not in arm.text

    p5_stage = AlsfrsR.objects.get(visit__participant=study["p5"], visit__code="BL").kings_stage
    staged = client.get(reverse("reports-cohort"), {"kings_stage": p5_stage})
    assert study["p5"].study_id in staged.text
    not_staged = client.get(reverse("reports-cohort"), {"kings_stage": "none"})
    assert not_staged.context["cohort_size"] == 1  # P4: no baseline ALSFRS-R

    for bad in ({"site": site_b.code}, {"kings_stage": "9"}, {"onset_region": "<x>"}):
        page = client.get(reverse("reports-cohort"), bad)
        assert page.status_code == 200 and page.context["form"].errors
        assert "table" not in page.context
        assert client.get(reverse("reports-cohort-csv"), bad).status_code == 400
        assert client.get(reverse("reports-cohort-participants-csv"), bad).status_code == 400

    # Text a spreadsheet would run is quoted; numbers, negative slopes included, stay numbers.
    Participant.objects.filter(pk=study["p1"].pk).update(study_id="=HYPERLINK(1)")
    text = client.get(reverse("reports-cohort-participants-csv")).content.decode("utf-8-sig")
    assert "'=HYPERLINK(1)" in text
    assert any(cell.startswith("-0.") for cell in text.replace("\n", ",").split(","))


def test_roles_without_the_export_right_are_refused(client_for, coordinator_a, monitor_a):
    for user in (coordinator_a, monitor_a):
        assert client_for(user).get(reverse("reports-cohort")).status_code == 403
        assert client_for(user).get(reverse("reports-cohort-csv")).status_code == 403


def _transplanted(n: int, coordinator, site, trial, start: int):
    for i in range(n):
        p = person(coordinator, site, trial, OLD_TX, name=f"Count {start + i}")
        save_alsfrs(coordinator, visit(p, "BL"), i % 10)
        save_alsfrs(coordinator, dated(coordinator, p, "M06"), i % 10 + 3)


def _queries(client, name: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(reverse(name)).status_code == 200
    return len(ctx.captured_queries)


def test_page_and_csvs_answer_in_the_same_number_of_queries_for_3_and_12_people(
    frozen, coordinator_a, investigator_a, site_a, trial, client_for, monkeypatch
):
    client = client_for(investigator_a)
    names = ("reports-cohort", "reports-cohort-csv", "reports-cohort-participants-csv")
    _transplanted(3, coordinator_a, site_a, trial, 0)
    small = {name: _queries(client, name) for name in names}
    _transplanted(9, coordinator_a, site_a, trial, 3)
    large = {name: _queries(client, name) for name in names}
    assert large == small
    # Beyond the drawing limit (lines, scatter and list left out) the same queries are made.
    monkeypatch.setattr(cohort, "DRAW_LIMIT", 5)
    assert _queries(client, "reports-cohort") == small["reports-cohort"]


def test_above_the_drawing_limit_the_page_says_only_the_mean_is_drawn(
    frozen, coordinator_a, investigator_a, site_a, trial, client_for, monkeypatch
):
    """Above DRAW_LIMIT the spaghetti, the scatter and the per-participant table are left
    out; the page says so in plain words (not only in a chart note), the charts' titles do
    not promise a line per participant, and the participants' CSV still has everyone."""
    client = client_for(investigator_a)
    _transplanted(4, coordinator_a, site_a, trial, 0)
    ids = list(Participant.objects.values_list("study_id", flat=True))

    monkeypatch.setattr(cohort, "DRAW_LIMIT", 10)
    drawn = client.get(reverse("reports-cohort"))
    assert 'id="cohort-summary-only"' not in drawn.text
    assert all(study_id in drawn.text for study_id in ids)
    assert drawn.context["scatter"] is not None and drawn.context["slopes"] is not None

    monkeypatch.setattr(cohort, "DRAW_LIMIT", 3)
    page = client.get(reverse("reports-cohort"))
    assert page.status_code == 200
    assert 'id="cohort-summary-only"' in page.text
    assert "4 participants are more than the 3 drawn one by one" in page.text
    assert "only the mean ± SE per visit" in page.text
    assert page.context["scatter"] is None and page.context["slopes"] is None
    assert 'id="cohort-slopes"' not in page.text
    for chart in page.context["trajectories"]:
        assert "no line per participant" in str(chart.title)
        assert "per participant and mean" not in str(chart.title)
    # No participant is named anywhere on the page (no line, no point, no row of theirs).
    assert not any(study_id in page.text for study_id in ids)
    # The summary above the limit is summed in SQL: the same as from the listed slopes.
    sql = page.context["summary"]
    listed = cohort.slope_summary(
        [s for s, _visits in cohort.participant_slopes(cohort.CohortFilter(sites=[site_a]))]
    )
    assert (sql.participants, sql.with_slope, sql.compared, sql.slower) == (
        listed.participants,
        listed.with_slope,
        listed.compared,
        listed.slower,
    )
    assert sql.participants == 4 and sql.with_slope == 4
    for mean in ("mean_loss_rate", "mean_delta_fs"):
        assert (getattr(sql, mean) is None) == (getattr(listed, mean) is None)
        if getattr(listed, mean) is not None:
            assert getattr(sql, mean) == pytest.approx(getattr(listed, mean), abs=1e-9)
    text = client.get(reverse("reports-cohort-participants-csv")).content.decode("utf-8-sig")
    assert all(study_id in text for study_id in ids)
