import os

from celery import Celery

from config import observability

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("ecrf")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
observability.connect_signals()


@app.task(name="ops.heartbeat", ignore_result=True)
def heartbeat() -> None:
    """Run by some worker every ECRF_HEARTBEAT_SECONDS (beat): /healthz/workers reads its age."""
    observability.stamp_heartbeat()


@app.on_after_configure.connect
def add_nightly_edit_checks(sender, **kwargs) -> None:
    """Every edit check over every participant, nightly after the visit status refresh (21:05
    UTC = 00:35 Asia/Tehran): it finds what the on-save runs cannot see (a check added or
    changed, values re-derived in place, a lost dispatch) and closes what no longer holds."""
    from celery.schedules import crontab

    sender.add_periodic_task(
        crontab(hour=21, minute=5),
        sender.signature("queries.run_all_checks"),
        name="nightly-edit-checks",
    )
    from django.conf import settings

    sender.add_periodic_task(
        float(settings.ECRF_HEARTBEAT_SECONDS), heartbeat.s(), name="worker-heartbeat"
    )
