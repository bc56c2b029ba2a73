"""Property: whatever order checks, counts, replays and outages come in across several sessions of one seat,
and whatever times a client claims, the server admits a prompt only when every cap has room for it counting
the turns in flight, and places no turn before the last moment it heard from the machine.

Drives the services with a controlled clock (hundreds of steps per example would take minutes over HTTP);
the adversarial tests next to this one cover the same paths over real HTTP. The oracle reads the tables
directly rather than through the selectors it is checking.
"""

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.db.models import Sum
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from config.crypto import digest, new_token
from limiter import services, turns
from limiter.models import HookToken, Team, UsageEvent

WEIGHTS = {"opus": 10, "sonnet": 3, "haiku": 1}
CAPS = {"opus": 2}
ALL_MODELS_CAP = 4  # a per_model rule with no model caps each family on its own (hook API v1 §3.5)
BUDGET = 30
SESSIONS = ["s0", "s1", "s2", "s3"]
HOLD_TTL = timedelta(minutes=30)  # the team default
MODELS = ["claude-opus-4-1", "sonnet", "haiku", "opus"]

check_op = st.tuples(st.just("check"), st.sampled_from(SESSIONS), st.sampled_from(MODELS))
# A count may carry any time the client likes: the skew a seat holder could write into their state.
count_op = st.tuples(st.just("count"), st.sampled_from(SESSIONS), st.integers(-48 * 60, 60))
wait_op = st.tuples(st.just("wait"), st.integers(0, 240))
# An outage: minutes offline, then the offline turns (session, model, minute made, claimed shift, sent twice).
offline_turn = st.tuples(
    st.sampled_from(SESSIONS),
    st.sampled_from(MODELS),
    st.floats(0, 1),
    st.integers(-36 * 60, 30),
    st.booleans(),
)
outage_op = st.tuples(st.just("outage"), st.integers(3, 600), st.lists(offline_turn, max_size=3))
# Checks weigh most: over-admission needs several sessions admitted before any of them counts.
operations = st.lists(
    st.one_of(check_op, check_op, check_op, count_op, count_op, wait_op, outage_op), min_size=5, max_size=40
)


@dataclass
class Machine:
    token_id: int
    now: datetime
    last_contact: datetime
    in_flight: dict[str, tuple[str, int, datetime]] = field(default_factory=dict)
    admitted: list[tuple[datetime, str]] = field(default_factory=list)
    counted_admissions: list[tuple[datetime, str]] = field(default_factory=list)
    hold_times: set[datetime] = field(default_factory=set)
    contacts: list[datetime] = field(default_factory=list)

    def heard(self) -> None:
        self.last_contact = self.now
        self.contacts.append(self.now)

    def silent_at(self, moment: datetime) -> bool:
        """Whether the machine truly made no call around `moment` (between two of its calls)."""
        return any(a < moment < b for a, b in zip(self.contacts, self.contacts[1:], strict=False))

    def token(self) -> HookToken:
        # As the API authenticates each request: a fresh token row with its seat and team.
        return HookToken.objects.select_related("seat__team", "device").get(pk=self.token_id)


def day_bounds(now: datetime) -> tuple[datetime, datetime]:
    start = now.replace(hour=0, minute=0, second=0, microsecond=0)
    return start, start + timedelta(days=1)


def room_before_admission(machine: Machine, seat, session: str, family: str) -> bool:
    """Whether every cap had room for one more turn of `family`: the turns counted in today's window plus
    the turns other sessions were admitted for and have not counted (by this test's own bookkeeping)."""
    now = machine.now
    start, end = day_bounds(now)
    today = UsageEvent.objects.filter(seat=seat, occurred_at__gte=start, occurred_at__lt=end)
    flying = [
        (fam, cost)
        for other, (fam, cost, at) in machine.in_flight.items()
        if other != session and now - at < HOLD_TTL
    ]
    cost = WEIGHTS.get(family, 1)
    same = today.filter(family=family).count() + sum(1 for fam, _ in flying if fam == family)
    if same >= CAPS.get(family, ALL_MODELS_CAP) or same >= ALL_MODELS_CAP:
        return False
    spent = (today.aggregate(s=Sum("credit_cost"))["s"] or 0) + sum(c for _, c in flying)
    return spent + cost <= BUDGET


