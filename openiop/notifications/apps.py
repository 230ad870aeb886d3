from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "openiop.notifications"
    label = "notifications"
    verbose_name = "Reminders and notifications"
