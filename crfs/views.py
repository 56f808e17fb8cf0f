"""The entry page of any case report form at a visit."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Exists, OuterRef
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from crfs import registry
from crfs.entry import StaleFormError, save_form
from crfs.wording.forms import wording_used
from participants.models import Consent
from participants.selectors import get_participant_or_404
from trials import permissions
from trials.forms import NOT_RUN, run_service
from visits.models import Visit


def _field_label(model, name: str) -> str:
    base, _sep, suffix = name.partition(" (")
    try:
        label = str(model._meta.get_field(base).verbose_name)
    except Exception:  # derived names such as "x (missing reason)" of unknown fields
        label = base
    return f"{label} ({suffix}" if suffix else label


@login_required
@require_http_methods(["GET", "POST"])
def entry_page(
    request: HttpRequest, code: str, pk: int, visit_pk: int, form_code: str
) -> HttpResponse:
    participant = get_participant_or_404(request.user, code, pk)
    # Whether consent is recorded comes with the visit (one query, not one more per page).
    visit = (
        Visit.objects.filter(participant=participant, pk=visit_pk)
        .annotate(consented=Exists(Consent.objects.filter(participant_id=OuterRef("participant"))))
        .first()
    )
    spec = registry.get(form_code)
    if visit is not None:
        visit.participant = participant  # with its site and trial, already loaded
    if (
        visit is None
        or spec is None
        or (form_code not in visit.expected_forms() and not visit.is_unscheduled)
    ):
        raise Http404
    site = participant.site
    may_enter = permissions.can(request.user, permissions.ENTER_DATA, site)
    if request.method == "POST" and not may_enter:
        raise Http404
    record = spec.model.objects.filter(visit=visit).select_related("updated_by").first()
    if record is not None:
        record.visit = visit  # the page's lock check reads its participant: not again
    form = spec.form_class(
        request.POST or None,
        instance=record,
        initial=spec.model.initial_answers(visit) if record is None else None,
    )
    conflict = None
    try:
        saved = run_service(
            form,
            lambda data: save_form(
                record_class=spec.model,
                visit=visit,
                user=request.user,
                answers={name: data.get(name) for name in spec.model.answer_fields()},
                missing_reasons=data["missing_reasons"],
                expected_version=data["version"],
                complete=data["mark_complete"],
                reason=data["reason_for_change"],
                children=form.child_rows(),
                wording=wording_used(form),
            ),
        )
    except StaleFormError as stale:
        # Keep this person's input on the page; their next save is a deliberate overwrite.
        resubmit = request.POST.copy()
        resubmit["version"] = str(stale.record.version)
        form = spec.form_class(resubmit, instance=stale.record if stale.record.pk else None)
        form.is_valid()
        form.add_error(
            None,
            _(
                "Someone else saved this form while you were editing it. Nothing of yours was saved yet; review the differences below and save again to keep your answers."
            ),
        )
        conflict = {
            "by": stale.record.updated_by if stale.record.pk else None,
            "at": stale.record.updated_at if stale.record.pk else None,
            "changes": [
                (_field_label(spec.model, change.field), change.saved, change.submitted)
                for change in stale.changes
            ],
        }
        saved = NOT_RUN
    if saved is not NOT_RUN:
        messages.success(request, _("%(form)s saved.") % {"form": spec.title})
        return redirect("crf-entry", code=code, pk=pk, visit_pk=visit_pk, form_code=form_code)
    return render(
        request,
        spec.template,
        {
            "site": site,
            "participant": participant,
            "visit": visit,
            "spec": spec,
            "record": record,
            "form": form,
            "conflict": conflict,
            "answer_names": [name for name in form.fields if name in spec.model.answer_fields()],
            "may_enter": may_enter,
            "consented": visit.consented,
            "dated": visit.actual_date is not None,
        },
        status=400 if request.method == "POST" else 200,
    )
