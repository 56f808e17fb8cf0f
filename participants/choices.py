"""Coded answers of the participant forms (stored codes are stable; labels translate)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class ParticipantStatus(models.TextChoices):
    SCREENING = "screening", _("Screening")
    SCREEN_FAILED = "screen_failed", _("Screen failure")
    ENROLLED = "enrolled", _("Enrolled")
    TRANSPLANTED = "transplanted", _("Transplanted")
    COMPLETED = "completed", _("Completed")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    LOST_TO_FOLLOW_UP = "lost_to_follow_up", _("Lost to follow-up")
    DIED = "died", _("Died")


class Sex(models.TextChoices):
    FEMALE = "female", _("Female")
    MALE = "male", _("Male")


class Ethnicity(models.TextChoices):
    """Groups of the spirometry reference equations (GLI-2012 plus the Iranian PERSIAN cohort)."""

    CAUCASIAN = "caucasian", _("Caucasian")
    AFRICAN_AMERICAN = "african_american", _("African-American")
    NORTH_EAST_ASIAN = "north_east_asian", _("North-East Asian")
    SOUTH_EAST_ASIAN = "south_east_asian", _("South-East Asian")
    OTHER_MIXED = "other_mixed", _("Other / mixed")
    IRANIAN = "iranian", _("Iranian")


class DatePrecision(models.TextChoices):
    DAY = "day", _("Day")
    MONTH = "month", _("Month")
    YEAR = "year", _("Year")
    # A Jalali (Solar Hijri) month or year: no Gregorian month or year holds it; the date is
    # the Gregorian first day of the Jalali period (participants.partial_dates).
    JALALI_MONTH = "jmon", _("Jalali month")
    JALALI_YEAR = "jyear", _("Jalali year")


class OnsetRegion(models.TextChoices):
    BULBAR = "bulbar", _("Bulbar")
    UPPER_LIMB = "upper_limb", _("Upper limb")
    LOWER_LIMB = "lower_limb", _("Lower limb")
    RESPIRATORY = "respiratory", _("Respiratory")
    GENERALISED = "generalised", _("Generalised")


class ElEscorial(models.TextChoices):
    DEFINITE = "definite", _("Definite")
    PROBABLE = "probable", _("Probable")
    PROBABLE_LAB = "probable_lab", _("Probable, laboratory-supported")
    POSSIBLE = "possible", _("Possible")


class YesNoUnknown(models.TextChoices):
    YES = "yes", _("Yes")
    NO = "no", _("No")
    UNKNOWN = "unknown", _("Unknown")


class WithdrawnBy(models.TextChoices):
    PARTICIPANT = "participant", _("By the participant")
    INVESTIGATOR = "investigator", _("By the investigator")


class ContactMethod(models.TextChoices):
    PHONE = "phone", _("Phone call")
    SMS = "sms", _("Text message")
    EMAIL = "email", _("E-mail")
    LETTER = "letter", _("Letter")
    HOME_VISIT = "home_visit", _("Home visit")
    NEXT_OF_KIN = "next_of_kin", _("Through next of kin")
    OTHER = "other", _("Other")


class ContactOutcome(models.TextChoices):
    NO_ANSWER = "no_answer", _("No answer")
    MESSAGE_LEFT = "message_left", _("Message left, no reply")
    WRONG_CONTACT = "wrong_contact", _("Wrong or disconnected number / address")
    REACHED_DECLINED = "reached_declined", _("Reached, declined to attend")
    REACHED = "reached", _("Reached")
    OTHER = "other", _("Other")
