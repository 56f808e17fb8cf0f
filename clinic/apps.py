from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ClinicConfig(AppConfig):
    """The pages that combine several apps: the participant list, the participant page and
    the visit page (participants, visits, their forms and what later apps add to them)."""

    name = "clinic"
    verbose_name = _("Participant and visit pages")
