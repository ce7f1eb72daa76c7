"""The Rust client's interop fixtures on FastMCP from the official Python
SDK's 1.x line (`mcp` 1.30, `mcp.server.fastmcp`), which speaks only the
legacy era: the same tools, resource and prompt as python_mcp_server.py
(the 2.x `MCPServer` twin), for mcp-core/tests/client_python.rs.

    python python_fastmcp1_server.py stdio
    python python_fastmcp1_server.py http PORT
"""

import sys

from pydantic import BaseModel

from mcp.server.fastmcp import Context, FastMCP
from python_fixtures import register

port = int(sys.argv[2]) if sys.argv[1:2] == ["http"] else 8000
mcp = FastMCP("python-fastmcp1-fixtures", host="127.0.0.1", port=port)
register(mcp)


@mcp.tool()
async def count(steps: int, ctx: Context) -> str:
    """Reports progress `steps` times."""
    for i in range(steps):
        await ctx.report_progress(i + 1, steps, f"step {i + 1}")
    return f"counted {steps}"


class Name(BaseModel):
    name: str


@mcp.tool()
async def ask_name(ctx: Context) -> str:
    """Asks the client for a name (a server-to-client elicitation request)."""
    answer = await ctx.elicit("What is your name?", Name)
    if answer.action != "accept":
        return f"no name ({answer.action})"
    return f"Hello, {answer.data.name}!"


if __name__ == "__main__":
    mcp.run("streamable-http" if sys.argv[1:2] == ["http"] else "stdio")
