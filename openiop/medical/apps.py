from django.apps import AppConfig


class MedicalConfig(AppConfig):
    name = "openiop.medical"
    label = "medical"
    verbose_name = "Medical risk (ASAM dimension 1)"
