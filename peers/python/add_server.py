"""The Python SDK's equivalent of the comparison servers: one `add` tool
over Streamable HTTP at http://127.0.0.1:$PORT/mcp, stateless, with JSON
responses.

Runs on either major version of the official `mcp` package: `MCPServer`
in mcp 2.x, `FastMCP` in mcp 1.x. scripts/compare.sh starts it once with
each, from their own virtual environments under .cache/.
"""

import os

try:
    from mcp.server.mcpserver import MCPServer as Server  # mcp 2.x

    FLAVOUR = "MCPServer"
except ImportError:
    from mcp.server.fastmcp import FastMCP as Server  # mcp 1.x

    FLAVOUR = "FastMCP"

PORT = int(os.environ.get("PORT", "3002"))
OPTIONS = dict(host="127.0.0.1", port=PORT, stateless_http=True, json_response=True)

try:
    mcp = Server("python-add", log_level="WARNING", **OPTIONS)
    RUN = {}
except TypeError:
    # mcp 2.x takes the transport settings in `run` instead.
    mcp = Server("python-add", log_level="WARNING")
    RUN = OPTIONS


@mcp.tool()
def add(a: float, b: float) -> float:
    """Add two numbers."""
    return a + b


if __name__ == "__main__":
    mcp.run(transport="streamable-http", **RUN)
