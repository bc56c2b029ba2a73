"""Suite-wide rules for CI (CI=true): a skipped test fails the run, so a missing service is never silent,
and property-based tests draw the same examples every run, so a red build always means a real change."""

import os

import pytest
from hypothesis import settings as hypothesis_settings


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


hypothesis_settings.register_profile("ci", derandomize=True)
if _in_ci():
    hypothesis_settings.load_profile("ci")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if not _in_ci():
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = len(reporter.stats.get("skipped", [])) if reporter else 0
    if skipped:
        message = f"CI: {skipped} test(s) skipped; every service must be available in CI."
        reporter.write_line(message, red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
