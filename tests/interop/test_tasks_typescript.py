"""The tasks extension (io.modelcontextprotocol/tasks) with the TypeScript tasks client.

`@modelcontextprotocol/ext-tasks` 0.2.2 over the TypeScript SDK v2 client (`@modelcontextprotocol/client`,
2026-07-28 era) drives the `everything` example over Streamable HTTP: it creates tasks, polls them, reads
their results, answers a task's input request through `tasks/update`, and cancels one (twice: the second
cancel is the same ack). The TypeScript SDK 1.32.2 speaks only 2025-11-25's experimental tasks, and the
Python SDK (mcp 2.3.0) has no tasks client, so this is the peer for the extension.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator

import pytest
from peers import debug_binary, free_port, node_bin, node_script, npm_dir, require_binary, serving


@pytest.fixture(scope="module")
def everything() -> Iterator[str]:
    port = free_port()
    binary = require_binary(debug_binary("everything", "EVERYTHING_BIN"), "everything")
    with serving([binary], port, "everything", env={**os.environ, "PORT": str(port)}):
        yield f"http://127.0.0.1:{port}/mcp"


def test_the_typescript_tasks_client_creates_polls_answers_cancels_and_reads(everything: str) -> None:
    if not (npm_dir() / "node_modules" / "@modelcontextprotocol" / "ext-tasks").is_dir():
        pytest.fail("@modelcontextprotocol/ext-tasks not in .cache/npm; run ./scripts/test.sh (it installs it)")
    script = node_script("ts_tasks_client.mjs")
    out = subprocess.run([str(node_bin() / "node"), str(script), everything], capture_output=True, text=True,
                         timeout=120, check=False)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "all checks passed" in out.stdout
    checks = {c["check"]: c for c in (json.loads(line) for line in out.stdout.splitlines() if line.startswith("{"))}
    assert checks["created"]["ttlMs"] > 0 and checks["created"]["pollMs"] > 0
    assert checks["completed"]["text"] == "Computed ts in 1s"
    assert checks["errors"] == {"check": "errors", "toolError": "failing_job: the job failed", "failedCode": -32603}
    assert checks["input"]["text"] == "Deleted notes.txt"
    assert checks["cancelled"]["status"] == "cancelled"
    assert checks["immediate"]["text"] == "Hello, TS!"
