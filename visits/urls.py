from django.urls import path

from visits import views

urlpatterns = [
    path("<int:pk>/transplantation/", views.transplantation_page, name="transplantation"),
    path("<int:pk>/visits/unscheduled/", views.unscheduled_visit_page, name="visit-unscheduled"),
]
