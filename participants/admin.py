from django.contrib import admin

from participants.models import ConsentVersion


@admin.register(ConsentVersion)
class ConsentVersionAdmin(admin.ModelAdmin):
    """Approved consent form versions: entered by the trial administrator (superuser)."""

    list_display = ("trial", "version", "approval_date", "active_from", "active_to")
    list_filter = ("trial",)
