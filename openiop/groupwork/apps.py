from django.apps import AppConfig


class GroupworkConfig(AppConfig):
    name = "openiop.groupwork"
    label = "groupwork"
