"""Django registers an app's models from `<app>.models`: the instruments' models are named
here, one package per instrument (crfs/<instrument>/models.py)."""

from crfs.alsfrs_r.models import AlsfrsR
from crfs.eligibility.models import Eligibility, EligibilityOverride
from crfs.emg.models import Emg, EmgMuscleFinding
from crfs.fvc.models import Fvc
from crfs.qol.models import Alsaq40, Seiqol
from crfs.vitals.models import Vitals

__all__ = [
    "Alsaq40",
    "AlsfrsR",
    "Eligibility",
    "EligibilityOverride",
    "Emg",
    "EmgMuscleFinding",
    "Fvc",
    "Seiqol",
    "Vitals",
]
