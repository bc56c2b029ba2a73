import pytest
from django.core.management import CommandError, call_command

from limiter import services
from limiter.models import Rule, Seat

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    from io import StringIO

    out = StringIO()
    call_command("seats", *args, stdout=out)
    return out.getvalue()


def test_create_with_rules_prints_a_working_install_code():
    out = run(
        "create",
        "alice",
        "--name",
        "Alice",
        "--rule",
        "per_model:opus:daily:5",
        "--rule",
        "credits:daily:100",
        "--rule",
        "time_of_day:all:22:00-06:00:Europe/Berlin",
    )
    code = out.split("): ")[-1].strip()
    assert code.startswith("CLM-alice-")
    seat = Seat.objects.get(slug="alice")
    rules = {(r.type, r.model, r.window, r.value) for r in Rule.objects.filter(seat=seat)}
    assert ("per_model", "opus", "daily", 5) in rules
    assert ("credits", "", "daily", 100) in rules
    night = Rule.objects.get(seat=seat, type="time_of_day")
    assert (f"{night.schedule_start:%H:%M}", f"{night.schedule_end:%H:%M}") == ("22:00", "06:00")
    assert night.schedule_tz == "Europe/Berlin"
    _, registered = services.register(code=code, ip="127.0.0.1")
    assert registered == seat


def test_create_with_a_bad_rule_explains_and_creates_nothing():
    with pytest.raises(CommandError, match="'banana' is not a window"):
        run("create", "bob", "--rule", "per_model:opus:daily:5", "--rule", "credits:banana:5")
    assert not Seat.objects.filter(slug="bob").exists()


def test_create_refuses_a_duplicate_slug():
    run("create", "carol")
    with pytest.raises(CommandError, match="already exists"):
        run("create", "carol")


def test_status_verbs_and_their_refusals():
    run("create", "dave")
    assert "dave is now paused." in run("pause", "dave")
    assert "dave is now active." in run("resume", "dave")
    assert "dave is now killed." in run("kill", "dave")
    with pytest.raises(CommandError, match="is killed, not paused"):
        run("resume", "dave")
    assert "dave is now active." in run("reinstate", "dave")
    with pytest.raises(CommandError, match="No seat with the slug 'nobody'"):
        run("kill", "nobody")


def test_list_shows_every_seat_with_credits_and_last_seen():
    run("create", "erin", "--rule", "credits:weekly:50")
    out = run("list")
    assert "erin" in out
    assert "50/50" in out
    assert "never" in out


def test_code_issues_a_fresh_code_each_time():
    run("create", "frank")
    first = run("code", "frank").split("): ")[-1].strip()
    second = run("code", "frank").split("): ")[-1].strip()
    assert first != second
    for code in (first, second):
        services.register(code=code, ip="127.0.0.1")
