from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DemoConfig(AppConfig):
    """Demo team, demo participants and the synthetic-data seeder: development and
    benchmarks only (settings leave the app out unless ECRF_DEMO is on)."""

    name = "demo"
    verbose_name = _("Demo data")
