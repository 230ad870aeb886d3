from django.apps import AppConfig


class CalendarsConfig(AppConfig):
    name = "openiop.calendars"
    label = "calendars"
