"""The registration token in moto's Secrets Manager on both sides, with real processes: `mcp-registry serve`
and a self-registering `calculator-lambda` each read it from `MCP_REGISTRATION_TOKEN_SECRET`. After a rotation
(`put_secret_value`), neither restarts: the service refuses the old token within its TTL, and the server's next
heartbeat gets a 401, re-reads the secret and registers with the new one.

Needs `moto_server` on PATH and the debug binaries built (./scripts/test.sh does both).
"""

from __future__ import annotations

import json
import os
import subprocess
import time

import boto3
import pytest

from lambda_watch import http
from peers import AWS_ENV, TARGET, free_port, require, serving, wait_for_port

TABLE = "MCPServerRegistry-secrets"
SECRET = "mcp/registration-token"
TTL = 2  # seconds the service keeps the token before reading it again

pytestmark = pytest.mark.timeout(120)


def updated_at(table: object, server_id: str) -> str | None:
    items = [i for i in table.scan()["Items"] if i["server_id"] == server_id]
    assert len(items) <= 1, items  # one entry however often it registered
    return items[0]["updated_at"] if items else None


def wait_for_heartbeat_after(table: object, server_id: str, since: str | None, seconds: float) -> str:
    deadline = time.monotonic() + seconds
    while True:
        stamp = updated_at(table, server_id)
        if stamp is not None and (since is None or stamp > since):
            return stamp
        if time.monotonic() > deadline:
            pytest.fail(f"{server_id}: no registration after {since} within {seconds} s")
        time.sleep(0.2)


def test_both_sides_read_the_token_from_secrets_manager_and_follow_a_rotation() -> None:
    moto_port = free_port()
    with serving([require("moto_server"), "-H", "127.0.0.1", "-p", str(moto_port)], moto_port, "moto_server"):
        endpoint = f"http://127.0.0.1:{moto_port}"
        aws = {**os.environ, **AWS_ENV, "AWS_ENDPOINT_URL": endpoint}
        aws.pop("MCP_REGISTRATION_TOKEN", None)
        sm = boto3.client("secretsmanager", endpoint_url=endpoint, region_name="us-east-1",
                          aws_access_key_id="testing", aws_secret_access_key="testing")
        sm.create_secret(Name=SECRET, SecretString=json.dumps({"token": "first-token"}))
        cli = str(TARGET / "debug" / "mcp-registry")
        subprocess.run([cli, "--table", TABLE, "create-table"], env=aws, check=True, timeout=30,
                       stdout=subprocess.DEVNULL)
        table = boto3.resource("dynamodb", endpoint_url=endpoint, region_name="us-east-1",
                               aws_access_key_id="testing", aws_secret_access_key="testing").Table(TABLE)

        port = free_port()
        service_env = {**aws, "MCP_REGISTRATION_TOKEN_SECRET": SECRET, "MCP_REGISTRATION_TOKEN_TTL_SECS": str(TTL)}
        with serving([cli, "--table", TABLE, "serve", "--bind", f"127.0.0.1:{port}", "--health-interval", "60"],
                     port, "mcp-registry serve", env=service_env):
            registry = f"http://127.0.0.1:{port}"
            server_port = free_port()
            server_env = {**aws, "MCP_BIND": f"127.0.0.1:{server_port}", "MCP_REGISTRY_URL": registry,
                          "MCP_REGISTRATION_TOKEN_SECRET": SECRET, "MCP_ENDPOINT_URL": f"http://127.0.0.1:{server_port}/mcp",
                          "MCP_SERVER_ID": "calc-secret", "MCP_REGISTRY_HEARTBEAT_SECS": "1",
                          "MCP_REGISTRY_BACKOFF_MS": "100"}
            server_env.pop("AWS_LAMBDA_RUNTIME_API", None)
            server = subprocess.Popen([str(TARGET / "debug" / "calculator-lambda")], env=server_env,
                                      stderr=subprocess.DEVNULL)
            try:
                wait_for_port(server_port, server, "calc-secret", 20)
                first = wait_for_heartbeat_after(table, "calc-secret", None, 20)
                assert http("GET", f"{registry}/mcp/servers", headers={"X-Registration-Token": "first-token"})[0] == 200

                sm.put_secret_value(SecretId=SECRET, SecretString=json.dumps({"token": "second-token"}))
                rotated_at = time.monotonic()
                # The service sees the rotation within its TTL: the old token is refused, the new one accepted.
                while http("GET", f"{registry}/mcp/servers", headers={"X-Registration-Token": "first-token"})[0] != 401:
                    assert time.monotonic() - rotated_at < TTL + 3, "the old token is still accepted"
                    time.sleep(0.2)
                assert http("GET", f"{registry}/mcp/servers", headers={"X-Registration-Token": "second-token"})[0] == 200
                # The server, still running, registers again with the new token (a 401 made it re-read).
                after = wait_for_heartbeat_after(table, "calc-secret", first, 10)
                time.sleep(1.5)
                assert wait_for_heartbeat_after(table, "calc-secret", after, 10) > after, "heartbeats go on"
                assert server.poll() is None, "the server was not restarted"
            finally:
                server.kill()
                server.wait(timeout=10)
