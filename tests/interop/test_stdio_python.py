"""Interop: drive the `calculator` example over stdio with the official Python MCP SDK (PyPI `mcp` 2.x).

Run from the repo root:  .cache/venv/bin/python -m pytest -q tests/interop
The server binary comes from $CALCULATOR_BIN (default: calculator in cargo's target directory, $CARGO_TARGET_DIR/debug).
"""

from __future__ import annotations

import json
import subprocess
import time
from contextlib import asynccontextmanager
from typing import Any

import anyio
import pytest
from mcp import Client, ClientSession, StdioServerParameters, stdio_client, types
from mcp.shared.exceptions import MCPError
from mcp.shared.message import SessionMessage
from peers import debug_binary, require_binary

CALCULATOR_BIN = debug_binary("calculator", "CALCULATOR_BIN")
PARAMS = StdioServerParameters(command=CALCULATOR_BIN, args=[])
MODERN = "2026-07-28"
INVALID_PARAMS = -32602
WAIT = 15  # seconds: upper bound for any single session / request

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60)]


@pytest.fixture(scope="session", autouse=True)
def _binary_exists() -> None:
    require_binary(CALCULATOR_BIN, "calculator")


class Wire:
    """Raw JSON-RPC traffic seen by a tapped transport, as wire-shaped dicts."""

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []
        self.received: list[dict[str, Any]] = []

    def sent_requests(self, method: str) -> list[dict[str, Any]]:
        return [m for m in self.sent if m.get("method") == method and "id" in m]

    def response_to(self, request_id: Any) -> dict[str, Any] | None:
        return next((m for m in self.received if "method" not in m and m.get("id") == request_id), None)


def _dump(msg: SessionMessage) -> dict[str, Any]:
    return msg.message.model_dump(by_alias=True, mode="json", exclude_none=True)


@asynccontextmanager
async def tapped_stdio(wire: Wire):
    """`stdio_client` with both directions copied into `wire` (usable as a `Client` Transport too)."""
    async with stdio_client(PARAMS) as (server_read, server_write):
        in_send, in_recv = anyio.create_memory_object_stream[SessionMessage | Exception](64)
        out_send, out_recv = anyio.create_memory_object_stream[SessionMessage](64)

        async def pump_in() -> None:
            async with in_send:
                async for item in server_read:
                    if isinstance(item, SessionMessage):
                        wire.received.append(_dump(item))
                    await in_send.send(item)

        async def pump_out() -> None:
            async with out_recv:
                async for item in out_recv:
                    wire.sent.append(_dump(item))
                    await server_write.send(item)
            await server_write.aclose()

        async with anyio.create_task_group() as tg:
            tg.start_soon(pump_in)
            tg.start_soon(pump_out)
            try:
                yield in_recv, out_send
            finally:
                await out_send.aclose()
                tg.cancel_scope.cancel()


@asynccontextmanager
async def session(wire: Wire | None = None, **callbacks: Any):
    """An initialized (2025-11-25 handshake) ClientSession over stdio."""
    with anyio.fail_after(WAIT * 2):
        async with tapped_stdio(wire or Wire()) as (read, write):
            async with ClientSession(read, write, read_timeout_seconds=WAIT, **callbacks) as s:
                await s.initialize()
                yield s


def text_of(result: types.CallToolResult) -> str:
    assert result.content and isinstance(result.content[0], types.TextContent), result
    return result.content[0].text


def elicit_answer(action: str, content: dict[str, Any] | None = None):
    calls: list[types.ElicitRequestParams] = []

    async def callback(_ctx: Any, params: types.ElicitRequestParams) -> types.ElicitResult:
        calls.append(params)
        return types.ElicitResult(action=action, content=content)

    return callback, calls


async def test_initialize() -> None:
    """1. initialize negotiates 2025-11-25 and advertises the four capabilities."""
    async with session() as s:
        init = s.initialize_result
        assert init is not None
        assert init.protocol_version == "2025-11-25"
        assert s.protocol_version == "2025-11-25"
        assert init.server_info.name == "calculator"
        for capability in ("tools", "resources", "prompts", "logging"):
            assert getattr(init.capabilities, capability) is not None, capability


