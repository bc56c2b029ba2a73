"""The client's start-up-cheap JSON reads and writes exactly what the json package does."""

import json

import pytest

from limiter.client import jsonfast as client

DOCUMENTS = [
    '{"session_id": "abc", "prompt": "fix \\u00e9\\ud83d\\ude00", "n": [1, 2.5, -3e10, true, null]}',
    '  {"nested": {"a": [], "b": {}}, "big": 123456789012345678901234567890}\n',
    '"just a string"',
    "[]",
]


@pytest.mark.parametrize("text", DOCUMENTS)
def test_reads_what_json_reads(text):
    assert client.json_loads(text) == json.loads(text)
    assert client.json_loads(text.encode()) == json.loads(text)


@pytest.mark.parametrize("text", ["", "   ", "{", '{"a": 1} trailing', "{'a': 1}", "[1,]", b"\xff\xfe"])
def test_rejects_what_is_not_one_json_document(text):
    with pytest.raises(ValueError):
        client.json_loads(text)


def test_writes_what_json_writes():
    value = {"b": [1, 2.5, None, True], "a": 'é 😀 "quoted"\n', "c": {"z": 0, "y": -1}}
    assert client.json_dumps(value) == json.dumps(value, sort_keys=True, separators=(",", ":"))
    with pytest.raises(TypeError):
        client.json_dumps({"when": object()})
