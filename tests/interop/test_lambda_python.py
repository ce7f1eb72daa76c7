"""Interop: the `calculator-lambda` example under `cargo lambda watch` (the Lambda runtime API and Function URL
emulator), driven by the official Python MCP SDK client in both eras over the emulated Function URL, and by
`cargo lambda invoke` with an API Gateway REST event. Legacy sessions go to DynamoDB (moto in server mode).

Needs `cargo-lambda` and `moto_server` on PATH (./scripts/test.sh installs both into .cache/venv).
"""

from __future__ import annotations

import json
import os
import subprocess
import time
import urllib.request
from collections.abc import Iterator

import anyio
import boto3
import pytest
from mcp import Client
from lambda_watch import FUNCTION, WAIT, cargo_lambda_watch, http, mcp_url, text_of
from peers import AWS_ENV, REPO, debug_binary, free_port, require, require_binary, wait_for_port

TABLE = "mcp-sessions-interop"

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(240)]


@pytest.fixture(scope="module")
def dynamodb() -> Iterator[str]:
    port = free_port()
    proc = subprocess.Popen([require("moto_server"), "-H", "127.0.0.1", "-p", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for_port(port, proc, "moto_server", 20)
    endpoint = f"http://127.0.0.1:{port}"
    ddb = boto3.client("dynamodb", endpoint_url=endpoint, region_name="us-east-1",
                       aws_access_key_id="testing", aws_secret_access_key="testing")
    ddb.create_table(TableName=TABLE, BillingMode="PAY_PER_REQUEST",
                     AttributeDefinitions=[{"AttributeName": "session_id", "AttributeType": "S"}],
                     KeySchema=[{"AttributeName": "session_id", "KeyType": "HASH"}])
    try:
        yield endpoint
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture(scope="module")
def watch(dynamodb: str) -> Iterator[int]:
    """Buffered responses (API Gateway, ALB, BUFFERED Function URLs), sessions in DynamoDB."""
    env = {**AWS_ENV, "AWS_ENDPOINT_URL": dynamodb, "MCP_SESSION_TABLE": TABLE, "LOG_LEVEL": "info"}
    with cargo_lambda_watch(env, "cargo-lambda-watch.log") as port:
        yield port


@pytest.fixture(scope="module")
def streaming_watch() -> Iterator[int]:
    """A Function URL in RESPONSE_STREAM mode."""
    with cargo_lambda_watch({"MCP_LAMBDA_HANDLER": "streaming", "LOG_LEVEL": "info"}, "cargo-lambda-watch-streaming.log") as port:
        yield port


@pytest.fixture(scope="module")
def limited_watch() -> Iterator[int]:
    """The layers the example builds from the environment: a per-caller quota and a tool deadline."""
    env = {"MCP_RATE_LIMIT_PER_MINUTE": "3", "MCP_TOOL_TIMEOUT_MS": "5000", "LOG_LEVEL": "info"}
    with cargo_lambda_watch(env, "cargo-lambda-watch-limited.log") as port:
        yield port


def test_health_checks_the_session_table(watch: int) -> None:
    with urllib.request.urlopen(f"http://127.0.0.1:{watch}/lambda-url/{FUNCTION}/health", timeout=30) as resp:
        report = json.load(resp)
    assert report["status"] == "healthy", report
    assert report["checks"]["sessions"]["status"] == "healthy", report
    assert report["timestamp"].endswith("Z")


async def test_stateless_client_over_the_function_url(watch: int) -> None:
    with anyio.fail_after(WAIT * 3):
        async with Client(mcp_url(watch), mode="auto", read_timeout_seconds=WAIT) as client:
            assert client.protocol_version == "2026-07-28"
            names = {t.name for t in (await client.list_tools()).tools}
            assert {"add", "divide"} <= names, names
            assert text_of(await client.call_tool("add", {"a": 2, "b": 3})) == "5"
            bad = await client.call_tool("add", {"a": "two", "b": 3})
            assert bad.is_error and "`a`" in text_of(bad), text_of(bad)


async def test_legacy_session_over_the_function_url_is_kept_in_dynamodb(watch: int, dynamodb: str) -> None:
    with anyio.fail_after(WAIT * 3):
        async with Client(mcp_url(watch), mode="legacy", read_timeout_seconds=WAIT) as client:
            assert client.protocol_version == "2025-11-25"
            assert text_of(await client.call_tool("multiply", {"a": 6, "b": 7})) == "42"
            ddb = boto3.client("dynamodb", endpoint_url=dynamodb, region_name="us-east-1",
                               aws_access_key_id="testing", aws_secret_access_key="testing")
            items = ddb.scan(TableName=TABLE)["Items"]
            assert items, "the session is stored in the table"
            assert all({"session_id", "state", "expires_at"} <= item.keys() for item in items), items
            assert text_of(await client.call_tool("add", {"a": 1, "b": 1})) == "2"


def test_cargo_lambda_invoke_with_an_api_gateway_rest_event(watch: int) -> None:
    event = REPO / "mcp-aws" / "tests" / "events" / "apigw-v1-rest.json"
    out = subprocess.run(
        [require("cargo-lambda"), "lambda", "invoke", "-A", "127.0.0.1", "-P", str(watch), "--data-file", str(event),
         FUNCTION, "--output-format", "json"],
        capture_output=True, text=True, timeout=120, check=False)
    assert out.returncode == 0, out.stderr
    resp = json.loads(out.stdout)
    assert resp["statusCode"] == 200, resp
    assert resp["multiValueHeaders"]["content-type"] == ["application/json"], resp
    reply = json.loads(resp["body"])
    assert reply["id"] == 7 and reply["result"]["content"][0]["text"] == "5", reply


@pytest.fixture(scope="module")
def runtime() -> Iterator[str]:
    """The same binary off Lambda: the AgentCore Runtime contract, bound to loopback for the test."""
    port = free_port()
    # The build `cargo build -p calculator-lambda` made, wherever CARGO_TARGET_DIR puts it.
    binary = require_binary(debug_binary(FUNCTION, "CALCULATOR_LAMBDA_BIN"), FUNCTION)
    env = {**os.environ, "MCP_BIND": f"127.0.0.1:{port}"}
    env.pop("AWS_LAMBDA_RUNTIME_API", None)
    proc = subprocess.Popen([binary], env=env, stderr=subprocess.DEVNULL)
    wait_for_port(port, proc, FUNCTION, 20)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


async def test_agentcore_runtime_accepts_the_platform_session_id(runtime: str) -> None:
    platform_id = "agentcore-3f1c2b9e-6d7a-4e8f-9a0b-1c2d3e4f5a6b"
    headers = {"accept": "application/json, text/event-stream", "content-type": "application/json",
               "mcp-session-id": platform_id}
    init = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "agentcore", "version": "1"}}}
    status, got, text = http("POST", f"{runtime}/mcp", init, headers)
    assert status == 200, text
    assert got["mcp-session-id"] == platform_id
    headers["mcp-protocol-version"] = "2025-11-25"
    status, _, _ = http("POST", f"{runtime}/mcp", {"jsonrpc": "2.0", "method": "notifications/initialized"}, headers)
    assert status == 202
    call = {"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "add", "arguments": {"a": 1, "b": 2}}}
    status, _, text = http("POST", f"{runtime}/mcp", call, headers)
    assert json.loads(text)["result"]["content"][0]["text"] == "3", text
    for probe in ("/ping", "/health"):
        status, _, text = http("GET", f"{runtime}{probe}")
        assert status == 200 and json.loads(text)["status"] == "healthy", text
    assert http("GET", f"{runtime}/elsewhere")[0] == 404
    # And the official client, both eras, at the same URL.
    with anyio.fail_after(WAIT * 2):
        async with Client(f"{runtime}/mcp", mode="auto", read_timeout_seconds=WAIT) as client:
            assert text_of(await client.call_tool("add", {"a": 2, "b": 2})) == "4"
        async with Client(f"{runtime}/mcp", mode="legacy", read_timeout_seconds=WAIT) as client:
            assert text_of(await client.call_tool("add", {"a": 3, "b": 3})) == "6"


async def test_response_streaming_delivers_progress_as_it_happens(streaming_watch: int) -> None:
    seen: list[tuple[float, float]] = []

    async def on_progress(value: float, _total: float | None, _message: str | None) -> None:
        seen.append((value, time.monotonic()))

    with anyio.fail_after(WAIT * 3):
        async with Client(mcp_url(streaming_watch), mode="auto", read_timeout_seconds=WAIT) as client:
            result = await client.call_tool("count", {"steps": 3, "delay_ms": 300}, progress_callback=on_progress)
            done = time.monotonic()
            assert text_of(result) == "counted to 3"
        assert [v for v, _ in seen] == [1.0, 2.0, 3.0]
        # Streamed, not buffered: the first step arrived well before the result.
        assert done - seen[0][1] >= 0.45, seen
        # The legacy era works too, its standalone GET stream included.
        async with Client(mcp_url(streaming_watch), mode="legacy", read_timeout_seconds=WAIT) as client:
            assert text_of(await client.call_tool("add", {"a": 20, "b": 22})) == "42"


def test_the_configured_quota_gives_429_with_retry_after_under_cargo_lambda_watch(limited_watch: int) -> None:
    headers = {"accept": "application/json", "content-type": "application/json",
               "mcp-protocol-version": "2026-07-28", "mcp-method": "tools/call", "mcp-name": "add"}
    meta = {"io.modelcontextprotocol/protocolVersion": "2026-07-28", "io.modelcontextprotocol/clientCapabilities": {}}
    answers = []
    # /health is not counted; the quota is 3 a minute, so the 4th call at the latest is refused.
    for i in range(1, 6):
        call = {"jsonrpc": "2.0", "id": i, "method": "tools/call",
                "params": {"name": "add", "arguments": {"a": i, "b": 1}, "_meta": meta}}
        answers.append(http("POST", mcp_url(limited_watch), call, headers))
    statuses = [status for status, _, _ in answers]
    assert statuses[0] == 200 and 429 in statuses, statuses
    status, got, text = answers[statuses.index(429)]
    assert int(got["retry-after"]) >= 1, got
    reply = json.loads(text)
    assert reply["error"]["code"] == -31029 and reply["error"]["data"]["retryAfterMs"] > 0, reply
    assert reply["id"] == statuses.index(429) + 1, reply
