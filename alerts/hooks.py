"""alerts listens to accounts (accounts never imports alerts): a committed poll queues one evaluation."""

from django.conf import settings

from accounts import events


def after_poll(event: events.Event) -> None:
    if not settings.ALERTS_EVALUATE_AFTER_POLL:
        return
    # A successful poll announces its snapshot; a failing one its credential state. Window resets and
    # utilization moves of the same poll are in the same transaction, so one evaluation reads them all.
    if isinstance(event, events.SnapshotRecorded | events.CredentialStateChanged):
        from . import tasks

        tasks.evaluate.delay()
