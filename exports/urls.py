from django.urls import include, path

from exports import views

urlpatterns = [
    path("exports/", views.export_page, name="export-page"),
    path("exports/log/", views.log_page, name="export-log"),
    path("exports/<int:pk>/", views.job_page, name="export-job"),
    path("exports/<int:pk>/status/", views.job_status, name="export-job-status"),
    path("exports/<int:pk>/download/", views.job_download, name="export-download"),
    path("exports/<int:pk>/delete/", views.job_delete, name="export-delete"),
    path("account/api-token/", views.token_page, name="api-token"),
    path("api/", include("exports.api.urls")),
]
