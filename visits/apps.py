from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class VisitsConfig(AppConfig):
    name = "visits"
    verbose_name = _("Visits")

    def ready(self) -> None:
        """Create visits at registration and enrolment (once the screening checklist allows it);
        close them at the end of study."""
        from participants import lifecycle
        from visits import services
        from visits.crfs import eligibility

        lifecycle.connect(lifecycle.ENROLMENT_CHECKS, eligibility.check_enrolment)
        lifecycle.connect(lifecycle.ON_REGISTERED, services.on_registered)
        lifecycle.connect(lifecycle.ON_ENROLLED, services.on_enrolled)
        lifecycle.connect(lifecycle.ON_EXITED, services.on_exited)
