"""The OpenAPI schema at /api/v1/schema tells the truth about the statuses and bodies the API answers."""

import json
import re
from collections import defaultdict

import pytest

from limiter import services
from tests.isolation import clear_own_cache

from .conftest import HookApi, token_for

CONTRACT_PATHS = {
    "/api/v1/register": {"post"},
    "/api/v1/sync": {"post"},
    "/api/v1/check": {"post"},
    "/api/v1/count": {"post"},
    "/api/v1/status": {"get"},
    "/api/v1/health": {"get"},
    "/health": {"get"},
    # Governor extensions
    "/api/v1/token/rotate": {"post"},
    "/api/v1/revoke": {"post"},
}
TOO_BIG = json.dumps({"model": "x" * 70_000}).encode()


@pytest.fixture
def schema(live):
    reply = HookApi(live).request("GET", "/api/v1/schema?format=json")
    assert reply.status == 200, reply.text[:300]
    return reply.json


def test_schema_documents_exactly_the_contract_endpoints_with_their_auth(schema):
    assert {path: set(ops) for path, ops in schema["paths"].items()} == CONTRACT_PATHS
    assert schema["components"]["securitySchemes"]["hookToken"] == {
        "type": "http",
        "scheme": "bearer",
        "description": schema["components"]["securitySchemes"]["hookToken"]["description"],
    }
    secured = {path for path, ops in schema["paths"].items() for op in ops.values() if op.get("security")}
    assert secured == {
        "/api/v1/sync",
        "/api/v1/check",
        "/api/v1/count",
        "/api/v1/status",
        "/api/v1/token/rotate",
        "/api/v1/revoke",
    }


def observed_replies(live, alice, settings):
    """Provokes every status each endpoint can answer and returns {path: [replies]}."""
    api, anonymous = HookApi(live, token_for(alice)), HookApi(live)
    seen = defaultdict(list)
    for name in ("sync", "check", "count"):
        path = f"/api/v1/{name}"
        seen[path] += [
            api.post(
                name,
                {"model": "opus", "session_id": "s1", "event_id": "6f1c1f4e-3b8e-4c43-9a55-0f6c1d3c2a10"},
            ),
            api.post(name, raw=b"{"),
            anonymous.post(name, {}),
            api.get(name),
            api.post(name, raw=TOO_BIG),
        ]
    seen["/api/v1/count"].append(api.post("count", {"event_id": "6f1c1f4e-3b8e-4c43-9a55-0f6c1d3c2a10"}))
    seen["/api/v1/status"] += [api.get("status"), anonymous.get("status"), api.post("status", {})]
    seen["/api/v1/health"] += [anonymous.get("health"), anonymous.post("health", {})]
    seen["/health"] += [anonymous.request("GET", "/health"), anonymous.request("POST", "/health", raw=b"{}")]
    clear_own_cache()
    seen["/api/v1/register"] += [
        anonymous.post("register", {"code": services.install_code_issue(seat=alice)}),
        anonymous.post("register", {}),
        anonymous.post("register", {"code": "CLM-nope"}),
        anonymous.get("register"),
        anonymous.post("register", raw=TOO_BIG),
    ]
    settings.REGISTER_RATE_LIMIT = 0
    seen["/api/v1/register"].append(anonymous.post("register", {"code": "CLM-nope"}))
    clear_own_cache()
    return seen


def test_every_status_the_api_answers_is_declared_in_the_schema(live, alice, settings, schema):
    seen = observed_replies(live, alice, settings)

    undeclared = {}
    for path, replies in seen.items():
        declared = {int(code) for op in schema["paths"][path].values() for code in op["responses"]}
        observed = {reply.status for reply in replies}
        if observed - declared:
            undeclared[path] = sorted(observed - declared)
    assert undeclared == {}
    assert {reply.status for replies in seen.values() for reply in replies} == {
        200,
        400,
        401,
        404,
        405,
        413,
        429,
    }


def resolve(schema, node):
    while "$ref" in node:
        node = schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]]
    return node


def test_success_bodies_have_the_declared_keys_and_no_others(live, alice, settings, schema):
    seen = observed_replies(live, alice, settings)
    mismatches = {}
    for path, replies in seen.items():
        for method, op in schema["paths"][path].items():
            body_schema = resolve(schema, op["responses"]["200"]["content"]["application/json"]["schema"])
            for reply in replies:
                if reply.status != 200:
                    continue
                keys = set(reply.json)
                missing = set(body_schema.get("required", [])) - keys
                extra = keys - set(body_schema["properties"])
                if missing or extra:
                    mismatches[(path, method)] = {"missing": sorted(missing), "extra": sorted(extra)}
    assert mismatches == {}


def string_patterns(node):
    if isinstance(node, dict):
        if node.get("type") == "string" and "pattern" in node:
            yield node["pattern"]
        for value in node.values():
            yield from string_patterns(value)
    elif isinstance(node, list):
        for value in node:
            yield from string_patterns(value)


def test_schema_string_patterns_refuse_nul_as_the_api_does(live, alice, schema):
    patterns = set(string_patterns(schema))
    assert patterns
    for text in ("\x00", "CLM-\x00", "\x00CLM"):
        assert [p for p in patterns if re.search(p, text)] == []
        assert HookApi(live).post("register", {"code": text}).status == 400
