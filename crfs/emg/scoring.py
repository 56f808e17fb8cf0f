"""EMG summary helpers: per-muscle findings -> per-region denervation and Awaji LMN evidence; MUNIX sum.

Sources
-------
- de Carvalho M, Dengler R, Eisen A, et al. Electrodiagnostic criteria for diagnosis
  of ALS. Clin Neurophysiol. 2008;119(3):497-503 (Awaji-shima recommendations).
- Brooks BR, Miller RG, Swash M, Munsat TL. El Escorial revisited: revised criteria
  for the diagnosis of amyotrophic lateral sclerosis. ALS Other Motor Neuron Disord.
  2000;1(5):293-299 (regions; muscles per region).
- Shefner JM, Al-Chalabi A, Baker MR, et al. A proposal for new diagnostic criteria
  for ALS (Gold Coast). Clin Neurophysiol. 2020;131(8):1975-1978.
- Neuwirth C, Barkhaus PE, Burkhardt C, et al. Tracking motor neuron loss in a set
  of six muscles in amyotrophic lateral sclerosis using the Motor Unit Number Index
  (MUNIX): a 15-month longitudinal multicentre trial. J Neurol Neurosurg Psychiatry.
  2015;86(11):1172-1179 (MUNIX sum of APB, ADM, biceps, TA, EDB, AH).

Rules as implemented (per muscle, then per region)
--------------------------------------------------
- Chronic neurogenic change: MUP morphology "neurogenic" (large, long-duration,
  polyphasic). Reduced or discrete recruitment is recorded and reported but is not
  on its own taken as chronic change (it also follows poor effort or pain).
- Active denervation: fibrillation potentials / positive sharp waves >= 1+, or
  fasciculation potentials in a muscle with chronic neurogenic change (the Awaji
  equivalence). Fasciculations in a muscle with normal MUPs are reported but are
  not active denervation.
- LMN evidence in a muscle (Awaji): chronic neurogenic change AND active
  denervation in that muscle.
- LMN evidence in a region: bulbar or thoracic - at least one muscle; cervical or
  lumbosacral - at least two muscles innervated by different peripheral nerves and
  different roots. "Different roots" is taken as non-identical root sets (biceps
  C5-C6 with FDI C8-T1 qualifies; APB and FDI, both C8-T1, do not; TA and EDB share
  the deep peroneal nerve and do not). A muscle's nerve and roots come from the
  finding or, failing that, from the catalogue below; a muscle with unknown
  innervation cannot form a qualifying pair.
- The result is advisory: the investigator records the region conclusion as well.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import IntEnum, StrEnum
from itertools import combinations

AWAJI_VERSION = "Awaji-shima electrodiagnostic LMN criteria (de Carvalho 2008)"
MUNIX_VERSION = "MUNIX sum, 6 muscles (Neuwirth 2015)"


class Region(StrEnum):
    BULBAR = "bulbar"
    CERVICAL = "cervical"
    THORACIC = "thoracic"
    LUMBOSACRAL = "lumbosacral"


class Fibrillation(IntEnum):
    """Fibrillation potentials / positive sharp waves, graded 0, 1+ .. 4+."""

    NONE = 0
    ONE_PLUS = 1
    TWO_PLUS = 2
    THREE_PLUS = 3
    FOUR_PLUS = 4


class Fasciculation(StrEnum):
    ABSENT = "absent"
    PRESENT = "present"


class Mup(StrEnum):
    NORMAL = "normal"
    NEUROGENIC = "neurogenic"  # large, long-duration, polyphasic


class Recruitment(StrEnum):
    NORMAL = "normal"
    REDUCED = "reduced"
    DISCRETE = "discrete"


class Side(StrEnum):
    LEFT = "left"
    RIGHT = "right"


# Regions needing muscles from two different nerves and roots.
_LIMB_REGIONS = frozenset({Region.CERVICAL, Region.LUMBOSACRAL})


@dataclass(frozen=True)
class Muscle:
    code: str
    name: str
    region: Region
    nerve: str
    roots: frozenset[str]


def _m(code: str, name: str, region: Region, nerve: str, *roots: str) -> Muscle:
    return Muscle(code, name, region, nerve, frozenset(roots))


MUSCLES: Mapping[str, Muscle] = {
    m.code: m
    for m in (
        _m("tongue", "Tongue (genioglossus)", Region.BULBAR, "hypoglossal", "XII"),
        _m("masseter", "Masseter", Region.BULBAR, "trigeminal", "V"),
        _m("mentalis", "Mentalis", Region.BULBAR, "facial", "VII"),
        _m("scm", "Sternocleidomastoid", Region.BULBAR, "accessory", "XI"),
        _m("deltoid", "Deltoid", Region.CERVICAL, "axillary", "C5", "C6"),
        _m("biceps", "Biceps brachii", Region.CERVICAL, "musculocutaneous", "C5", "C6"),
        _m("triceps", "Triceps", Region.CERVICAL, "radial", "C6", "C7", "C8"),
        _m("edc", "Extensor digitorum communis", Region.CERVICAL, "radial", "C7", "C8"),
        _m("apb", "Abductor pollicis brevis", Region.CERVICAL, "median", "C8", "T1"),
        _m("fdi", "First dorsal interosseous", Region.CERVICAL, "ulnar", "C8", "T1"),
        _m("adm", "Abductor digiti minimi", Region.CERVICAL, "ulnar", "C8", "T1"),
        _m("t_paraspinal", "Thoracic paraspinal (T6 or below)", Region.THORACIC, "dorsal rami"),
        _m("rectus_abdominis", "Rectus abdominis", Region.THORACIC, "thoracoabdominal"),
        _m("iliopsoas", "Iliopsoas", Region.LUMBOSACRAL, "femoral", "L2", "L3"),
        _m("vastus_lateralis", "Vastus lateralis", Region.LUMBOSACRAL, "femoral", "L2", "L3", "L4"),
        _m("gluteus_medius", "Gluteus medius", Region.LUMBOSACRAL, "superior gluteal", "L5", "S1"),
        _m("ta", "Tibialis anterior", Region.LUMBOSACRAL, "deep peroneal", "L4", "L5"),
        _m("edb", "Extensor digitorum brevis", Region.LUMBOSACRAL, "deep peroneal", "L5", "S1"),
        _m("gastrocnemius", "Medial gastrocnemius", Region.LUMBOSACRAL, "tibial", "S1", "S2"),
        _m("ah", "Abductor hallucis", Region.LUMBOSACRAL, "tibial", "S1", "S2"),
    )
}


@dataclass(frozen=True)
class MuscleFinding:
    """Needle EMG of one muscle. ``muscle`` is a catalogue code or a free name."""

    muscle: str
    region: Region
    fibrillations: Fibrillation = Fibrillation.NONE
    fasciculations: Fasciculation = Fasciculation.ABSENT
    mup: Mup = Mup.NORMAL
    recruitment: Recruitment = Recruitment.NORMAL
    side: Side | None = None
    nerve: str | None = None  # defaults to the catalogue's
    roots: frozenset[str] = field(default_factory=frozenset)  # defaults to the catalogue's

    def __post_init__(self) -> None:
        object.__setattr__(self, "region", Region(self.region))
        object.__setattr__(self, "fibrillations", Fibrillation(self.fibrillations))
        object.__setattr__(self, "fasciculations", Fasciculation(self.fasciculations))
        object.__setattr__(self, "mup", Mup(self.mup))
        object.__setattr__(self, "recruitment", Recruitment(self.recruitment))
        known = MUSCLES.get(self.muscle)
        if known is not None and known.region is not self.region:
            raise ValueError(f"{self.muscle} belongs to the {known.region} region")

    @classmethod
    def of(cls, muscle: str, **findings: object) -> MuscleFinding:
        """A finding for a catalogue muscle, its region filled in."""
        # Untyped keyword findings: __post_init__ converts and checks them.
        return cls(muscle=muscle, region=MUSCLES[muscle].region, **findings)  # type: ignore[arg-type]

    @property
    def innervation(self) -> tuple[str | None, frozenset[str]]:
        known = MUSCLES.get(self.muscle)
        nerve = self.nerve or (known.nerve if known else None)
        roots = self.roots or (known.roots if known else frozenset())
        return nerve, roots

    @property
    def chronic(self) -> bool:
        return self.mup is Mup.NEUROGENIC

    @property
    def active(self) -> bool:
        return self.fibrillations >= Fibrillation.ONE_PLUS or (
            self.chronic and self.fasciculations is Fasciculation.PRESENT
        )

    @property
    def lmn_evidence(self) -> bool:
        return self.chronic and self.active


def _different_innervation(a: MuscleFinding, b: MuscleFinding) -> bool:
    (nerve_a, roots_a), (nerve_b, roots_b) = a.innervation, b.innervation
    if not (nerve_a and nerve_b and roots_a and roots_b):
        return False
    return nerve_a != nerve_b and roots_a != roots_b


@dataclass(frozen=True)
class RegionSummary:
    region: Region
    muscles_tested: tuple[str, ...]
    active_denervation: bool
    chronic_denervation: bool
    fasciculations: bool
    reduced_recruitment: bool
    lmn_muscles: tuple[str, ...]
    meets_awaji_lmn: bool


@dataclass(frozen=True)
class EmgSummary:
    regions: Mapping[Region, RegionSummary]  # every region, tested or not
    version: str = AWAJI_VERSION

    @property
    def regions_with_lmn(self) -> frozenset[Region]:
        return frozenset(r for r, s in self.regions.items() if s.meets_awaji_lmn)

    @property
    def regions_active(self) -> frozenset[Region]:
        return frozenset(r for r, s in self.regions.items() if s.active_denervation)

    @property
    def regions_chronic(self) -> frozenset[Region]:
        return frozenset(r for r, s in self.regions.items() if s.chronic_denervation)


def _label(finding: MuscleFinding) -> str:
    return f"{finding.muscle} ({finding.side})" if finding.side else finding.muscle


def region_summary(region: Region, findings: Iterable[MuscleFinding]) -> RegionSummary:
    mine = [f for f in findings if f.region is region]
    lmn = [f for f in mine if f.lmn_evidence]
    if region in _LIMB_REGIONS:
        meets = any(_different_innervation(a, b) for a, b in combinations(lmn, 2))
    else:
        meets = bool(lmn)
    return RegionSummary(
        region=region,
        muscles_tested=tuple(_label(f) for f in mine),
        active_denervation=any(f.active for f in mine),
        chronic_denervation=any(f.chronic for f in mine),
        fasciculations=any(f.fasciculations is Fasciculation.PRESENT for f in mine),
        reduced_recruitment=any(f.recruitment is not Recruitment.NORMAL for f in mine),
        lmn_muscles=tuple(_label(f) for f in lmn),
        meets_awaji_lmn=meets,
    )


def summarize(findings: Iterable[MuscleFinding]) -> EmgSummary:
    """Per-region active/chronic denervation and Awaji LMN evidence."""
    findings = list(findings)
    return EmgSummary(regions={region: region_summary(region, findings) for region in Region})


# --- MUNIX -------------------------------------------------------------------

MUNIX_MUSCLES: tuple[str, ...] = ("apb", "adm", "biceps", "ta", "edb", "ah")


@dataclass(frozen=True)
class MunixSum:
    total: float | None  # None unless all six muscles were measured
    missing: tuple[str, ...]
    version: str = MUNIX_VERSION


def munix_sum(values: Mapping[str, float | None]) -> MunixSum:
    """Sum of MUNIX in APB, ADM, biceps, TA, EDB and AH (less affected side)."""
    unknown = sorted(set(values) - set(MUNIX_MUSCLES))
    if unknown:
        raise ValueError(f"not a MUNIX muscle: {', '.join(unknown)}")
    for muscle, value in values.items():
        if value is not None and (not math.isfinite(value) or value < 0):
            raise ValueError(f"MUNIX {muscle} must be a finite number >= 0, got {value!r}")
    missing = tuple(m for m in MUNIX_MUSCLES if values.get(m) is None)
    if missing:
        return MunixSum(total=None, missing=missing)
    return MunixSum(total=sum(float(values[m] or 0) for m in MUNIX_MUSCLES), missing=())
