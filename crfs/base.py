"""What every case report form shares: one record per visit, status, missing-data
reasons, optimistic locking, and the entry form that knows about all three.

A concrete form (one module per instrument) subclasses `FormRecord` with its
answer fields and derived fields, lists the answers that completion requires in
`required_answers`, fills its derived fields in `compute_derived`, and
subclasses `FormRecordForm` for the page. Saving goes through
`crfs.entry.save_form`, never `record.save()` from a view.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from django import forms
from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from crfs.renderers import FAST_INPUT_RENDERER
from trials import locking
from trials.digits import with_ascii_numbers

if TYPE_CHECKING:
    from django.core.files.uploadedfile import UploadedFile
    from django.utils.datastructures import MultiValueDict


class FormStatus(models.TextChoices):
    IN_PROGRESS = "in_progress", _("In progress")
    COMPLETE = "complete", _("Complete")
    VERIFIED = "verified", _("Source verified")
    SIGNED = "signed", _("Signed")
    LOCKED = "locked", _("Locked")


# After completion every change needs a reason; a locked form takes no change at all.
REASON_REQUIRED = frozenset({FormStatus.COMPLETE, FormStatus.VERIFIED, FormStatus.SIGNED})


class MissingReason(models.TextChoices):
    NOT_DONE = "not_done", _("Not done")
    NOT_APPLICABLE = "not_applicable", _("Not applicable")
    UNKNOWN = "unknown", _("Unknown")
    REFUSED = "refused", _("Refused")


def in_progress_index(model_name: str) -> models.Index:
    """A partial index of the records saved but not complete (few of the table): the
    coordinator's "forms in progress" count and list filter read them at every home page."""
    return models.Index(
        fields=["visit"],
        condition=models.Q(status=FormStatus.IN_PROGRESS),
        name=f"crfs_{model_name}_in_progress",
    )


class FormRecord(models.Model):
    """One instrument's answers at one visit."""

    visit = models.OneToOneField(
        "visits.Visit", on_delete=models.PROTECT, related_name="%(class)s", verbose_name=_("visit")
    )
    status = models.CharField(
        _("status"), max_length=20, choices=FormStatus.choices, default=FormStatus.IN_PROGRESS
    )
    version = models.PositiveIntegerField(_("version"), default=1)
    # {answer field: MissingReason}; the answer column itself stays NULL, never a magic value.
    missing_reasons = models.JSONField(_("missing-data reasons"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("last changed"), auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("last changed by"),
    )
    completed_at = models.DateTimeField(_("completed"), null=True, blank=True)

    # Bulk writes (QuerySet.update/delete, bulk_update, bulk_create) ask the locks too.
    objects = locking.GuardedQuerySet.as_manager()

    form_code: ClassVar[str]
    required_answers: ClassVar[tuple[str, ...]] = ()
    # Answers that may stay empty without a reason (e.g. one of ALSFRS-R 5a/5b).
    optional_answers: ClassVar[tuple[str, ...]] = ()
    # Answers holding free text (e.g. SEIQoL cue names): left out or reviewed in
    # de-identified exports.
    free_text_fields: ClassVar[tuple[str, ...]] = ()
    # Derived values that read beyond the record's answers (the visit date, demographics,
    # the trial, another visit): `crfs.rederive` recomputes them when those change.
    derived_from_context: ClassVar[bool] = False
    # Child rows submitted with this save (e.g. EMG per-muscle findings), set by
    # `save_form` before `compute_derived` so derived values can use them; None = not submitted.
    pending_children: dict[str, dict[str, Any]] | None = None

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self._meta.verbose_name} · {self.visit}"

    # Locked data changes through no path: every write reaches the model, so the model asks
    # trials.locking (review keeps the locks and clears verifications of changed values).
    def save(self, *args: Any, **kwargs: Any) -> None:
        locking.check_writable(self, update_fields=kwargs.get("update_fields"))
        super().save(*args, **kwargs)
        locking.written(self, update_fields=kwargs.get("update_fields"))

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        locking.check_writable(self, deleting=True)
        return super().delete(*args, **kwargs)

    @classmethod
    def answer_fields(cls) -> tuple[str, ...]:
        return cls.required_answers + cls.optional_answers

    @classmethod
    def derived_field_names(cls) -> list[str]:
        """The stored columns `compute_derived` fills: neither shared bookkeeping nor answers."""
        shared = {f.name for f in FormRecord._meta.get_fields()} | {"id"}
        answers = set(cls.answer_fields())
        return [
            f.name
            for f in cls._meta.concrete_fields
            if f.name not in shared and f.name not in answers
        ]

    @classmethod
    def field_label(cls, name: str) -> str:
        """The verbose name of one of the form's own fields."""
        field = cls._meta.get_field(name)
        assert isinstance(field, models.Field)  # a field of the form, not a reverse relation
        return str(field.verbose_name)

    def answers(self) -> dict[str, object]:
        return {name: getattr(self, name) for name in self.answer_fields()}

    def unanswered(self) -> list[str]:
        """Required answers with neither a value nor a missing-data reason."""
        return [
            name
            for name in self.required_answers
            if getattr(self, name) is None and not self.missing_reasons.get(name)
        ]

    def completion_errors(self) -> dict[str, str]:
        """Form-specific rules for completion beyond `unanswered` (e.g. exactly one of 5a/5b)."""
        return {}

    @classmethod
    def initial_answers(cls, visit) -> dict[str, object]:
        """Suggested answers for a form not yet started (e.g. carried over from registration)."""
        return {}

    def compute_derived(self) -> None:
        """Fill the stored derived values from the answers (pure scoring functions)."""

    def derived_values(self) -> list[tuple[str, object]]:
        """(label, value) of the stored derived scores, for the entry page."""
        return []

    def dependent_records(self) -> list[FormRecord]:
        """Records at other visits whose derived values read this one (e.g. the weight
        change from baseline): `save_form` re-derives them after saving this record."""
        return []

    # --- child rows (optional): a form whose page also enters a list of rows ---------

    def saved_children(self) -> dict[str, dict[str, Any]]:
        """The stored child rows, keyed by a stable human label, in `save_children`'s shape."""
        return {}

    def save_children(self, rows: dict[str, dict[str, Any]]) -> None:
        """Make the stored child rows equal `rows`; `save_form` calls it inside its
        transaction, after saving this record, under the same audit context."""
        raise TypeError(f"{type(self).__name__} takes no child rows")

    @property
    def is_locked(self) -> bool:
        # The review app's lock rows are the one source of truth (a lock may cover the record,
        # its visit, participant or site, and non-form records have no status): `status`
        # keeps the entry state only (in progress / complete); verified, signed and locked
        # stay among its choices for the existing migrations but are never written.
        return locking.lock_of(self) is not None