async def test_listings() -> None:
    """2. tools, resources, resource templates and prompts are listed with their metadata."""
    async with session() as s:
        tools = {t.name: t for t in (await s.list_tools()).tools}
        assert set(tools) == {"add", "subtract", "multiply", "divide", "count", "confirm_reset"}
        for tool in tools.values():
            assert tool.description, tool.name
            assert tool.input_schema.get("type") == "object", tool.name
            for prop, schema in tool.input_schema.get("properties", {}).items():  # doc comments of #[tool] params
                assert schema.get("description"), f"{tool.name}.{prop}"
        assert set(tools["add"].input_schema["required"]) == {"a", "b"}
        divide_out = tools["divide"].output_schema
        assert divide_out is not None and divide_out["type"] == "object"
        assert {"quotient", "remainder"} <= set(divide_out["properties"])

        resources = (await s.list_resources()).resources
        assert [r.uri for r in resources] == ["calc://constants"]
        templates = (await s.list_resource_templates()).resource_templates
        assert [t.uri_template for t in templates] == ["calc://table/{n}"]

        prompts = {p.name: p for p in (await s.list_prompts()).prompts}
        assert set(prompts) == {"explain"}
        args = {a.name: a for a in prompts["explain"].arguments or []}
        assert set(args) == {"expression", "audience"}
        assert args["expression"].required is True
        assert not args["audience"].required


async def test_call_tools() -> None:
    """3. tool results, tool errors (isError) and protocol errors (-32602)."""
    async with session() as s:
        added = await s.call_tool("add", {"a": 2, "b": 3})
        assert not added.is_error and text_of(added) == "5"

        divided = await s.call_tool("divide", {"a": 7, "b": 2})
        assert not divided.is_error
        assert divided.structured_content == {"quotient": 3.5, "remainder": 1}

        by_zero = await s.call_tool("divide", {"a": 1, "b": 0})
        assert by_zero.is_error is True
        assert "cannot divide by zero" in text_of(by_zero)

        bad = await s.call_tool("add", {"a": "two", "b": 3})
        assert bad.is_error is True
        assert "`a`" in text_of(bad) or "'a'" in text_of(bad), text_of(bad)

        with pytest.raises(MCPError) as err:
            await s.call_tool("no_such_tool", {})
        assert err.value.code == INVALID_PARAMS


async def test_resources_prompts_completion() -> None:
    """4. resources/read, prompts/get, completion/complete."""
    async with session() as s:
        constants = (await s.read_resource("calc://constants")).contents
        assert len(constants) == 1 and isinstance(constants[0], types.TextResourceContents)
        assert json.loads(constants[0].text)["pi"] == pytest.approx(3.141592653589793)

        table = (await s.read_resource("calc://table/7")).contents
        assert isinstance(table[0], types.TextResourceContents)
        assert "7 x 3 = 21" in table[0].text

        prompt = await s.get_prompt("explain", {"expression": "2 * (3 + 4)"})
        assert prompt.messages
        content = prompt.messages[0].content
        assert isinstance(content, types.TextContent) and "2 * (3 + 4)" in content.text

        completion = await s.complete(
            types.PromptReference(type="ref/prompt", name="explain"), {"name": "audience", "value": "c"}
        )
        assert completion.completion.values == ["child"]


@pytest.mark.filterwarnings("ignore::mcp.MCPDeprecationWarning")  # logging/setLevel: deprecated in 2026-07-28
async def test_progress_and_logging() -> None:
    """5. progress notifications reach progress_callback; log messages reach logging_callback."""
    logs: list[types.LoggingMessageNotificationParams] = []
    progress: list[tuple[float, float | None, str | None]] = []

    async def on_log(params: types.LoggingMessageNotificationParams) -> None:
        logs.append(params)

    async def on_progress(value: float, total: float | None, message: str | None) -> None:
        progress.append((value, total, message))

    async with session(logging_callback=on_log) as s:
        await s.set_logging_level("warning")  # the info-level "counting to" line must be filtered out
        await s.call_tool("count", {"steps": 1, "delay_ms": 1})
        await s.set_logging_level("info")
        assert not logs, logs  # notifications precede the response on the same pipe, so none is in flight
        result = await s.call_tool("count", {"steps": 3, "delay_ms": 20}, progress_callback=on_progress)
        assert text_of(result) == "counted to 3"

    assert len(progress) >= 3, progress
    values = [p[0] for p in progress]
    assert values == sorted(values) and values[-1] == 3
    assert all(p[1] == 3 for p in progress), progress
    assert [p[2] for p in progress] == ["step 1", "step 2", "step 3"], progress
    assert any(log.level == "info" and log.logger == "count" and "counting to 3" in str(log.data) for log in logs), logs


