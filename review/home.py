"""The review work of a site card (appended to trials.home.WORK in ready()): what waits
for the monitor (records to verify), the investigator (records and serious adverse events
to sign) and the data manager (active locks), each counted and linked to its queue."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext as _

from review import selectors
from trials import permissions
from trials.home import Work
from trials.models import Site


def review_work(user, site: Site, roles: list[str]) -> list[Work]:
    """A constant number of queries per site card (selectors.queue_counts)."""
    held = {cap for role in roles for cap in permissions.CAPABILITIES.get(role, ())}
    wanted = held & {permissions.VERIFY_SOURCE, permissions.REVIEW_AND_SIGN, permissions.LOCK_DATA}
    if not wanted:
        return []
    counts = selectors.queue_counts(user, site, wanted)
    queue = reverse("review-queue", args=[site.code])
    work = []
    if permissions.VERIFY_SOURCE in wanted:
        work.append(
            Work(_("Records to verify"), counts.to_verify, queue + "#to-verify", "patch-check")
        )
    if permissions.REVIEW_AND_SIGN in wanted:
        work.append(Work(_("Records to sign"), counts.to_sign, queue + "#to-sign", "pen"))
        work.append(
            Work(
                _("Serious adverse events to sign"),
                counts.serious_to_sign,
                queue + "#serious-to-sign",
                "pen-fill",
            )
        )
    if permissions.LOCK_DATA in wanted:
        work.append(Work(_("Active locks"), counts.locks, queue + "#locks", "lock"))
    return work
