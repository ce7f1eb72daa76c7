"""Interop: the official Python SDK client completes the MCP authorization flow against a protected server.

The server (the Lambda example off Lambda, configured only from the environment, as AgentCore's
`customJWTAuthorizer` would be: a discovery URL and the allowed audience) publishes RFC 9728 metadata that names
a local authorization server built on Authlib (`oauth_server.py`). The client, knowing only the server's URL:
gets the 401, reads `resource_metadata` from `WWW-Authenticate`, fetches the protected-resource metadata and the
authorization server's metadata, registers itself (RFC 7591), sends the user to the authorization endpoint with
PKCE and the RFC 8707 `resource` (the test follows the redirect as the browser would), exchanges the code and
retries with the token, whose `aud` is the server's URL. Then it lists and calls tools, in the legacy era and the
stateless one. Tokens for another resource, without the scope, or expired are refused the way the spec says.

Needs Authlib and Flask (./scripts/test.sh installs them into .cache/venv) and the calculator-lambda debug build.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import parse_qs, urlparse

import anyio
import httpx2
import pytest
from joserfc import jwt
from lambda_watch import WAIT, http, text_of
from mcp import Client, ClientSession
from mcp.client.auth import OAuthClientProvider, TokenStorage
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.auth import AuthorizationCodeResult, OAuthClientInformationFull, OAuthClientMetadata, OAuthToken
from oauth_server import LocalAuthorizationServer, running
from peers import AWS_ENV, debug_binary, free_port, require_binary, serving

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(120)]

REDIRECT = "http://127.0.0.1:9/callback"  # never contacted: the test reads the redirect's Location itself


@dataclass
class Protected:
    url: str
    issuer: LocalAuthorizationServer


@pytest.fixture(scope="module")
def protected() -> Iterator[Protected]:
    as_port, port = free_port(), free_port()
    with running(as_port) as issuer:
        url = f"http://127.0.0.1:{port}/mcp"
        binary = require_binary(debug_binary("calculator-lambda", "CALCULATOR_LAMBDA_BIN"), "calculator-lambda")
        env = {**os.environ, **AWS_ENV, "MCP_BIND": f"127.0.0.1:{port}",
               "MCP_AUTH_DISCOVERY_URL": f"{issuer.issuer}/.well-known/openid-configuration",
               "MCP_AUTH_AUDIENCE": url,
               "MCP_AUTH_REQUIRED_SCOPES": "mcp:tools"}
        env.pop("AWS_LAMBDA_RUNTIME_API", None)
        with serving([binary], port, "calculator-lambda (OAuth-protected)", env=env):
            yield Protected(url=url, issuer=issuer)


class MemoryStorage(TokenStorage):
    def __init__(self) -> None:
        self.tokens: OAuthToken | None = None
        self.client: OAuthClientInformationFull | None = None

    async def get_tokens(self) -> OAuthToken | None:
        return self.tokens

    async def set_tokens(self, tokens: OAuthToken) -> None:
        self.tokens = tokens

    async def get_client_info(self) -> OAuthClientInformationFull | None:
        return self.client

    async def set_client_info(self, client_info: OAuthClientInformationFull) -> None:
        self.client = client_info


class Browser:
    """Stands in for the user's browser: opens the authorization URL and reports where it was sent back."""

    def __init__(self) -> None:
        self.location: str | None = None

    async def open(self, authorization_url: str) -> None:
        async with httpx2.AsyncClient(follow_redirects=False, timeout=WAIT) as browser:
            response = await browser.get(authorization_url)
        assert response.status_code == 302, response.text
        self.location = response.headers["location"]

    async def callback(self) -> AuthorizationCodeResult:
        assert self.location is not None and self.location.startswith(REDIRECT), self.location
        query = parse_qs(urlparse(self.location).query)
        return AuthorizationCodeResult(code=query["code"][0], state=query["state"][0], iss=query.get("iss", [None])[0])


def oauth(url: str, storage: MemoryStorage) -> OAuthClientProvider:
    browser = Browser()
    return OAuthClientProvider(
        server_url=url,
        client_metadata=OAuthClientMetadata(client_name="interop-test", redirect_uris=[REDIRECT],
                                            grant_types=["authorization_code"], response_types=["code"]),
        storage=storage,
        redirect_handler=browser.open,
        callback_handler=browser.callback,
    )


