from django.urls import path

from openiop.audit import views

app_name = "audit"

urlpatterns = [
    path("", views.audit_report, name="report"),
    path("export.csv", views.audit_export_csv, name="export_csv"),
]
