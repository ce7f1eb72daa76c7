"""Shared by every interop test: anyio runs on asyncio; the calculator example over HTTP."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from peers import debug_binary, free_port, require_binary, serving


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def http_example() -> Iterator[str]:
    """The calculator example over Streamable HTTP: MCP at /mcp (sessions on, the default), the REST façade at the root."""
    port = free_port()
    binary = require_binary(debug_binary("calculator", "CALCULATOR_BIN"), "calculator")
    with serving([binary, "--http", str(port)], port, "calculator --http"):
        yield f"http://127.0.0.1:{port}/mcp"
