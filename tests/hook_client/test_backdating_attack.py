"""Attack with the real client: the seat holder edits `clock_skew` in their own state file so every count
names yesterday. The server places admitted turns at their /check, so the cap still holds."""

from datetime import timedelta

from django.utils import timezone

from limiter import services
from limiter.models import UsageEvent


def test_an_edited_clock_skew_does_not_move_turns_out_of_todays_cap(installed, seat):
    services.rule_add(owner=seat, type="per_model", model="opus", window="daily", value=2)
    installed.edit_state(clock_skew=-36 * 3600)

    installed.turn()
    installed.turn()
    reason = installed.prompt().blocked_reason

    assert reason is not None and reason.startswith("Daily opus limit reached for Alice.\nUsed 2/2 prompts.")
    events = UsageEvent.objects.filter(seat=seat)
    assert events.count() == 2
    assert all(e.occurred_at > timezone.now() - timedelta(minutes=5) for e in events)
    # The client's word is kept for audit, not believed.
    assert all(e.client_timestamp < (timezone.now() - timedelta(hours=30)).isoformat() for e in events)
