"""Review pages under /sites/<code>/review/: the site's work queue, a participant's records
with their states, one record's verification, locks, signatures and targeted SDV."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from participants.selectors import get_participant_or_404
from review import recordinfo, selectors, services
from review.forms import ReasonForm, SignForm, TargetsForm, VerifyForm
from review.models import MEANING, Lock, Scope, SdvTargets, SignatureKind, Verification
from trials import permissions, records
from trials.forms import NOT_RUN, form_status, run_service
from trials.http import AuthenticatedHttpRequest
from trials.models import Trial
from trials.records import RecordType
from trials.signing import ask_second_factor


def _record_or_404(participant, key: str, record_id: int) -> tuple[RecordType, Any]:
    record_type = records.get(key)
    if record_type is None:
        raise Http404
    record = record_type.model._default_manager.filter(
        pk=record_id, **{f"{record_type.participant_path}_id": participant.pk}
    ).first()
    if record is None:
        raise Http404
    return record_type, record


def _title(record_type: RecordType, record: Any) -> str:
    visit = record_type.visit_of(record) if record_type.visit_path else None
    if record_type.visit_path == "":
        return f"{record_type.label} {record}"
    return f"{record_type.label} · {visit}" if visit is not None else record_type.label


def _grouped(participant) -> tuple[list[tuple[Any, list[dict]]], list[tuple[RecordType, Any]]]:
    """The participant's records by visit (None first: records of the participant itself)."""
    found = services.records_of_participant(participant)
    states = selectors.record_states(found, participant_id=participant.pk)
    visits = {r.pk: r for t, r in found if t.visit_path == ""}
    groups: dict[int | None, list[dict]] = {}
    for record_type, record in found:
        vid = recordinfo.visit_id(record_type, record)
        groups.setdefault(vid, []).append(
            {
                "type": record_type,
                "record": record,
                "state": states[(record_type.key, record.pk)],
                "title": _title(record_type, record),
                "is_visit": record_type.visit_path == "",
            }
        )
    ordered = sorted(
        groups.items(),
        key=lambda item: (
            item[0] is not None,
            (visits[item[0]].position, visits[item[0]].sequence) if item[0] in visits else (0, 0),
        ),
    )
    return [(visits.get(vid) if vid else None, rows) for vid, rows in ordered], found


@login_required
def queue_page(request: AuthenticatedHttpRequest, code: str) -> HttpResponse:
    """The site's review work: records to verify and to sign, SDV progress, locks."""
    site = permissions.get_site_or_404(request.user, code, permissions.VIEW_PARTICIPANTS)
    user = request.user
    may = {
        cap: permissions.can(user, cap, site)
        for cap in (permissions.VERIFY_SOURCE, permissions.REVIEW_AND_SIGN, permissions.LOCK_DATA)
    }
    progress = selectors.sdv_progress(site=site)
    participants = {p.pk: p for p in site.participants.order_by("screening_number")}
    return render(
        request,
        "review/queue.html",
        {
            "site": site,
            "may_verify": may[permissions.VERIFY_SOURCE],
            "may_sign": may[permissions.REVIEW_AND_SIGN],
            "may_lock": may[permissions.LOCK_DATA],
            "progress": progress,
            "by_participant": [
                (participants[pid], p)
                for pid, p in progress.by_participant.items()
                if pid in participants
            ],
            "to_verify": _named(selectors.queue_rows(selectors.to_verify(site)), participants)
            if may[permissions.VERIFY_SOURCE]
            else [],
            "to_sign": _named(selectors.queue_rows(selectors.to_sign(site)), participants)
            if may[permissions.REVIEW_AND_SIGN]
            else [],
            "serious_to_sign": _named(
                selectors.queue_rows(selectors.to_sign(site, serious_only=True)), participants
            )
            if may[permissions.REVIEW_AND_SIGN]
            else [],
            "locks": selectors.lock_history(site),
            "trials": Trial.objects.filter(participants__site=site).distinct().order_by("nct_id")
            if may[permissions.LOCK_DATA]
            else [],
        },
    )


def _named(rows, participants) -> list[dict]:
    return [
        {"type": records.get(key), "key": key, "id": pk, "participant": participants.get(pid)}
        for key, pk, pid in rows
        if pid in participants
    ]


