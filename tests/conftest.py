import pytest

from tests.live import LiveServer


@pytest.fixture
def live(transactional_db, settings):
    """The app on a real loopback HTTP server; the test may stop() and start() it again."""
    settings.ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
    server = LiveServer().start()
    yield server
    server.stop()
