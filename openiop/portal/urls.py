"""The participant's own pages, under /me/ (no participant id in any address)."""

from django.urls import path

from openiop.notifications import views as notification_views
from openiop.portal import alumni_views, measures_views, signin_views, views

app_name = "portal"

urlpatterns = [
    path("", views.home, name="home"),
    path("alumni/", alumni_views.alumni, name="alumni"),
    path("reminders/", notification_views.reminders, name="reminders"),
    path("calendar-link/", views.calendar_link, name="calendar_link"),
    path("language/", views.language, name="language"),
    path("check-in/", views.checkin, name="checkin"),
    path("help/", views.help_now, name="help"),
    path("help/sent/", views.help_sent, name="help_sent"),
    path("goals/", views.goals, name="goals"),
    path("goals/<uuid:weekly_goal_id>/", views.goal_update, name="goal_update"),
    path("diary/", views.diary, name="diary"),
    path("diary/<str:day>/", views.diary_day, name="diary_day"),
    path("homework/", views.homework, name="homework"),
    path("homework/<uuid:session_id>/", views.worksheet, name="worksheet"),
    path("homework/sent/<uuid:submission_id>/", views.submission, name="submission"),
    path("sign-in/", signin_views.sign_in, name="sign_in"),
    path("sessions/<uuid:session_id>/join-video/", signin_views.video_join, name="video_join"),
    path("sessions/<uuid:session_id>/left-video/", signin_views.video_left, name="video_left"),
    path("safety-plan/", views.safety_plan, name="safety_plan"),
    path("safety-plan/edit/", views.safety_plan_edit, name="safety_plan_edit"),
    path("measures/", measures_views.measures, name="measures"),
    path("measures/<str:instrument>/", measures_views.measure, name="measure"),
    path(
        "measures/<str:instrument>/progress/",
        measures_views.measure_progress,
        name="measure_progress",
    ),
]
