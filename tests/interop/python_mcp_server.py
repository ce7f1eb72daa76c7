"""A small server on the official Python SDK (`mcp` 2.x, MCPServer), for the
Rust client's interop tests (mcp-core/tests/client_python.rs).

    python python_mcp_server.py stdio
    python python_mcp_server.py http PORT

Both eras: the SDK serves 2026-07-28 requests statelessly and legacy
clients through `initialize`.
"""

import os
import sys
from typing import Annotated

from pydantic import BaseModel

from mcp.server.mcpserver import Context, Elicit, MCPServer, Resolve
from python_fixtures import register

mcp = MCPServer("python-fixtures", instructions="Fixtures for the Rust client's interop tests.")
register(mcp)


@mcp.tool()
async def count(steps: int, ctx: Context) -> str:
    """Reports progress `steps` times."""
    for i in range(steps):
        await ctx.report_progress(i + 1, steps, f"step {i + 1}")
    return f"counted {steps}"


class Name(BaseModel):
    name: str


def ask_for_name() -> Elicit[Name]:
    return Elicit("What is your name?", Name)


@mcp.tool()
async def ask_name(name: Annotated[Name, Resolve(ask_for_name)]) -> str:
    """Asks the user for a name: a server-to-client elicitation request in
    the legacy era, an `input_required` round in 2026-07-28."""
    return f"Hello, {name.name}!"


@mcp.tool()
def exit_process(code: int = 3) -> str:
    """Ends this server process at once, mid-call (the gateway's fault tests)."""
    os._exit(code)


@mcp.tool()
def credentials_seen(ctx: Context) -> str:
    """The credentials this server was called with: `Authorization` and
    `x-api-key` over HTTP, `stdio` over stdio (the gateway's tests check the
    caller's never arrive)."""
    request = ctx.request_context.request
    if request is None:
        return "stdio"
    headers = request.headers
    return f"authorization={headers.get('authorization', '')};x-api-key={headers.get('x-api-key', '')}"


if __name__ == "__main__":
    if sys.argv[1:2] == ["http"]:
        mcp.run("streamable-http", host="127.0.0.1", port=int(sys.argv[2]))
    else:
        mcp.run("stdio")
