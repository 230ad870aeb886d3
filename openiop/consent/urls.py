from django.urls import path

from openiop.consent import views

app_name = "consent"

# Mounted at p/<uuid:program_id>/consent/; every page is about one participant.
P = "participants/<uuid:participant_id>/"

urlpatterns = [
    path(P, views.consent_list, name="list"),
    path(f"{P}new/", views.consent_create, name="create"),
    path(f"{P}disclosures/", views.disclosure_report, name="disclosures"),
    path(f"{P}disclosures.csv", views.disclosure_report_csv, name="disclosures_csv"),
    path(f"{P}release/", views.release_summary, name="release"),
    path(f"{P}<uuid:consent_id>/", views.consent_detail, name="detail"),
    path(f"{P}<uuid:consent_id>/revoke/", views.consent_revoke, name="revoke"),
]
