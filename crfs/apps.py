from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CrfsConfig(AppConfig):
    name = "crfs"
    verbose_name = _("Case report forms")

    def ready(self) -> None:
        """Enrolment asks the screening checklist; stored derived values follow the visit date
        and the trial's spirometry equation."""
        from crfs import rederive
        from crfs.eligibility import services as eligibility
        from participants import lifecycle
        from trials import hooks as trial_hooks
        from visits import hooks as visit_hooks

        lifecycle.connect(lifecycle.ENROLMENT_CHECKS, eligibility.check_enrolment)
        trial_hooks.connect(visit_hooks.ON_VISIT_DATE_CHANGED, rederive.rederive_visit)
        trial_hooks.connect(
            trial_hooks.ON_SPIROMETRY_EQUATION_CHANGED, rederive.rederive_trial_spirometry
        )
