"""Program-scoped pages for calendar feeds (mounted under p/<program_id>/)."""

from django.urls import path

from openiop.calendars import views

app_name = "calendars"

P = "participants/<uuid:participant_id>/calendar/"

urlpatterns = [
    path(P + "create/", views.participant_feed_create, name="participant_create"),
    path(P + "revoke/", views.participant_feed_revoke, name="participant_revoke"),
    path("calendar/mine/", views.my_feed, name="mine"),
    path("calendar/mine/create/", views.my_feed_create, name="mine_create"),
    path("calendar/mine/revoke/", views.my_feed_revoke, name="mine_revoke"),
]
