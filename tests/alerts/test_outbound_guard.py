"""The one HTTP seam: SSRF guard after DNS resolution and again at send, redirects re-checked, size cap."""

import pytest

from alerts.transports import get, http
from alerts.transports.base import ConfigError, Outcome, TransportError
from tests.fakes.alert_receivers import Reply

from .conftest import message


@pytest.mark.parametrize(
    "address",
    ["127.0.0.1", "10.1.2.3", "192.168.0.10", "169.254.169.254", "::1", "::ffff:127.0.0.1", "0.0.0.0"],  # noqa: S104,
)
def test_refuses_internal_addresses_when_no_network_is_allowed(settings, dns, address):
    settings.ALERTS_ALLOWED_PRIVATE_NETWORKS = []
    dns["hooks.example.org"] = address
    with pytest.raises(ConfigError, match="ALERTS_ALLOWED_PRIVATE_NETWORKS"):
        get("webhook").validate({"url": "https://hooks.example.org/x"})


def test_accepts_a_public_address(settings, dns):
    settings.ALERTS_ALLOWED_PRIVATE_NETWORKS = []
    dns["hooks.example.org"] = "93.184.215.14"
    assert get("webhook").validate({"url": "https://hooks.example.org/x"})["url"]


def test_refuses_other_schemes(dns):
    with pytest.raises(ConfigError, match="Only http"):
        get("webhook").validate({"url": "file:///etc/passwd"})


def test_a_name_that_rebinds_to_loopback_after_saving_is_refused_at_send(settings, dns, receivers):
    settings.ALERTS_ALLOWED_PRIVATE_NETWORKS = []
    dns["hooks.example.org"] = "93.184.215.14"
    config = get("webhook").validate({"url": "http://hooks.example.org/x"})
    dns["hooks.example.org"] = "127.0.0.1"
    with pytest.raises(TransportError) as caught:
        get("webhook").send(config, message())
    assert caught.value.outcome == Outcome.PERMANENT
    assert "resolves to 127.0.0.1" in caught.value.message
    assert receivers.received() == []


def test_a_redirect_into_a_network_not_allowed_is_refused(settings, dns, receivers):
    settings.ALERTS_ALLOWED_PRIVATE_NETWORKS = ["127.0.0.0/8"]  # the fake, but not the metadata service
    dns["metadata.internal"] = "169.254.169.254"
    receivers.script("/hook", Reply(302, "", {"Location": "http://metadata.internal/latest/meta-data/"}))
    config = get("webhook").validate({"url": f"{receivers.url}/hook"})
    with pytest.raises(TransportError, match=r"169\.254\.169\.254"):
        get("webhook").send(config, message())


def test_reads_at_most_64_kib_of_a_response(receivers):
    receivers.script("/big", Reply(200, "x" * 300_000, content_type="text/plain"))
    response = http.request("GET", f"{receivers.url}/big")
    assert len(response.body) == http.MAX_RESPONSE_BYTES


def test_connection_refused_is_transient():
    with pytest.raises(TransportError) as caught:
        http.request("POST", "http://127.0.0.1:9/")
    assert caught.value.outcome == Outcome.TRANSIENT
