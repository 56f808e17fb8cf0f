"""Serializers of the read API; the form-record ones are built from each model's _meta."""

from __future__ import annotations

from functools import cache

from django.urls import reverse
from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers

from crfs import registry
from exports.models import ExportJob
from exports.variables import field_kind
from participants.models import Participant
from safety.choices import CRITERIA_FIELDS
from safety.models import AdverseEvent, AdverseEventAssessment, ConcomitantMedication
from trials.models import Site
from visits.models import Visit


class ParticipantSerializer(serializers.ModelSerializer):
    site = serializers.CharField(source="site.code", read_only=True)

    class Meta:
        model = Participant
        fields = [
            "id",
            "study_id",
            "screening_number",
            "site",
            "status",
            "status_date",
            "screened_on",
            "enrolled_on",
            "exited_on",
        ]


class VisitSerializer(serializers.ModelSerializer):
    site = serializers.CharField(source="participant.site.code", read_only=True)
    study_id = serializers.CharField(source="participant.label", read_only=True)

    class Meta:
        model = Visit
        fields = [
            "id",
            "participant",
            "study_id",
            "site",
            "code",
            "sequence",
            "target_date",
            "window_start",
            "window_end",
            "actual_date",
            "status",
            "days_from_target",
        ]


class FormSerializer(serializers.Serializer):
    code = serializers.CharField()
    title = serializers.CharField()
    answers = serializers.ListField(child=serializers.CharField())
    records = serializers.CharField()


@cache
def record_serializer(code: str) -> type[serializers.ModelSerializer]:
    """A read-only serializer of every concrete field of a registered form model."""
    spec = registry.get(code)
    if spec is None:
        raise KeyError(code)
    model = spec.model
    names = [
        f.name for f in model._meta.concrete_fields if not (f.is_relation and f.name != "visit")
    ]
    # Coded answers as plain typed values (code lists are in the export codebook): forms
    # with many items of one scale would otherwise give the schema dozens of equal enums.
    plain = {
        "integer": serializers.IntegerField,
        "boolean": serializers.BooleanField,
        "float": serializers.FloatField,
        "text": serializers.CharField,
    }
    coded = {
        f.name: plain.get(field_kind(f), serializers.CharField)(read_only=True, allow_null=f.null)
        for f in model._meta.concrete_fields
        if f.choices and f.name in names
    }
    attrs = {
        **coded,
        "participant": serializers.IntegerField(source="visit.participant_id", read_only=True),
        "study_id": serializers.CharField(source="visit.participant.label", read_only=True),
        "site": serializers.CharField(source="visit.participant.site.code", read_only=True),
        "visit_code": serializers.CharField(source="visit.code", read_only=True),
        "Meta": type(
            "Meta",
            (),
            {
                "model": model,
                "fields": ["participant", "study_id", "site", "visit_code", *names],
                "read_only_fields": names,
            },
        ),
    }
    return type(f"{model.__name__}RecordSerializer", (serializers.ModelSerializer,), attrs)


class ExportJobSerializer(serializers.ModelSerializer):
    sites: serializers.SlugRelatedField[Site] = serializers.SlugRelatedField(
        slug_field="code", many=True, read_only=True
    )
    download = serializers.SerializerMethodField()

    class Meta:
        model = ExportJob
        fields = [
            "id",
            "status",
            "progress",
            "fmt",
            "deidentified",
            "sites",
            "options",
            "row_counts",
            "error",
            "created_at",
            "finished_at",
            "download",
        ]

    def get_download(self, job: ExportJob) -> str | None:
        if job.status != "done":
            return None
        url = reverse("export-download", args=[job.pk])
        request = self.context.get("request")
        return request.build_absolute_uri(url) if request else url


# many=False: the error body of a list view is one object, not a page of them.
@extend_schema_serializer(many=False)
class ErrorSerializer(serializers.Serializer):
    """DRF's error body: a bad filter (400), an unknown page, site or record (404)."""

    detail = serializers.CharField()


# --- safety ------------------------------------------------------------------------------

_PLAIN = {
    "integer": serializers.IntegerField,
    "boolean": serializers.BooleanField,
    "float": serializers.FloatField,
    "text": serializers.CharField,
}


def _plain_coded(model, names: list[str]) -> dict[str, serializers.Field]:
    """Coded fields as plain typed values, nullable as the column is (see record_serializer)."""
    return {
        f.name: _PLAIN.get(field_kind(f), serializers.CharField)(read_only=True, allow_null=f.null)
        for f in model._meta.concrete_fields
        if f.choices and f.name in names
    }


class AssessmentSerializer(serializers.ModelSerializer):
    investigator = serializers.CharField(source="investigator.username", read_only=True)

    class Meta:
        model = AdverseEventAssessment
        fields = [
            "event_version",
            "serious",
            "related_procedure",
            "related_cells",
            "comment",
            "investigator",
            "signed_at",
        ]
        read_only_fields = fields

    def get_fields(self):
        return {**super().get_fields(), **_plain_coded(self.Meta.model, self.Meta.fields)}


_AE_FIELDS = [
    "id",
    "number",
    "status",
    "version",
    "verbatim_term",
    "term_code",
    "onset_date",
    "onset_precision",
    "end_date",
    "end_precision",
    "ongoing",
    "grade",
    "serious",
    *CRITERIA_FIELDS,
    "related_procedure",
    "related_cells",
    "action",
    "outcome",
    "treatment",
    "missing_reasons",
    "sae_alerted_at",
]


class _SafetyRecordSerializer(serializers.ModelSerializer):
    participant = serializers.IntegerField(source="participant_id", read_only=True)
    study_id = serializers.CharField(source="participant.label", read_only=True)
    site = serializers.CharField(source="participant.site.code", read_only=True)
    visit = serializers.IntegerField(source="visit_id", read_only=True)
    visit_code = serializers.CharField(source="visit.code", read_only=True)


class AdverseEventSerializer(_SafetyRecordSerializer):
    """An adverse event as the coordinator entered it, with every signed assessment."""

    term_label = serializers.CharField(read_only=True)
    soc = serializers.CharField(read_only=True)
    assessments = AssessmentSerializer(many=True, read_only=True)

    class Meta:
        model = AdverseEvent
        fields = [
            "participant",
            "study_id",
            "site",
            "visit",
            "visit_code",
            *_AE_FIELDS,
            "term_label",
            "soc",
            "assessments",
        ]
        read_only_fields = fields

    def get_fields(self):
        return {**super().get_fields(), **_plain_coded(AdverseEvent, _AE_FIELDS)}


_CONMED_FIELDS = [
    "id",
    "status",
    "version",
    "medication",
    "other_name",
    "indication",
    "dose",
    "dose_unit",
    "route",
    "frequency",
    "start_date",
    "start_precision",
    "stop_date",
    "stop_precision",
    "ongoing",
    "missing_reasons",
]


class ConcomitantMedicationSerializer(_SafetyRecordSerializer):
    name = serializers.CharField(read_only=True)

    class Meta:
        model = ConcomitantMedication
        fields = [
            "participant",
            "study_id",
            "site",
            "visit",
            "visit_code",
            *_CONMED_FIELDS,
            "name",
        ]
        read_only_fields = fields

    def get_fields(self):
        return {**super().get_fields(), **_plain_coded(ConcomitantMedication, _CONMED_FIELDS)}
