from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class VisitsConfig(AppConfig):
    name = "visits"
    verbose_name = _("Visits")

    def ready(self) -> None:
        """Create visits at registration and enrolment, close them at the end of study."""
        from participants import lifecycle
        from visits import services
        from visits.checks import register_checks
        from visits.records import register_records

        lifecycle.connect(lifecycle.ON_REGISTERED, services.on_registered)
        lifecycle.connect(lifecycle.ON_ENROLLED, services.on_enrolled)
        lifecycle.connect(lifecycle.ON_EXITED, services.on_exited)
        register_records()
        register_checks()
