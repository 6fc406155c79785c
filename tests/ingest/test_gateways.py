"""Gateway request logs (assets/ingest/gateways): each format recognised from content, mapped to our columns.

Every fixture in tests/fixtures/gateways/ follows its platform's documented payload (sources below);
the expected rows are worked out by hand from the fixture text. Provider keys come from the shipped
catalogue (names, hosts and model prefixes), exactly as the request-log ingest resolves them.

Sources of the fixture shapes:
- LiteLLM: the `LiteLLM_SpendLogs` table (litellm schema.prisma / litellm-js spend-logs types) as
  `/spend/logs` returns it; failures carry metadata.error_information {error_code, error_class, ...}.
- OpenRouter: the activity CSV export of openrouter.ai/activity (generation_id, created_at, ...,
  model_permaslug, provider_name, cancelled, finish_reason_normalized, generation_time_ms, api_key_name).
- Helicone: the `HeliconeRequest` schema of Helicone's REST API, written by `npx @helicone/export`
  (docs.helicone.ai/tools/export).
- Portkey: the "Exported Data" columns of Portkey's logs export (JSONL; portkey.ai/docs ... logs-export).
- Langfuse: the public API's Observation object and its paged response {"data": [...], "meta": {...}}.
- OpenTelemetry: OTLP/JSON ExportTraceServiceRequest (file exporter) with the GenAI semantic conventions.
- nginx: `log_format ... escape=json` of nginx variables (nginx.org ngx_http_log_module).
- Envoy: the default access log format string (envoyproxy.io, configuration/observability/access_log).
- AWS ALB: the access log entry syntax and example of the Elastic Load Balancing user guide.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import tracemalloc
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from assets.ingest import gateways
from assets.ingest.gateways import COLUMNS, detect, reading, to_canonical_jsonl
from pipelines.core.catalogue import load_catalogue
from pipelines.core.config import load_providers
from pipelines.scenario import generate

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "gateways"
T1, T2, T3 = "2026-03-02T11:48:10.120000+00:00", "2026-03-02T11:49:30.004000+00:00", "2026-03-02T11:50:02.250000+00:00"
SONNET = "claude-sonnet-4-20250514"


@pytest.fixture(scope="module")
def provider_for(tmp_path_factory):
    """Name, host or model -> provider key, from every catalogue entry (names, then hosts, then prefixes)."""
    path = tmp_path_factory.mktemp("config") / "providers.yaml"
    path.write_text(yaml.safe_dump({
        "app_store": {"countries": ["us"], "charts": ["top-free"]},
        "providers": {key: {} for key in load_catalogue()},
    }))
    config = load_providers(path)
    names, prefixes = config.provider_for_log_name(), config.provider_for_model_prefix()
    hosts = {h.lower(): key for key, p in config.providers.items() for h in p.request_logs.hosts}

    def lookup(value: str) -> str | None:
        value = value.lower()
        by_prefix = (key for prefix, key in prefixes.items() if value.startswith(prefix))
        return names.get(value) or hosts.get(value) or next(by_prefix, None)

    return lookup


def convert(path: Path, provider_for, tmp_path: Path, fmt: str | None = None):
    fmt = fmt or detect(path.read_bytes()[:4096], path.name)
    out = tmp_path / f"{path.name}.canonical.jsonl"
    rejects = to_canonical_jsonl(path, fmt, out, provider_for)
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    return rows, rejects


def rows_of(*values: tuple) -> list[dict]:
    return [dict(zip(COLUMNS, value, strict=True)) for value in values]


EXPECTED = {
    "litellm_spend_logs.json": ("litellm_spend_logs", rows_of(
        (T1, "anthropic", SONNET, "/v1/chat/completions", 200, 1432.0, 1820, 377, "team-support-bot", None, None),
        (T2, "anthropic", SONNET, "acompletion", 529, 946.0, 0, 0, "u-4411", None, "InternalServerError"),
        # naive Prisma time read as UTC; metadata stored as JSON text
        (T3, "openai", "gpt-4o-mini", "/chat/completions", 200, 750.0, 412, 96, "team-analytics", None, None),
    )),
    "openrouter_activity.csv": ("openrouter_activity", rows_of(
        ("2026-03-02T11:48:10.713000+00:00", "anthropic", "anthropic/claude-4-sonnet-20250522", None, 200,
         5234.0, 1820, 377, "prod-key", None, None),
        ("2026-03-02T11:49:11.020000+00:00", "google", "google/gemini-2.5-pro", None, 499, 1200.0, 950, 40,
         "prod-key", None, "cancelled"),
        ("2026-03-02T11:50:00.500000+00:00", "aws_bedrock", "anthropic/claude-3.7-sonnet", None, 502, 2875.0,
         611, 88, "batch, nightly", None, "error"),
    )),
    "helicone_export.jsonl": ("helicone", rows_of(
        (T1, "anthropic", SONNET, "/v1/messages", 200, 1432.0, 1820, 377, "user-77", None, None),
        (T2, "anthropic", SONNET, "/v1/messages", 529, 310.0, None, None, "user-78", None, "overloaded_error"),
        (T3, "openai", "gpt-4o", "/v1/chat/completions", 429, 451.0, None, None, None, None, "requests"),
    )),
    "portkey_export.jsonl": ("portkey", rows_of(
        (T1, "anthropic", SONNET, "/v1/messages", 200, 1432.0, 1820, 377, "user-77", None, None),
        (T2, "openai", "gpt-4o", "/v1/chat/completions", 503, 2950.0, 512, 0, None, None, "server_error"),
        (T3, "azure_openai", "gpt-4o", "/openai/deployments/gpt-4o/chat/completions", 200, 750.0, 412, 96,
         "analytics", None, None),
    )),
    "langfuse_observations.json": ("langfuse_observations", rows_of(
        (T1, "anthropic", SONNET, None, 200, 1432.0, 1820, 377, None, None, None),
        # the SPAN between them is not a request; the ERROR's code comes from its statusMessage
        (T2, "anthropic", SONNET, None, 529, 946.0, 0, 0, None, None, "overloaded_error"),
        (T3, "openai", "gpt-4o-mini-2024-07-18", None, 200, None, 412, 96, None, None, None),
    )),
    "otel_genai_spans.jsonl": ("otel_genai", rows_of(
        (T1, "anthropic", SONNET, "chat", 200, 1432.0, 1820, 377, "support-bot", "us-east-1", None),
        (T2, "anthropic", SONNET, "chat", 529, 946.0, None, None, "support-bot", "us-east-1", "overloaded_error"),
        (T3, "openai", "gpt-4o-mini", "chat", 200, 750.0, 412, 96, "batch-summariser", None, None),
    )),
    "nginx_json_access.log": ("nginx_json", rows_of(
        ("2026-03-02T11:48:10+00:00", "anthropic", None, "/anthropic/v1/messages", 200, 1432.0, None, None,
         "10.0.3.17", None, None),
        ("2026-03-02T11:49:30+00:00", "anthropic", None, "/anthropic/v1/messages", 529, 310.0, None, None,
         "203.0.113.9", None, None),
        # proxy_host is an upstream{} block name: the route's first segment names the provider
        ("2026-03-02T11:50:02+00:00", "openai", None, "/openai/v1/chat/completions", 200, 750.0, None, None,
         "10.0.3.40", None, None),
    )),
    "envoy_access.log": ("envoy", rows_of(
        (T1, "anthropic", None, "/v1/messages", 200, 1432.0, None, None, "10.0.3.17", None, None),
        (T2, "openai", None, "/v1/chat/completions", 503, 5003.0, None, None, "203.0.113.9", None, "UF"),
        (T3, "groq", None, "/openai/v1/chat/completions", 504, 60000.0, None, None, None, None, "UT"),
    )),
    "aws_alb_access.log": ("aws_alb", rows_of(
        (T1, "anthropic", None, "/anthropic/v1/messages", 200, 1432.0, None, None, "192.168.131.39",
         "us-east-1", None),
        # -1 processing times: the target never answered, so the latency is unknown (not 0)
        (T2, "openai", None, "/openai/v1/chat/completions", 504, None, None, None, "203.0.113.9", "us-east-1",
         None),
        (T3, "aws_bedrock", None, "/bedrock/model/anthropic.claude-3-5-sonnet-20240620-v1:0/converse", 200,
         812.0, None, None, "10.1.2.3", "eu-west-1", None),
    )),
}

# Bad input: record number and the start of its reason (the field it blames). Record 1 of each file loads.
BAD = {
    "litellm_bad.jsonl": ("litellm_spend_logs", [
        (2, "line: invalid JSON"), (3, "startTime: missing"),
        (4, "metadata.error_information.error_code: 'RateLimitError' is not an integer HTTP code"),
        (5, "provider: 'acme-llm', 'llm.acme.internal', 'acme-1': not a configured provider"),
    ]),
    "openrouter_bad.csv": ("openrouter_activity", [
        (2, "record: 6 fields where the header has 20"), (3, "created_at: missing"),
        (4, "generation_time_ms: 'fast' is not a number"), (5, "tokens_prompt: '1.5' is not a whole"),
    ]),
    "helicone_bad.json": ("helicone", [
        (2, "request_created_at: missing"), (3, "response_status: 'abc' is not an integer HTTP code"),
        (4, "record: invalid JSON (truncated"),
    ]),
    "portkey_bad.jsonl": ("portkey", [
        (2, "line: invalid JSON"), (3, "created_at: missing"),
        (4, "response_status_code: 'abc' is not an integer HTTP code"),
    ]),
    "langfuse_bad.jsonl": ("langfuse_observations", [
        (2, "line: invalid JSON"), (3, "startTime: missing"),
        (4, "statusMessage: an ERROR generation with no HTTP code"),
        (5, "statusMessage: '999' is not an integer HTTP code"),
    ]),
    "otel_genai_bad.jsonl": ("otel_genai", [
        (2, "line: invalid JSON"), (3, "startTimeUnixNano: missing"),
        (4, "http.response.status_code: 'abc' is not an integer HTTP code"),
        (5, "http.response.status_code: missing on a failed span"),
    ]),
    "nginx_json_bad.log": ("nginx_json", [
        (2, "line: invalid JSON"), (3, "time_local: missing"),
        (4, "status: 'abc' is not an integer HTTP code"),
    ]),
    "envoy_bad.log": ("envoy", [
        (2, "line: not an Envoy default-format access log line"), (3, "START_TIME: missing"),
        (4, "RESPONSE_CODE: 'abc' is not an integer HTTP code"),
        (5, "RESPONSE_CODE: '0' is not an integer HTTP code"),  # 0: Envoy sent no response at all
    ]),
    "aws_alb_bad.log": ("aws_alb", [
        (2, "line: unbalanced quotes"), (3, "time: missing"),
        (4, "elb_status_code: 'abc' is not an integer HTTP code"),
    ]),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_format_is_recognised_and_mapped_by_hand(name, provider_for, tmp_path):
    fmt, expected = EXPECTED[name]
    path = FIXTURES / name
    assert detect(path.read_bytes()[:4096], name) == fmt
    rows, rejects = convert(path, provider_for, tmp_path)
    assert rejects == []
    assert rows == expected


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_records_are_refused_with_field_and_reason_and_the_good_one_loads(name, provider_for, tmp_path):
    fmt, expected = BAD[name]
    path = FIXTURES / name
    assert detect(path.read_bytes()[:4096], name) == fmt
    rows, rejects = convert(path, provider_for, tmp_path)
    assert len(rows) == 1 and rows[0]["ts"].startswith("2026-03-02T11:48:10")
    assert [no for no, _, _ in rejects] == [no for no, _ in expected]
    for (_, reason, _), (_, blamed) in zip(rejects, expected, strict=True):
        assert reason.startswith(blamed), reason
    assert all(0 < len(raw) <= 2000 for no, _, raw in rejects)
    if fmt != "otel_genai":  # a refused span is shown as its own JSON, not the whole request line
        assert all(raw in path.read_text() for _, _, raw in rejects)  # the record's own text, nothing else
    assert len(rows) + len(rejects) == 1 + len(expected)  # records in = mapped + refused


@pytest.mark.parametrize(
    ("head", "name"),
    [
        ((b'{"ts": "2026-03-02T11:48:10Z", "provider": "anthropic", "model": "m", "endpoint": "/v1/messages", '
         b'"status": 200, "latency_ms": 812.5, "tokens_in": 1, "tokens_out": 2, "client_id": "c", "region": "r"}\n'),
         "anthropic.jsonl"),
        (b"ts,provider,model,endpoint,status,latency_ms,tokens_in,tokens_out,client_id,region\n", "google.csv"),
        (b'10.0.0.1 - - [02/Mar/2026:11:49:03 +0000] "POST /anthropic/v1/messages HTTP/1.1" 529 91 "-" "curl" 0.3\n',
         "gateway-access.log"),
        (b"", "empty.jsonl"),
    ],
)
def test_our_own_formats_are_not_taken_for_a_gateway(head, name):
    assert detect(head, name) is None


def test_gzip_files_are_recognised_and_streamed_and_a_cut_one_keeps_what_it_read(provider_for, tmp_path):
    plain = FIXTURES / "envoy_access.log"
    packed = tmp_path / "envoy-access.log.gz"
    packed.write_bytes(gzip.compress(plain.read_bytes()))
    assert detect(packed.read_bytes()[:4096], packed.name) == "envoy"
    assert convert(packed, provider_for, tmp_path) == convert(plain, provider_for, tmp_path)

    cut = tmp_path / "cut-access.log.gz"
    big = plain.read_bytes() * 400  # long enough for the cut to fall past the first lines
    cut.write_bytes(gzip.compress(big)[: len(gzip.compress(big)) // 2])
    rows, rejects = convert(cut, provider_for, tmp_path, "envoy")
    assert len(rows) > 3 and rows[0] == EXPECTED["envoy_access.log"][1][0]
    assert [(no, reason.split(" (")[0]) for no, reason, _ in rejects] == [(0, "file: cannot be read further")]


def test_json_documents_are_read_element_by_element_whatever_the_chunk_size(provider_for, tmp_path, monkeypatch):
    whole = {name: convert(FIXTURES / name, provider_for, tmp_path) for name in
             ("langfuse_observations.json", "helicone_bad.json", "litellm_spend_logs.json")}
    monkeypatch.setattr(reading, "CHUNK_CHARS", 7)  # every record now spans many reads
    for name, result in whole.items():
        assert convert(FIXTURES / name, provider_for, tmp_path) == result


def test_a_large_export_streams_in_bounded_memory(provider_for, tmp_path, monkeypatch):
    monkeypatch.setattr(reading, "CHUNK_CHARS", 1 << 14)  # memory then grows with the chunk, never the file
    record = {"request_created_at": "2026-03-02T11:48:10.120Z", "response_status": 200, "provider": "OPENAI",
              "model": "gpt-4o", "request_path": "https://api.openai.com/v1/chat/completions", "delay_ms": 640,
              "prompt_tokens": 12, "completion_tokens": 7, "request_user_id": "user-1"}
    path, out = tmp_path / "helicone-large.json", tmp_path / "out.jsonl"
    with path.open("w") as sink:  # one JSON document (an array), as `npx @helicone/export --format json` writes
        sink.write("[" + ",".join(json.dumps({**record, "request_id": str(i)}) for i in range(8_000)) + "]")
    size = path.stat().st_size
    tracemalloc.start()
    rejects = to_canonical_jsonl(path, "helicone", out, provider_for)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert rejects == [] and sum(1 for _ in out.open()) == 8_000
    assert size > 2e6 and peak < 1e6, f"peak {peak / 1e6:.1f} MB for a {size / 1e6:.0f} MB file"


def test_a_time_without_offset_is_refused_unless_the_format_documents_utc(provider_for):
    helicone_row = {"request_created_at": "2026-03-02T11:48:10", "response_status": 200, "provider": "OPENAI"}
    with pytest.raises(gateways.fields.Unmappable, match="request_created_at: .* has no UTC offset"):
        gateways.helicone.to_row(helicone_row, provider_for)
    openrouter_row = {"created_at": "2026-03-02 11:48:10.713", "provider_name": "OpenAI"}
    assert gateways.openrouter.to_row(openrouter_row, provider_for)["ts"] == "2026-03-02T11:48:10.713000+00:00"


def test_an_otel_span_without_http_code_is_a_success_only_when_it_did_not_fail(provider_for):
    span = {"startTimeUnixNano": "1772452090120000000", "endTimeUnixNano": "1772452090620000000",
            "attributes": [{"key": "gen_ai.provider.name", "value": {"stringValue": "openai"}}]}
    served = gateways.otel_genai.to_row({"span": span, "resource": {}}, provider_for)
    assert (served["status"], served["latency_ms"], served["error_type"]) == (200, 500.0, None)
    failed = {**span, "status": {"code": 2}}
    with pytest.raises(gateways.fields.Unmappable, match="http.response.status_code: missing on a failed span"):
        gateways.otel_genai.to_row({"span": failed, "resource": {}}, provider_for)
    coded = {**failed, "attributes": [*span["attributes"], {"key": "error.type", "value": {"stringValue": "503"}}]}
    assert gateways.otel_genai.to_row({"span": coded, "resource": {}}, provider_for)["status"] == 503


def test_an_unknown_format_name_is_a_clear_error(tmp_path, provider_for):
    with pytest.raises(ValueError, match="unknown gateway format 'splunk'; known: otel_genai"):
        to_canonical_jsonl(FIXTURES / "envoy_access.log", "splunk", tmp_path / "out.jsonl", provider_for)


def _as_otlp_line(row: dict) -> str:
    """One scenario request written the way an OpenTelemetry GenAI instrumentation exports it."""
    start = dt.datetime.fromisoformat(row["ts"])
    start_ns = int(start.timestamp()) * 10**9 + start.microsecond * 1000
    attributes = {
        "gen_ai.provider.name": {"stringValue": row["provider"]},
        "gen_ai.request.model": {"stringValue": row["model"]},
        "gen_ai.usage.input_tokens": {"intValue": str(row["tokens_in"])},
        "gen_ai.usage.output_tokens": {"intValue": str(row["tokens_out"])},
        "http.response.status_code": {"intValue": str(row["status"])},
        "url.full": {"stringValue": f"https://api.anthropic.com{row['endpoint']}"},
    }
    if row.get("error_type"):
        attributes["error.type"] = {"stringValue": row["error_type"]}
    span = {"name": f"chat {row['model']}", "kind": 3, "startTimeUnixNano": str(start_ns),
            "endTimeUnixNano": str(start_ns + round(row["latency_ms"] * 1e6)),
            "attributes": [{"key": key, "value": value} for key, value in attributes.items()]}
    resource = {"attributes": [{"key": "service.name", "value": {"stringValue": row["client_id"]}},
                               {"key": "cloud.region", "value": {"stringValue": row["region"]}}]}
    return json.dumps({"resourceSpans": [{"resource": resource, "scopeSpans": [{"spans": [span]}]}]})


def _well_formed(line: str) -> dict | None:
    """The scenario plants malformed lines; keep the requests our own JSONL reader would accept."""
    try:
        row = json.loads(line)
        dt.datetime.fromisoformat(row["ts"]).utcoffset()
        numbers_ok = all(isinstance(row[f], int) and not isinstance(row[f], bool)
                         for f in ("status", "tokens_in", "tokens_out"))
        return row if numbers_ok and isinstance(row["latency_ms"], (int, float)) and row["ts"][-1] == "Z" else None
    except (ValueError, KeyError, TypeError):
        return None


def test_a_second_world_round_trips_through_otlp_spans(provider_for, tmp_path):
    """Another era and a tenth of the traffic: the 2024 copy of the login outage, written as OTLP spans,
    comes back as the same requests - errors included - with nothing refused."""
    generate(tmp_path / "world", start="2024-03-04", end="2024-03-04", scale=0.1, sources=["request_logs"],
             shift_days=-728)
    source = next((tmp_path / "world" / "raw" / "request_logs").glob("*/anthropic.jsonl"))
    requests = [row for row in map(_well_formed, source.read_text().splitlines()) if row]
    spans = tmp_path / "spans.jsonl"
    spans.write_text("\n".join(_as_otlp_line(row) for row in requests) + "\n")

    rows, rejects = convert(spans, provider_for, tmp_path)
    assert rejects == [] and len(rows) == len(requests) > 500
    assert sum(row["status"] >= 500 for row in rows) == sum(r["status"] >= 500 for r in requests) > 0
    for got, want in zip(rows, requests, strict=True):
        assert got["ts"] == dt.datetime.fromisoformat(want["ts"]).isoformat()
        assert got["ts"].startswith("2024-03-04")
        assert got["latency_ms"] == pytest.approx(want["latency_ms"], abs=1e-6)
        same = ("provider", "model", "endpoint", "status", "tokens_in", "tokens_out", "client_id", "region")
        assert {k: got[k] for k in same} == {k: want[k] for k in same}
        assert got["error_type"] == want.get("error_type")


_JSON_FIELDS = sorted({
    "startTime", "endTime", "model", "model_group", "custom_llm_provider", "api_base", "status", "metadata",
    "prompt_tokens", "completion_tokens", "created_at", "provider_name", "model_permaslug", "cancelled",
    "generation_time_ms", "tokens_prompt", "request_created_at", "response_status", "delay_ms", "provider",
    "target_url", "request_path", "response_body", "response_status_code", "response_time", "ai_org",
    "request_url", "req_units", "response.body", "response", "type", "level", "statusMessage", "usage",
    "usageDetails", "time_iso8601", "time_local", "msec", "request", "request_time", "upstream_addr",
    "resourceSpans", "scopeSpans", "spans", "attributes", "startTimeUnixNano", "endTimeUnixNano", "data",
})


def _json_values():
    scalars = st.none() | st.booleans() | st.integers(-10**12, 10**20) | st.floats() | st.text(max_size=12) | \
        st.sampled_from(["GENERATION", "failure", "2026-03-02T11:48:10Z", "200", "-", "1772452090120000000"])
    return st.recursive(scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
        st.sampled_from(_JSON_FIELDS + ["key", "value", "stringValue", "intValue", "error_information"]),
        inner, max_size=4), max_leaves=12)


# Fuzzing the mappers: whatever shape a record has, it is mapped or refused with a reason - never a crash
# that would lose the rest of the file.
@pytest.mark.parametrize("fmt", [name for name, module in gateways.FORMATS.items() if module.READER != "lines"])
def test_any_json_shape_is_mapped_or_refused_never_a_crash(fmt, provider_for):
    module = gateways.FORMATS[fmt]

    @settings(max_examples=100, deadline=None, database=None)
    @given(st.dictionaries(st.sampled_from(_JSON_FIELDS), _json_values(), max_size=8))
    def check(record):
        for unit, _ in getattr(module, "units", lambda r: [(r, r)])(record):
            try:
                row = module.to_row(unit, provider_for)
            except gateways.fields.Unmappable:
                continue
            assert row is None or tuple(row) == COLUMNS

    check()


@pytest.mark.parametrize("fmt", ["envoy", "aws_alb"])
def test_any_text_line_is_mapped_or_refused_never_a_crash(fmt, provider_for):
    module = gateways.FORMATS[fmt]
    good = (FIXTURES / f"{fmt}_access.log").read_text().splitlines()[0]

    @settings(max_examples=150, deadline=None, database=None)
    @given(st.integers(0, len(good)), st.text(max_size=8), st.integers(0, len(good)))
    def check(cut, insert, resume):
        try:
            row = module.to_row(good[:cut] + insert + good[resume:], provider_for)
        except gateways.fields.Unmappable:
            return
        assert tuple(row) == COLUMNS

    check()
