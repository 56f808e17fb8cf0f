from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CrfsConfig(AppConfig):
    name = "crfs"
    verbose_name = _("Case report forms")

    def ready(self) -> None:
        """Enrolment and the return from a screen failure ask the screening checklist; stored
        derived values follow the visit date, the trial's spirometry equation and corrected
        demographics or ALS history."""
        from crfs import rederive
        from crfs.alsfrs_r import checks as alsfrs_r_checks
        from crfs.eligibility import services as eligibility
        from crfs.fvc import checks as fvc_checks
        from crfs.home import forms_work
        from crfs.records import register_records
        from crfs.vitals import checks as vitals_checks
        from participants import lifecycle
        from trials import home
        from trials import hooks as trial_hooks
        from visits import hooks as visit_hooks

        lifecycle.connect(lifecycle.ENROLMENT_CHECKS, eligibility.check_enrolment)
        lifecycle.connect(
            lifecycle.RETURN_TO_SCREENING_CHECKS, eligibility.check_return_to_screening
        )
        lifecycle.connect(lifecycle.ON_CLINICAL_CORRECTED, rederive.on_clinical_corrected)
        trial_hooks.connect(visit_hooks.ON_VISIT_DATE_CHANGED, rederive.rederive_visit)
        trial_hooks.connect(
            trial_hooks.ON_SPIROMETRY_EQUATION_CHANGED, rederive.rederive_trial_spirometry
        )
        register_records()
        trial_hooks.connect(home.WORK, forms_work)
        for instrument_checks in (alsfrs_r_checks, fvc_checks, vitals_checks):
            instrument_checks.register_checks()
