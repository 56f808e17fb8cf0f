from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuditConfig(AppConfig):
    name = "audit"
    verbose_name = _("Audit trail")

    def ready(self) -> None:
        """The access log listens to Django's auth signals, django-axes' lockouts and the
        team services; audit contexts learn the path of Celery tasks (commands set theirs:
        trials.history.AuditedCommand and manage.py)."""
        from axes.signals import user_locked_out
        from celery.signals import task_postrun, task_prerun
        from django.contrib.auth.signals import (
            user_logged_in,
            user_logged_out,
            user_login_failed,
        )
        from django.db.models.signals import post_migrate

        from audit import context, home, services, triggers
        from trials import hooks
        from trials.home import PANELS

        uid = "audit.access"
        user_logged_in.connect(services.on_logged_in, dispatch_uid=f"{uid}.in")
        user_logged_out.connect(services.on_logged_out, dispatch_uid=f"{uid}.out")
        user_login_failed.connect(services.on_login_failed, dispatch_uid=f"{uid}.failed")
        user_locked_out.connect(services.on_locked_out, dispatch_uid=f"{uid}.lockout")
        hooks.connect(hooks.ON_ROLE_CHANGED, services.on_role_changed)
        hooks.connect(PANELS, home.audit_panel)
        task_prerun.connect(context.task_started, dispatch_uid="audit.task_started")
        task_postrun.connect(context.task_ended, dispatch_uid="audit.task_ended")
        # Database set-up, not a reaction to data: every event table's unconditional guard.
        post_migrate.connect(triggers.install, sender=self, dispatch_uid="audit.triggers")
