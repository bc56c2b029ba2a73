from django.apps import AppConfig


class AlertsConfig(AppConfig):
    name = "alerts"
    verbose_name = "Alerts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from accounts import events

        from . import hooks

        # accounts never imports alerts: it announces committed polls and alerts listens (one-way imports).
        events.subscribe(hooks.after_poll)
