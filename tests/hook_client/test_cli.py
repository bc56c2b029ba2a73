"""The terminal commands developers and admins use: status, sync, doctor."""

from limiter import services

from .conftest import age_state


def test_status_shows_every_limited_model_with_bars_credits_and_countdown(installed, seat):
    services.rule_add(owner=seat, type="per_model", model="opus", window="daily", value=4)
    services.rule_add(owner=seat, type="credits", window="weekly", value=100)
    installed.turn()

    output = installed.run("status").stdout
    assert output.startswith(f"Live from {installed.server_url}.")
    assert "Seat: Alice (active)" in output
    opus = next(line for line in output.splitlines() if line.split()[:2] == ["opus", "daily"])
    assert "███░░░░░░░░░" in opus and "1/4" in opus and "resets 20" in opus and ", in " in opus
    credits = next(line for line in output.splitlines() if line.split()[:2] == ["credits", "weekly"])
    assert "10/100" in credits and "90 left" in credits
    assert "Credit balance: 90/100" in output


def test_status_falls_back_to_the_cache_and_says_so(installed, seat, live):
    services.rule_add(owner=seat, type="per_model", model="opus", window="daily", value=4)
    installed.hook("SessionStart", source="resume")
    installed.turn()
    live.stop()
    installed.turn()

    output = installed.run("status").stdout
    assert output.startswith("Server unreachable: ")
    assert "figures from the cache (last synced " in output
    assert any(line.split()[:2] == ["opus", "daily"] and "2/4" in line for line in output.splitlines())
    assert "1 counted turn(s) waiting to be sent" in output


def test_sync_refreshes_rules_from_the_terminal(installed, seat):
    services.rule_add(owner=seat, type="per_model", model="haiku", window="monthly", value=50)
    result = installed.run("sync")
    assert result.returncode == 0
    assert "status active, 1 rule(s)" in result.stdout
    assert installed.state()["limits"][0]["model"] == "haiku"


def test_doctor_passes_on_a_healthy_install_and_names_what_is_wrong(installed, seat, live):
    healthy = installed.run("doctor")
    assert healthy.returncode == 0, healthy.stdout
    assert "FAIL" not in healthy.stdout
    assert "clock skew" in healthy.stdout

    (installed.install_dir / "token").chmod(0o644)
    live.stop()
    age_state(installed, 0, "synced_at")
    broken = installed.run("doctor")
    assert broken.returncode == 1
    failures = [line for line in broken.stdout.splitlines() if line.startswith("FAIL")]
    assert any("token readable only by its owner" in line for line in failures)
    assert any("unreachable" in line for line in failures)


def test_status_says_when_the_server_rejects_the_token(installed, seat):
    services.token_revoke(token=seat.tokens.get())
    output = installed.run("status").stdout
    assert output.startswith("Server answered HTTP 401: Invalid auth_token; figures from the cache")
