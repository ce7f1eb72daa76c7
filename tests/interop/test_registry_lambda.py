"""The registry on Lambda, under `cargo lambda watch`: one `mcp-registry` function (started without arguments,
as a `bootstrap`) serves the API through its Function URL and answers an EventBridge scheduled event, replayed
with `cargo lambda invoke`, by checking every live server once. Two `calculator-lambda` servers register
themselves in moto's DynamoDB; the one killed with SIGKILL is marked `unhealthy`, the other stays `active`.

Needs `moto_server` and `cargo-lambda` on PATH and the debug binaries built (./scripts/test.sh does both).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from lambda_watch import cargo_lambda_watch, http
from peers import AWS_ENV, REPO, TARGET, free_port, require, serving, wait_for_port

TABLE = "MCPServerRegistry-lambda"
TOKEN = "lambda-registration-token"
FUNCTION = "mcp-registry"
LOG = "cargo-lambda-watch-registry.log"
SCHEDULED = REPO / "mcp-aws" / "tests" / "events" / "eventbridge-scheduled.json"

pytestmark = pytest.mark.timeout(300)


@pytest.fixture(scope="module")
def moto() -> Iterator[tuple[dict[str, str], object]]:
    """moto with the registry table; yields (the AWS environment pointing at it, the boto3 table)."""
    port = free_port()
    with serving([require("moto_server"), "-H", "127.0.0.1", "-p", str(port)], port, "moto_server"):
        aws = {**AWS_ENV, "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}"}
        subprocess.run([str(TARGET / "debug" / FUNCTION), "--table", TABLE, "create-table"],
                       env={**os.environ, **aws}, check=True, timeout=30, stdout=subprocess.DEVNULL)
        yield aws, boto3.resource("dynamodb", endpoint_url=aws["AWS_ENDPOINT_URL"], region_name="us-east-1",
                                  aws_access_key_id="testing", aws_secret_access_key="testing").Table(TABLE)


def start_server(aws: dict[str, str], server_id: str) -> subprocess.Popen:
    """A calculator server (off Lambda) registering itself straight into the table."""
    port = free_port()
    env = {**os.environ, **aws, "MCP_BIND": f"127.0.0.1:{port}", "MCP_REGISTRY_TABLE": TABLE,
           "MCP_ENDPOINT_URL": f"http://127.0.0.1:{port}/mcp", "MCP_SERVER_ID": server_id,
           "MCP_REGISTRY_HEARTBEAT_SECS": "300", "MCP_REGISTRY_BACKOFF_MS": "100"}
    env.pop("AWS_LAMBDA_RUNTIME_API", None)
    proc = subprocess.Popen([str(TARGET / "debug" / "calculator-lambda")], env=env, stderr=subprocess.DEVNULL)
    wait_for_port(port, proc, server_id, 20)
    return proc


def statuses(table: object) -> dict[str, str]:
    return {item["server_id"]: item["status"] for item in table.scan()["Items"]}


def wait_until_active(table: object, ids: set[str], seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while not all(statuses(table).get(i) == "active" for i in ids):
        if time.monotonic() > deadline:
            pytest.fail(f"never all active: {statuses(table)}")
        time.sleep(0.2)


def wait_for_emf(log: Path, server_id: str, seconds: float = 10) -> dict:
    """The first EMF record for `server_id` the function wrote to its log."""
    deadline = time.monotonic() + seconds
    while True:
        for line in log.read_text(errors="replace").splitlines():
            if line.startswith("{") and '"_aws"' in line:
                record = json.loads(line)
                if record.get("ServerId") == server_id:
                    return record
        if time.monotonic() > deadline:
            pytest.fail(f"no EMF record for {server_id} in {log}")
        time.sleep(0.2)


def invoke(port: int) -> dict:
    out = subprocess.run(
        [require("cargo-lambda"), "lambda", "invoke", "-A", "127.0.0.1", "-P", str(port), "--data-file",
         str(SCHEDULED), FUNCTION, "--output-format", "json"],
        capture_output=True, text=True, timeout=120, check=False)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_a_scheduled_event_checks_each_server_once_and_marks_the_killed_one_unhealthy(moto) -> None:
    aws, table = moto
    live = start_server(aws, "calc-live")
    killed = start_server(aws, "calc-killed")
    try:
        wait_until_active(table, {"calc-live", "calc-killed"})
        killed.send_signal(signal.SIGKILL)
        killed.wait(timeout=10)
        env = {**aws, "MCP_REGISTRY_TABLE": TABLE, "MCP_REGISTRATION_TOKEN": TOKEN, "MCP_HEALTH_TIMEOUT_SECS": "3",
               "MCP_HEALTH_CONCURRENCY": "4", "MCP_METRICS_NAMESPACE": "MCPServerRegistry", "ENVIRONMENT": "interop"}
        with cargo_lambda_watch(env, LOG, package="mcp-registry",
                                function=FUNCTION) as port:
            # The same function serves the API through its Function URL...
            status, _, body = http("GET", f"http://127.0.0.1:{port}/lambda-url/{FUNCTION}/mcp/servers",
                                   headers={"X-Registration-Token": TOKEN})
            assert status == 200, body
            assert sorted(s["server_id"] for s in json.loads(body)["servers"]) == ["calc-killed", "calc-live"]

            # ...and a scheduled event is one round of checks: each server once.
            report = invoke(port)
            assert report["checked"] == 2, report
            assert [key[0] for key in report["marked_unhealthy"]] == ["calc-killed"], report
            assert report["recovered"] == [] and report["skipped"] == 0, report
            assert statuses(table) == {"calc-live": "active", "calc-killed": "unhealthy"}

            # The round's metrics went to the function's stdout as EMF: the killed server's ServerHealthy is 0.
            emf = wait_for_emf(TARGET / LOG, "calc-killed")
            assert (emf["ServerHealthy"], emf["Environment"]) == (0, "interop"), emf

            # The next round checks both again and changes nothing.
            report = invoke(port)
            assert (report["checked"], report["marked_unhealthy"], report["recovered"]) == (2, [], []), report
            assert statuses(table) == {"calc-live": "active", "calc-killed": "unhealthy"}
    finally:
        for proc in (live, killed):
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=10)
