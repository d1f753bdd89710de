"""The served OpenAPI document, checked against the running service by schemathesis."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import fields
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from aitally.ingest.rows import Device, DeviceHealth
from tests.ingest.conftest import ADMIN_TOKEN, Server


class Api:
    def __init__(self, server: Server) -> None:
        self.server = server
        self.device_token = server.enroll("schemathesis")[1]


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    workdir: Path = tmp_path_factory.mktemp("openapi")
    # No per-device rate limit: the generator sends many batches in a burst.
    server = Server(f"sqlite:///{workdir / 'api.db'}", workdir, "--device-rate", "0")
    yield Api(server)
    server.stop()


def _checker(operation: Any, url: str, token: str) -> Any:
    @given(case=operation.as_strategy())
    @settings(
        max_examples=15, deadline=None, suppress_health_check=list(HealthCheck), database=None
    )
    def check(case: Any) -> None:
        case.call_and_validate(base_url=url, headers={"Authorization": f"Bearer {token}"})

    return check


def test_api_conforms(api: Api) -> None:
    # Driven by hand rather than through schemathesis' pytest plugin, which does not work
    # with the pytest installed here; the checks are the same (call_and_validate).
    schema = schemathesis.openapi.from_url(api.server.url + "/openapi.json")
    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]  # type: ignore[union-attr]
    assert len(operations) >= 9
    for operation in operations:
        token = api.device_token if operation.path == "/v1/batches" else ADMIN_TOKEN
        try:
            _checker(operation, api.server.url, token)()
        except Exception as exc:  # collect every operation's failure, then report all
            failures.append(f"{operation.method.upper()} {operation.path}: {exc}")
    assert not failures, "\n\n".join(failures)


def test_openapi_document_lists_the_contract(api: Api) -> None:
    doc = api.server.http.get(api.server.url + "/openapi.json").json()
    body = doc["paths"]["/v1/batches"]["post"]
    assert body["requestBody"]["content"]["application/json"]["schema"]["properties"]["schema"]
    assert {"200", "400", "401", "413", "415", "422", "429", "503"} <= set(body["responses"])
    assert {
        "/v1/enroll",
        "/v1/devices",
        "/v1/reports/adoption",
        "/v1/reports/effectiveness",
        "/v1/reports/levels",
        "/v1/reports/usage",
        "/healthz",
        "/metrics",
        "/dashboard",
    } <= set(doc["paths"])
    # The device list documents the storage row itself, every field of it (ingest/rows.py).
    schemas = doc["components"]["schemas"]
    assert schemas["DeviceList"]["properties"]["devices"]["items"]["$ref"].endswith("/Device")
    assert schemas["Device"]["required"] == [f.name for f in fields(Device)]
    assert schemas["DeviceHealth"]["required"] == [f.name for f in fields(DeviceHealth)]
