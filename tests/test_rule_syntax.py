from datetime import time

import pytest

from limiter.rule_syntax import RuleSyntaxError, parse_rule


@pytest.mark.parametrize(
    ("text", "fields"),
    [
        ("per_model:opus:daily:5", {"type": "per_model", "model": "opus", "window": "daily", "value": 5}),
        (
            "per_model:all:sliding_24h:-1",
            {"type": "per_model", "model": "", "window": "sliding_24h", "value": -1},
        ),
        ("credits:monthly:0", {"type": "credits", "window": "monthly", "value": 0}),
        (
            "time_of_day:sonnet:9:00-17:30",
            {
                "type": "time_of_day",
                "model": "sonnet",
                "schedule_start": time(9),
                "schedule_end": time(17, 30),
                "schedule_tz": "UTC",
            },
        ),
    ],
)
def test_reads_each_rule_kind(text, fields):
    assert parse_rule(text) == fields


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("per_model:opus:daily:-2", "-1 (unlimited), 0 (blocked)"),
        ("per_model:Opus!:daily:3", "is not a model family"),
        ("credits:yearly:3", "is not a window"),
        ("time_of_day:all:25:00-06:00", "between 00:00 and 23:59"),
        ("quota:5", "cannot read rule"),
    ],
)
def test_rejects_malformed_rules_with_the_reason(text, message):
    with pytest.raises(RuleSyntaxError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_rule(text)
