"""The central server's API fuzzed from its own OpenAPI schema (schemathesis): no input
gives a 500. Requests go through the real app on a real PostgreSQL, with a valid site
token and dashboard login so the fuzzing reaches past authentication."""

from __future__ import annotations

import base64
from typing import Any

import schemathesis
from hypothesis import HealthCheck, given, settings

from central.app import Settings, create_app
from central.db import CentralDB

LOGIN = "Basic " + base64.b64encode(b"tinh-it:mat-khau-dai-du").decode()


def fuzz(op: Any, auth: str, failures: list[str]) -> None:
    """Up to 20 generated requests to one operation; 5xx replies go to ``failures``."""

    @given(case=op.as_strategy())
    @settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck))
    def run(case: Any) -> None:
        response = case.call(headers={"Authorization": auth})
        if response.status_code >= 500:
            failures.append(f"{case.method} {case.formatted_path}: {response.status_code}")

    run()


def test_no_input_from_the_openapi_schema_makes_the_server_fail(cdb: CentralDB) -> None:
    token = cdb.add_site("nghia-tan", "Nghĩa Tân")
    cdb.set_user("tinh-it", "mat-khau-dai-du")
    app = create_app(cdb, Settings(rate=10000, burst=10000))
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operations = [r.ok() for r in schema.get_all_operations()]
    assert len(operations) >= 10
    failures: list[str] = []
    for op in operations:
        if op.path == "/live":
            continue  # an endless stream, checked in test_dashboard.py
        auth = f"Bearer {token}" if op.path.startswith("/uplink/") else LOGIN
        fuzz(op, auth, failures)
    assert failures == []
