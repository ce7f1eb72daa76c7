#!/usr/bin/env python3
"""Memory of idle legacy sessions: starts the everything example (release
build), measures its RSS, opens N sessions (initialize + initialized, over
one keep-alive connection), and measures again.

    cargo build --release -p everything && .cache/venv/bin/python scripts/sessions-rss.py [N]
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target")) / "release" / "everything"
N = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def main() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([str(BIN)], env={**os.environ, "PORT": str(port)}, stderr=subprocess.DEVNULL)
    try:
        for _ in range(200):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
                break
            except OSError:
                time.sleep(0.05)
        conn = http.client.HTTPConnection("127.0.0.1", port)
        headers = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}
        init = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-11-25", "capabilities": {"sampling": {}, "elicitation": {}},
            "clientInfo": {"name": "rss-probe", "version": "1.0.0"}}})
        note = json.dumps({"jsonrpc": "2.0", "method": "notifications/initialized"})
        # One session first, so one-time allocations are not counted per session;
        # N in all (the default session limit is 10 000).
        def open_session() -> None:
            conn.request("POST", "/mcp", init, headers)
            resp = conn.getresponse()
            resp.read()
            sid = resp.getheader("mcp-session-id")
            assert resp.status == 200 and sid, resp.status
            conn.request("POST", "/mcp", note, {**headers, "Mcp-Session-Id": sid, "MCP-Protocol-Version": "2025-11-25"})
            r2 = conn.getresponse()
            r2.read()
            assert r2.status == 202, r2.status
        open_session()
        time.sleep(0.2)
        before = rss_kib(proc.pid)
        start = time.monotonic()
        for _ in range(N - 1):
            open_session()
        elapsed = time.monotonic() - start
        time.sleep(0.5)
        after = rss_kib(proc.pid)
        per = (after - before) * 1024 / (N - 1)
        print(f"{N} idle legacy sessions: RSS {before} KiB -> {after} KiB "
              f"(+{(after - before) / 1024:.1f} MiB, {per:.0f} B per session); opened in {elapsed:.1f} s")
    finally:
        proc.terminate()
        proc.wait(timeout=10)


if __name__ == "__main__":
    main()
