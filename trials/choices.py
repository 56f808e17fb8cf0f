"""Coded settings of a trial (stored codes are stable; labels translate).

Kept here, not imported from visits, because trials sits below visits
(trials ← participants ← visits). The stored values are the equation names that
`crfs.fvc.scoring.Equation` uses, so the FVC form maps them one to one (a test
keeps the two lists equal).
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class SpirometryEquation(models.TextChoices):
    GLI_GLOBAL_2022 = "GLI Global 2022", _("GLI Global 2022 (race-neutral)")
    GLI_2012 = "GLI-2012", _("GLI-2012 (by ethnicity group)")
    PERSIAN_2025 = (
        "PERSIAN cohort (Loeloe 2025)",
        _("Iranian PERSIAN cohort (Loeloe 2025; ages 38-69, 142-189 cm)"),
    )
