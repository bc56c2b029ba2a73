from django.db import models


class SelfService(models.Model):
    """No table: only anchors the permissions of the self-service pages that the `user` role gets."""

    class Meta:
        managed = False
        default_permissions = ()
        permissions = [
            ("see_own_seat", "Can see the seat linked to their email"),
            ("issue_own_install_code", "Can issue an install code for the seat linked to their email"),
        ]

    def __str__(self) -> str:
        return "self-service"