async def test_the_python_sdk_client_completes_the_oauth_flow(protected: Protected) -> None:
    seen = protected.issuer.seen
    before = len(seen.registrations)
    storage = MemoryStorage()
    with anyio.fail_after(WAIT * 3):
        async with httpx2.AsyncClient(auth=oauth(protected.url, storage), timeout=WAIT) as client:
            async with streamable_http_client(protected.url, http_client=client) as (read, write):
                async with ClientSession(read, write, read_timeout_seconds=WAIT) as session:
                    await session.initialize()
                    names = {t.name for t in (await session.list_tools()).tools}
                    assert {"add", "divide"} <= names, names
                    assert text_of(await session.call_tool("add", {"a": 2, "b": 40})) == "42"

    # It registered once, authorized with PKCE for this server as the resource and the scope the metadata
    # names, and got a token for this server.
    assert len(seen.registrations) == before + 1
    ask = seen.authorizations[-1]
    assert ask["code_challenge_method"] == "S256" and ask["code_challenge"], ask
    assert ask["resource"] == protected.url, ask
    assert "mcp:tools" in ask["scope"].split(), ask
    assert storage.tokens is not None
    claims = jwt.decode(storage.tokens.access_token, protected.issuer.key).claims
    assert claims["aud"] == protected.url and claims["iss"] == protected.issuer.issuer, claims
    assert claims["sub"] == "ada" and "mcp:tools" in claims["scope"].split(), claims


async def test_the_stateless_era_client_completes_the_oauth_flow(protected: Protected) -> None:
    storage = MemoryStorage()
    with anyio.fail_after(WAIT * 3):
        async with httpx2.AsyncClient(auth=oauth(protected.url, storage), timeout=WAIT) as http_client:
            transport = streamable_http_client(protected.url, http_client=http_client)
            async with Client(transport, mode="auto", read_timeout_seconds=WAIT) as client:
                names = {t.name for t in (await client.list_tools()).tools}
                assert "multiply" in names, names
                assert text_of(await client.call_tool("multiply", {"a": 6, "b": 7})) == "42"
    assert storage.tokens is not None


INITIALIZE = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
    "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "curl", "version": "1"}}}
HEADERS = {"content-type": "application/json", "accept": "application/json, text/event-stream"}


def post_with(protected: Protected, token: str) -> tuple[int, dict, str]:
    return http("POST", protected.url, INITIALIZE, {**HEADERS, "authorization": f"Bearer {token}"})


def test_the_metadata_names_the_local_authorization_server(protected: Protected) -> None:
    status, got, text = http("POST", protected.url, INITIALIZE, HEADERS)
    assert status == 401, text
    metadata_url = got["www-authenticate"].split('resource_metadata="')[1].split('"')[0]
    status, _, text = http("GET", metadata_url)
    assert status == 200, text
    document = json.loads(text)
    assert document["resource"] == protected.url, document
    assert document["authorization_servers"] == [protected.issuer.issuer], document
    assert "mcp:tools" in document.get("scopes_supported", []), document


def test_a_token_for_another_resource_is_refused(protected: Protected) -> None:
    other = protected.issuer.mint(aud="http://127.0.0.1:9/another-server")
    status, got, text = post_with(protected, other)
    assert status == 401, text
    assert 'error="invalid_token"' in got["www-authenticate"], got
    # ...and the server goes on serving a good one.
    status, _, text = post_with(protected, protected.issuer.mint(aud=protected.url))
    assert status == 200, text


def test_a_token_without_the_required_scope_gets_insufficient_scope(protected: Protected) -> None:
    status, got, text = post_with(protected, protected.issuer.mint(aud=protected.url, scope="profile"))
    assert status == 403, text
    challenge = got["www-authenticate"]
    assert 'error="insufficient_scope"' in challenge and 'scope="mcp:tools"' in challenge, challenge


def test_an_expired_token_is_refused(protected: Protected) -> None:
    status, got, text = post_with(protected, protected.issuer.mint(aud=protected.url, lifetime=-600))
    assert status == 401, text
    assert 'error="invalid_token"' in got["www-authenticate"], got
