"""seed_demo: synthetic participants made through the entry services, deterministic per seed."""

from __future__ import annotations

import csv
import io
import zipfile

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, connections, transaction

from crfs import registry
from crfs.alsfrs_r.models import AlsfrsR
from crfs.emg.models import Emg, EmgMuscleFinding
from crfs.fvc import scoring as fvc
from crfs.fvc.models import Fvc
from crfs.qol.models import Alsaq40, Seiqol
from crfs.vitals.models import Vitals
from demo import seed as demo_seed
from demo.seed import SYNTHETIC_ID_PREFIX, person_seeds, seed_slice_committing
from exports.bundle import build_bundle
from exports.options import FORMATS, PARTICIPANTS_TABLE, ExportOptions
from exports.tables import visit_codelist
from participants.choices import ParticipantStatus
from participants.models import Participant
from safety.models import VisitSafetyReview
from tests.factories import SiteFactory, member
from trials.models import Role
from visits.choices import VisitStatus
from visits.models import Visit

pytestmark = pytest.mark.django_db


def seed(site_code: str, n: int, seed: int, **options) -> None:
    call_command("seed_demo", participants=n, seed=seed, site=site_code, force=True, **options)


def scores(site_code: str) -> list[tuple]:
    """Per person (in the order made) and visit: ALSFRS-R total, FVC best, weight, the EMG
    (amplitudes, muscle rows, region summary, MUNIX), ALSAQ-40 and SEIQoL-DW, and the adverse
    events, medications and safety review reported at the visit."""
    people = Participant.objects.filter(site__code=site_code).order_by("identity__national_id")
    rows = []
    for participant in people:
        for visit in participant.visits.order_by("position", "sequence"):
            alsfrs = AlsfrsR.objects.filter(visit=visit).first()
            spirometry = Fvc.objects.filter(visit=visit).first()
            vitals = Vitals.objects.filter(visit=visit).first()
            emg = Emg.objects.filter(visit=visit).first()
            alsaq = Alsaq40.objects.filter(visit=visit).first()
            seiqol = Seiqol.objects.filter(visit=visit).first()
            rows.append(
                (
                    participant.identity.full_name,
                    participant.status,
                    visit.code,
                    visit.actual_date,
                    visit.status,
                    alsfrs and alsfrs.total,
                    spirometry and spirometry.best_litres,
                    spirometry and spirometry.percent_predicted,
                    vitals and vitals.weight_kg,
                    emg and (emg.status, emg.missing_reasons, emg.cmap_median, emg.munix_sum),
                    emg and tuple(sorted(emg.saved_children().items())),
                    emg and (emg.cervical_awaji_lmn, emg.lumbosacral_awaji_lmn),
                    alsaq and (alsaq.status, alsaq.missing_reasons, alsaq.summary_index),
                    seiqol and (seiqol.status, seiqol.cue_1_name, seiqol.index),
                    tuple(
                        visit.adverse_events.order_by("number").values_list(
                            "number",
                            "term_code",
                            "verbatim_term",
                            "onset_date",
                            "end_date",
                            "grade",
                            "serious",
                            "related_procedure",
                            "outcome",
                            "status",
                            "assessments__related_cells",
                        )
                    ),
                    tuple(
                        visit.conmeds.order_by("start_date", "other_name").values_list(
                            "medication", "other_name", "dose", "start_date", "stop_date"
                        )
                    ),
                    VisitSafetyReview.objects.filter(visit=visit)
                    .values_list("no_adverse_events", "no_conmed_changes")
                    .first(),
                )
            )
    return rows


@pytest.fixture
def sites(frozen, site_a, site_b, coordinator_a, coordinator_b, trial):
    return site_a, site_b


def test_same_seed_gives_the_same_people_and_scores(sites):
    seed("ISF", 12, 7)
    seed("THR", 12, 7)
    first, second = scores("ISF"), scores("THR")
    assert first == second
    assert any(row[5] is not None for row in first)
    assert any(row[-3] for row in first), "adverse events are part of the comparison"
    assert any(row[-2] for row in first) and any(row[-1] for row in first)


