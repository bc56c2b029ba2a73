from django.apps import AppConfig


class LimiterConfig(AppConfig):
    name = "limiter"
    verbose_name = "Limiter"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from .hook_client import checks  # noqa: F401  registers the built-client check
