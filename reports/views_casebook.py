"""The casebook pages: ask for a participant's casebook, follow its progress, download it."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import get_language
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from reports import casebook_selectors as selectors
from reports import casebook_services as services
from reports.models import CasebookStatus
from trials.http import AuthenticatedHttpRequest


@login_required
@require_POST
def casebook_create(request: AuthenticatedHttpRequest, code: str, pk: int) -> HttpResponse:
    participant = selectors.participant_for_casebook(request.user, code, pk)
    job = services.create_casebook_job(
        user=request.user, participant=participant, language=get_language() or "en"
    )
    return redirect("casebook-job", code=code, job_pk=job.pk)


@login_required
@require_GET
def casebook_job(request: AuthenticatedHttpRequest, code: str, job_pk: int) -> HttpResponse:
    job = selectors.get_job_or_404(request.user, code, job_pk)
    return render(
        request,
        "reports/casebook_job.html",
        {"job": job, "site": job.participant.site, "participant": job.participant},
    )


@login_required
@require_GET
@never_cache
def casebook_status(request: AuthenticatedHttpRequest, code: str, job_pk: int) -> HttpResponse:
    """The progress (htmx polls it until the job is finished)."""
    job = selectors.get_job_or_404(request.user, code, job_pk)
    return render(request, "reports/_casebook_status.html", {"job": job})


@login_required
@require_GET
def casebook_download(request: AuthenticatedHttpRequest, code: str, job_pk: int) -> FileResponse:
    job = selectors.get_job_or_404(request.user, code, job_pk)
    store = services.storage()
    if job.status != CasebookStatus.DONE or not job.file_name or not store.exists(job.file_name):
        raise Http404
    services.log_download(job=job, user=request.user, request=request)
    response = FileResponse(
        store.open(job.file_name, "rb"),
        as_attachment=True,
        filename=job.download_name,
        content_type="application/pdf",
    )
    # Identified health data: never kept by a browser or a proxy.
    response["Cache-Control"] = "no-store"
    return response
