from django.apps import AppConfig


class LimiterConfig(AppConfig):
    name = "limiter"
    verbose_name = "Limiter"
    default_auto_field = "django.db.models.BigAutoField"
