from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SafetyConfig(AppConfig):
    name = "safety"
    verbose_name = _("Safety")

    def ready(self) -> None:
        """The home page's site cards link the AE listing."""
        from safety.checks import register_checks
        from safety.home import safety_panel
        from safety.records import register_records
        from trials import home
        from trials.hooks import connect

        connect(home.PANELS, safety_panel)
        register_records()
        register_checks()
