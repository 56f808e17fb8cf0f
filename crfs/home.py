"""The coordinator's forms in progress on a site card (appended to trials.home.WORK)."""

from __future__ import annotations

from django.db import connection
from django.db.models import OuterRef, QuerySet, Subquery
from django.urls import reverse
from django.utils.translation import gettext as _

from crfs import registry
from trials import permissions
from trials.home import Work
from trials.models import Site
from trials.prepared import Prepared
from visits.models import Visit


def _in_progress_at(_shape: object, site_id: int) -> QuerySet:
    """The ids of every entry form's records saved but not complete at the site: a UNION ALL
    over the instruments. Each record's site is read through its visit and participant by
    their primary keys: joined instead, PostgreSQL hashes every visit of the study once per
    instrument (at 10,000 participants eight scans of the visits, ~45 ms on three processes,
    against ~20 ms on one)."""
    site_of_visit = Subquery(
        Visit.objects.filter(pk=OuterRef("visit_id")).order_by().values("participant__site_id")[:1]
    )
    first, *rest = [
        branch.alias(site_of_visit=site_of_visit).filter(site_of_visit=site_id).values_list("pk")
        for branch in registry.in_progress()
    ]
    return first.union(*rest, all=True)


# Its SQL built once per process (it costs more to build than to run); run on every call.
_IN_PROGRESS = Prepared(_in_progress_at)


def forms_work(user, site: Site, roles: list[str]) -> list[Work]:
    """Forms saved but not complete at the site: one UNION ALL count."""
    if not permissions.can(user, permissions.ENTER_DATA, site):
        return []
    sql, params, places = _IN_PROGRESS.sql()
    values = [
        site.pk if place is not None else param for param, place in zip(params, places, strict=True)
    ]
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM ({sql}) AS in_progress", values)  # noqa: S608
        (count,) = cursor.fetchone()
    url = reverse("participant-list", args=[site.code]) + "?forms=in_progress"
    return [Work(_("Forms in progress"), count, url, "circle-half")]
