from django.apps import AppConfig


class MedicalConfig(AppConfig):
    name = "openiop.medical"
    label = "medical"
    verbose_name = "Medical risk (ASAM dimension 1)"

    def ready(self) -> None:
        from openiop.medical.risk import register_measure_hook

        register_measure_hook()
