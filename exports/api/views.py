"""Read-only API views, scoped by site and role through trials.permissions."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.urls import reverse
from drf_spectacular.utils import extend_schema
from rest_framework import generics
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from crfs import registry
from exports.api import serializers
from exports.models import ExportJob
from participants.models import Participant
from trials import permissions
from visits.models import Visit


class AuthenticatedRequest(Request):
    """A request the default permission class (IsAuthenticated) let through: only an
    annotation, so the type checker knows `request.user` is a `User`."""

    user: User


def _participant_sites(user):
    return permissions.sites_where(user, permissions.VIEW_PARTICIPANTS)


class ParticipantList(generics.ListAPIView):
    """Participants at the sites where you hold a role (no identity data)."""

    serializer_class = serializers.ParticipantSerializer

    def get_queryset(self):
        queryset = Participant.objects.filter(site__in=_participant_sites(self.request.user))
        site = self.request.query_params.get("site")
        if site:
            queryset = queryset.filter(site__code=site)
        return queryset.select_related("site").order_by("pk")


class ParticipantDetail(generics.RetrieveAPIView):
    serializer_class = serializers.ParticipantSerializer

    def get_queryset(self):
        return Participant.objects.filter(
            site__in=_participant_sites(self.request.user)
        ).select_related("site")


class VisitList(generics.ListAPIView):
    """Visits of the participants you may see; filter with ?participant=<id>."""

    serializer_class = serializers.VisitSerializer

    def get_queryset(self):
        queryset = Visit.objects.filter(
            participant__site__in=_participant_sites(self.request.user)
        ).select_related("participant__site")
        participant = self.request.query_params.get("participant")
        if participant and participant.isdigit():
            queryset = queryset.filter(participant_id=int(participant))
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


class FormRecordList(generics.ListAPIView):
    """Records of one form (every field, missing-data reasons included); ?participant=<id>."""

    form_code = ""

    def get_serializer_class(self):
        return serializers.record_serializer(self.form_code)

    def get_queryset(self):
        model = registry.entry_forms()[self.form_code].model
        queryset = model.objects.filter(
            visit__participant__site__in=_participant_sites(self.request.user)
        ).select_related("visit__participant__site")
        participant = self.request.query_params.get("participant")
        if participant and participant.isdigit():
            queryset = queryset.filter(visit__participant_id=int(participant))
        return queryset.order_by("visit__participant_id", "visit__position", "visit__sequence")


class ExportList(generics.ListAPIView):
    """Your dataset exports and their download links."""

    request: AuthenticatedRequest
    serializer_class = serializers.ExportJobSerializer

    def get_queryset(self):
        return (
            ExportJob.objects.filter(requested_by=self.request.user)
            .prefetch_related("sites")
            .order_by("-created_at", "-pk")
        )


class ExportDetail(generics.RetrieveAPIView):
    request: AuthenticatedRequest
    serializer_class = serializers.ExportJobSerializer

    def get_queryset(self):
        return ExportJob.objects.filter(requested_by=self.request.user).prefetch_related("sites")
