"""ALSAQ-40, ALSAQ-5 and SEIQoL-DW scoring."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crfs.qol import scoring as qol
from crfs.qol.scoring import AlsaqDomain, Cue, QolError

D = AlsaqDomain


def all_answers(value: int | None) -> dict[int, int | None]:
    return dict.fromkeys(range(1, 41), value)


# --- item data ---------------------------------------------------------------


def test_forty_items_in_five_domains_with_neutral_labels():
    assert [item.number for item in qol.ALSAQ40_ITEMS] == list(range(1, 41))
    counts = dict.fromkeys(D, 0)
    for item in qol.ALSAQ40_ITEMS:
        counts[item.domain] += 1
    assert counts == {
        D.PHYSICAL_MOBILITY: 10,
        D.INDEPENDENCE: 10,
        D.EATING_DRINKING: 3,
        D.COMMUNICATION: 7,
        D.EMOTIONAL_REACTIONS: 10,
    }
    assert qol.ALSAQ40_ITEMS[0].label == "Physical mobility item 1"
    assert qol.ALSAQ40_ITEMS[23].label == "Communication item 1"  # item 24
    assert qol.ALSAQ40_ITEMS[39].label == "Emotional reactions item 10"
    assert sorted(qol.RESPONSES) == [0, 1, 2, 3, 4]


def test_alsaq5_items_one_per_domain():
    # Jenkinson & Fitzpatrick 2001, Table 6 (the ALSAQ-5 items in italics): standing up,
    # using arms and hands, eating solid food, speech not easy to understand, hopeless.
    assert qol.ALSAQ5_ITEMS == {
        D.PHYSICAL_MOBILITY: 9,
        D.INDEPENDENCE: 11,
        D.EATING_DRINKING: 22,
        D.COMMUNICATION: 25,
        D.EMOTIONAL_REACTIONS: 34,
    }
    for domain, number in qol.ALSAQ5_ITEMS.items():
        assert number in qol.DOMAIN_ITEMS[domain]


# --- ALSAQ-40 worked examples -------------------------------------------------


def test_best_and_worst():
    best = qol.alsaq40(all_answers(0))
    worst = qol.alsaq40(all_answers(4))
    assert all(d.score == 0 for d in best.domains.values())
    assert all(d.score == 100 for d in worst.domains.values())
    assert (best.summary_index, worst.summary_index) == (0, 100)
    assert best.version == qol.ALSAQ40_VERSION


def test_domain_arithmetic():
    answers = all_answers(0)
    # Physical mobility (1-10): 4,4,3,3,2,2,1,1,0,0 -> sum 20 / (4 x 10) x 100 = 50.
    answers.update(zip(range(1, 11), [4, 4, 3, 3, 2, 2, 1, 1, 0, 0], strict=True))
    # Eating and drinking (21-23): 1,2,3 -> 6 / 12 x 100 = 50.
    answers.update({21: 1, 22: 2, 23: 3})
    # Communication (24-30): all 1 -> 7 / 28 x 100 = 25.
    answers.update(dict.fromkeys(range(24, 31), 1))
    scores = qol.alsaq40(answers)
    assert scores.domains[D.PHYSICAL_MOBILITY].score == 50
    assert scores.domains[D.EATING_DRINKING].score == 50
    assert scores.domains[D.COMMUNICATION].score == 25
    assert scores.domains[D.INDEPENDENCE].score == 0
    # Summary index: (50 + 0 + 50 + 25 + 0) / 5 = 25.
    assert scores.summary_index == 25


def test_missing_items_imputed_with_domain_mean_up_to_half():
    answers = all_answers(0)
    # Independence (11-20): 5 answered (2,2,2,3,3 -> mean 2.4), 5 missing.
    # Imputed sum = 12 + 5 x 2.4 = 24; 24 / 40 x 100 = 60.
    answers.update({11: 2, 12: 2, 13: 2, 14: 3, 15: 3})
    answers.update(dict.fromkeys(range(16, 21)))
    score = qol.domain_score(D.INDEPENDENCE, answers)
    assert score.score == pytest.approx(60)
    assert (score.answered, score.missing, score.imputed) == (5, 5, True)


def test_more_than_half_missing_is_not_scored():
    answers = all_answers(1)
    answers.update(dict.fromkeys(range(11, 17)))  # 6 of 10 missing
    answers.update({21: None, 22: None})  # 2 of 3 missing
    scores = qol.alsaq40(answers)
    assert scores.domains[D.INDEPENDENCE].score is None
    assert scores.domains[D.EATING_DRINKING].score is None
    assert scores.summary_index is None
    assert scores.domains[D.PHYSICAL_MOBILITY].score == 25


def test_three_item_domain_tolerates_one_missing():
    # Eating and drinking: 22 missing, 21 = 2, 23 = 4 -> mean 3 -> (2 + 3 + 4) / 12 x 100 = 75.
    answers = all_answers(0) | {21: 2, 22: None, 23: 4}
    assert qol.domain_score(D.EATING_DRINKING, answers).score == pytest.approx(75)


def test_unanswered_keys_are_missing_too():
    assert qol.domain_score(D.COMMUNICATION, {}).score is None


@pytest.mark.parametrize("bad", [5, -1, "2", 2.5, True])
def test_invalid_answers_refused(bad):
    with pytest.raises(QolError):
        qol.alsaq40(all_answers(0) | {7: bad})
    with pytest.raises(QolError, match="unknown item"):
        qol.alsaq40(all_answers(0) | {41: 0})


# --- ALSAQ-5 -------------------------------------------------------------------


def test_alsaq5_from_alsaq40_answers():
    # Items 9=4, 11=3, 22=2, 25=1, 34=0 -> 100, 75, 50, 25, 0; total 10 / 20 x 100 = 50.
    answers = all_answers(1) | {9: 4, 11: 3, 22: 2, 25: 1, 34: 0}
    scores = qol.alsaq5(answers)
    assert scores.items == {
        D.PHYSICAL_MOBILITY: 100,
        D.INDEPENDENCE: 75,
        D.EATING_DRINKING: 50,
        D.COMMUNICATION: 25,
        D.EMOTIONAL_REACTIONS: 0,
    }
    assert scores.total == 50
    assert scores.version == qol.ALSAQ5_VERSION


def test_alsaq5_stand_alone_with_missing_item():
    scores = qol.alsaq5({9: 2, 11: 2, 22: None, 25: 2, 34: 2})
    assert scores.items[D.EATING_DRINKING] is None
    assert scores.items[D.PHYSICAL_MOBILITY] == 50
    assert scores.total is None


# --- properties --------------------------------------------------------------

ANSWER = st.one_of(st.none(), st.integers(0, 4))


@given(st.dictionaries(st.integers(1, 40), ANSWER))
def test_domain_scores_within_0_100(answers: dict[int, int | None]):
    scores = qol.alsaq40(answers)
    for domain, result in scores.domains.items():
        n = len(qol.DOMAIN_ITEMS[domain])
        assert result.answered + result.missing == n
        if result.score is None:
            assert result.missing > n / 2
        else:
            assert 0 <= result.score <= 100
    if scores.summary_index is not None:
        assert 0 <= scores.summary_index <= 100
    five = qol.alsaq5(answers)
    assert five.total is None or 0 <= five.total <= 100


@given(st.lists(st.integers(0, 4), min_size=40, max_size=40))
def test_complete_domain_score_is_plain_formula(values: list[int]):
    answers = dict(zip(range(1, 41), values, strict=True))
    for domain, numbers in qol.DOMAIN_ITEMS.items():
        expected = sum(answers[n] for n in numbers) / (4 * len(numbers)) * 100
        assert qol.domain_score(domain, answers).score == pytest.approx(expected)


# --- SEIQoL-DW -----------------------------------------------------------------


def cues(levels: list[float], weights: list[float]) -> list[Cue]:
    names = ["Family", "Health", "Work", "Faith", "Friends"]
    return [Cue(n, lv, w) for n, lv, w in zip(names, levels, weights, strict=True)]


def test_seiqol_index_worked_example():
    # 80x30 + 60x25 + 40x20 + 90x15 + 50x10 = 2400 + 1500 + 800 + 1350 + 500 = 6550; / 100 = 65.5
    result = qol.seiqol_dw(cues([80, 60, 40, 90, 50], [30, 25, 20, 15, 10]))
    assert result.index == pytest.approx(65.5)
    assert result.weight_sum == 100
    assert result.version == qol.SEIQOL_VERSION


def test_seiqol_weights_tolerance():
    qol.seiqol_dw(cues([50] * 5, [20, 20, 20, 20, 20.5]))  # 100.5: accepted
    qol.seiqol_dw(cues([50] * 5, [20, 20, 20, 20, 19.5]))  # 99.5: accepted
    with pytest.raises(QolError, match=r"weights sum to 100\.6"):
        qol.seiqol_dw(cues([50] * 5, [20, 20, 20, 20, 20.6]))


def test_seiqol_refusals():
    with pytest.raises(QolError, match="exactly 5"):
        qol.seiqol_dw(cues([50] * 5, [25, 25, 25, 25, 0])[:4])
    with pytest.raises(QolError, match="outside 0-100"):
        qol.seiqol_dw(cues([50, 50, 50, 50, 101], [20] * 5))
    with pytest.raises(QolError, match="name"):
        qol.seiqol_dw([Cue(" ", 50, 20), *cues([50] * 5, [20] * 5)[1:]])
    with pytest.raises(QolError, match="differ"):
        qol.seiqol_dw([Cue("health", 50, 20), *cues([50] * 5, [20] * 5)[1:]])


@given(
    st.lists(st.floats(0, 100), min_size=5, max_size=5),
    st.lists(st.integers(0, 100), min_size=4, max_size=4).filter(lambda w: sum(w) <= 100),
)
def test_seiqol_index_within_levels(levels: list[float], weights: list[int]):
    all_weights = [*weights, 100 - sum(weights)]
    result = qol.seiqol_dw(cues(levels, all_weights))
    assert min(levels) - 1e-9 <= result.index <= max(levels) + 1e-9