def test_another_seed_gives_other_people(sites):
    seed("ISF", 12, 7)
    seed("THR", 12, 8)
    assert scores("ISF") != scores("THR")


def test_creates_scored_records_through_the_services(sites):
    seed("ISF", 30, 1)
    people = Participant.objects.filter(site__code="ISF")
    assert people.count() == 30
    assert all(
        national_id.startswith(SYNTHETIC_ID_PREFIX)
        for national_id in people.values_list("identity__national_id", flat=True)
    )
    statuses = set(people.values_list("status", flat=True))
    assert {"screen_failed", "transplanted"} <= statuses or "completed" in statuses

    totals = list(AlsfrsR.objects.filter(status="complete").values_list("total", flat=True))
    assert totals and all(0 <= t <= 48 for t in totals if t is not None)
    complete_fvc = Fvc.objects.filter(status="complete", best_litres__isnull=False)
    assert complete_fvc.exists()
    for record in complete_fvc.select_related("visit__participant__demographics")[:10]:
        demographics = record.visit.participant.demographics
        reference = fvc.predict(
            record.best_litres,
            sex=demographics.sex,
            age_years=fvc.age_at(demographics.date_of_birth, record.visit.actual_date),
            height_cm=float(demographics.height_cm),
        )
        assert record.equation == "GLI Global 2022"
        assert record.percent_predicted == pytest.approx(reference.percent_predicted, abs=0.005)
    assert Vitals.objects.filter(bmi__isnull=False).exists()
    assert Vitals.objects.filter(weight_change_percent__isnull=False).exists()
    # Dates are in the past at the site, every dated visit has its forms' visit date.
    today = people.first().site.local_today()
    assert not Visit.objects.filter(actual_date__gt=today).exists()


def test_a_larger_run_has_missed_out_of_window_visits_and_partial_forms(sites):
    seed("ISF", 60, 3)
    visits = Visit.objects.filter(participant__site__code="ISF")
    assert visits.filter(status=VisitStatus.MISSED).exclude(missed_reason="").exists()
    assert visits.filter(status=VisitStatus.DONE_OUT_OF_WINDOW).exists()
    assert (
        AlsfrsR.objects.filter(status="in_progress").exists()
        or Fvc.objects.filter(status="in_progress").exists()
        or Vitals.objects.filter(status="in_progress").exists()
    )
    # ALSFRS-R declines over time for a transplanted participant followed to month 12+.
    declines = []
    for participant in Participant.objects.filter(
        site__code="ISF", visits__code="M12", visits__actual_date__isnull=False
    ):
        by_code = dict(
            AlsfrsR.objects.filter(visit__participant=participant, total__isnull=False).values_list(
                "visit__code", "total"
            )
        )
        if "BL" in by_code and "M12" in by_code:
            declines.append(by_code["BL"] - by_code["M12"])
    assert declines and sum(declines) / len(declines) > 3


EXPECTING_EMG_AND_QOL = ("BL", "M06", "M12", "M18", "M24")  # the protocol's OUTCOMES visits


