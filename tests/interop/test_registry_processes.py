"""The registry loop with real processes and real signals: `mcp-registry serve` (the registry service and its
health checker) on moto's DynamoDB, and two `calculator-lambda` servers (off Lambda, the AgentCore Runtime
contract) that register themselves from the environment. SIGTERM retires one (`decommissioned`); SIGKILL leaves
the other to the health checker (`unhealthy`). The official Python SDK client calls the registered endpoint.

Needs `moto_server` on PATH and the debug binaries built (./scripts/test.sh does both).
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator

import anyio
import boto3
import pytest
from mcp import Client, types

from peers import AWS_ENV, TARGET, free_port, require, wait_for_port

TABLE = "MCPServerRegistry-interop"
TOKEN = "interop-registration-token"

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(120)]


@pytest.fixture(scope="module")
def registry() -> Iterator[tuple[str, object]]:
    """moto, the registry table, and `mcp-registry serve` in front of it; yields (url, boto3 table)."""
    moto_port = free_port()
    moto = subprocess.Popen([require("moto_server"), "-H", "127.0.0.1", "-p", str(moto_port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for_port(moto_port, moto, "moto_server", 20)
    env = {**os.environ, **AWS_ENV, "AWS_ENDPOINT_URL": f"http://127.0.0.1:{moto_port}",
           "MCP_REGISTRATION_TOKEN": TOKEN}
    cli = str(TARGET / "debug" / "mcp-registry")
    subprocess.run([cli, "--table", TABLE, "create-table"], env=env, check=True, timeout=30,
                   stdout=subprocess.DEVNULL)
    port = free_port()
    service = subprocess.Popen([cli, "--table", TABLE, "serve", "--bind", f"127.0.0.1:{port}",
                                "--health-interval", "1"], env=env, stderr=subprocess.DEVNULL)
    wait_for_port(port, service, "mcp-registry serve", 20)
    table = boto3.resource("dynamodb", endpoint_url=f"http://127.0.0.1:{moto_port}", region_name="us-east-1",
                           aws_access_key_id="testing", aws_secret_access_key="testing").Table(TABLE)
    try:
        yield f"http://127.0.0.1:{port}", table
    finally:
        for proc in (service, moto):
            proc.terminate()
            proc.wait(timeout=10)


def start_server(registry_url: str, server_id: str) -> tuple[subprocess.Popen, str]:
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}/mcp"
    env = {**os.environ, "MCP_BIND": f"127.0.0.1:{port}", "MCP_REGISTRY_URL": registry_url,
           "MCP_REGISTRATION_TOKEN": TOKEN, "MCP_ENDPOINT_URL": endpoint, "MCP_SERVER_ID": server_id,
           "MCP_REGISTRY_HEARTBEAT_SECS": "30", "MCP_REGISTRY_BACKOFF_MS": "100"}
    env.pop("AWS_LAMBDA_RUNTIME_API", None)
    proc = subprocess.Popen([str(TARGET / "debug" / "calculator-lambda")], env=env, stderr=subprocess.DEVNULL)
    wait_for_port(port, proc, server_id, 20)
    return proc, endpoint


def wait_for_status(table: object, server_id: str, status: str, seconds: float = 20) -> dict:
    deadline = time.monotonic() + seconds
    while True:
        items = table.scan()["Items"]
        mine = [i for i in items if i["server_id"] == server_id]
        # `get`: moto applies an UpdateItem's SETs one by one, so a scan
        # can see a new entry before its status (DynamoDB itself cannot).
        if mine and mine[0].get("status") == status:
            assert len(mine) == 1, mine  # one entry per server, however often it registered
            return mine[0]
        if time.monotonic() > deadline:
            pytest.fail(f"{server_id} never became {status}: {mine}")
        time.sleep(0.2)


async def test_servers_register_retire_on_sigterm_and_go_unhealthy_when_killed(registry) -> None:
    url, table = registry
    retiring, retiring_endpoint = start_server(url, "calc-retiring")
    killed, _ = start_server(url, "calc-killed")
    try:
        entry = wait_for_status(table, "calc-retiring", "active")
        assert entry["endpoint_url"] == retiring_endpoint
        assert entry["protocol_type"] == "jsonrpc"
        # The tool list is the server's own, as a client lists it.
        with anyio.fail_after(30):
            async with Client(retiring_endpoint, mode="auto", read_timeout_seconds=15) as client:
                listed = (await client.list_tools()).tools
                assert isinstance(listed[0], types.Tool)
        assert sorted(t["name"] for t in entry["available_tools"]) == sorted(t.name for t in listed)
        wait_for_status(table, "calc-killed", "active")

        retiring.send_signal(signal.SIGTERM)
        assert retiring.wait(timeout=20) == 0
        wait_for_status(table, "calc-retiring", "decommissioned")

        killed.send_signal(signal.SIGKILL)
        killed.wait(timeout=10)
        wait_for_status(table, "calc-killed", "unhealthy")
        # The retired entry stays retired: the health checker only watches active servers.
        assert wait_for_status(table, "calc-retiring", "decommissioned")["created_at"] == entry["created_at"]
    finally:
        for proc in (retiring, killed):
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=10)
