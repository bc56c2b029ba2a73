"""Celery adapters: beat ticks `poll_due_accounts`; `poll_account` polls one account at once."""

from celery import shared_task

from . import services


@shared_task(name="accounts.poll_due_accounts", ignore_result=True)
def poll_due_accounts() -> int:
    return len(services.accounts_poll_due())


@shared_task(name="accounts.poll_account", ignore_result=True)
def poll_account(account_id: int) -> str:
    return services.account_poll(account_id=account_id).outcome


@shared_task(name="accounts.prune_snapshots", ignore_result=True)
def prune_snapshots() -> int:
    return services.snapshots_prune()
