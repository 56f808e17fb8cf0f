from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReviewConfig(AppConfig):
    name = "review"
    verbose_name = _("Data review")

    def ready(self) -> None:
        """Every write of a reviewable record asks review's locks first (trials.locking), and
        each role's home page leads with its review work."""
        from review import coverage, guard, history, home
        from review.admin import register_records
        from trials import home as trial_home
        from trials import locking, timeline
        from trials.hooks import connect

        connect(locking.WRITE_GUARDS, guard.guard)
        connect(locking.ON_WRITTEN, guard.written)
        connect(locking.LOCK_FINDERS, guard.lock_of)
        connect(locking.COVERAGE_FINDERS, coverage.lock_covering)
        connect(timeline.HISTORY_SOURCES, history.record_history)
        connect(trial_home.WORK, home.review_work)
        register_records()
