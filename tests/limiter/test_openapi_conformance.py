"""Schemathesis drives every documented operation with schema-generated and schema-violating requests."""

import pytest
import schemathesis
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, settings

from .conftest import token_for

SCHEMA = schemathesis.openapi.from_dict(SchemaGenerator().get_schema(request=None, public=True))


@pytest.fixture
def bearer(live, alice):
    return {"Authorization": f"Bearer {token_for(alice)}"}


@SCHEMA.parametrize()
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), database=None)
def test_every_operation_conforms_to_its_schema(case, live, bearer):
    case.call_and_validate(base_url=live.url, headers=bearer)
