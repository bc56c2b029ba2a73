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


class Event(models.Model):
    """One thing that happened, written in the transaction of the change it describes (architecture §4).

    Seat and account are plain ids, not foreign keys: an event outlives the row it names and no app has to
    import another's models to write one. Seats have UUID keys, Claude accounts integer keys. The hook
    API's prompt, block and turn rows stay in the limiter's own tables (they are this log for those kinds);
    the feed reads both by id.
    """

    id = models.BigAutoField(primary_key=True)
    at = models.DateTimeField()
    kind = models.CharField(max_length=64)
    seat_id = models.UUIDField(null=True, blank=True)
    account_id = models.BigIntegerField(null=True, blank=True)
    actor = models.CharField(max_length=150, blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-id"]
        # "Since id N" walks the primary key; these keep one seat's or account's trail, one kind's history
        # and the retention prune on an index at a million rows.
        indexes = [
            models.Index(fields=["seat_id", "id"], name="event_seat_id"),
            models.Index(fields=["account_id", "id"], name="event_account_id"),
            models.Index(fields=["kind", "id"], name="event_kind_id"),
            models.Index(fields=["at"], name="event_at"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} #{self.id}"
