"""Contract §10.2 on plain values: crossing, one jump over several thresholds, hysteresis, new window,
cooldown, reminders and resolved notices."""

from datetime import UTC, datetime, timedelta

from alerts.thresholds import ARMED, FIRING, Policy, Row, step

T0 = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
RESETS = datetime(2026, 11, 22, 14, 0, tzinfo=UTC)
POLICY = Policy(thresholds=(75, 90, 95))


class Track:
    """Feeds readings through `step` and keeps the stored rows, as the service does."""

    def __init__(self, policy: Policy = POLICY) -> None:
        self.policy, self.rows, self.now = policy, {}, T0

    def poll(self, pct, resets_at=RESETS, minutes: float = 5):
        self.now += timedelta(minutes=minutes)
        result = step(self.policy, self.rows, pct, resets_at, self.now)
        self.rows |= result.rows
        return [(n.kind, n.threshold) for n in result.notices]


def test_fires_once_on_an_upward_crossing_and_stays_quiet_while_above():
    track = Track()
    assert track.poll(70) == []
    assert track.poll(76) == [("firing", 75)]
    assert track.poll(80) == []
    assert track.rows[75].state == FIRING
    assert track.rows[75].peak_pct == 80


def test_a_jump_across_several_thresholds_notifies_only_the_highest():
    track = Track()
    track.poll(70)
    assert track.poll(100) == [("firing", 95)]
    assert {t: (r.state, r.notified) for t, r in track.rows.items()} == {
        75: (FIRING, False),
        90: (FIRING, False),
        95: (FIRING, True),
    }


def test_hovering_around_a_threshold_does_not_refire_until_below_hysteresis():
    track = Track()
    assert track.poll(91) == [("firing", 90)]
    assert track.poll(88) == []  # 90 - 5 = 85 re-arms, 88 does not
    assert track.poll(91) == []
    assert track.poll(85) == []
    assert track.rows[90].state == ARMED
    assert track.poll(92, minutes=300) == [("firing", 90)]  # after the cooldown


def test_cooldown_suppresses_a_refire_in_the_same_window():
    track = Track()
    track.poll(91)
    track.poll(80)
    assert track.rows[90].state == ARMED
    assert track.poll(91) == []  # re-crossed within 4 h: marked firing, not notified
    assert (track.rows[90].state, track.rows[90].notified) == (FIRING, False)


def test_a_new_window_rearms_and_clears_the_cooldown():
    track = Track(Policy(thresholds=(90,), send_resolved=True))
    track.poll(95)
    later = RESETS + timedelta(hours=5)
    assert track.poll(10, resets_at=later) == [("resolved", 90)]
    assert track.rows[90].state == ARMED
    assert track.poll(91, resets_at=later) == [("firing", 90)]  # cooldown cleared by the new window


def test_resets_at_drift_under_an_hour_is_the_same_window():
    track = Track()
    track.poll(95)
    assert track.poll(96, resets_at=RESETS + timedelta(minutes=20)) == []
    assert track.rows[95].state == FIRING
    assert track.rows[95].window_key == RESETS + timedelta(minutes=20)


def test_unknown_utilization_changes_nothing():
    track = Track()
    track.poll(95)
    before = dict(track.rows)
    assert track.poll(None) == []
    assert track.rows == before


def test_resolved_reports_peak_and_duration_only_when_asked_and_notified():
    policy = Policy(thresholds=(75, 90), send_resolved=True)
    rows = {}
    first = step(policy, rows, 96, RESETS, T0)
    rows |= first.rows
    result = step(policy, rows, 70, RESETS, T0 + timedelta(hours=2, minutes=10))
    (notice,) = result.notices
    assert (notice.kind, notice.threshold, notice.peak_pct, notice.since) == ("resolved", 90, 96, T0)
    quiet = step(Policy(thresholds=(75, 90)), rows, 70, RESETS, T0 + timedelta(hours=3))
    assert quiet.notices == []


def test_reminders_repeat_for_the_highest_firing_threshold():
    track = Track(Policy(thresholds=(75, 90), repeat_interval=timedelta(hours=1)))
    track.poll(92)
    assert track.poll(93, minutes=30) == []
    assert track.poll(93, minutes=31) == [("reminder", 90)]
    assert track.poll(93, minutes=30) == []


def test_only_changed_rows_are_returned_for_writing():
    rows = step(POLICY, {}, 50, RESETS, T0).rows
    assert set(rows) == {75, 90, 95}  # first sight stores the window
    again = step(POLICY, rows, 55, RESETS, T0 + timedelta(minutes=5)).rows
    assert again == {}  # a new value below every threshold writes nothing
    assert isinstance(rows[75], Row)
