"""The registry on Lambda, under `cargo lambda watch`: one `mcp-registry` function (started without arguments,
as a `bootstrap`) serves the API through its Function URL and answers an EventBridge scheduled event, replayed
with `cargo lambda invoke`, by checking every live server once. Two `calculator-lambda` servers register
themselves in moto's DynamoDB; the one killed with SIGKILL is marked `unhealthy`, the other stays `active`.
The same binary as the custom resource provider (`MCP_REGISTRY_COMMAND=custom-resource`) takes Create, Update
and Delete events carrying deploy/registered-server.yaml's own Registration properties, answering a loopback
`ResponseURL`.

Needs `moto_server` and `cargo-lambda` on PATH and the debug binaries built (./scripts/test.sh does both).
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import boto3
import pytest
from cfnlint.decode import decode

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


def statuses(table: object) -> dict[str, str | None]:
    # `get`: moto applies an UpdateItem's SETs one by one, so a scan can see
    # a new entry before its status (DynamoDB itself cannot).
    return {item["server_id"]: item.get("status") for item in table.scan()["Items"]}


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


def invoke(port: int, event: dict | None = None) -> dict:
    """`cargo lambda invoke` with `event`, or the scheduled event; the function's result."""
    data = ["--data-ascii", json.dumps(event)] if event is not None else ["--data-file", str(SCHEDULED)]
    out = subprocess.run(
        [require("cargo-lambda"), "lambda", "invoke", "-A", "127.0.0.1", "-P", str(port), *data, FUNCTION,
         "--output-format", "json"],
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


class ResponseUrl:
    """A loopback stand-in for the pre-signed S3 URL CloudFormation gives a custom resource: keeps each PUT body."""

    def __init__(self) -> None:
        received = self.received = []

        class Handler(BaseHTTPRequestHandler):
            def do_PUT(self) -> None:  # noqa: N802 (the handler's name is http.server's)
                received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/cfn-response"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def template_properties() -> dict:
    """The server template's Registration properties, intrinsics resolved as CloudFormation would for a stack."""
    template, matches = decode(str(REPO / "deploy" / "registered-server.yaml"))
    assert not matches, matches
    values = {name: str(p.get("Default", "")) for name, p in template["Parameters"].items()}
    values |= {"AWS::Region": "us-east-1", "AWS::URLSuffix": "amazonaws.com", "AWS::StackName": "calculator-mcp-dev",
               "McpApi": "abc123"}

    def resolve(value: object) -> object:
        if isinstance(value, dict) and "Ref" in value:
            return values[value["Ref"]]
        if isinstance(value, dict) and "Fn::Sub" in value:
            return re.sub(r"\$\{([^}]+)\}", lambda m: values[m.group(1)], value["Fn::Sub"])
        return value

    props = {k: resolve(v) for k, v in template["Resources"]["Registration"]["Properties"].items()}
    props["ServiceToken"] = "arn:aws:lambda:us-east-1:123456789012:function:mcp-registry-custom-resource-dev"
    return props


def test_the_server_templates_custom_resource_registers_updates_and_retires_it(moto) -> None:
    aws, table = moto
    props = template_properties()
    response_url = ResponseUrl()
    env = {**aws, "MCP_REGISTRY_TABLE": TABLE, "MCP_REGISTRY_COMMAND": "custom-resource"}
    try:
        with cargo_lambda_watch(env, "cargo-lambda-watch-custom-resource.log", package="mcp-registry",
                                function=FUNCTION, ready_path=None) as port:
            def send(request_type: str, properties: dict, physical_id: str | None = None) -> dict:
                event = {"RequestType": request_type, "ResponseURL": response_url.url,
                         "StackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/calculator-mcp-dev/1",
                         "RequestId": f"req-{request_type}", "LogicalResourceId": "Registration",
                         "ResourceType": "Custom::MCPServerRegistration", "ResourceProperties": properties}
                if physical_id:
                    event["PhysicalResourceId"] = physical_id
                    event["OldResourceProperties"] = props
                invoke(port, event)
                return response_url.received[-1]

            created = send("Create", props)
            assert (created["Status"], created["Data"]["ServerID"], created["Data"]["Status"]) == \
                ("SUCCESS", "calculator-mcp", "Registered"), created
            item = table.get_item(Key={"server_id": "calculator-mcp", "version": "1.0.0"})["Item"]
            assert item["endpoint_url"] == "https://abc123.execute-api.us-east-1.amazonaws.com/dev/mcp"
            assert [t["name"] for t in item["available_tools"]] == ["add", "subtract", "multiply", "divide"]
            assert (item["protocol_type"], item["authentication_type"], item["status"]) == ("jsonrpc", "api_key", "active")
            assert (item["deployment_stack"], item["deployment_region"]) == ("calculator-mcp-dev", "us-east-1")

            updated = send("Update", {**props, "Description": "Four operations"}, created["PhysicalResourceId"])
            assert (updated["Status"], updated["PhysicalResourceId"]) == ("SUCCESS", created["PhysicalResourceId"])
            item = table.get_item(Key={"server_id": "calculator-mcp", "version": "1.0.0"})["Item"]
            assert (item["description"], item["created_at"]) == ("Four operations", item["created_at"])

            deleted = send("Delete", props, created["PhysicalResourceId"])
            assert deleted["Status"] == "SUCCESS", deleted
            item = table.get_item(Key={"server_id": "calculator-mcp", "version": "1.0.0"})["Item"]
            assert item["status"] == "decommissioned"
    finally:
        response_url.server.shutdown()


def test_the_checker_function_answers_scheduled_events_only(moto) -> None:
    """The template's HealthCheckerFunction: `MCP_REGISTRY_COMMAND=check`, no HTTP at all."""
    aws, table = moto
    table.put_item(Item={"server_id": "gone-away", "version": "1", "server_name": "Gone", "status": "active",
                         "endpoint_url": f"http://127.0.0.1:{free_port()}/mcp", "protocol_type": "jsonrpc"})
    live = sum(1 for i in table.scan()["Items"] if i.get("status") in ("active", "unhealthy"))
    env = {**aws, "MCP_REGISTRY_TABLE": TABLE, "MCP_REGISTRY_COMMAND": "check", "MCP_HEALTH_TIMEOUT_SECS": "2"}
    with cargo_lambda_watch(env, "cargo-lambda-watch-checker.log", package="mcp-registry", function=FUNCTION,
                            ready_path=None) as port:
        report = invoke(port)
        assert report["checked"] == live, report
        assert ["gone-away", "1"] in report["marked_unhealthy"], report
        assert table.get_item(Key={"server_id": "gone-away", "version": "1"})["Item"]["status"] == "unhealthy"
        out = subprocess.run(
            [require("cargo-lambda"), "lambda", "invoke", "-A", "127.0.0.1", "-P", str(port), "--data-ascii",
             json.dumps({"httpMethod": "GET", "path": "/mcp/servers"}), FUNCTION],
            capture_output=True, text=True, timeout=120, check=False)
        assert out.returncode != 0 and "detail-type" in out.stdout + out.stderr, out
