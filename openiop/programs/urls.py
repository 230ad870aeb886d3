from django.urls import path

from openiop.programs import views

app_name = "programs"

urlpatterns = [
    path("settings/", views.program_settings, name="settings"),
]
