"""`cargo lambda watch` serving the `calculator-lambda` example, and small HTTP helpers, for the interop tests."""

from __future__ import annotations

import json
import os
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from mcp import types
from peers import REPO, TARGET, free_port, require, wait_for_port

FUNCTION = "calculator-lambda"
WAIT = 20


@contextmanager
def cargo_lambda_watch(env_vars: dict[str, str], log_name: str, package: str = "examples/lambda",
                       function: str = FUNCTION, ready_path: str | None = "/health") -> Iterator[int]:
    """`cargo lambda watch` serving `function` (the binary of the crate in `package`) with `env_vars`; yields its
    port once `ready_path` answers 200 through the Function URL (`None`: once the emulator listens, for a function
    that takes no HTTP events; the first invocation then starts it)."""
    port = free_port()
    cmd = [require("cargo-lambda"), "lambda", "watch", "-A", "127.0.0.1", "-P", str(port), "--ignore-changes",
           "--disable-cors", "--env-vars", ",".join(f"{k}={v}" for k, v in env_vars.items())]
    TARGET.mkdir(parents=True, exist_ok=True)
    log = open(TARGET / log_name, "w")  # noqa: SIM115 (closed below)
    proc = subprocess.Popen(cmd, cwd=REPO / package, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    wait_for_port(port, proc, "cargo lambda watch", 60)
    # The first invocation starts (and, if needed, builds) the function.
    health = f"http://127.0.0.1:{port}/lambda-url/{function}{ready_path}"
    deadline = time.monotonic() + 180
    while ready_path is not None:
        try:
            with urllib.request.urlopen(health, timeout=60) as resp:
                if resp.status == 200:
                    break
        except OSError:
            pass
        if time.monotonic() > deadline or proc.poll() is not None:
            os.killpg(proc.pid, 9)
            pytest.fail(f"the function never answered {ready_path} under cargo lambda watch; see {TARGET / log_name}")
        time.sleep(0.5)
    try:
        yield port
    finally:
        os.killpg(proc.pid, 15)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)
        log.close()


def text_of(result: types.CallToolResult) -> str:
    assert result.content and isinstance(result.content[0], types.TextContent), result
    return result.content[0].text


def mcp_url(port: int) -> str:
    return f"http://127.0.0.1:{port}/lambda-url/{FUNCTION}/mcp"


def http(method: str, url: str, body: dict | None = None, headers: dict | None = None) -> tuple[int, dict, str]:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=WAIT) as resp:
            return resp.status, {k.lower(): v for k, v in resp.headers.items()}, resp.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, {k.lower(): v for k, v in e.headers.items()}, e.read().decode()


def post_initialize(url: str, headers: dict | None = None) -> tuple[int, dict, str]:
    """A 2025-11-25 `initialize` POSTed to `url` with `headers` besides the usual ones: (status, headers, body)."""
    body = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "curl", "version": "1"}}}
    base = {"content-type": "application/json", "accept": "application/json, text/event-stream"}
    return http("POST", url, body, {**base, **(headers or {})})
