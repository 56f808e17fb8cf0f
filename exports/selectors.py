"""Reads of the export app, scoped through trials.permissions."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import Prefetch, QuerySet
from django.http import Http404

from crfs import registry
from exports.models import ExportJob
from exports.options import PARTICIPANTS_TABLE
from participants.choices import ParticipantStatus
from trials import permissions
from trials.models import Site

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


def export_sites(user) -> QuerySet[Site]:
    return permissions.sites_where(user, permissions.EXPORT_DATA).order_by("code")


def form_choices() -> list[tuple[str, str]]:
    from django.utils.translation import gettext as _

    choices = [(PARTICIPANTS_TABLE, _("Participants (demographics, ALS history, transplantation)"))]
    from exports.safety_tables import safety_choices

    choices += [(code, spec.title) for code, spec in registry.entry_forms().items()]
    return choices + safety_choices()


def visit_choices() -> list[tuple[str, str]]:
    from exports.tables import visit_codelist

    return [(code, f"{code} · {label}") for code, label in visit_codelist().items]


def status_choices() -> list[tuple[str, StrOrPromise]]:
    return list(ParticipantStatus.choices)


def export_log(user) -> QuerySet[ExportJob]:
    """Exports that touched a site where the user may export (two queries, any length)."""
    return (
        ExportJob.objects.filter(sites__in=export_sites(user))
        .distinct()
        .select_related("requested_by")
        .prefetch_related(Prefetch("sites", queryset=Site.objects.order_by("code")))
        .order_by("-created_at", "-pk")
    )


def downloadable_jobs(user) -> QuerySet[ExportJob]:
    """The user's own jobs while they still may export at every site a job covers: a role
    revoked at one site (memberships are only deactivated) takes that site's bundles away."""
    return ExportJob.objects.filter(requested_by=user).exclude(
        sites__in=Site.objects.exclude(pk__in=export_sites(user).values("pk"))
    )


def get_own_job_or_404(user, pk: int) -> ExportJob:
    """A job the user requested, while they still may export at every site it covers."""
    job = downloadable_jobs(user).filter(pk=pk).first()
    if job is None:
        raise Http404
    return job
