"""Offline decisions charge the same family the server would: the client mirrors limiter.families."""

import pytest

from limiter.families import normalize_family
from limiter.hook_client import governor_hook as client

MODELS = [
    "claude-opus-4-1-20250805",
    "claude-sonnet-4-5-20250929",
    "claude-3-5-haiku-20241022",
    "opus[1m]",
    "Sonnet",
    "opusplan",
    "best",
    "favourite",
    "claude-nova-2-20270101",
    "claude-3-nova",
    "claude-fable-1",
    "fable",
    "gpt-5",
    "<synthetic>",
    "",
    "  ",
    "claude-4-2",
    None,
    42,
]


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize(
    ("extra", "aliases"),
    [((), None), (("fable",), {"best": "opus", "favourite": "fable"})],
    ids=["defaults", "team-families"],
)
def test_client_family_matches_the_server(model, extra, aliases):
    expected = normalize_family(model, extra_families=extra, aliases=aliases)
    assert client.normalize_family(model, extra, aliases) == expected