def do_check(machine: Machine, session: str, model: str) -> None:
    token = machine.token()
    family = turns.family_of(token.seat.team, model)
    had_room = room_before_admission(machine, token.seat, session, family)
    outcome = turns.decide_check(
        token=token,
        model=model,
        session_id=session,
        project_dir="p",
        prompt_length=1,
        ip=None,
        now=machine.now,
    )
    machine.heard()
    if outcome.decision.allowed:
        assert had_room, f"admitted {family} for {session} at {machine.now} with a cap already full"
        machine.in_flight[session] = (family, WEIGHTS.get(family, 1), machine.now)
        machine.hold_times.add(machine.now)
        machine.admitted.append((machine.now, family))
    else:
        machine.in_flight.pop(session, None)


def do_count(machine: Machine, session: str, model: str, claimed: datetime, event_id: uuid.UUID) -> None:
    turns.record_count(
        token=machine.token(),
        model=model,
        session_id=session,
        response_length=1,
        event_id=event_id,
        client_timestamp=claimed.isoformat(),
        client_time=claimed,
        usage=None,
        now=machine.now,
    )
    machine.heard()
    flight = machine.in_flight.pop(session, None)
    if flight is not None and machine.now - flight[2] < HOLD_TTL:
        machine.counted_admissions.append((flight[2], flight[0]))


def run(machine: Machine, ops) -> None:
    for op in ops:
        if op[0] == "check":
            do_check(machine, op[1], op[2])
        elif op[0] == "count":
            do_count(machine, op[1], "opus", machine.now + timedelta(minutes=op[2]), uuid.uuid4())
            assert_placed_honestly(machine)
        elif op[0] == "wait":
            machine.now += timedelta(minutes=op[1])
        else:
            _, minutes, turns = op
            went_silent = machine.now
            machine.now += timedelta(minutes=minutes)
            for session, model, at, shift, twice in turns:
                made = went_silent + timedelta(minutes=minutes * at)
                event_id = uuid.uuid4()
                for _ in range(2 if twice else 1):
                    do_count(machine, session, model, made + timedelta(minutes=shift), event_id)
                assert UsageEvent.objects.filter(event_id=event_id).count() == 1
            assert_placed_honestly(machine)


def assert_placed_honestly(machine: Machine) -> None:
    """The newest turns lie where the server saw them: at their receipt, at an admission it made, or inside
    a span in which the machine truly made no call (an offline turn), never after their receipt."""
    for event in UsageEvent.objects.filter(seat__tokens=machine.token_id, received_at=machine.now):
        at = event.occurred_at
        assert at <= event.received_at
        assert at == event.received_at or at in machine.hold_times or machine.silent_at(at), (
            f"turn placed at {at}, a time the machine was talking to the server"
        )


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ops=operations, start_minute=st.integers(0, 24 * 60 - 1))
def test_no_interleaving_admits_past_the_tightest_cap(db, ops, start_minute):
    team = Team.objects.create(name="Props", timezone="UTC", credit_weights=dict(WEIGHTS))
    seat = services.seat_create(slug=f"p-{uuid.uuid4().hex[:10]}", name="Prop", team=team)
    services.rule_add(owner=seat, type="per_model", model="opus", window="daily", value=CAPS["opus"])
    services.rule_add(owner=seat, type="per_model", model="", window="daily", value=ALL_MODELS_CAP)
    services.rule_add(owner=seat, type="credits", window="daily", value=BUDGET)
    start = datetime(2026, 11, 23, tzinfo=UTC) + timedelta(minutes=start_minute)
    token = HookToken.objects.create(seat=seat, token_hash=digest(new_token()), last_used_at=start)
    machine = Machine(token_id=token.pk, now=start, last_contact=start, contacts=[start])

    run(machine, ops)

    # However the steps fell, no day saw more opus turns admitted and counted (or still in flight) than its
    # cap. An admission abandoned before its count (interrupted, or its hold expired) frees its place.
    still_flying = [(at, fam) for fam, _, at in machine.in_flight.values() if machine.now - at < HOLD_TTL]
    turns = machine.counted_admissions + still_flying
    for day in {at.date() for at, _ in turns}:
        assert sum(1 for at, fam in turns if at.date() == day and fam == "opus") <= CAPS["opus"]
        assert sum(WEIGHTS.get(fam, 1) for at, fam in turns if at.date() == day) <= BUDGET
