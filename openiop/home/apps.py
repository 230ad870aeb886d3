from django.apps import AppConfig


class HomeConfig(AppConfig):
    """The site shell: where a signed-in person lands, the health check, the navigation."""

    name = "openiop.home"
    label = "home"
