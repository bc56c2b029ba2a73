"""Suite-wide rules.

In CI (CI=true) a skipped test fails the run, so a missing service is never silent, and property-based tests
draw the same examples every run, so a red build always means a real change. Everywhere, a run leaves nothing
behind in Redis: at the end it deletes the keys under its own prefix (config/test_settings.py), only those.
"""

import os

import pytest
from hypothesis import settings as hypothesis_settings


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


hypothesis_settings.register_profile("ci", derandomize=True)
if _in_ci():
    hypothesis_settings.load_profile("ci")


@pytest.fixture
def live(transactional_db, settings):
    """The app on a real loopback HTTP server (tests/live.py); the test may stop() and start() it again."""
    from tests.live import LiveServer

    settings.ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
    server = LiveServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def django_db_modify_db_settings_xdist_suffix():
    """Replaces pytest-django's: config/test_settings.py already names each xdist worker's database."""


@pytest.fixture(scope="session", autouse=True)
def _leave_no_redis_keys_behind():
    yield
    from tests.isolation import delete_own_redis_keys

    delete_own_redis_keys()


@pytest.fixture(scope="session")
def redis_url() -> str:
    """A Redis for tests that need one even on the embedded (SQLite) run; keys stay under the run's prefix."""
    return os.environ.get("REDIS_URL") or os.environ.get("GOVERNOR_TEST_REDIS_URL", "redis://127.0.0.1:6379/12")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if not _in_ci():
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = len(reporter.stats.get("skipped", [])) if reporter else 0
    if skipped:
        message = f"CI: {skipped} test(s) skipped; every service must be available in CI."
        reporter.write_line(message, red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
