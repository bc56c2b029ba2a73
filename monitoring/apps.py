from django.apps import AppConfig
from django.db.models.signals import post_migrate


class MonitoringConfig(AppConfig):
    name = "monitoring"
    verbose_name = "Monitoring"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import roles, sso  # noqa: F401 - sso connects allauth's login signal

        # Every app's signal: the groups are rebuilt once the last app (so every permission) is migrated.
        post_migrate.connect(roles.role_groups_on_post_migrate, dispatch_uid="monitoring.role_groups")
