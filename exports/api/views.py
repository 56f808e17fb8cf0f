"""Read-only API views, scoped by site and role through trials.permissions."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.urls import reverse
from django.utils.translation import gettext as _
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics
from rest_framework.exceptions import NotFound, ParseError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from crfs import registry
from exports import safety_selectors, selectors
from exports.api import serializers
from participants.models import Participant
from trials import permissions
from visits.models import Visit


class AuthenticatedRequest(Request):
    """A request the default permission class (IsAuthenticated) let through: only an
    annotation, so the type checker knows `request.user` is a `User`."""

    user: User


def _participant_sites(user):
    return permissions.sites_where(user, permissions.VIEW_PARTICIPANTS)


class WithErrors(AutoSchema):
    """Declares the error answers a view gives besides its own (`error_codes` on the view):
    a schema-driven client must find a bad filter's 400 and an unknown page's 404 there."""

    def get_response_serializers(self):
        codes = getattr(self.view, "error_codes", (404,))
        return {
            200: super().get_response_serializers(),
            **dict.fromkeys(codes, serializers.ErrorSerializer),
        }


SITE_FILTER = OpenApiParameter(
    "site",
    OpenApiTypes.STR,
    description="A site code (404 for a site you hold no role at).",
)
PARTICIPANT_FILTER = OpenApiParameter(
    "participant",
    # A participant id: a positive whole number (anything else is a 400, as described).
    {"type": "integer", "minimum": 1},
    description="A participant id (400 if not a whole number, 404 for one you may not see).",
)


def _filter_by_participant(queryset, request, sites, lookup: str):
    value = request.query_params.get("participant")
    if value is None:
        return queryset
    if not value.isascii() or not value.isdigit():
        raise ParseError(_("participant: a participant id (a whole number) is expected."))
    if not Participant.objects.filter(pk=int(value), site__in=sites).exists():
        raise NotFound(_("No participant with this id at your sites."))
    return queryset.filter(**{lookup: int(value)})


@extend_schema(parameters=[SITE_FILTER])
class ParticipantList(generics.ListAPIView):
    """Participants at the sites where you hold a role (no identity data)."""

    serializer_class = serializers.ParticipantSerializer
    schema = WithErrors()

    def get_queryset(self):
        sites = _participant_sites(self.request.user)
        queryset = Participant.objects.filter(site__in=sites)
        site = self.request.query_params.get("site")
        if site is not None:
            if not sites.filter(code=site).exists():
                raise NotFound(_("No site with this code among yours."))
            queryset = queryset.filter(site__code=site)
        return queryset.select_related("site").order_by("pk")


class ParticipantDetail(generics.RetrieveAPIView):
    serializer_class = serializers.ParticipantSerializer
    schema = WithErrors()

    def get_queryset(self):
        return Participant.objects.filter(
            site__in=_participant_sites(self.request.user)
        ).select_related("site")


@extend_schema(parameters=[PARTICIPANT_FILTER])
class VisitList(generics.ListAPIView):
    """Visits of the participants you may see; filter with ?participant=<id>."""

    serializer_class = serializers.VisitSerializer
    schema = WithErrors()
    error_codes = (400, 404)

    def get_queryset(self):
        sites = _participant_sites(self.request.user)
        queryset = Visit.objects.filter(participant__site__in=sites).select_related(
            "participant__site"
        )
        queryset = _filter_by_participant(queryset, self.request, sites, "participant_id")
        return queryset.order_by("participant_id", "position", "sequence")


class FormList(APIView):
    """The case report forms whose records the API serves."""

    @extend_schema(responses=serializers.FormSerializer(many=True))
    def get(self, request: Request) -> Response:
        data = [
            {
                "code": code,
                "title": spec.title,
                "answers": list(spec.model.answer_fields()),
                "records": request.build_absolute_uri(reverse(f"api-form-{code}")),
            }
            for code, spec in registry.entry_forms().items()
        ]
        return Response(serializers.FormSerializer(data, many=True).data)


@extend_schema(parameters=[PARTICIPANT_FILTER])
class FormRecordList(generics.ListAPIView):
    """Records of one form (every field, missing-data reasons included); ?participant=<id>."""

    form_code = ""
    schema = WithErrors()
    error_codes = (400, 404)

    def get_serializer_class(self):
        return serializers.record_serializer(self.form_code)

    def get_queryset(self):
        model = registry.entry_forms()[self.form_code].model
        sites = _participant_sites(self.request.user)
        queryset = model.objects.filter(visit__participant__site__in=sites).select_related(
            "visit__participant__site"
        )
        queryset = _filter_by_participant(queryset, self.request, sites, "visit__participant_id")
        return queryset.order_by("visit__participant_id", "visit__position", "visit__sequence")


class ExportList(generics.ListAPIView):
    """Your dataset exports that you may still download (a revoked role takes its sites' away)."""

    request: AuthenticatedRequest
    serializer_class = serializers.ExportJobSerializer
    schema = WithErrors()

    def get_queryset(self):
        return (
            selectors.downloadable_jobs(self.request.user)
            .prefetch_related("sites")
            .order_by("-created_at", "-pk")
        )


class ExportDetail(generics.RetrieveAPIView):
    request: AuthenticatedRequest
    serializer_class = serializers.ExportJobSerializer
    schema = WithErrors()

    def get_queryset(self):
        return selectors.downloadable_jobs(self.request.user).prefetch_related("sites")


def _filter_by_site(queryset, request, sites, lookup: str):
    value = request.query_params.get("site")
    if value is None:
        return queryset
    if not sites.filter(code=value).exists():
        raise NotFound(_("No site with this code among yours."))
    return queryset.filter(**{lookup: value})


@extend_schema(parameters=[PARTICIPANT_FILTER, SITE_FILTER])
class AdverseEventList(generics.ListAPIView):
    """Adverse events of the participants you may see, each with the visit it was reported
    at and every investigator's signed assessment; ?participant=<id>, ?site=<code>."""

    serializer_class = serializers.AdverseEventSerializer
    schema = WithErrors()
    error_codes = (400, 404)

    def get_queryset(self):
        sites = _participant_sites(self.request.user)
        queryset = safety_selectors.adverse_events_at(sites)
        queryset = _filter_by_participant(queryset, self.request, sites, "participant_id")
        return _filter_by_site(queryset, self.request, sites, "participant__site__code")


@extend_schema(parameters=[PARTICIPANT_FILTER, SITE_FILTER])
class ConcomitantMedicationList(generics.ListAPIView):
    """Concomitant medication of the participants you may see, each with the visit it was
    recorded at; ?participant=<id>, ?site=<code>."""

    serializer_class = serializers.ConcomitantMedicationSerializer
    schema = WithErrors()
    error_codes = (400, 404)

    def get_queryset(self):
        sites = _participant_sites(self.request.user)
        queryset = safety_selectors.conmeds_at(sites)
        queryset = _filter_by_participant(queryset, self.request, sites, "participant_id")
        return _filter_by_site(queryset, self.request, sites, "participant__site__code")
