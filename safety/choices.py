"""Coded answers of the safety records (stored codes are stable; labels translate)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Grade(models.IntegerChoices):
    """CTCAE v5.0 grades."""

    MILD = 1, _("1 · Mild")
    MODERATE = 2, _("2 · Moderate")
    SEVERE = 3, _("3 · Severe or medically significant")
    LIFE_THREATENING = 4, _("4 · Life-threatening")
    DEATH = 5, _("5 · Death related to the event")


class Relatedness(models.TextChoices):
    NOT_RELATED = "not", _("Not related")
    UNLIKELY = "unlikely", _("Unlikely")
    POSSIBLE = "possible", _("Possible")
    PROBABLE = "probable", _("Probable")
    DEFINITE = "definite", _("Definite")


# Possible, probable or definite: "related" in the listings and counts (the usual
# dichotomy of a five-point causality scale).
RELATED = (Relatedness.POSSIBLE, Relatedness.PROBABLE, Relatedness.DEFINITE)


class Action(models.TextChoices):
    NONE = "none", _("None")
    MEDICATION = "medication", _("Medication given")
    NON_DRUG = "non_drug", _("Non-drug treatment or procedure")
    HOSPITALISATION = "hospitalisation", _("Hospitalisation")
    PROCEDURE_STOPPED = "procedure_stopped", _("Study procedure stopped or not completed")
    WITHDRAWN = "withdrawn", _("Participant withdrawn from the study")
    OTHER = "other", _("Other")


class Outcome(models.TextChoices):
    """CDISC SDTM AEOUT."""

    RECOVERED = "recovered", _("Recovered / resolved")
    RECOVERING = "recovering", _("Recovering / resolving")
    NOT_RECOVERED = "not_recovered", _("Not recovered / not resolved")
    SEQUELAE = "sequelae", _("Recovered / resolved with sequelae")
    FATAL = "fatal", _("Fatal")
    UNKNOWN = "unknown", _("Unknown")


# ICH E2A seriousness criteria, one box each (boolean fields of safety.models.AdverseEvent,
# labelled there): death, life-threatening, hospitalisation or its prolongation, persistent
# disability, congenital anomaly, other important medical event.
CRITERIA_FIELDS = (
    "sae_death",
    "sae_life_threatening",
    "sae_hospitalisation",
    "sae_disability",
    "sae_congenital_anomaly",
    "sae_important_medical_event",
)


class Medication(models.TextChoices):
    """The ALS drugs the trial asks about, offered first; anything else is named in text."""

    RILUZOLE = "riluzole", _("Riluzole")
    EDARAVONE = "edaravone", _("Edaravone")
    OTHER = "other", _("Other (name it)")


ALS_DRUGS = (Medication.RILUZOLE, Medication.EDARAVONE)


class DoseUnit(models.TextChoices):
    MG = "mg", "mg"
    G = "g", "g"
    MICROGRAM = "ug", "µg"
    ML = "ml", "mL"
    IU = "iu", _("IU")
    TABLET = "tablet", _("tablet(s)")
    OTHER = "other", _("other")


class MedRoute(models.TextChoices):
    ORAL = "oral", _("Oral")
    GASTROSTOMY = "gastrostomy", _("Gastrostomy tube")
    INTRAVENOUS = "iv", _("Intravenous")
    SUBCUTANEOUS = "sc", _("Subcutaneous")
    INTRAMUSCULAR = "im", _("Intramuscular")
    INHALED = "inhaled", _("Inhaled")
    TOPICAL = "topical", _("Topical")
    OTHER = "other", _("Other")


class Frequency(models.TextChoices):
    ONCE = "once", _("Once")
    DAILY = "qd", _("Once a day")
    TWICE_DAILY = "bid", _("Twice a day")
    THREE_TIMES_DAILY = "tid", _("Three times a day")
    FOUR_TIMES_DAILY = "qid", _("Four times a day")
    AS_NEEDED = "prn", _("As needed")
    WEEKLY = "weekly", _("Weekly")
    CYCLES = "cycles", _("In cycles (e.g. 14 days on, 14 off)")
    OTHER = "other", _("Other")
