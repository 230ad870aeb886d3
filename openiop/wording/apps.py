from django.apps import AppConfig


class WordingConfig(AppConfig):
    name = "openiop.wording"
    label = "wording"
    verbose_name = "Instrument wording packs"
