from django.urls import path

from clinic import views

urlpatterns = [
    path("", views.participant_list, name="participant-list"),
    path("deviations/", views.deviation_list, name="deviation-list"),
    path("<int:pk>/", views.participant_page, name="participant-detail"),
    path("<int:pk>/visits/<int:visit_pk>/", views.visit_page, name="visit-detail"),
]
