"""Celery adapters: evaluate after a poll, send one delivery, and a beat tick for what waits."""

import logging

from celery import shared_task

from . import delivery, evaluation

log = logging.getLogger(__name__)


def dispatch(delivery_ids: list[int]) -> None:
    """One task per delivery; the claim in `delivery.deliver` makes a second worker on the same id a no-op."""
    try:
        for delivery_id in delivery_ids:
            deliver.delay(delivery_id)
    except Exception:
        # The rows are committed and due: the beat tick sends them once the broker is back.
        log.warning("could not queue %d alert deliveries; the next alerts tick sends them", len(delivery_ids))


@shared_task(name="alerts.evaluate", ignore_result=True)
def evaluate() -> int:
    return len(evaluation.evaluate())


@shared_task(name="alerts.deliver", ignore_result=True)
def deliver(delivery_id: int) -> str:
    result = delivery.deliver(delivery_id)
    if result.retry_in is not None:
        # The beat tick would find it too; the countdown keeps the provider's retry time exact.
        deliver.apply_async(args=[delivery_id], countdown=result.retry_in)
    return result.status


@shared_task(name="alerts.tick", ignore_result=True)
def tick() -> int:
    """Late-committed events, quiet hours that ended, retries whose task was lost, crashed sends."""
    evaluation.evaluate()
    due = delivery.due_ids()
    dispatch(due)
    return len(due)
