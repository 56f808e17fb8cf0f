"""ALSFRS-R scoring: worked examples, validation, ΔFS, King's and MiToS stages."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crfs.alsfrs_r import scoring as alsfrs_r
from crfs.alsfrs_r.scoring import Answers, Domain, MitosDomain, PartialDate, Region, ScoreError

NORMAL: dict[str, int | None] = dict.fromkeys(alsfrs_r.ITEM_CODES, 4) | {"5b": None}


def answers(**changes: int | None) -> Answers:
    """All-normal answers with some items changed: answers(q8=3, q5a=None, q5b=2)."""
    values = dict(NORMAL)
    for name, value in changes.items():
        values[name.removeprefix("q")] = value
    return Answers.from_mapping(values)


# --- item data ---------------------------------------------------------------


def test_every_item_has_five_levels_4_to_0_with_short_and_full_wording():
    assert alsfrs_r.ITEM_CODES == (
        "1", "2", "3", "4", "5a", "5b", "6", "7", "8", "9", "10", "11", "12",
    )  # fmt: skip
    for item in alsfrs_r.ITEMS:
        assert [level.score for level in item.levels] == [4, 3, 2, 1, 0]
        for level in item.levels:
            assert level.short and level.text
            assert len(level.short) <= 40
    assert alsfrs_r.ITEMS_BY_CODE["3"].level(0).text.startswith("NPO")
    assert alsfrs_r.ITEMS_BY_CODE["12"].level(0).short == "Invasive ventilation"
    assert alsfrs_r.INSTRUMENT_VERSION == "ALSFRS-R (Cedarbaum 1999)"


# --- validation --------------------------------------------------------------


def test_both_5a_and_5b_refused():
    with pytest.raises(ScoreError) as info:
        answers(q5a=3, q5b=3)
    assert set(info.value.errors) == {"5"}


def test_neither_5a_nor_5b_refused():
    errors = alsfrs_r.validation_errors(NORMAL | {"5a": None})
    assert set(errors) == {"5"}


@pytest.mark.parametrize("bad", [5, -1, "3", 3.0, True, None])
def test_item_must_be_int_0_to_4(bad):
    errors = alsfrs_r.validation_errors(NORMAL | {"7": bad})
    assert set(errors) == {"7"}


def test_unknown_item_refused():
    assert "13" in alsfrs_r.validation_errors(NORMAL | {"13": 4})


def test_direct_construction_is_validated_too():
    with pytest.raises(ScoreError):
        Answers(4, 4, 4, 4, None, None, 4, 4, 4, 4, 4, 4, 4)


# --- worked examples -----------------------------------------------------------


def test_all_normal():
    a = answers()
    scores = alsfrs_r.score(a)
    assert scores.total == 48
    assert scores.domains == dict.fromkeys(Domain, 12)
    # No region involved on the form; a diagnosed patient is at least stage 1.
    assert scores.kings.label == "1"
    assert scores.kings.regions == frozenset()
    assert scores.mitos.stage == 0
    assert scores.instrument_version == alsfrs_r.INSTRUMENT_VERSION


def test_upper_limb_onset_is_kings_1():
    # Handwriting 3, cutting food 3: total 48 - 1 - 1 = 46; fine motor 3 + 3 + 4 = 10.
    a = answers(q4=3, q5a=3)
    assert alsfrs_r.total(a) == 46
    assert alsfrs_r.domain_scores(a)[Domain.FINE_MOTOR] == 10
    stage = alsfrs_r.kings_stage(a)
    assert (stage.label, stage.stage, stage.regions) == ("1", 1, {Region.UPPER_LIMB})


def test_three_regions_is_kings_3():
    # Speech 3 (bulbar), handwriting 2 (upper limb), walking 3 (lower limb).
    # Total 48 - 1 - 2 - 1 = 44; bulbar 11, fine motor 10, gross motor 11, respiratory 12.
    a = answers(q1=3, q4=2, q8=3)
    assert alsfrs_r.total(a) == 44
    assert alsfrs_r.domain_scores(a) == {
        Domain.BULBAR: 11,
        Domain.FINE_MOTOR: 10,
        Domain.GROSS_MOTOR: 11,
        Domain.RESPIRATORY: 12,
    }
    assert alsfrs_r.kings_stage(a).label == "3"


def test_lower_limb_uses_walking_only():
    # Stairs (9) and turning (7) do not count for the lower-limb region; walking (8) does.
    assert alsfrs_r.kings_stage(answers(q7=2, q9=1)).regions == frozenset()
    assert alsfrs_r.kings_stage(answers(q8=3)).regions == {Region.LOWER_LIMB}


def test_salivation_counts_as_bulbar():
    assert alsfrs_r.kings_stage(answers(q2=3)).regions == {Region.BULBAR}


def test_gastrostomy_is_4a():
    # 5b answered (with gastrostomy) -> 4A whatever the regions.
    a = answers(q5a=None, q5b=3, q3=1)
    stage = alsfrs_r.kings_stage(a)
    assert (stage.label, stage.stage, stage.gastrostomy, stage.niv) == ("4A", 4, True, False)
    assert alsfrs_r.total(a) == 48 - 1 - 3  # 5b counts as item 5: 44


@pytest.mark.parametrize(
    ("change", "niv"),
    [
        ({"q12": 3}, True),  # intermittent BiPAP
        ({"q12": 0}, True),
        ({"q10": 0}, True),  # considering ventilation
        ({"q10": 1}, False),
        ({"q11": 0}, False),  # orthopnoea alone is not NIV
    ],
)
def test_niv_is_4b(change, niv):
    stage = alsfrs_r.kings_stage(answers(**change))
    assert stage.niv is niv
    assert (stage.label == "4B") is niv


def test_gastrostomy_and_niv_is_labelled_4b_with_both_flags():
    stage = alsfrs_r.kings_stage(answers(q5a=None, q5b=2, q12=2))
    assert (stage.label, stage.stage, stage.gastrostomy, stage.niv) == ("4B", 4, True, True)


def test_death_is_stage_5_for_both_systems():
    a = answers()
    assert alsfrs_r.kings_stage(a, deceased=True).label == "5"
    assert alsfrs_r.mitos_stage(a, deceased=True).stage == 5


def test_mitos_communication_needs_speech_and_handwriting():
    assert alsfrs_r.mitos_stage(answers(q1=1, q4=2)).stage == 0
    assert alsfrs_r.mitos_stage(answers(q1=2, q4=1)).stage == 0
    assert alsfrs_r.mitos_domains_lost(answers(q1=1, q4=1)) == {MitosDomain.COMMUNICATION}


def test_mitos_thresholds():
    assert alsfrs_r.mitos_domains_lost(answers(q8=1)) == {MitosDomain.MOVEMENT}
    assert alsfrs_r.mitos_domains_lost(answers(q6=1)) == {MitosDomain.MOVEMENT}
    assert alsfrs_r.mitos_domains_lost(answers(q8=2, q6=2)) == frozenset()
    assert alsfrs_r.mitos_domains_lost(answers(q3=1)) == {MitosDomain.SWALLOWING}
    assert alsfrs_r.mitos_domains_lost(answers(q3=2)) == frozenset()
    assert alsfrs_r.mitos_domains_lost(answers(q10=1)) == {MitosDomain.BREATHING}
    assert alsfrs_r.mitos_domains_lost(answers(q12=2)) == {MitosDomain.BREATHING}
    assert alsfrs_r.mitos_domains_lost(answers(q12=3, q10=2)) == frozenset()


def test_mitos_4_with_everything_lost():
    # Walking 1, swallowing 1, speech 0 + handwriting 1, dyspnoea 0.
    a = answers(q8=1, q3=1, q1=0, q4=1, q10=0)
    assert alsfrs_r.mitos_stage(a).stage == 4


# --- ΔFS ---------------------------------------------------------------------


def test_delta_fs_exact_onset():
    # 2023-01-10 -> 2024-01-10 is 365 days = 365 / 30.4375 = 11.9918 months;
    # total 36 -> (48 - 36) / 11.9918 = 1.0007 points per month.
    result = alsfrs_r.delta_fs(36, date(2023, 1, 10), date(2024, 1, 10))
    assert result.months == pytest.approx(365 / 30.4375)
    assert result.value == pytest.approx(12 / (365 / 30.4375))
    assert result.value == pytest.approx(1.0007, abs=1e-4)
    assert result.onset_imputed is False
    assert result.version == alsfrs_r.DELTA_FS_VERSION


def test_delta_fs_month_precision_imputes_the_15th():
    # Onset "2023-03" -> 2023-03-15; to 2023-09-15 is 184 days = 6.0452 months;
    # total 42 -> 6 / 6.0452 = 0.9925.
    onset = PartialDate(date(2023, 3, 1), "month")
    result = alsfrs_r.delta_fs(42, onset, date(2023, 9, 15))
    assert result.onset_used == date(2023, 3, 15)
    assert result.onset_imputed is True
    assert result.value == pytest.approx(6 / (184 / 30.4375))
    assert result.value == pytest.approx(0.9925, abs=1e-4)


def test_delta_fs_year_precision_imputes_1_july():
    # Onset "2022" -> 2022-07-01; to 2023-07-01 is 365 days; total 30 -> 18 / 11.9918 = 1.501.
    result = alsfrs_r.delta_fs(30, PartialDate(date(2022, 1, 1), "year"), date(2023, 7, 1))
    assert result.onset_used == date(2022, 7, 1)
    assert result.onset_imputed is True
    assert result.value == pytest.approx(1.501, abs=1e-3)


def test_delta_fs_refuses_non_positive_interval():
    with pytest.raises(ValueError, match="positive interval"):
        alsfrs_r.delta_fs(40, date(2024, 5, 1), date(2024, 5, 1))
    with pytest.raises(ValueError, match="positive interval"):
        alsfrs_r.delta_fs(40, date(2024, 6, 1), date(2024, 5, 1))
    # Month precision imputed to the 15th lies after an assessment on the 10th.
    with pytest.raises(ValueError, match="imputed"):
        alsfrs_r.delta_fs(40, PartialDate(date(2024, 5, 1), "month"), date(2024, 5, 10))


@pytest.mark.parametrize("bad", [49, -1, True])
def test_delta_fs_refuses_bad_total(bad):
    with pytest.raises(ValueError):
        alsfrs_r.delta_fs(bad, date(2023, 1, 1), date(2024, 1, 1))


def test_unknown_precision_refused():
    with pytest.raises(ValueError):
        PartialDate(date(2023, 1, 1), "week")  # type: ignore[arg-type]


# --- properties --------------------------------------------------------------

SCORE = st.integers(min_value=0, max_value=4)


@st.composite
def any_answers(draw: st.DrawFn) -> Answers:
    values: dict[str, int | None] = {code: draw(SCORE) for code in alsfrs_r.ITEM_CODES}
    if draw(st.booleans()):
        values["5b"] = None
    else:
        values["5a"] = None
    return Answers.from_mapping(values)


@given(any_answers())
def test_total_is_sum_of_answered_items(a: Answers):
    answered = [v for v in a.as_mapping().values() if v is not None]
    assert len(answered) == 12
    assert alsfrs_r.total(a) == sum(answered)
    assert 0 <= alsfrs_r.total(a) <= 48


@given(any_answers())
def test_subscores_are_0_to_12_and_sum_to_total(a: Answers):
    domains = alsfrs_r.domain_scores(a)
    assert set(domains) == set(Domain)
    assert all(0 <= value <= 12 for value in domains.values())
    assert sum(domains.values()) == alsfrs_r.total(a)


@given(any_answers(), st.sampled_from(alsfrs_r.ITEM_CODES), st.integers(1, 4))
def test_stages_never_improve_when_an_item_worsens(a: Answers, code: str, drop: int):
    before = a.as_mapping()
    if before[code] is None:
        return  # the unanswered half of item 5
    after = before | {code: max(0, before[code] - drop)}
    worse = Answers.from_mapping(after)
    assert alsfrs_r.kings_stage(worse).stage >= alsfrs_r.kings_stage(a).stage
    assert alsfrs_r.mitos_stage(worse).stage >= alsfrs_r.mitos_stage(a).stage
    assert alsfrs_r.kings_regions(worse) >= alsfrs_r.kings_regions(a)


@given(any_answers())
def test_stage_ranges(a: Answers):
    kings = alsfrs_r.kings_stage(a)
    assert kings.label in {"1", "2", "3", "4A", "4B"}
    assert 1 <= kings.stage <= 4
    assert 0 <= alsfrs_r.mitos_stage(a).stage <= 4


# --- unanswered items: what the answered items allow ---------------------------


def test_one_item_missing_keeps_the_other_domains_and_both_stages():
    # Item 7 (turning in bed) not done: gross motor and the total need it; King's reads
    # items 1-5, 8, 10, 12 and MiToS items 1, 3, 4, 6, 8, 10, 12, so both are computed.
    available = alsfrs_r.score_available(NORMAL | {"7": None, "1": 3, "8": 3})
    assert available.total is None
    assert available.domains == {
        Domain.BULBAR: 11,
        Domain.FINE_MOTOR: 12,
        Domain.GROSS_MOTOR: None,
        Domain.RESPIRATORY: 12,
    }
    assert available.kings is not None and available.kings.label == "2"  # bulbar + lower limb
    assert available.mitos is not None and available.mitos.stage == 0
    assert available.complete is False
    assert alsfrs_r.unanswered_items(alsfrs_r.TOTAL_ITEMS, NORMAL | {"7": None}) == ("7",)


def test_an_item_a_stage_reads_blanks_that_stage_only():
    # Item 12 feeds NIV (King's 4B) and MiToS breathing; the other domains stand.
    available = alsfrs_r.score_available(NORMAL | {"12": None})
    assert (available.kings, available.mitos, available.total) == (None, None, None)
    assert available.domains[Domain.RESPIRATORY] is None
    assert available.domains[Domain.BULBAR] == 12
    # Item 2 (salivation) is a King's bulbar item, not a MiToS one.
    available = alsfrs_r.score_available(NORMAL | {"2": None, "3": 1})
    assert available.kings is None
    assert available.mitos is not None
    assert available.mitos.domains_lost == {MitosDomain.SWALLOWING}


def test_item_5_missing_leaves_gastrostomy_unknown():
    available = alsfrs_r.score_available(NORMAL | {"5a": None, "5b": None})
    assert available.domains[Domain.FINE_MOTOR] is None
    assert available.kings is None  # 4A depends on which of 5a/5b is answered
    assert available.mitos is not None  # MiToS does not read item 5
    assert alsfrs_r.unanswered_items(alsfrs_r.KINGS_ITEMS, {"5a": None}) == (
        "1", "2", "3", "4", "5", "8", "10", "12",
    )  # fmt: skip


def test_item_5b_of_0_counts_as_answered():
    available = alsfrs_r.score_available(NORMAL | {"5a": None, "5b": 0, "9": None})
    assert available.domains[Domain.FINE_MOTOR] == 8
    assert available.kings is not None and available.kings.label == "4A"


def test_nothing_answered_computes_nothing():
    available = alsfrs_r.score_available({})
    assert available.total is None and available.kings is None and available.mitos is None
    assert set(available.domains.values()) == {None}


@pytest.mark.parametrize(
    "bad", [NORMAL | {"5b": 3}, NORMAL | {"7": 5}, NORMAL | {"13": 4}, {"1": "4"}]
)
def test_wrong_answers_are_refused_not_skipped(bad):
    with pytest.raises(ScoreError):
        alsfrs_r.score_available(bad)


@given(any_answers())
def test_a_complete_form_scores_as_before(a: Answers):
    available = alsfrs_r.score_available(a.as_mapping())
    full = alsfrs_r.score(a)
    assert available.complete is True
    assert (available.total, available.domains) == (full.total, full.domains)
    assert (available.kings, available.mitos) == (full.kings, full.mitos)


@given(any_answers(), st.sets(st.sampled_from([*alsfrs_r.TOTAL_ITEMS])))
def test_each_value_is_the_complete_forms_or_none(a: Answers, removed: set[str]):
    values = a.as_mapping()
    for code in removed:
        if code == "5":
            values |= {"5a": None, "5b": None}
        else:
            values[code] = None
    available = alsfrs_r.score_available(values)
    full = alsfrs_r.score(a)
    for domain, codes in alsfrs_r.DOMAIN_ITEMS.items():
        expected = None if removed & set(codes) else full.domains[domain]
        assert available.domains[domain] == expected
    assert available.total == (None if removed else full.total)
    assert available.kings == (None if removed & set(alsfrs_r.KINGS_ITEMS) else full.kings)
    assert available.mitos == (None if removed & set(alsfrs_r.MITOS_ITEMS) else full.mitos)


@given(any_answers(), st.sampled_from(alsfrs_r.ITEM_CODES), SCORE)
def test_stages_read_only_their_listed_items(a: Answers, code: str, value: int):
    # What `score_available` relies on when it computes a stage with other items unanswered.
    values = a.as_mapping()
    if values[code] is None:
        return  # the unanswered half of item 5: answering it would change which is answered
    changed = Answers.from_mapping(values | {code: value})
    item = "5" if code in ("5a", "5b") else code
    if item not in alsfrs_r.KINGS_ITEMS:
        assert alsfrs_r.kings_stage(changed) == alsfrs_r.kings_stage(a)
    if item not in alsfrs_r.MITOS_ITEMS:
        assert alsfrs_r.mitos_stage(changed) == alsfrs_r.mitos_stage(a)
