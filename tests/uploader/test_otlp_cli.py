"""OTLP payloads checked against the official protobuf schema; the upload and preview commands."""

from __future__ import annotations

import json
import subprocess
from typing import Any

from google.protobuf import json_format
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest

from aitally.uploader import otlp, sinks
from aitally.uploader.delivery import Delivery
from tests.conftest import aitally_cmd
from tests.uploader.helpers import make_segments, open_store, receiver, write_config


def test_otlp_sink_posts_valid_export_logs_requests():
    with receiver() as server:
        server.path = "/v1/logs"
        server.otlp = True
        cfg = write_config(f'[upload]\notlp_endpoint = "{server.url}/v1/logs"')
        store = open_store()
        make_segments(store, 3, project="CANARY-project")
        result = Delivery(cfg, store, sinks.make_sinks(cfg)).run()
        assert result.outcome == "done" and result.acked == 3
        bodies = server.bodies
    msg = json_format.Parse(bodies[0], ExportLogsServiceRequest())
    logs = msg.resource_logs[0].scope_logs[0].log_records
    assert len(logs) == 3
    attrs = {a.key: a.value for a in logs[0].attributes}
    assert attrs["gen_ai.provider.name"].string_value == "anthropic"
    # Tokens(input 10, output 20, cache_read 30, cache_write 40, reasoning None): the GenAI
    # conventions count cached reads and writes inside input_tokens (issue 17).
    assert attrs["gen_ai.usage.input_tokens"].int_value == 10 + 30 + 40
    assert attrs["gen_ai.usage.output_tokens"].int_value == 20
    assert attrs["gen_ai.usage.cache_read.input_tokens"].int_value == 30
    assert attrs["gen_ai.usage.cache_creation.input_tokens"].int_value == 40
    assert attrs["aitally.usage.input_tokens"].int_value == 10
    assert attrs["aitally.usage.cache_write_tokens"].int_value == 40
    assert attrs["gen_ai.request.model"].string_value == "claude-x"
    assert "gen_ai.usage.reasoning.output_tokens" not in attrs  # not recorded: absent, not 0
    assert "aitally.usage.reasoning_tokens" not in attrs
    resource = {a.key: a.value for a in msg.resource_logs[0].resource.attributes}
    assert resource["os.type"].string_value == otlp.os_type()
    # At pseudonymous no identity leaves the laptop (docs/privacy.md): none on the resource.
    assert "user.hash" not in resource and "user.name" not in resource and "host.id" not in resource
    assert logs[0].time_unix_nano > 0 and logs[0].event_name == "aitally.segment"
    assert b"CANARY" not in bodies[0]


def test_export_request_round_trips_through_protobuf():
    rec: dict[str, Any] = {
        "record_id": "r1", "kind": "daily_total", "tool": "codex", "surface": None,
        "tool_version": None, "started_at": "2026-11-24T00:00:00Z",
        "ended_at": "2026-11-25T00:00:00Z", "active_seconds": 12, "present_seconds": 0,
        "turns": 3, "sessions": 2, "tokens": None, "models": {}, "signals": ["transcript"],
        "project": None, "user": None, "device": None, "org_unit": "eng",
    }  # fmt: skip
    raw = otlp.export_request([rec], {"queue_depth": 1}, 1.0)
    msg = json_format.Parse(raw, ExportLogsServiceRequest())
    again = json_format.MessageToDict(msg)
    assert again["resourceLogs"][0]["scopeLogs"][0]["logRecords"][0]["eventName"] == (
        "aitally.daily_total"
    )


def test_upload_without_endpoint_is_a_usage_error():
    done = subprocess.run(aitally_cmd("upload"), capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "upload.endpoint" in done.stderr


def test_upload_command_delivers_and_status_reports_it():
    from aitally.uploader import credentials

    with receiver() as server:
        credentials.set_token("tok")
        write_config(f'[upload]\nendpoint = "{server.url}"')
        store = open_store()
        ids = make_segments(store, 6)
        store.close()
        done = subprocess.run(aitally_cmd("upload"), capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        assert "6 records delivered" in done.stdout
        assert sorted(server.records) == sorted(ids)
        status = subprocess.run(
            aitally_cmd("status", "--json"), capture_output=True, text=True, timeout=60
        )
        data = json.loads(status.stdout)
        assert data["upload"]["last_upload"] and data["upload"]["dead_letters"] == 0
        assert data["upload"]["credential_store"].startswith("file:")
        assert data["queue_depth"] == 0


def test_preview_table_names_the_policy():
    write_config("")
    store = open_store()
    make_segments(store, 2)
    store.close()
    shown = subprocess.run(aitally_cmd("preview"), capture_output=True, text=True, timeout=60)
    assert shown.returncode == 0 and "policy pseudonymous" in shown.stdout


def test_output_tokens_include_reasoning_per_the_conventions():
    usage = otlp._usage(
        {"input": 6809, "output": 14, "cache_read": 27, "cache_write": None, "reasoning": 195}
    )
    assert usage["gen_ai.usage.input_tokens"] == 6836  # as Codex reports input_tokens
    assert usage["gen_ai.usage.output_tokens"] == 209  # as Codex reports output_tokens
    assert usage["gen_ai.usage.reasoning.output_tokens"] == 195
    assert usage["aitally.usage.output_tokens"] == 14
    assert usage["gen_ai.usage.cache_creation.input_tokens"] is None


def test_os_type_uses_the_conventions_values():
    assert [otlp.os_type(p) for p in ("win32", "darwin", "linux", "freebsd14")] == [
        "windows",
        "darwin",
        "linux",
        "freebsd",
    ]


def test_standard_otel_variables_and_headers_reach_the_receiver(monkeypatch):
    """OTEL_EXPORTER_OTLP_ENDPOINT (base + /v1/logs) and the headers variables, percent-decoded,
    the logs-specific ones winning, the configuration's winning over both."""
    with receiver() as server:
        server.path = "/v1/logs"
        server.otlp = True
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", server.url + "/")
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_HEADERS", "Authorization=Basic%20abc,x-a=general")
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_LOGS_HEADERS", "x-a=logs,x-b=env")
        cfg = write_config('[upload]\notlp_headers = "x-b=config"')
        store = open_store()
        make_segments(store, 2)
        result = Delivery(cfg, store, sinks.make_sinks(cfg)).run()
        assert result.outcome == "done" and result.acked == 2
        sent = server.headers[0]
    assert sent["Authorization"] == "Basic abc"
    assert sent["x-a"] == "logs" and sent["x-b"] == "config"
    json_format.Parse(server.bodies[0], ExportLogsServiceRequest())


def test_configuration_wins_over_the_variables_and_policy_can_ignore_them(monkeypatch):
    from aitally.uploader import otlp_target

    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://base:4318")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT", "http://logs:4318/custom")
    cfg = write_config("")
    assert otlp_target.resolve(cfg).endpoint == "http://logs:4318/custom"
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT")
    assert otlp_target.resolve(cfg).endpoint == "http://base:4318/v1/logs"
    cfg = write_config('[upload]\notlp_endpoint = "http://mine:4318/v1/logs"')
    assert otlp_target.resolve(cfg).endpoint == "http://mine:4318/v1/logs"
    cfg = write_config("[upload]\notlp_from_env = false")
    assert otlp_target.resolve(cfg).endpoint == "" and not sinks.configured(cfg)