MISSING_SUFFIX = "__missing"


class FormRecordForm(forms.ModelForm):
    """Entry form: answers (all optional for a partial save), a missing-data reason
    beside each required answer, the record version, completion and reason for change."""

    # Its inputs written in Python, not through Django's widget templates (crfs/renderers.py).
    default_renderer = FAST_INPUT_RENDERER
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=0)
    mark_complete = forms.BooleanField(
        label=_("Mark the form complete"),
        required=False,
        help_text=_("Complete needs every answer, or a reason it is missing."),
    )
    reason_for_change = forms.CharField(
        label=_("Reason for change"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Required for any change once the form is complete."),
    )

    def __init__(
        self,
        data: Mapping[str, Any] | None = None,
        files: MultiValueDict[str, UploadedFile] | None = None,
        *,
        instance: FormRecord | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(data, files, instance=instance, **kwargs)
        if self.is_bound:
            # Numbers as a Persian keyboard types them (U+066B the point), read before any
            # field sees them. DecimalField and FloatField are IntegerFields in django.forms.
            numeric = [n for n, f in self.fields.items() if isinstance(f, forms.IntegerField)]
            self.data = with_ascii_numbers(self.data, numeric)
        model = self._meta.model
        for name in model.answer_fields():
            if name in self.fields:
                field = self.fields[name]
                field.required = False
                if isinstance(field.widget, forms.RadioSelect) and hasattr(field, "choices"):
                    # The blank radio clears an answer; say so instead of Django's "---------".
                    field.choices = [
                        ("", _("Not answered")) if value == "" else (value, label)
                        for value, label in field.choices
                    ]
        reasons = (instance.missing_reasons if instance is not None else {}) or {}
        for name in model.required_answers:
            self.fields[name + MISSING_SUFFIX] = forms.ChoiceField(
                label=_("Missing because"),
                choices=[("", "—"), *MissingReason.choices],
                required=False,
                initial=reasons.get(name, ""),
            )
        self.fields["version"].initial = instance.version if instance and instance.pk else 0
        self.fields["mark_complete"].initial = bool(
            instance and instance.status != FormStatus.IN_PROGRESS
        )

    def child_rows(self) -> dict[str, dict[str, Any]] | None:
        """Cleaned child rows for `save_form(children=...)`; None for a form without any."""
        return None

    def missing_field(self, name: str) -> forms.BoundField:
        return self[name + MISSING_SUFFIX]

    def error_label(self, name: str) -> str:
        """How the error summary names a field: a missing-reason select by its answer, since
        every one of them is labelled "Missing because"."""
        answer = name.removesuffix(MISSING_SUFFIX)
        if answer != name and answer in self.fields:
            return f"{self[answer].label} · {self[name].label}"
        return str(self[name].label)

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        model = self._meta.model
        missing: dict[str, str] = {}
        for name in model.required_answers:
            reason = cleaned.get(name + MISSING_SUFFIX) or ""
            value = cleaned.get(name)
            if reason and value not in (None, ""):
                self.add_error(
                    name + MISSING_SUFFIX,
                    _("Give either an answer or a reason it is missing, not both."),
                )
            elif reason:
                missing[name] = reason
        cleaned["missing_reasons"] = missing
        return cleaned
