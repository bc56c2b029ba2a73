"""The limit hits timeline: when each window of an account stood at 100 %, and for how long."""

from datetime import UTC, datetime, timedelta

import pytest

from accounts.models import ClaudeAccount, UsageSnapshot, WindowReading
from accounts.reports import FullEpisode, full_windows

pytestmark = pytest.mark.django_db
START = datetime(2026, 3, 2, 8, tzinfo=UTC)


def _readings(account, limit_type: str, values: list[float | None]) -> list[datetime]:
    moments = []
    for index, value in enumerate(values):
        taken_at = START + timedelta(minutes=5 * index)
        snapshot = UsageSnapshot.objects.create(account=account, taken_at=taken_at, raw={})
        WindowReading.objects.create(
            snapshot=snapshot,
            account=account,
            taken_at=taken_at,
            limit_type=limit_type,
            label=limit_type,
            utilization=value,
            window_hours=5,
        )
        moments.append(taken_at)
    return moments


def test_each_run_of_full_readings_is_one_episode_ending_at_the_first_reading_below():
    account = ClaudeAccount.objects.create(label="team-max", source="cookie", credential="sk-ant-sid01-x")
    session = _readings(account, "session", [50, 100, 100, None, 100, 80, 99, 100])
    weekly = _readings(account, "weekly", [100, 100, 100, 100, 40, 40, 40, 40])

    found = full_windows(since=START)

    assert found == [
        FullEpisode("team-max", "weekly", weekly[0], weekly[4]),
        FullEpisode("team-max", "session", session[1], session[5]),
        FullEpisode("team-max", "session", session[7], None),
    ]


def test_a_window_already_full_when_the_range_starts_opens_an_episode_there():
    account = ClaudeAccount.objects.create(label="team-max", source="cookie", credential="sk-ant-sid01-x")
    session = _readings(account, "session", [100, 100, 100, 30])

    assert full_windows(since=session[2]) == [FullEpisode("team-max", "session", session[2], session[3])]
