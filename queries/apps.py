from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class QueriesConfig(AppConfig):
    name = "queries"
    verbose_name = _("Queries and edit checks")
