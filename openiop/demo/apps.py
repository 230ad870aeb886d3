from django.apps import AppConfig


class DemoConfig(AppConfig):
    """Synthetic demo data (`openiop seed`, `openiop demo`). It sits above every domain app and
    nothing imports it, so seeding never pulls the domain apps into each other or into core."""

    name = "openiop.demo"
    label = "demo"
