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


def recent_feed(*, limit: int = 50) -> tuple[list[dict], Cursor]:
    """The newest `limit` feed messages (newest first) and the cursor a socket resumes from after them."""
    heads = feed_heads()
    # Ids are dense enough that a few times `limit` back holds the newest `limit` rows of each kind shown.
    start = Cursor(
        max(heads.event - limit, 0), max(heads.session - 4 * limit, 0), max(heads.usage - limit, 0)
    )
    page = feed_after(start, limit=8 * limit)
    messages = [m for m in page.messages if _at_or_before(m, heads)]
    return feed.newest_first(messages)[:limit], heads


def _at_or_before(message: dict, heads: Cursor) -> bool:
    top = {feed.EVENT: heads.event, feed.SESSION: heads.session, feed.USAGE: heads.usage}
    return message["id"] <= top[message["stream"]]
