"""Ending a person's sessions now, instead of waiting for them to expire ("Force logout")."""

from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.models import Session
from django.utils import timezone


def sessions_end(*, user_ids: set[int]) -> int:
    """Deletes every live session of these users; returns how many ended. Their next request must log in."""
    wanted = {str(pk) for pk in user_ids}
    doomed = [
        session.pk
        for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator()
        if str(session.get_decoded().get(SESSION_KEY)) in wanted
    ]
    return Session.objects.filter(pk__in=doomed).delete()[0]
