from django.urls import path

from openiop.portal import staff_views

app_name = "portal_staff"

urlpatterns = [
    path(
        "participants/<uuid:participant_id>/between-sessions/",
        staff_views.between_sessions,
        name="between_sessions",
    ),
    path(
        "participants/<uuid:participant_id>/safety-plan/",
        staff_views.safety_plan,
        name="safety_plan",
    ),
    path(
        "participants/<uuid:participant_id>/safety-plan/edit/",
        staff_views.safety_plan_edit,
        name="safety_plan_edit",
    ),
    path(
        "participants/<uuid:participant_id>/safety-plan/reviewed/",
        staff_views.safety_plan_reviewed,
        name="safety_plan_reviewed",
    ),
    path(
        "participants/<uuid:participant_id>/alumni/end/",
        staff_views.alumni_end,
        name="alumni_end",
    ),
]