@pytest.mark.parametrize(
    ("action", "content", "expected"),
    [("accept", {"confirm": True}, "memory reset"), ("decline", None, "reset cancelled")],
)
async def test_elicitation_round_trip(action: str, content: dict[str, Any] | None, expected: str) -> None:
    """6. elicitation/create mid-call (2025-11-25), answered by elicitation_callback."""
    callback, calls = elicit_answer(action, content)
    async with session(elicitation_callback=callback) as s:
        result = await s.call_tool("confirm_reset", {})
    assert text_of(result) == expected
    assert len(calls) == 1
    assert "confirm" in calls[0].requested_schema["properties"]


async def start_and_cancel_count(s: ClientSession, wire: Wire) -> tuple[Any, int]:
    """Start a 5 s `count`, cancel the awaiting task after 2 progress steps; return (request id, steps seen)."""
    progress: list[float] = []
    finished: list[types.CallToolResult] = []

    async def on_progress(value: float, _total: float | None, _message: str | None) -> None:
        progress.append(value)

    async def slow_count() -> None:
        args = {"steps": 100, "delay_ms": 50}
        finished.append(await s.call_tool("count", args, progress_callback=on_progress))

    async with anyio.create_task_group() as tg:
        tg.start_soon(slow_count)
        with anyio.fail_after(5):
            while len(progress) < 2:  # the server is demonstrably working on it
                await anyio.sleep(0.01)
        tg.cancel_scope.cancel()  # the SDK then sends notifications/cancelled for the abandoned request
    assert not finished
    (call,) = [r for r in wire.sent_requests("tools/call") if r["params"]["name"] == "count"]
    return call["id"], len(progress)


@pytest.mark.filterwarnings("ignore::mcp.MCPDeprecationWarning")  # ping: removed in 2026-07-28
async def test_cancellation() -> None:
    """7. cancelling the awaiting task cancels the request; the server stays responsive."""
    wire = Wire()
    async with session(wire) as s:
        call_id, seen = await start_and_cancel_count(s, wire)
        cancels = [m for m in wire.sent if m.get("method") == "notifications/cancelled"]
        assert [c["params"]["requestId"] for c in cancels] == [call_id]

        start = time.monotonic()
        with anyio.fail_after(2):
            await s.send_ping()
            assert text_of(await s.call_tool("add", {"a": 1, "b": 1})) == "2"
        assert time.monotonic() - start < 2

        await anyio.sleep(0.3)  # long enough for several more 50 ms steps had the tool kept running
        response = wire.response_to(call_id)
        assert response is None or "error" in response, f"result sent for a cancelled request: {response}"
        steps = [m for m in wire.received if m.get("method") == "notifications/progress"]
        assert len([m for m in steps if m["params"]["progressToken"] == call_id]) <= seen + 1, "kept counting"


async def test_cancelled_request_gets_no_response() -> None:
    """7b. after notifications/cancelled the server sends no response at all (spec SHOULD NOT)."""
    wire = Wire()
    async with session(wire) as s:
        call_id, _ = await start_and_cancel_count(s, wire)
        with anyio.fail_after(2):
            await s.call_tool("add", {"a": 1, "b": 1})  # the server has processed the cancel by now
        await anyio.sleep(0.2)
    assert wire.response_to(call_id) is None, wire.response_to(call_id)


@asynccontextmanager
async def modern_client(wire: Wire, **kwargs: Any):
    with anyio.fail_after(WAIT * 2):
        async with Client(tapped_stdio(wire), mode="auto", read_timeout_seconds=WAIT, **kwargs) as client:
            yield client


