from django.apps import AppConfig


class SafetyConfig(AppConfig):
    name = "openiop.safety"
    label = "safety"
    verbose_name = "Safety events"

    def ready(self) -> None:
        from openiop.safety.hooks import register_measure_hooks

        register_measure_hooks()
