from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from crfs import registry
from exports.api import views

urlpatterns = [
    path("v1/participants/", views.ParticipantList.as_view(), name="api-participants"),
    path("v1/participants/<int:pk>/", views.ParticipantDetail.as_view(), name="api-participant"),
    path("v1/visits/", views.VisitList.as_view(), name="api-visits"),
    path("v1/forms/", views.FormList.as_view(), name="api-forms"),
    *[
        path(
            f"v1/forms/{code}/records/",
            views.FormRecordList.as_view(form_code=code),
            name=f"api-form-{code}",
        )
        for code in registry.entry_forms()
    ],
    path("v1/adverse-events/", views.AdverseEventList.as_view(), name="api-adverse-events"),
    path("v1/conmeds/", views.ConcomitantMedicationList.as_view(), name="api-conmeds"),
    path("v1/exports/", views.ExportList.as_view(), name="api-exports"),
    path("v1/exports/<int:pk>/", views.ExportDetail.as_view(), name="api-export"),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves Swagger UI's init script as a file (?script): no inline script (CSP).
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
]
