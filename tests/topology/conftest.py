"""The `topology` fixture: the production process layout, for the tests in this package (see tests/README.md).

Package-scoped, not session-scoped: its beat polls Claude accounts every second in the test database, so
while it runs it takes leases on, and polls, the accounts other tests create. It stops when the last test
here is done. A test that uses it also takes `transactional_db`, so what it writes is committed and visible
to the servers and workers.
"""

import shutil

import pytest

from .stack import CADDY, Topology


@pytest.fixture(scope="package")
def topology_claude():
    """The Claude APIs on loopback for the topology's beat and workers (tests/fakes/claude_api.py)."""
    from tests.fakes.claude_api import FakeClaude

    server = FakeClaude().start()
    yield server
    server.stop()


@pytest.fixture(scope="package")
def topology(django_db_setup, django_db_blocker, redis_url, tmp_path_factory, topology_claude):
    """Caddy (deploy/Caddyfile, `tls internal`) → two gunicorn + daphne; two Celery workers and one beat."""
    if not shutil.which(CADDY):
        pytest.fail("caddy is missing: `make test` installs Debian's caddy")
    stack = Topology(tmp_path_factory.mktemp("topology"), redis_url, topology_claude.url)
    try:
        with django_db_blocker.unblock():
            stack.start()
        yield stack
    finally:
        stack.stop()