def test_every_outcome_the_protocol_expects_at_plausible_rates(sites):
    """EMG (with needle-EMG muscle rows), ALSAQ-40 and SEIQoL-DW for synthetic people at most
    of the dated visits that expect them, not all: some never entered, some in progress,
    some complete with answers missing for a reason; complete ones carry their scores."""
    seed("ISF", 80, 5)
    dated = Visit.objects.filter(
        participant__site__code="ISF", code__in=EXPECTING_EMG_AND_QOL, actual_date__isnull=False
    )
    assert dated.count() > 50
    assert not Emg.objects.exclude(visit__code__in=EXPECTING_EMG_AND_QOL).exists()
    for model in (Emg, Alsaq40, Seiqol):
        records = model.objects.filter(visit__in=dated)
        assert records.count() == model.objects.count(), "only at dated visits expecting it"
        share = records.count() / dated.count()
        assert 0.75 <= share < 1, (model.form_code, share)
        assert records.filter(status="in_progress").exists(), model.form_code
        complete = records.filter(status="complete")
        assert complete.exclude(missing_reasons={}).exists(), model.form_code
        assert complete.filter(missing_reasons={}).count() > 0.7 * records.count()

    emgs = Emg.objects.filter(status="complete", missing_reasons={})
    for emg in emgs:
        assert emg.needle_muscles == emg.findings.count() >= 6
        assert emg.study_date == emg.visit.actual_date and emg.summary_version
        assert emg.cervical_awaji_lmn is not None and emg.lumbosacral_awaji_lmn is not None
    assert emgs.filter(munix_sum__isnull=False).exists()
    assert emgs.filter(munix_sum__isnull=True).exists()
    assert EmgMuscleFinding.objects.filter(mup="neurogenic").exists()
    assert EmgMuscleFinding.objects.filter(mup="normal").exists()
    refused = Emg.objects.filter(status="complete", missing_reasons__needle_muscles="refused")
    assert refused.exists() and not EmgMuscleFinding.objects.filter(emg__in=refused).exists()
    for alsaq in Alsaq40.objects.filter(status="complete", missing_reasons={}):
        assert alsaq.summary_index is not None and alsaq.alsaq5_total is not None
    for seiqol in Seiqol.objects.filter(status="complete", missing_reasons={}):
        assert seiqol.index is not None and seiqol.weight_sum == pytest.approx(100)


