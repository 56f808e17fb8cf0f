"""EMG summary: active/chronic denervation per region, Awaji LMN evidence, MUNIX sum."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crfs.emg import scoring as emg
from crfs.emg.scoring import Fasciculation, Fibrillation, Mup, MuscleFinding, Recruitment, Region


def affected(muscle: str, **changes: object) -> MuscleFinding:
    """A catalogue muscle with chronic (neurogenic MUPs) and active (fibs 2+) denervation."""
    findings: dict[str, object] = {
        "fibrillations": Fibrillation.TWO_PLUS,
        "mup": Mup.NEUROGENIC,
        "recruitment": Recruitment.REDUCED,
    } | changes
    return MuscleFinding.of(muscle, **findings)


def normal(muscle: str) -> MuscleFinding:
    return MuscleFinding.of(muscle)


# --- per muscle ----------------------------------------------------------------


def test_fibrillations_with_neurogenic_mups_is_lmn_evidence():
    finding = affected("fdi")
    assert (finding.active, finding.chronic, finding.lmn_evidence) == (True, True, True)


def test_fasciculations_count_as_active_only_with_chronic_change():
    with_chronic = affected("fdi", fibrillations=Fibrillation.NONE, fasciculations="present")
    assert with_chronic.active and with_chronic.lmn_evidence
    alone = MuscleFinding.of("fdi", fasciculations=Fasciculation.PRESENT)
    assert not alone.active and not alone.lmn_evidence


def test_fibrillations_without_chronic_change_are_active_but_not_lmn():
    finding = MuscleFinding.of("fdi", fibrillations=Fibrillation.ONE_PLUS)
    assert finding.active and not finding.chronic and not finding.lmn_evidence


def test_reduced_recruitment_alone_is_not_chronic_change():
    finding = MuscleFinding.of("biceps", recruitment=Recruitment.DISCRETE)
    assert not finding.chronic
    assert emg.summarize([finding]).regions[Region.CERVICAL].reduced_recruitment


def test_enums_are_coerced_and_catalogue_region_checked():
    finding = MuscleFinding("ta", "lumbosacral", 3, "present", "neurogenic", "reduced")
    assert finding.fibrillations is Fibrillation.THREE_PLUS
    with pytest.raises(ValueError, match="lumbosacral"):
        MuscleFinding("ta", Region.CERVICAL)
    with pytest.raises(ValueError):
        MuscleFinding.of("ta", fibrillations=5)


# --- per region ----------------------------------------------------------------


def test_bulbar_and_thoracic_need_one_muscle():
    summary = emg.summarize([affected("tongue"), affected("t_paraspinal")])
    assert summary.regions_with_lmn == {Region.BULBAR, Region.THORACIC}


def test_cervical_needs_two_muscles_of_different_nerves_and_roots():
    # Biceps (musculocutaneous, C5-C6) + FDI (ulnar, C8-T1): qualifies.
    assert (
        emg.summarize([affected("biceps"), affected("fdi")])
        .regions[Region.CERVICAL]
        .meets_awaji_lmn
    )
    # APB (median) + FDI (ulnar): different nerves, same roots C8-T1: does not.
    assert (
        not emg.summarize([affected("apb"), affected("fdi")])
        .regions[Region.CERVICAL]
        .meets_awaji_lmn
    )
    # FDI + ADM: same nerve and roots.
    assert (
        not emg.summarize([affected("fdi"), affected("adm")])
        .regions[Region.CERVICAL]
        .meets_awaji_lmn
    )
    # One affected muscle is not enough.
    assert (
        not emg.summarize([affected("biceps"), normal("fdi")])
        .regions[Region.CERVICAL]
        .meets_awaji_lmn
    )


def test_lumbosacral_same_nerve_does_not_qualify():
    # TA and EDB are both deep peroneal.
    region = emg.summarize([affected("ta"), affected("edb")]).regions[Region.LUMBOSACRAL]
    assert not region.meets_awaji_lmn
    assert region.lmn_muscles == ("ta", "edb")
    # TA (deep peroneal, L4-L5) + medial gastrocnemius (tibial, S1-S2) does.
    assert (
        emg.summarize([affected("ta"), affected("gastrocnemius")])
        .regions[Region.LUMBOSACRAL]
        .meets_awaji_lmn
    )


def test_free_named_muscle_needs_its_innervation():
    unknown = MuscleFinding("flexor pollicis longus", Region.CERVICAL, 2, "absent", "neurogenic")
    assert not emg.summarize([unknown, affected("biceps")]).regions[Region.CERVICAL].meets_awaji_lmn
    described = MuscleFinding(
        "flexor pollicis longus",
        Region.CERVICAL,
        Fibrillation.TWO_PLUS,
        mup=Mup.NEUROGENIC,
        nerve="anterior interosseous",
        roots=frozenset({"C7", "C8"}),
    )
    assert emg.summarize([described, affected("biceps")]).regions[Region.CERVICAL].meets_awaji_lmn


def test_worked_summary_across_regions():
    findings = [
        affected("tongue", fibrillations=Fibrillation.NONE, fasciculations="present"),
        affected("biceps", side="right"),
        affected("fdi", side="right"),
        MuscleFinding.of("t_paraspinal", fibrillations=Fibrillation.ONE_PLUS),
        normal("ta"),
        affected("vastus_lateralis", fibrillations=Fibrillation.NONE),  # chronic only
    ]
    summary = emg.summarize(findings)
    # Bulbar: fasciculations + neurogenic MUPs = active + chronic -> LMN.
    # Cervical: biceps + FDI -> LMN. Thoracic: fibs but normal MUPs -> active only.
    # Lumbosacral: chronic change in vastus lateralis only.
    assert summary.regions_with_lmn == {Region.BULBAR, Region.CERVICAL}
    assert summary.regions_active == {Region.BULBAR, Region.CERVICAL, Region.THORACIC}
    assert summary.regions_chronic == {Region.BULBAR, Region.CERVICAL, Region.LUMBOSACRAL}
    assert summary.regions[Region.CERVICAL].muscles_tested == ("biceps (right)", "fdi (right)")
    assert summary.version == emg.AWAJI_VERSION


def test_untested_regions_are_reported_empty():
    summary = emg.summarize([])
    assert set(summary.regions) == set(Region)
    assert all(not s.muscles_tested for s in summary.regions.values())
    assert summary.regions_with_lmn == frozenset()


@given(
    st.lists(
        st.builds(
            MuscleFinding.of,
            st.sampled_from(sorted(emg.MUSCLES)),
            fibrillations=st.sampled_from(Fibrillation),
            fasciculations=st.sampled_from(Fasciculation),
            mup=st.sampled_from(Mup),
            recruitment=st.sampled_from(Recruitment),
        ),
        max_size=12,
    )
)
def test_lmn_region_implies_active_and_chronic(findings: list[MuscleFinding]):
    for summary in emg.summarize(findings).regions.values():
        if summary.meets_awaji_lmn:
            assert summary.active_denervation and summary.chronic_denervation
            assert summary.lmn_muscles


# --- MUNIX -------------------------------------------------------------------


def test_munix_sum_of_six_muscles():
    # 120 + 95 + 150 + 110 + 40 + 60 = 575
    values = {"apb": 120, "adm": 95, "biceps": 150, "ta": 110, "edb": 40, "ah": 60}
    result = emg.munix_sum(values)
    assert result.total == 575
    assert result.missing == ()
    assert result.version == emg.MUNIX_VERSION


def test_munix_sum_needs_all_six():
    result = emg.munix_sum({"apb": 120, "adm": 95, "biceps": None, "ta": 110})
    assert result.total is None
    assert result.missing == ("biceps", "edb", "ah")


@pytest.mark.parametrize("bad", [{"apb": -1.0}, {"apb": math.nan}, {"fdi": 10.0}])
def test_munix_refuses_bad_values(bad):
    with pytest.raises(ValueError):
        emg.munix_sum(bad)
