"""Starting peer processes for the interop tests: free loopback ports, bounded waits, tools from .cache/venv."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time

import pytest

AWS_ENV = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_REGION": "us-east-1"}


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
