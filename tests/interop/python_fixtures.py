"""The fixture tools, resource and prompt that the two Python SDK servers
(python_mcp_server.py on `mcp` 2.x, python_fastmcp1_server.py on 1.x)
share: plain functions, registered with `register(server)` through the
decorators both SDKs spell the same way. What differs between the SDKs
(progress, elicitation) stays in each server."""

import anyio

cancelled: list[str] = []


def add(a: int, b: int) -> int:
    """Adds two integers."""
    return a + b


async def sleepy(tag: str, seconds: float = 30.0) -> str:
    """Sleeps; records `tag` when cancelled."""
    try:
        await anyio.sleep(seconds)
    except anyio.get_cancelled_exc_class():
        cancelled.append(tag)
        raise
    return "slept"


def was_cancelled(tag: str) -> bool:
    """Whether a `sleepy` call with `tag` was cancelled."""
    return tag in cancelled


def fail() -> str:
    """Always fails, as a tool error."""
    raise ValueError("this tool always fails")


def greeting() -> str:
    """A fixed greeting."""
    return "Hello from Python"


def greet(name: str) -> str:
    """Greets someone."""
    return f"Please greet {name}."


def register(server) -> None:  # noqa: ANN001 (MCPServer or FastMCP)
    for tool in (add, sleepy, was_cancelled, fail):
        server.tool()(tool)
    server.resource("fixture://greeting", mime_type="text/plain")(greeting)
    server.prompt()(greet)
