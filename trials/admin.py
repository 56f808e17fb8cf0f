from django.contrib import admin

from trials.models import Membership, Site, Trial


@admin.register(Site)
class SiteAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "country", "time_zone", "is_active")
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
        "protocol_version",
        "spirometry_equation",
    )
    readonly_fields = ("nct_id", "protocol_version")
