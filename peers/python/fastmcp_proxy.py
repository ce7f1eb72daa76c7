"""FastMCP's own proxy, the peer of `examples/gateway` in
scripts/gateway-bench.sh: `fastmcp.server.create_proxy` (FastMCP 4.x, the
standalone `fastmcp` package) in front of the upstream at $UPSTREAM_URL,
served over Streamable HTTP at http://127.0.0.1:$PORT/mcp, stateless, with
JSON responses.

Given the URL, FastMCP opens a fresh upstream session for each request
(its default, which keeps callers apart); with SHARED_SESSION=1 it is given
one connected client instead, and every request reuses that session (as
the gateway reuses its upstream connection).
"""

import asyncio
import os

from fastmcp import Client
from fastmcp.server import create_proxy

PORT = int(os.environ.get("PORT", "3003"))
UPSTREAM = os.environ["UPSTREAM_URL"]
SERVE = dict(transport="http", host="127.0.0.1", port=PORT, path="/mcp", stateless_http=True, json_response=True,
             show_banner=False, log_level="WARNING")


async def shared() -> None:
    async with Client(UPSTREAM) as client:
        await create_proxy(client, name="fastmcp-proxy").run_http_async(**SERVE)


if __name__ == "__main__":
    if os.environ.get("SHARED_SESSION") == "1":
        asyncio.run(shared())
    else:
        create_proxy(UPSTREAM, name="fastmcp-proxy").run(**SERVE)
