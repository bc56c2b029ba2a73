"""Token accounting from a realistic transcript: repeated usage lines, streaming, synthetic and late lines."""

import json

from limiter.models import UsageEvent


def _assistant(message_id, model, output, *, input_tokens=3, creation=0, read=0, block="text", **extra):
    return {
        "type": "assistant",
        "sessionId": "sess-1",
        "uuid": f"u-{message_id}-{block}-{output}",
        "timestamp": "2026-11-22T01:40:00.000Z",
        "requestId": f"req_{message_id}",
        "isSidechain": False,
        "message": {
            "id": message_id,
            "model": model,
            "role": "assistant",
            "content": [{"type": block}],
            "usage": {
                "input_tokens": input_tokens,
                "output_tokens": output,
                "cache_creation_input_tokens": creation,
                "cache_read_input_tokens": read,
                "cache_creation": {"ephemeral_5m_input_tokens": creation, "ephemeral_1h_input_tokens": 0},
                "service_tier": "standard",
            },
        },
        **extra,
    }


def _append(machine, *entries, partial=None):
    with machine.transcript.open("a") as handle:
        for entry in entries:
            handle.write(json.dumps(entry) + "\n")
        if partial is not None:
            handle.write(partial)


OPUS = "claude-opus-4-1-20250805"


def test_turn_usage_counts_each_api_response_once_and_late_lines_go_to_the_next_turn(machine, seat):
    from limiter import services

    # History from before this session started is never charged to it.
    _append(machine, {"type": "user", "message": {"role": "user", "content": "old"}})
    _append(machine, _assistant("msg_old", OPUS, 5000, input_tokens=900, creation=100, read=100))
    machine.setup(services.install_code_issue(seat=seat))
    machine.hook("SessionStart", source="resume")

    assert machine.prompt().stdout == ""
    late_line = json.dumps(
        _assistant("msg_2", OPUS, 40, input_tokens=7, creation=50, read=6000, block="tool_use")
    )
    _append(
        machine,
        {"type": "user", "message": {"role": "user", "content": "fix the tests"}},
        # Response 1: a streaming line, then thinking, text and tool_use lines all repeating its usage.
        _assistant("msg_1", OPUS, 12, input_tokens=2, creation=8655, read=61608, block="thinking"),
        _assistant("msg_1", OPUS, 211, input_tokens=2, creation=8655, read=61608, block="thinking"),
        _assistant("msg_1", OPUS, 211, input_tokens=2, creation=8655, read=61608, block="text"),
        _assistant("msg_1", OPUS, 211, input_tokens=2, creation=8655, read=61608, block="tool_use"),
        {"type": "user", "message": {"role": "user", "content": [{"type": "tool_result"}]}},
        # A local placeholder and a subagent line: no API response of the main model.
        _assistant("msg_x", "<synthetic>", 0, isApiErrorMessage=True, error="rate_limit"),
        # Response 2 has been streamed only partly when Stop runs.
        _assistant("msg_2", OPUS, 10, input_tokens=7, creation=50, read=6000, block="text"),
        partial=late_line[:40],
    )
    machine.hook("Stop", last_assistant_message="Done.")

    first = UsageEvent.objects.get(seat=seat)
    assert (first.input_tokens, first.output_tokens) == (2 + 7, 211 + 10)
    assert (first.cache_creation_input_tokens, first.cache_read_input_tokens) == (8655 + 50, 61608 + 6000)

    # The rest of response 2 lands after Stop; the next turn picks up only its growth.
    with machine.transcript.open("a") as handle:
        handle.write(late_line[40:] + "\n")
    assert machine.prompt().stdout == ""
    _append(machine, _assistant("msg_3", OPUS, 99, input_tokens=1, creation=0, read=70000))
    machine.hook("Stop", last_assistant_message="Done again.")

    second = UsageEvent.objects.exclude(pk=first.pk).get()
    assert second.output_tokens == (40 - 10) + 99
    assert second.input_tokens == 1
    assert second.cache_read_input_tokens == 70000
    assert second.cache_creation_input_tokens == 0
    assert second.family == "opus"


def test_compacting_the_session_keeps_reading_where_it_was(machine, seat):
    from limiter import services

    machine.setup(services.install_code_issue(seat=seat))
    machine.hook("SessionStart", source="startup", model=OPUS)
    _append(machine, _assistant("msg_1", OPUS, 10, input_tokens=4))
    machine.hook("Stop", last_assistant_message="Done.")
    # The rest of the response lands, then the session is compacted before the next prompt.
    _append(machine, _assistant("msg_1", OPUS, 250, input_tokens=4))
    machine.hook("SessionStart", source="compact")
    assert machine.prompt().stdout == ""
    _append(machine, _assistant("msg_2", OPUS, 30, input_tokens=1))
    machine.hook("Stop", last_assistant_message="Done.")

    outputs = sorted(UsageEvent.objects.filter(seat=seat).values_list("output_tokens", flat=True))
    assert outputs == [10, (250 - 10) + 30]