async def test_stateless_sdk_client() -> None:
    """8. Client(mode='auto') over stdio discovers 2026-07-28; input_required is driven by the SDK."""
    wire = Wire()
    callback, calls = elicit_answer("accept", {"confirm": True})
    async with modern_client(wire, elicitation_callback=callback) as client:
        assert client.protocol_version == MODERN
        assert client.server_info is not None and client.server_info.name == "calculator"
        assert text_of(await client.call_tool("add", {"a": 2, "b": 3})) == "5"
        # Client.call_tool drives input_required -> elicitation_callback -> retry by itself.
        assert text_of(await client.call_tool("confirm_reset", {})) == "memory reset"
    assert len(calls) == 1

    assert not wire.sent_requests("initialize"), "a 2026-07-28 connection must not send initialize"
    (discover,) = wire.sent_requests("server/discover")
    discovered = wire.response_to(discover["id"])["result"]
    assert MODERN in discovered["supportedVersions"] and discovered["resultType"] == "complete"

    calls_sent = wire.sent_requests("tools/call")
    assert wire.response_to(calls_sent[0]["id"])["result"]["resultType"] == "complete"
    first, retry = [r for r in calls_sent if r["params"]["name"] == "confirm_reset"]
    pending = wire.response_to(first["id"])["result"]
    assert pending["resultType"] == "input_required"
    assert [r["method"] for r in pending["inputRequests"].values()] == ["elicitation/create"]
    assert isinstance(pending["requestState"], str)
    assert retry["id"] != first["id"]
    assert retry["params"]["requestState"] == pending["requestState"]
    assert set(retry["params"]["inputResponses"]) == set(pending["inputRequests"])


async def test_stateless_sdk_tampered_request_state() -> None:
    """8. a tampered requestState is rejected with -32602; the genuine one still works."""
    callback, _ = elicit_answer("accept", {"confirm": True})
    async with modern_client(Wire(), elicitation_callback=callback) as client:
        first = await client.session.call_tool("confirm_reset", {}, allow_input_required=True)
        assert isinstance(first, types.InputRequiredResult) and first.request_state
        (key,) = first.input_requests
        answer = {key: types.ElicitResult(action="accept", content={"confirm": True})}
        with pytest.raises(MCPError) as err:
            await client.session.call_tool(
                "confirm_reset", {}, input_responses=answer, request_state=first.request_state + "x"
            )
        assert err.value.code == INVALID_PARAMS
        state = first.request_state
        done = await client.session.call_tool("confirm_reset", {}, input_responses=answer, request_state=state)
        assert text_of(done) == "memory reset"


def raw_request(proc: subprocess.Popen[str], request_id: int, method: str, params: dict[str, Any], caps=None):
    """Write one 2026-07-28 request line (minimal `_meta`) and read lines until its response."""
    meta = {"io.modelcontextprotocol/protocolVersion": MODERN, "io.modelcontextprotocol/clientCapabilities": caps or {}}
    message = {"jsonrpc": "2.0", "id": request_id, "method": method, "params": {**params, "_meta": meta}}
    assert proc.stdin and proc.stdout
    proc.stdin.write(json.dumps(message) + "\n")
    proc.stdin.flush()
    while True:  # skip notifications; a stuck read is ended by the test's timeout
        reply = json.loads(proc.stdout.readline() or "null")
        assert reply is not None, "server closed stdout"
        if reply.get("id") == request_id and "method" not in reply:
            return reply


@pytest.mark.timeout(20)
def test_stateless_raw_wire() -> None:
    """8. the same stateless flow as raw JSON lines with a minimal _meta, no initialize."""
    pipes = {"stdin": subprocess.PIPE, "stdout": subprocess.PIPE, "stderr": subprocess.DEVNULL}
    with subprocess.Popen([CALCULATOR_BIN], text=True, **pipes) as server:  # exit: close stdin, wait
        discover = raw_request(server, 1, "server/discover", {})["result"]
        assert MODERN in discover["supportedVersions"] and discover["resultType"] == "complete"

        added = raw_request(server, 2, "tools/call", {"name": "add", "arguments": {"a": 2, "b": 3}})["result"]
        assert added["resultType"] == "complete" and added["content"][0]["text"] == "5"

        call = {"name": "confirm_reset", "arguments": {}}
        pending = raw_request(server, 3, "tools/call", call, {"elicitation": {}})["result"]
        assert pending["resultType"] == "input_required"
        ((key, request),) = pending["inputRequests"].items()
        assert request["method"] == "elicitation/create"
        assert isinstance(state := pending["requestState"], str)

        answers = {key: {"action": "accept", "content": {"confirm": True}}}
        retry = {**call, "inputResponses": answers, "requestState": state}
        done = raw_request(server, 4, "tools/call", retry, {"elicitation": {}})["result"]
        assert done["resultType"] == "complete" and done["content"][0]["text"] == "memory reset"

        tampered = raw_request(server, 5, "tools/call", {**retry, "requestState": state + "x"}, {"elicitation": {}})
        assert tampered.get("error", {}).get("code") == INVALID_PARAMS, tampered
