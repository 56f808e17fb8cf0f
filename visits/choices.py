from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class VisitStatus(models.TextChoices):
    UPCOMING = "upcoming", _("Upcoming")
    WINDOW_OPEN = "window_open", _("Window open")
    OVERDUE = "overdue", _("Overdue")
    # Attendance only (the visit has a date): whether its forms are filled in is shown apart.
    DONE = "done", _("Attended")
    DONE_OUT_OF_WINDOW = "done_out_of_window", _("Attended out of window")
    MISSED = "missed", _("Missed")
    NOT_EXPECTED = "not_expected", _("Not expected")


DONE_STATUSES = frozenset({VisitStatus.DONE, VisitStatus.DONE_OUT_OF_WINDOW})
CLOSED_STATUSES = frozenset({*DONE_STATUSES, VisitStatus.MISSED, VisitStatus.NOT_EXPECTED})


class Route(models.TextChoices):
    INTRASPINAL = "intraspinal", _("Intraspinal")
    INTRATHECAL = "intrathecal", _("Intrathecal")
    BOTH = "both", _("Intraspinal and intrathecal")


class NeedleType(models.TextChoices):
    CUTTING = "cutting", _("Cutting (Quincke)")
    ATRAUMATIC = "atraumatic", _("Atraumatic (pencil-point)")
    OTHER = "other", _("Other")
