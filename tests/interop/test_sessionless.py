"""Interop: legacy clients served without sessions.

Two `cargo lambda watch` instances of the Lambda example, with no session table, behind a loopback proxy that sends
each request to the other instance in turn: the official Python SDK client (legacy mode), the TypeScript SDK client
and the MCP Inspector CLI (legacy) complete initialize, list, call, read and prompt, with no store shared between the
instances. And the deployment guides' curl lines, exactly as written, against that and against the HTTP example.

Needs `cargo-lambda` (./scripts/test.sh installs it into .cache/venv), Node 22 and the npm peers in .cache/.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import threading
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import anyio
import pytest
from lambda_watch import FUNCTION, WAIT, cargo_lambda_watch, text_of
from mcp import Client, types
from peers import REPO, curl, node_bin, npm_dir

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(300)]

HOP_BY_HOP = {"host", "connection", "content-length", "transfer-encoding", "keep-alive"}


class Alternating:
    """A loopback HTTP proxy sending each request to the next upstream in turn, buffering whole bodies (the Lambda
    example buffers its responses anyway). `served` counts requests per upstream."""

    def __init__(self, upstreams: list[str]) -> None:
        self.upstreams = upstreams
        self.served: Counter[str] = Counter()
        self.statuses: list[tuple[str, str, int]] = []
        lock = threading.Lock()
        turn = iter(range(1 << 30))
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def forward(self) -> None:
                with lock:
                    upstream = proxy.upstreams[next(turn) % len(proxy.upstreams)]
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else None
                headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
                request = urllib.request.Request(upstream + self.path, data=body, method=self.command, headers=headers)
                try:
                    with urllib.request.urlopen(request, timeout=WAIT * 3) as resp:
                        status, reply_headers, data = resp.status, resp.headers, resp.read()
                except urllib.error.HTTPError as e:
                    status, reply_headers, data = e.code, e.headers, e.read()
                with lock:
                    proxy.served[upstream] += 1
                    proxy.statuses.append((self.command, self.path, status))
                self.send_response(status)
                for k, v in reply_headers.items():
                    if k.lower() not in HOP_BY_HOP:
                        self.send_header(k, v)
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_DELETE = forward

            def log_message(self, *_args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/lambda-url/{FUNCTION}/mcp"

    def snapshot(self) -> Counter[str]:
        return Counter(self.served)


@pytest.fixture(scope="module")
def proxy() -> Iterator[Alternating]:
    """Two instances with no session table (so sessionless), one proxy in front."""
    env = {"LOG_LEVEL": "info"}
    with cargo_lambda_watch(env, "cargo-lambda-watch-a.log") as a, cargo_lambda_watch(env, "cargo-lambda-watch-b.log") as b:
        p = Alternating([f"http://127.0.0.1:{a}", f"http://127.0.0.1:{b}"])
        try:
            yield p
        finally:
            p.server.shutdown()


def assert_both_served(proxy: Alternating, before: Counter[str], at_least: int = 2) -> None:
    after = proxy.snapshot()
    for upstream in proxy.upstreams:
        assert after[upstream] - before[upstream] >= at_least, (before, after)


async def test_the_python_sdk_client_in_legacy_mode_alternates_between_instances(proxy: Alternating) -> None:
    before = proxy.snapshot()
    with anyio.fail_after(WAIT * 3):
        async with Client(proxy.url(), mode="legacy", read_timeout_seconds=WAIT) as client:
            assert client.protocol_version == "2025-11-25"
            names = {t.name for t in (await client.list_tools()).tools}
            assert {"add", "divide", "count"} <= names, names
            assert text_of(await client.call_tool("add", {"a": 2, "b": 3})) == "5"
            assert text_of(await client.call_tool("multiply", {"a": 6, "b": 7})) == "42"
            contents = (await client.read_resource("calc://constants")).contents
            assert isinstance(contents[0], types.TextResourceContents) and json.loads(contents[0].text)["pi"] > 3.14
            prompt = await client.get_prompt("explain", {"expression": "1 + 2"})
            content = prompt.messages[0].content
            assert isinstance(content, types.TextContent) and "`1 + 2`" in content.text
            # Progress rides each call's own (buffered) stream.
            seen: list[float] = []

            async def on_progress(value: float, _total: float | None, _message: str | None) -> None:
                seen.append(value)

            counted = await client.call_tool("count", {"steps": 2, "delay_ms": 10}, progress_callback=on_progress)
            assert text_of(counted) == "counted to 2" and seen == [1.0, 2.0], seen
    assert_both_served(proxy, before)
    # Nothing was refused: no 404 for an unknown session, no 400 for a missing one (the GET stream's 405 is the
    # server saying it offers none).
    refused = [s for s in proxy.statuses if s[2] >= 400 and s[0] != "GET"]
    assert not refused, refused


def test_the_typescript_sdk_client_alternates_between_instances(proxy: Alternating) -> None:
    before = proxy.snapshot()
    # ESM resolves packages from the script's own folder: run a copy next to node_modules.
    script = npm_dir() / "ts_sessionless_client.mjs"
    shutil.copyfile(REPO / "tests" / "interop" / "ts_sessionless_client.mjs", script)
    out = subprocess.run([str(node_bin() / "node"), str(script), proxy.url()], capture_output=True, text=True,
                         timeout=120, check=False)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "all checks passed" in out.stdout
    assert_both_served(proxy, before)


def test_the_mcp_inspector_cli_in_legacy_mode(proxy: Alternating) -> None:
    inspector = npm_dir() / "node_modules" / ".bin" / "mcp-inspector"
    with tempfile.TemporaryDirectory() as home:
        env = {**os.environ, "HOME": home, "MCP_INSPECTOR_SECRET_STORE": "memory",
               "PATH": f"{node_bin()}:{os.environ.get('PATH', '')}"}

        def cli(*args: str) -> dict:
            out = subprocess.run([str(inspector), "--cli", proxy.url(), "--transport", "http", *args],
                                 capture_output=True, text=True, timeout=90, env=env, check=False)
            assert out.returncode == 0, out.stdout + out.stderr
            return json.loads(out.stdout)

        assert "add" in [t["name"] for t in cli("--method", "tools/list")["tools"]]
        called = cli("--method", "tools/call", "--tool-name", "add", "--tool-arg", "a=40", "--tool-arg", "b=2")
        assert called["content"][0]["text"] == "42", called
        read = cli("--method", "resources/read", "--uri", "calc://table/3")
        assert "3 x 3 = 9" in read["contents"][0]["text"], read


REGISTRY_GUIDE_LIST = '{"jsonrpc":"2.0","method":"tools/list","params":{},"id":1}'


def test_the_registry_guides_curl_line_under_cargo_lambda_watch(proxy: Alternating) -> None:
    # Exactly as the registry integration guide writes it (no Accept, no MCP headers, an API key header).
    reply = curl(proxy.url(), "-H", "Content-Type: application/json", "-H", "x-api-key: your-api-key",
                 "-d", REGISTRY_GUIDE_LIST)
    assert reply["id"] == 1 and "add" in [t["name"] for t in reply["result"]["tools"]], reply
    call = '{"jsonrpc":"2.0","method":"tools/call","params":{"name":"add","arguments":{"a":1,"b":2}},"id":2}'
    reply = curl(proxy.url(), "-H", "Content-Type: application/json", "-d", call)
    assert reply["result"]["content"][0]["text"] == "3", reply


def test_the_registry_guides_curl_line_against_the_http_example(http_example: str) -> None:
    reply = curl(http_example, "-H", "Content-Type: application/json", "-H", "x-api-key: your-api-key",
                 "-d", REGISTRY_GUIDE_LIST)
    assert reply["id"] == 1 and "divide" in [t["name"] for t in reply["result"]["tools"]], reply
    # A malformed line still gets a JSON-RPC answer naming the problem, and the server keeps serving.
    bad = curl(http_example, "-H", "Content-Type: application/json", "-d", '{"jsonrpc":"2.0","method":"tools/call",')
    assert bad["error"]["code"] == -32700, bad
    again = curl(http_example, "-H", "Content-Type: application/json", "-d", REGISTRY_GUIDE_LIST)
    assert again["result"]["tools"], again
