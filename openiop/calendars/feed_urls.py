"""The public feed address (mounted at calendar/): the secret in the path is the only key."""

from django.urls import path

from openiop.calendars import views

app_name = "calendar_feed"

urlpatterns = [path("<str:secret>.ics", views.feed_ics, name="ics")]
