from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from trials import home, permissions, selectors, services
from trials.forms import NOT_RUN, GrantRoleForm, form_status, run_service
from trials.models import Membership


@login_required
def home_page(request: HttpRequest) -> HttpResponse:
    return render(request, "trials/home.html", {"cards": home.cards_for(request.user)})


@login_required
def site_page(request: HttpRequest, code: str) -> HttpResponse:
    site = permissions.get_site_or_404(request.user, code)
    roles = sorted(permissions.site_roles(request.user).get(site.pk, set()))
    return render(
        request,
        "trials/site.html",
        {"site": site, "card": home.card_for(request.user, site, roles)},
    )


@login_required
@require_http_methods(["GET", "POST"])
def team_page(request: HttpRequest, code: str) -> HttpResponse:
    site = permissions.get_site_or_404(request.user, code)
    may_manage = permissions.can(request.user, permissions.MANAGE_TEAM, site)
    form = GrantRoleForm(request.POST or None) if may_manage else None
    if request.method == "POST":
        if form is None:  # only a team manager gets the form
            raise Http404
        granted = run_service(
            form,
            lambda data: services.grant_role(
                actor=request.user, site=site, user=data["user"], role=data["role"]
            ),
        )
        if granted is not NOT_RUN:
            messages.success(request, _("Role granted."))
            return redirect("site-team", code=site.code)
    return render(
        request,
        "trials/team.html",
        {
            "site": site,
            "members": selectors.team_of(site),
            "history": selectors.team_history(site),
            "form": form,
            "may_manage": may_manage,
        },
        status=form_status(form),
    )


@login_required
@require_http_methods(["GET", "POST"])
def revoke_membership(request: HttpRequest, code: str, membership_id: int) -> HttpResponse:
    """GET asks for confirmation; POST revokes."""
    site = permissions.get_site_or_404(request.user, code, permissions.MANAGE_TEAM)
    membership = (
        Membership.objects.filter(pk=membership_id, site=site)
        .select_related("site", "user")
        .first()
    )
    if membership is None:
        raise Http404
    if not membership.is_active:  # e.g. the confirmation submitted twice
        messages.info(request, _("This role was already revoked."))
        return redirect("site-team", code=site.code)
    error = None
    if request.method == "POST":
        try:
            services.revoke_role(actor=request.user, membership=membership)
        except ValidationError as refusal:
            error = " ".join(refusal.messages)
        else:
            messages.success(request, _("Role revoked."))
            return redirect("site-team", code=site.code)
    return render(
        request,
        "trials/revoke.html",
        {"site": site, "membership": membership, "error": error},
        status=400 if error else 200,
    )
