"""Reads for the live feed and the dashboard, through other apps' selectors (never their models)."""

from dataclasses import dataclass

from limiter import selectors as limiter_selectors

from . import feed
from .eventlog import events_after, last_event_id
from .feed import Cursor


def feed_heads() -> Cursor:
    """The newest id of each stream: a feed opened now starts after these."""
    session, usage = limiter_selectors.activity_heads()
    return Cursor(last_event_id(), session, usage)


@dataclass(frozen=True)
class FeedPage:
    messages: list[dict]  # oldest first
    cursor: Cursor  # past every message returned
    complete: bool  # False when a stream had more than `limit` rows: ask again from `cursor`


def feed_after(cursor: Cursor, *, limit: int = 500) -> FeedPage:
    """Everything every stream recorded after `cursor`, as feed messages in time order."""
    events = events_after(cursor.event, limit=limit)
    sessions, more_sessions = limiter_selectors.session_activity_after(cursor.session, limit=limit)
    turns = limiter_selectors.counted_turns_after(cursor.usage, limit=limit)
    messages = [feed.present_event(e) for e in events]
    messages += [feed.present_activity(a) for a in (*sessions, *turns)]
    messages.sort(key=lambda m: (m["timestamp"], m["stream"], m["id"]))
    complete = len(events) < limit and not more_sessions and len(turns) < limit
    return FeedPage(messages, cursor.advanced(messages), complete)