@login_required
def participant_page(request: AuthenticatedHttpRequest, code: str, pk: int) -> HttpResponse:
    participant = get_participant_or_404(request.user, code, pk)
    grouped, _found = _grouped(participant)
    site = participant.site
    progress = selectors.sdv_progress(participant=participant)
    groups = [
        (visit, rows, progress.by_visit.get(visit.pk) if visit is not None else None)
        for visit, rows in grouped
    ]
    return render(
        request,
        "review/participant.html",
        {
            "site": site,
            "participant": participant,
            "groups": groups,
            "progress": progress,
            "signatures": selectors.signatures_of(participant),
            "locks": selectors.locks_of_participant(participant),
            "may_verify": permissions.can(request.user, permissions.VERIFY_SOURCE, site),
            "may_sign": permissions.can(request.user, permissions.REVIEW_AND_SIGN, site),
            "may_lock": permissions.can(request.user, permissions.LOCK_DATA, site),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def record_page(
    request: AuthenticatedHttpRequest, code: str, pk: int, key: str, record_id: int
) -> HttpResponse:
    """One record: its values, what is verified (and what a change cleared), its lock."""
    participant = get_participant_or_404(request.user, code, pk)
    record_type, record = _record_or_404(participant, key, record_id)
    site = participant.site
    may_verify = permissions.can(request.user, permissions.VERIFY_SOURCE, site)
    if request.method == "POST" and not may_verify:
        raise Http404
    checked = recordinfo.checked_fields(record_type)
    labels = {
        name: str(getattr(record_type.model._meta.get_field(name), "verbose_name", name))
        for name in checked
    }
    form = VerifyForm(request.POST or None, field_choices=list(labels.items()))
    done = run_service(
        form,
        lambda data: services.verify(
            actor=request.user,
            record_type=record_type,
            record=record,
            fields=None if data["whole"] else data["fields_verified"],
        ),
    )
    if done is not NOT_RUN:
        messages.success(request, _("Marked as source verified."))
        return redirect("review-record", code=code, pk=pk, key=key, record_id=record_id)
    state = selectors.record_states([(record_type, record)], participant_id=participant.pk)[
        (key, record.pk)
    ]
    values = recordinfo.values_of(record, checked)
    return render(
        request,
        "review/record.html",
        {
            "site": site,
            "participant": participant,
            "record_type": record_type,
            "record": record,
            "title": _title(record_type, record),
            "page": record_type.page(record) if _has_page(record_type, record) else "",
            "rows": [
                (name, labels[name], values[name], name in state.verified_fields)
                for name in checked
            ],
            "state": state,
            "history": Verification.objects.filter(record_type=key, record_id=record.pk)
            .select_related("verified_by")
            .order_by("-verified_at"),
            "form": form,
            "may_verify": may_verify and not state.verified,
            "may_lock": permissions.can(request.user, permissions.LOCK_DATA, site),
            "record_lock": Lock.objects.active().filter(target=f"record:{key}:{record.pk}").first(),
        },
        status=form_status(form),
    )


def _has_page(record_type: RecordType, record: Any) -> bool:
    try:
        record_type.page(record)
    except Exception:  # a page needing rows the record has lost: the review page stands alone
        return False
    return True


# --- locks ------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def lock_page(request: AuthenticatedHttpRequest, code: str, pk: int | None = None) -> HttpResponse:
    """Lock the site (no participant), the participant, one of their visits (?visit=) or
    one record (?record=<type>:<id>), with a reason."""
    site = permissions.get_site_or_404(request.user, code, permissions.LOCK_DATA)
    participant = None
    target = services.Target(scope=Scope.SITE, site=site)
    label = _("Site %(code)s") % {"code": site.code}
    back: tuple[str, dict[str, Any]] = ("review-queue", {"code": code})
    if pk is not None:
        participant = get_participant_or_404(request.user, code, pk, permissions.LOCK_DATA)
        target = services.Target(scope=Scope.PARTICIPANT, site=site, participant=participant)
        label = _("Participant %(label)s") % {"label": participant.label}
        back = ("review-participant", {"code": code, "pk": pk})
        spec = request.GET.get("visit") or request.GET.get("record")
        if spec:
            key, _sep, raw_id = (
                ("visit", ":", spec) if request.GET.get("visit") else spec.partition(":")
            )
            if not raw_id.isascii() or not raw_id.isdigit():
                raise Http404
            record_type, record = _record_or_404(participant, key, int(raw_id))
            is_visit = record_type.visit_path == "" and request.GET.get("visit")
            target = services.Target(
                scope=Scope.VISIT if is_visit else Scope.RECORD,
                site=site,
                participant=participant,
                record_type=record_type,
                record=record,
            )
            label = _title(record_type, record)
    form = ReasonForm(request.POST or None)
    done = run_service(
        form, lambda data: services.lock(actor=request.user, target=target, reason=data["reason"])
    )
    if done is not NOT_RUN:
        messages.success(request, _("Locked: %(what)s.") % {"what": label})
        return redirect(back[0], **back[1])
    return render(
        request,
        "review/lock.html",
        {"site": site, "participant": participant, "form": form, "label": label, "back": back},
        status=form_status(form),
    )


@login_required
@require_http_methods(["GET", "POST"])
def unlock_page(request: AuthenticatedHttpRequest, code: str, lock_pk: int) -> HttpResponse:
    site = permissions.get_site_or_404(request.user, code, permissions.LOCK_DATA)
    lock = Lock.objects.active().filter(site=site, pk=lock_pk).select_related("locked_by").first()
    if lock is None:
        raise Http404
    form = ReasonForm(request.POST or None)
    done = run_service(
        form, lambda data: services.unlock(actor=request.user, lock=lock, reason=data["reason"])
    )
    if done is not NOT_RUN:
        messages.success(request, _("Unlocked."))
        if lock.participant_id:
            return redirect("review-participant", code=code, pk=lock.participant_id)
        return redirect("review-queue", code=code)
    return render(
        request,
        "review/unlock.html",
        {"site": site, "participant": None, "lock": lock, "form": form},
        status=form_status(form),
    )


# --- signatures -------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def sign_page(request: AuthenticatedHttpRequest, code: str, pk: int, kind: str) -> HttpResponse:
    """Sign a visit (?visit=<id>), the casebook, or chosen serious-event records."""
    participant = get_participant_or_404(request.user, code, pk, permissions.REVIEW_AND_SIGN)
    if kind not in SignatureKind.values:
        raise Http404
    visit = None
    choices = None
    chosen_from: dict[str, tuple[RecordType, Any]] = {}
    if kind == SignatureKind.VISIT:
        raw = request.GET.get("visit", "")
        if not raw.isascii() or not raw.isdigit():
            raise Http404
        _visit_type, visit = _record_or_404(participant, "visit", int(raw))
        shown = services.records_of_participant(participant, visit_id=visit.pk)
    elif kind == SignatureKind.CASEBOOK:
        shown = services.records_of_participant(participant)
    else:
        # A set of events: the records of the types that have a seriousness flag.
        shown = [
            (t, r)
            for t, r in services.records_of_participant(participant)
            if any(f.name == "serious" for f in t.model._meta.concrete_fields)
        ]
        chosen_from = {f"{t.key}:{r.pk}": (t, r) for t, r in shown}
        choices = [(value, f"{t.label} · {r}") for value, (t, r) in chosen_from.items()]
    form = SignForm(request.POST or None, record_choices=choices)
    ask_second_factor(form, request.user)
    done = run_service(
        form,
        lambda data: services.sign(
            actor=request.user,
            participant=participant,
            kind=kind,
            password=data["password"],
            token=data.get("token", ""),
            visit=visit,
            chosen=[chosen_from[value] for value in data.get("records", [])],
        ),
    )
    if done is not NOT_RUN:
        messages.success(request, _("Signed."))
        return redirect("review-participant", code=code, pk=pk)
    states = selectors.record_states(shown, participant_id=participant.pk)
    return render(
        request,
        "review/sign.html",
        {
            "site": participant.site,
            "participant": participant,
            "kind": kind,
            "visit": visit,
            "meaning": MEANING,
            "rows": [(t, r, _title(t, r), states[(t.key, r.pk)]) for t, r in shown],
            "form": form,
        },
        status=form_status(form),
    )


# --- targeted SDV -----------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def targets_page(request: AuthenticatedHttpRequest, code: str, trial_pk: int) -> HttpResponse:
    site = permissions.get_site_or_404(request.user, code, permissions.LOCK_DATA)
    trial = Trial.objects.filter(pk=trial_pk).first()
    if trial is None:
        raise Http404
    current = SdvTargets.objects.filter(trial=trial).first()
    form = TargetsForm(
        request.POST or None,
        choices=services.target_choices(),
        initial={"targets": current.targets if current else []},
    )
    done = run_service(
        form,
        lambda data: services.set_sdv_targets(
            actor=request.user, site=site, trial=trial, targets=data["targets"]
        ),
    )
    if done is not NOT_RUN:
        messages.success(request, _("Targeted SDV saved."))
        return redirect("review-queue", code=code)
    return render(
        request,
        "review/targets.html",
        {"site": site, "participant": None, "trial": trial, "form": form},
        status=form_status(form),
    )
