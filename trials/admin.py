from django.contrib import admin, messages
from django.db import transaction
from django.utils.translation import gettext as _

from trials import hooks
from trials.models import Membership, Site, Trial


@admin.register(Site)
class SiteAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "country", "time_zone", "language", "is_active")
    search_fields = ("code", "name")


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ("user", "site", "role", "is_active", "created_at")
    list_filter = ("site", "role", "is_active")
    search_fields = ("user__username", "user__email")
    list_select_related = ("user", "site")


@admin.register(Trial)
class TrialAdmin(admin.ModelAdmin):
    list_display = (
        "nct_id",
        "title",
        "phase",
        "sponsor",
        "sponsor_safety_email",
        "protocol_version",
        "spirometry_equation",
    )
    readonly_fields = ("nct_id", "protocol_version")

    def save_model(self, request, obj, form, change):
        with transaction.atomic():
            super().save_model(request, obj, form, change)
            if change and "spirometry_equation" in form.changed_data:
                # Stored % predicted, z-scores and LLNs follow the study's equation.
                for recompute in hooks.ON_SPIROMETRY_EQUATION_CHANGED:
                    result = recompute(obj, actor=request.user)
                    self.message_user(
                        request,
                        _("FVC results recomputed with the new equation: %(n)d changed.")
                        % {"n": len(result.changed)},
                    )
                    if result.locked:
                        self.message_user(
                            request,
                            _(
                                "%(n)d locked FVC forms keep their values from the previous "
                                "equation until they are unlocked and saved again."
                            )
                            % {"n": len(result.locked)},
                            level=messages.WARNING,
                        )
