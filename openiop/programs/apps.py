from django.apps import AppConfig


class ProgramsConfig(AppConfig):
    name = "openiop.programs"
    label = "programs"

    def ready(self) -> None:
        from openiop.programs.rule_packs import rule_packs

        rule_packs()  # fail at start-up on a malformed rule pack