def test_emg_and_quality_of_life_follow_the_alsfrs_r(sites):
    """The weaker the person (lower ALSFRS-R at the same visit), the worse their ALSAQ-40,
    the more denervated muscles and the smaller the leg CMAPs."""
    seed("ISF", 80, 5)
    by_total = []
    for alsaq in Alsaq40.objects.filter(summary_index__isnull=False):
        alsfrs = AlsfrsR.objects.filter(visit=alsaq.visit_id, total__isnull=False).first()
        emg = Emg.objects.filter(visit=alsaq.visit_id, needle_muscles__isnull=False).first()
        if alsfrs and emg and emg.cmap_peroneal is not None:
            neurogenic = emg.findings.filter(mup="neurogenic").count() / emg.needle_muscles
            by_total.append(
                (alsfrs.total, alsaq.summary_index, neurogenic, float(emg.cmap_peroneal))
            )
    by_total.sort()
    weaker, stronger = by_total[: len(by_total) // 3], by_total[-len(by_total) // 3 :]

    def mean(rows, column):
        return sum(row[column] for row in rows) / len(rows)

    assert len(by_total) > 40
    assert mean(weaker, 1) > mean(stronger, 1) + 10  # ALSAQ-40 summary index, 0 best
    assert mean(weaker, 2) > mean(stronger, 2)  # share of muscles with neurogenic MUPs
    assert mean(weaker, 3) < mean(stronger, 3)  # peroneal CMAP (mV)


def test_a_seed_run_leaves_the_connection_as_it_found_it(sites):
    """Asynchronous commits are for the seeding only: the same connection may go on to save
    real data."""
    seed("ISF", 3, 1)
    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        assert cursor.fetchone()[0] == "on"
    assert connection.features.uses_savepoints is True


@pytest.mark.django_db(transaction=True)
def test_a_committing_worker_leaves_the_connection_as_it_found_it(
    frozen, site_a, coordinator_a, trial, monkeypatch
):
    """A worker's speed-ups (no savepoints, plain cursors, asynchronous commits) end with its
    slice, also when the slice fails; it refuses to run inside a transaction."""
    site = site_a
    demo_seed.demo_consent_version(trial, site.local_today())

    def seed_slice(first: int) -> None:
        seed_slice_committing(
            actor=coordinator_a,
            site=site,
            trial=trial,
            seeds=person_seeds(4, 2, first_number=first),
            today=site.local_today(),
        )

    def assert_as_found() -> None:
        with connection.cursor() as cursor:
            cursor.execute("SHOW synchronous_commit")
            assert cursor.fetchone()[0] == "on"
        assert connection.features.uses_savepoints is True
        assert "make_debug_cursor" not in vars(connections["default"])

    seed_slice(1)
    assert Participant.objects.filter(site=site).count() == 2
    assert_as_found()

    screen = demo_seed.Seeder.screen

    def broken(self, *args, **kwargs):
        screen(self, *args, **kwargs)  # fails halfway through a transaction, after writes
        raise RuntimeError("seeding failed")

    with monkeypatch.context() as patch:
        patch.setattr(demo_seed.Seeder, "screen", broken)
        with pytest.raises(RuntimeError, match="seeding failed"):
            seed_slice(3)
    assert_as_found()
    assert Participant.objects.filter(site=site).count() == 3  # registered, committed alone

    with transaction.atomic(), pytest.raises(RuntimeError, match="outside atomic"):
        seed_slice(5)


def test_if_absent_skips_a_seeded_site(sites):
    seed("ISF", 3, 1)
    seed("ISF", 3, 1, if_absent=True)
    assert Participant.objects.filter(site__code="ISF").count() == 3


def test_refuses_a_site_without_a_coordinator(frozen, trial):
    SiteFactory(code="EMP")
    with pytest.raises(CommandError, match="coordinator"):
        seed("EMP", 1, 1)


def test_other_roles_cannot_be_the_actor(sites):
    member(Role.MONITOR, sites[0], "mon")
    with pytest.raises(CommandError):
        seed("ISF", 1, 1, user="nobody")


def test_large_runs_use_one_worker_per_core_by_default():
    from demo.management.commands.seed_demo import default_jobs

    assert default_jobs(20, cores=2) == 1
    assert default_jobs(999, cores=8) == 1
    assert default_jobs(10_000, cores=2) == 2


@pytest.mark.django_db(transaction=True)
def test_worker_processes_make_the_same_people_and_scores(sites):
    """Parallel workers commit each person in a few transactions without savepoints; the
    people, their visits and scores are those of a single process."""
    seed("ISF", 6, 3, jobs=1)
    seed("THR", 6, 3, jobs=2)
    single, parallel = scores("ISF"), scores("THR")
    assert sorted(single) == sorted(parallel)
    assert Participant.objects.filter(site__code="THR").count() == 6


def test_seeded_emg_and_quality_of_life_export_in_every_format(sites, tmp_path):
    """What seed_demo makes (rows missing for a reason, forms in progress, needle EMG
    refused) goes through every export format; the CSV carries every record and muscle row."""
    seed("ISF", 30, 2)
    for fmt in FORMATS:
        for deidentify in (False, True):
            options = ExportOptions(
                forms=(PARTICIPANTS_TABLE, *registry.entry_forms()),
                visits=tuple(code for code, _label in visit_codelist().items),
                site_ids=(sites[0].pk,),
                statuses=tuple(ParticipantStatus.values),
                fmt=fmt,
                deidentify=deidentify,
            )
            build_bundle(options, tmp_path / f"{fmt}-{deidentify}.zip", requested_by="tester")
    with zipfile.ZipFile(tmp_path / "csv-False.zip") as bundle:

        def rows(name: str) -> list[dict[str, str]]:
            return list(csv.DictReader(io.StringIO(bundle.read(name).decode("utf-8"))))

        for model, name in ((Emg, "emg"), (Alsaq40, "alsaq40"), (Seiqol, "seiqol")):
            assert len(rows(f"data/{name}.csv")) == model.objects.count() > 0
        assert len(rows("data/emg__findings.csv")) == EmgMuscleFinding.objects.count() > 0


def test_seeding_queues_no_edit_check_per_form_and_runs_them_once(
    sites, monkeypatch, django_capture_on_commit_callbacks
):
    """Thousands of saved forms would each queue their edit checks for the worker; the seeder
    saves without them and the command asks the worker for one run of every check."""
    from queries import tasks

    per_save: list[tuple] = []
    whole_runs: list[bool] = []
    monkeypatch.setattr(tasks.after_record_saved, "delay", lambda *args: per_save.append(args))
    monkeypatch.setattr(tasks.run_all_checks, "delay", lambda: whole_runs.append(True))
    with django_capture_on_commit_callbacks(execute=True):  # as if each person committed
        seed("ISF", 3, seed=5)
    assert Participant.objects.filter(site__code="ISF").count() == 3
    assert per_save == []
    assert whole_runs == [True]
