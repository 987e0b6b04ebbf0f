"""Schemathesis against the real served app: generated requests (schema-valid and schema-breaking)
for every operation of the OpenAPI document; no 500, no undocumented status, no body that breaks
its schema, the right content type."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from optimizer.catalog import APP_ROLE
from optimizer.service.app import create_app
from optimizer.service.guards import GuardSettings

pytestmark = [pytest.mark.integration, pytest.mark.slow]
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
EXAMPLES_PER_OPERATION = 30


@pytest.fixture(scope="module")
def api_schema(mini_catalog, warehouse_settings, serve_app):
    app = create_app(
        warehouse_settings.database_url("catalog", APP_ROLE), guard_settings=GuardSettings(rate_limit=None)
    )
    url, stop = serve_app(app)
    yield schemathesis.openapi.from_url(f"{url}/openapi.json")
    stop()


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_no_500_and_every_response_matches_the_schema(api_schema, mode):
    # (schemathesis' pytest fixture loader does not run on this pytest; the same cases are drawn here.)
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert {op.path for op in operations} >= {"/api/optimize", "/api/products/search", "/api/stores"}
    for operation in operations:
        if (
            mode is GenerationMode.NEGATIVE
            and not list(operation.iter_parameters())
            and not len(operation.body)
        ):
            continue  # nothing to break in a request without parameters or body

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, suppress_health_check=list(HealthCheck))
        def run(case):
            case.call_and_validate(checks=CHECKS, timeout=30)

        run()
