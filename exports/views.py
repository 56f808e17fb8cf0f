from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST
from rest_framework.authtoken.models import Token

from audit.models import AccessKind
from audit.services import log_access
from exports import files, selectors, services
from exports.forms import ExportForm
from exports.models import ExportStatus
from trials import permissions
from trials.forms import NOT_RUN, form_status, run_service
from trials.http import AuthenticatedHttpRequest


def _require_export(user) -> None:
    if not permissions.can(user, permissions.EXPORT_DATA):
        raise Http404


@login_required
@require_http_methods(["GET", "POST"])
def export_page(request: AuthenticatedHttpRequest) -> HttpResponse:
    _require_export(request.user)
    form = ExportForm(request.POST or None, user=request.user)
    if not form.is_bound:
        chosen = request.GET.get("site")
        sites = selectors.export_sites(request.user)  # the form's site choices
        form.initial["sites"] = [s.pk for s in sites if not chosen or s.code == chosen]
    job = run_service(
        form, lambda data: services.create_export_job(user=request.user, options=form.options())
    )
    if job is not NOT_RUN:
        return redirect("export-job", pk=job.pk)
    recent = selectors.downloadable_jobs(request.user).order_by("-created_at", "-pk")[:5]
    return render(
        request,
        "exports/export.html",
        {"form": form, "recent": recent},
        status=form_status(form),
    )


@login_required
def job_page(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    job = selectors.get_own_job_or_404(request.user, pk)
    return render(request, "exports/job.html", {"job": job})


@login_required
def job_status(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """The progress bar (htmx polls this until the job is finished)."""
    job = selectors.get_own_job_or_404(request.user, pk)
    return render(request, "exports/_job_status.html", {"job": job})


@login_required
def job_download(request: AuthenticatedHttpRequest, pk: int) -> FileResponse:
    """The bundle streamed from the exports storage (folder or bucket) through this view, its
    permission check and access log: the bucket is never public."""
    job = selectors.get_own_job_or_404(request.user, pk)
    if job.status != ExportStatus.DONE or not job.file_path:
        raise Http404
    try:
        stream = files.open_bundle(job.file_path)
    except (FileNotFoundError, OSError) as missing:
        raise Http404 from missing
    log_access(
        AccessKind.EXPORT_DOWNLOADED,
        user=request.user,
        request=request,
        sites=job.sites.all(),
        detail=f"export {job.pk}",
    )
    response = FileResponse(stream, as_attachment=True, filename=job.download_name)
    if job.file_size is not None:
        response["Content-Length"] = str(job.file_size)
    return response


@login_required
@require_POST
def job_delete(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    job = selectors.get_own_job_or_404(request.user, pk)
    services.delete_bundle(job=job)
    messages.success(request, _("The export bundle was deleted; the log keeps the entry."))
    return redirect("export-log")


@login_required
def log_page(request: AuthenticatedHttpRequest) -> HttpResponse:
    _require_export(request.user)
    page = Paginator(selectors.export_log(request.user), 50).get_page(request.GET.get("page"))
    # The log keeps every export of the user's sites; only these may still be opened.
    openable = set(
        selectors.downloadable_jobs(request.user)
        .filter(pk__in=[job.pk for job in page])
        .values_list("pk", flat=True)
    )
    return render(request, "exports/log.html", {"page": page, "openable": openable})


@login_required
@require_http_methods(["GET", "POST"])
def token_page(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Create, replace or revoke the user's API token."""
    token = Token.objects.filter(user=request.user).first()
    if request.method == "POST":
        action = request.POST.get("action")
        if token is not None:
            token.delete()
            token = None
        if action == "create":
            token = Token.objects.create(user=request.user)
            messages.success(
                request, _("A new API token was created; the old one no longer works.")
            )
        else:
            messages.success(request, _("Your API token was revoked."))
        return redirect("api-token")
    return render(request, "exports/token.html", {"token": token})
