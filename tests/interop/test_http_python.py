"""Interop: drive the `everything` example over Streamable HTTP with the official Python MCP SDK (PyPI `mcp` 2.x),
in the legacy era (initialize handshake, sessions, SSE) and the stateless 2026-07-28 era.

The server binary comes from $EVERYTHING_BIN (default: everything in cargo's target directory, $CARGO_TARGET_DIR/debug).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
import pytest
from mcp import Client, ClientSession, types
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError
from peers import debug_binary, free_port, require_binary, serving

EVERYTHING_BIN = debug_binary("everything", "EVERYTHING_BIN")
WAIT = 15

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60)]


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    require_binary(EVERYTHING_BIN, "everything")
    port = free_port()
    with serving([EVERYTHING_BIN], port, "the everything server", env={**os.environ, "PORT": str(port)}):
        yield f"http://127.0.0.1:{port}/mcp"


def text_of(result: types.CallToolResult) -> str:
    assert result.content and isinstance(result.content[0], types.TextContent), result
    return result.content[0].text


@asynccontextmanager
async def legacy_session(url: str, **callbacks: Any):
    with anyio.fail_after(WAIT * 2):
        async with streamable_http_client(url) as (read, write):
            async with ClientSession(read, write, read_timeout_seconds=WAIT, **callbacks) as s:
                await s.initialize()
                yield s


async def answer_elicitation(_ctx: Any, params: types.ElicitRequestParams) -> types.ElicitResult:
    field = next(iter(params.requested_schema["properties"]))
    return types.ElicitResult(action="accept", content={field: "Alice"})


async def answer_sampling(_ctx: Any, params: types.CreateMessageRequestParams) -> types.CreateMessageResult:
    return types.CreateMessageResult(
        role="assistant", content=types.TextContent(type="text", text="Paris"), model="test-model"
    )


async def test_legacy_session_lists_and_calls(url: str) -> None:
    """The 2025-11-25 handshake over HTTP: a session id, lists, a call, a resource, a prompt."""
    async with legacy_session(url) as s:
        assert s.protocol_version == "2025-11-25"
        tools = [t.name for t in (await s.list_tools()).tools]
        assert tools[0] == "test_simple_text" and "test_sampling" in tools
        assert text_of(await s.call_tool("test_simple_text", {})) == "This is a simple text response for testing."
        contents = (await s.read_resource("test://static-text")).contents
        assert isinstance(contents[0], types.TextResourceContents)
        assert contents[0].text == "This is the content of the static text resource."
        prompt = await s.get_prompt("test_prompt_with_arguments", {"arg1": "x", "arg2": "y"})
        content = prompt.messages[0].content
        assert isinstance(content, types.TextContent) and "x" in content.text and "y" in content.text
        with pytest.raises(MCPError) as err:
            await s.call_tool("no_such_tool", {})
        assert err.value.code == -32602


@pytest.mark.filterwarnings("ignore::mcp.MCPDeprecationWarning")  # logging/setLevel: deprecated in 2026-07-28
async def test_legacy_progress_and_logging_ride_the_sse_stream(url: str) -> None:
    """Progress and log notifications reach the callbacks before the result (per-request SSE stream)."""
    logs: list[types.LoggingMessageNotificationParams] = []
    progress: list[float] = []

    async def on_log(params: types.LoggingMessageNotificationParams) -> None:
        logs.append(params)

    async def on_progress(value: float, _total: float | None, _message: str | None) -> None:
        progress.append(value)

    async with legacy_session(url, logging_callback=on_log) as s:
        await s.set_logging_level("debug")
        await s.call_tool("test_tool_with_logging", {})
        await s.call_tool("test_tool_with_progress", {}, progress_callback=on_progress)
    assert [log.data for log in logs] == ["Tool execution started", "Tool processing data", "Tool execution completed"]
    assert progress == [0, 50, 100]


async def test_legacy_server_to_client_requests(url: str) -> None:
    """Sampling and elicitation requests travel on the call's stream; the answers come back by POST."""
    async with legacy_session(url, elicitation_callback=answer_elicitation, sampling_callback=answer_sampling) as s:
        assert text_of(await s.call_tool("test_sampling", {"prompt": "Capital of France?"})) == "LLM response: Paris"
        elicited = text_of(await s.call_tool("test_elicitation", {"message": "Your name?"}))
        assert elicited.startswith("User response: action=accept") and "Alice" in elicited


async def test_stateless_client(url: str) -> None:
    """Client(mode='auto') discovers 2026-07-28 and drives input_required rounds by itself."""
    progress: list[float] = []

    async def on_progress(value: float, _total: float | None, _message: str | None) -> None:
        progress.append(value)

    with anyio.fail_after(WAIT * 2):
        async with Client(
            url,
            mode="auto",
            read_timeout_seconds=WAIT,
            elicitation_callback=answer_elicitation,
            sampling_callback=answer_sampling,
        ) as client:
            assert client.protocol_version == "2026-07-28"
            assert text_of(await client.call_tool("test_simple_text", {})).startswith("This is a simple text")
            await client.call_tool("test_tool_with_progress", {}, progress_callback=on_progress)
            greeting = await client.call_tool("test_input_required_result_elicitation", {})
            assert text_of(greeting) == "Hello, Alice!"
            multi = await client.call_tool("test_input_required_result_multi_round", {})
            assert text_of(multi) == "Multi-round complete for Alice who likes Alice"
            tools = await client.list_tools()
            assert any(t.name == "test_header_param" for t in tools.tools)
    assert progress == [0, 50, 100]
