from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "openiop.accounts"
    label = "accounts"

    def ready(self) -> None:
        # Validate the role matrix at start-up: a typo in the data file must stop the app,
        # not silently grant or deny a permission.
        from openiop.accounts.roles import role_matrix

        role_matrix()
