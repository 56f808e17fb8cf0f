from django.urls import path

from participants import views

urlpatterns = [
    path("register/", views.register_page, name="participant-register"),
    path("<int:pk>/enrol/", views.enrol_page, name="participant-enrol"),
    path("<int:pk>/status/", views.status_page, name="participant-status"),
]
