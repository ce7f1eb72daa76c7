"""Interop: a protected server (the Lambda example off Lambda, configured only from the environment) and real clients
with a bearer token from a real issuer.

moto in server mode plays Cognito: a user pool, an app client, a user, `initiate_auth` (USER_PASSWORD_AUTH) for an
RS256 access token, and the pool's JWKS. The server is told the issuer, the JWKS URL and the allowed client, as
AgentCore's `customJWTAuthorizer` would be. Without the token: 401 with `WWW-Authenticate: Bearer
resource_metadata=...` and the RFC 9728 document. With it: the official Python SDK client (legacy and stateless), the
TypeScript SDK client and the MCP Inspector CLI list and call tools.

Needs `moto_server` (./scripts/test.sh installs it into .cache/venv), Node 22 and the npm peers in .cache/.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass

import anyio
import boto3
import httpx2
import pytest
from lambda_watch import WAIT, http, post_initialize, text_of
from mcp import Client, ClientSession
from mcp.client.streamable_http import streamable_http_client
from peers import AWS_ENV, debug_binary, free_port, node_bin, npm_dir, require, require_binary, serving

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(180)]

REGION = "us-east-1"


@dataclass
class Protected:
    url: str
    token: str
    client_id: str


@pytest.fixture(scope="module")
def protected() -> Iterator[Protected]:
    moto_port = free_port()
    with serving([require("moto_server"), "-H", "127.0.0.1", "-p", str(moto_port)], moto_port, "moto_server"):
        endpoint = f"http://127.0.0.1:{moto_port}"
        idp = boto3.client("cognito-idp", endpoint_url=endpoint, region_name=REGION,
                           aws_access_key_id="testing", aws_secret_access_key="testing")
        pool = idp.create_user_pool(PoolName="mcp-users")["UserPool"]["Id"]
        client_id = idp.create_user_pool_client(
            UserPoolId=pool, ClientName="agent", ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
        )["UserPoolClient"]["ClientId"]
        idp.admin_create_user(UserPoolId=pool, Username="ada", TemporaryPassword="Temp-pass-1!")
        idp.admin_set_user_password(UserPoolId=pool, Username="ada", Password="Real-pass-1!", Permanent=True)
        auth = idp.initiate_auth(ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH",
                                 AuthParameters={"USERNAME": "ada", "PASSWORD": "Real-pass-1!"})
        token = auth["AuthenticationResult"]["AccessToken"]
        port = free_port()
        binary = require_binary(debug_binary("calculator-lambda", "CALCULATOR_LAMBDA_BIN"), "calculator-lambda")
        env = {**os.environ, **AWS_ENV, "MCP_BIND": f"127.0.0.1:{port}",
               "MCP_AUTH_JWKS_URL": f"{endpoint}/{pool}/.well-known/jwks.json",
               "MCP_AUTH_ISSUER": f"https://cognito-idp.{REGION}.amazonaws.com/{pool}",
               "MCP_AUTH_ALLOWED_CLIENTS": client_id,
               "MCP_AUTH_RESOURCE_URL": f"http://127.0.0.1:{port}/mcp"}
        env.pop("AWS_LAMBDA_RUNTIME_API", None)
        with serving([binary], port, "calculator-lambda (protected)", env=env):
            yield Protected(url=f"http://127.0.0.1:{port}/mcp", token=token, client_id=client_id)


def test_without_a_token_the_server_challenges_and_publishes_its_metadata(protected: Protected) -> None:
    status, got, text = post_initialize(protected.url)
    assert status == 401, text
    challenge = got["www-authenticate"]
    assert challenge.startswith('Bearer resource_metadata="') and "/.well-known/oauth-protected-resource" in challenge
    assert "mcp-session-id" not in got
    metadata_url = challenge.split('"')[1]
    status, _, text = http("GET", metadata_url)
    assert status == 200, text
    document = json.loads(text)
    assert document["resource"] == protected.url and document["authorization_servers"], document
    status, got, _ = post_initialize(protected.url, {"authorization": "Bearer not-a-token"})
    assert status == 401 and 'error="invalid_token"' in got["www-authenticate"]


async def test_the_python_sdk_client_with_the_cognito_token(protected: Protected) -> None:
    headers = {"Authorization": f"Bearer {protected.token}"}
    with anyio.fail_after(WAIT * 2):
        async with httpx2.AsyncClient(headers=headers, timeout=WAIT) as http_client:
            async with streamable_http_client(protected.url, http_client=http_client) as (read, write):
                async with ClientSession(read, write, read_timeout_seconds=WAIT) as session:
                    await session.initialize()
                    names = {t.name for t in (await session.list_tools()).tools}
                    assert {"add", "divide"} <= names, names
                    assert text_of(await session.call_tool("add", {"a": 2, "b": 40})) == "42"


async def test_the_python_sdk_client_without_a_token_is_refused(protected: Protected) -> None:
    with anyio.fail_after(WAIT * 2), pytest.raises(Exception):  # noqa: B017, PT011 (the SDK's own error type varies)
        async with Client(protected.url, mode="legacy", read_timeout_seconds=WAIT):
            pass


TS_CLIENT = """
import assert from "node:assert/strict";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
const [url, token] = process.argv.slice(2);
const client = new Client({ name: "ts-bearer", version: "1.0.0" }, { capabilities: {} });
const transport = new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers: { Authorization: `Bearer ${token}` } } });
setTimeout(() => { console.error("timed out"); process.exit(2); }, 30000).unref();
await client.connect(transport);
const { tools } = await client.listTools();
assert.ok(tools.some((t) => t.name === "multiply"));
const r = await client.callTool({ name: "multiply", arguments: { a: 6, b: 7 } });
assert.equal(r.content[0].text, "42");
await client.close();
console.log("typescript bearer client: all checks passed");
"""


def test_the_typescript_sdk_client_with_a_bearer_header(protected: Protected) -> None:
    script = npm_dir() / "ts_bearer_client.mjs"
    script.write_text(TS_CLIENT)
    out = subprocess.run([str(node_bin() / "node"), str(script), protected.url, protected.token],
                         capture_output=True, text=True, timeout=90, check=False)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "all checks passed" in out.stdout


def test_the_mcp_inspector_cli_with_a_bearer_header(protected: Protected) -> None:
    inspector = npm_dir() / "node_modules" / ".bin" / "mcp-inspector"
    with tempfile.TemporaryDirectory() as home:
        env = {**os.environ, "HOME": home, "MCP_INSPECTOR_SECRET_STORE": "memory",
               "PATH": f"{node_bin()}:{os.environ.get('PATH', '')}"}
        base = [str(inspector), "--cli", protected.url, "--transport", "http",
                "--header", f"Authorization: Bearer {protected.token}"]
        out = subprocess.run([*base, "--method", "tools/call", "--tool-name", "subtract", "--tool-arg", "a=50",
                              "--tool-arg", "b=8"], capture_output=True, text=True, timeout=90, env=env, check=False)
        assert out.returncode == 0, out.stdout + out.stderr
        assert json.loads(out.stdout)["content"][0]["text"] == "42"
        refused = subprocess.run([str(inspector), "--cli", protected.url, "--transport", "http", "--method",
                                  "tools/list"], capture_output=True, text=True, timeout=90, env=env, check=False)
        assert refused.returncode != 0, refused.stdout
