"""Interop: `examples/gateway` (the AgentCore guide's pattern 2) in front of
the official Python SDK's `MCPServer` (tests/interop/python_mcp_server.py),
once over stdio and once over Streamable HTTP, driven by the official
Python SDK client and the MCP Inspector CLI, each in both eras. The gateway checks the caller's API key
(`MCP_GATEWAY_API_KEYS`, as `x-api-key` or a bearer token) and presents
the upstreams only the credentials its configuration names.

Run from the repo root after `cargo build -p gateway`:
    .cache/venv/bin/python -m pytest -q tests/interop/test_gateway.py
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import anyio
import httpx2
import pytest
from lambda_watch import WAIT, http, text_of
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from peers import debug_binary, free_port, node_bin, npm_dir, require_binary, serving

HERE = Path(__file__).resolve().parent
FIXTURE = str(HERE / "python_mcp_server.py")
CALLER_KEY = "caller-key-0123456789"
UPSTREAM_TOKEN = "upstream-token-abcdef"

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(120)]


@pytest.fixture(scope="module")
def gateway() -> Iterator[str]:
    binary = require_binary(debug_binary("gateway", "GATEWAY_BIN"), "gateway")
    upstream_port = free_port()
    with serving([sys.executable, FIXTURE, "http", str(upstream_port)], upstream_port, "python upstream"):
        config = {
            "name": "interop-gateway",
            "timeout_ms": 20000,
            "upstreams": [
                {"name": "local", "command": sys.executable, "args": [FIXTURE, "stdio"], "prefix": "local",
                 "deny": ["exit_process"]},
                {"name": "web", "url": f"http://127.0.0.1:{upstream_port}/mcp", "prefix": "web",
                 "allow": ["add", "credentials_seen"], "auth": {"bearer_env": "UPSTREAM_TOKEN"}},
            ],
        }
        port = free_port()
        env = {
            **os.environ,
            "MCP_BIND": f"127.0.0.1:{port}",
            "MCP_GATEWAY_CONFIG": json.dumps(config),
            "MCP_GATEWAY_API_KEYS": CALLER_KEY,
            "MCP_RATE_LIMIT_PER_MINUTE": "1000",
            "UPSTREAM_TOKEN": UPSTREAM_TOKEN,
        }
        with serving([binary], port, "gateway", env=env, seconds=60):
            yield f"http://127.0.0.1:{port}/mcp"


def client(url: str, mode: str, headers: dict[str, str]) -> Client:
    http_client = httpx2.AsyncClient(headers=headers, timeout=WAIT)
    return Client(streamable_http_client(url, http_client=http_client), mode=mode, read_timeout_seconds=WAIT)


@pytest.mark.parametrize("mode", ["legacy", "auto"])
@pytest.mark.parametrize("header", ["x-api-key", "authorization"])
async def test_the_python_sdk_client_lists_and_calls_through_the_gateway(gateway: str, mode: str, header: str) -> None:
    value = CALLER_KEY if header == "x-api-key" else f"Bearer {CALLER_KEY}"
    with anyio.fail_after(WAIT * 4):
        async with client(gateway, mode, {header: value}) as c:
            names = {t.name for t in (await c.list_tools()).tools}
            assert {"local___add", "local___count", "local___credentials_seen", "web___add",
                    "web___credentials_seen"} <= names, names
            assert "local___exit_process" not in names and "web___count" not in names, names
            assert text_of(await c.call_tool("local___add", {"a": 2, "b": 3})) == "5"
            assert text_of(await c.call_tool("web___add", {"a": 40, "b": 2})) == "42"

            seen: list[float] = []

            async def on_progress(value: float, _total: float | None, _message: str | None) -> None:
                seen.append(value)

            counted = await c.call_tool("local___count", {"steps": 3}, progress_callback=on_progress)
            assert text_of(counted) == "counted 3"
            assert seen == [1.0, 2.0, 3.0], seen

            # The caller's key stops at the gateway: the HTTP upstream sees the
            # configured token, the stdio one no credentials at all.
            web = text_of(await c.call_tool("web___credentials_seen", {}))
            assert web == f"authorization=Bearer {UPSTREAM_TOKEN};x-api-key=", web
            assert CALLER_KEY not in web
            assert text_of(await c.call_tool("local___credentials_seen", {})) == "stdio"

            # Prompts (under the prefix) and resources (under their URIs) too.
            assert [p.name for p in (await c.list_prompts()).prompts] == ["local___greet"]
            prompt = await c.get_prompt("local___greet", {"name": "Ada"})
            assert prompt.messages[0].content.text == "Please greet Ada."
            read = await c.read_resource("fixture://greeting")
            assert read.contents[0].text == "Hello from Python"


def inspector(gateway: str, era: str, bearer: str, *args: str) -> subprocess.CompletedProcess[str]:
    """The MCP Inspector CLI against the gateway, in `era` ("legacy" or
    "modern"), with `Authorization: Bearer <bearer>`."""
    binary = npm_dir() / "node_modules" / ".bin" / "mcp-inspector"
    with tempfile.TemporaryDirectory() as home:
        env = {**os.environ, "HOME": home, "MCP_INSPECTOR_SECRET_STORE": "memory",
               "PATH": f"{node_bin()}:{os.environ.get('PATH', '')}"}
        return subprocess.run([str(binary), "--cli", gateway, "--transport", "http", "--protocol-era", era,
                               "--header", f"Authorization: Bearer {bearer}", *args],
                              capture_output=True, text=True, timeout=90, env=env, check=False)


@pytest.mark.parametrize("era", ["legacy", "modern"])
def test_the_mcp_inspector_cli_lists_and_calls_a_stdio_upstream_through_the_gateway(gateway: str, era: str) -> None:
    bearer = CALLER_KEY
    listed = inspector(gateway, era, bearer, "--method", "tools/list")
    assert listed.returncode == 0, listed.stdout + listed.stderr
    names = {t["name"] for t in json.loads(listed.stdout)["tools"]}
    assert {"local___add", "local___credentials_seen"} <= names and "local___exit_process" not in names, names

    added = inspector(gateway, era, bearer, "--method", "tools/call", "--tool-name", "local___add",
                      "--tool-arg", "a=20", "--tool-arg", "b=22")
    assert added.returncode == 0, added.stdout + added.stderr
    assert json.loads(added.stdout)["content"][0]["text"] == "42"

    # The bearer token stops at the gateway: the stdio upstream sees none,
    # the HTTP one only the token its configuration names.
    for tool, expected in [("local___credentials_seen", "stdio"),
                           ("web___credentials_seen", f"authorization=Bearer {UPSTREAM_TOKEN};x-api-key=")]:
        seen = inspector(gateway, era, bearer, "--method", "tools/call", "--tool-name", tool)
        assert seen.returncode == 0, seen.stdout + seen.stderr
        assert json.loads(seen.stdout)["content"][0]["text"] == expected
        assert CALLER_KEY not in seen.stdout

    refused = inspector(gateway, era, "not-the-key", "--method", "tools/list")
    assert refused.returncode != 0, refused.stdout


async def test_callers_without_a_valid_key_are_refused(gateway: str) -> None:
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}
    headers = {"content-type": "application/json", "accept": "application/json, text/event-stream",
               "mcp-protocol-version": "2025-06-18"}
    status, _, _ = http("POST", gateway, body, headers)
    assert status == 401
    status, _, _ = http("POST", gateway, body, {**headers, "x-api-key": "not-the-key"})
    assert status == 401
    with anyio.fail_after(WAIT * 2), pytest.raises(Exception):  # noqa: B017, PT011 (the SDK's own error type varies)
        async with client(gateway, "legacy", {"x-api-key": UPSTREAM_TOKEN}):
            pass


def test_health_reports_each_upstream(gateway: str) -> None:
    status, _, text = http("GET", gateway.removesuffix("/mcp") + "/health")
    assert status == 200, text
    checks = json.loads(text)["checks"]
    assert checks["upstream:local"]["status"] == "healthy" and checks["upstream:web"]["status"] == "healthy", checks
