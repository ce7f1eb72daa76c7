"""The Step Functions agent bridge (examples/agent-bridge) end to end, on moto in server mode with Step Functions
executing the state machines for real (`stepfunctions.execute_state_machine`).

Three agents: `echo` (Wait 1 s, then Pass with the caller's message and identity), `broken` (a Fail state) and
`slow` (a long Wait, to cancel). API keys come from the guide's DynamoDB key table. The official Python SDK client
starts agents, polls `monitor_agent` to the end, reads `get_agent_results` (with and without metadata), lists agents
and reads both resources; the executions table rows are checked with boto3; a caller without `execute:<agent>` is
refused, and another user's execution is not readable. The TypeScript tasks client (`ts_agent_bridge_tasks.mjs`,
`@modelcontextprotocol/ext-tasks`) gets a task for `start_agent` that completes with the output, fails with the
cause, or, cancelled, stops the execution (ABORTED in Step Functions); the tasks live in DynamoDB (`MCP_TASK_TABLE`).
Over stdio the local user runs agents with the permissions given. Two `cargo lambda watch` instances share the
tables: a task created on one is followed to completion and cancelled from the other, and stays invisible to another
caller.

Needs `moto_server` and `cargo-lambda` on PATH, the `agent-bridge` debug binary, Node 22 and the npm peers
(./scripts/test.sh provides them all).
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass

import anyio
import boto3
import httpx2
import pytest
from lambda_watch import WAIT, cargo_lambda_watch, http, post_initialize, text_of
from mcp import ClientSession, StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client
from peers import AWS_ENV, debug_binary, free_port, node_bin, node_script, npm_dir, require, require_binary, serving

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(240)]

REGION = "us-east-1"
TASKS = "io.modelcontextprotocol/tasks"
ROLE = "arn:aws:iam::123456789012:role/agent-bridge-states"
KEYS = {
    "ada-key": ("ada", ["execute:echo", "execute:broken", "execute:slow", "view:*"]),
    "bob-key": ("bob", ["view:echo"]),
    "root-key": ("root", ["*:*"]),
}
ECHO = {
    "StartAt": "Think",
    "States": {
        "Think": {"Type": "Wait", "Seconds": 1, "Next": "Answer"},
        "Answer": {"Type": "Pass", "Parameters": {"messages.$": "$.messages", "user.$": "$.metadata.user_id"},
                   "End": True},
    },
}
BROKEN = {"StartAt": "Fail", "States": {"Fail": {"Type": "Fail", "Error": "AgentError", "Cause": "the model refused"}}}
SLOW = {"StartAt": "Wait", "States": {"Wait": {"Type": "Wait", "Seconds": 600, "Next": "Done"},
                                      "Done": {"Type": "Succeed"}}}


@dataclass
class Bridge:
    url: str
    endpoint: str
    machines: dict[str, str]

    def aws(self, service: str):  # noqa: ANN201 (a boto3 client or resource)
        return boto3.client(service, endpoint_url=self.endpoint, region_name=REGION,
                            aws_access_key_id="testing", aws_secret_access_key="testing")

    def executions(self):  # noqa: ANN201
        return boto3.resource("dynamodb", endpoint_url=self.endpoint, region_name=REGION,
                              aws_access_key_id="testing", aws_secret_access_key="testing").Table("executions")


def _setup_aws(endpoint: str) -> dict[str, str]:
    # Without this switch moto leaves every execution RUNNING.
    req = urllib.request.Request(f"{endpoint}/moto-api/config", method="POST",
                                 data=json.dumps({"stepfunctions": {"execute_state_machine": True}}).encode(),
                                 headers={"content-type": "application/json"})
    urllib.request.urlopen(req, timeout=10).close()
    ddb = boto3.client("dynamodb", endpoint_url=endpoint, region_name=REGION,
                       aws_access_key_id="testing", aws_secret_access_key="testing")
    tables = (("agents", "agent_name"), ("executions", "execution_id"), ("api-keys", "api_key_hash"), ("tasks", "task_id"))
    for table, key in tables:
        ddb.create_table(TableName=table, KeySchema=[{"AttributeName": key, "KeyType": "HASH"}],
                         AttributeDefinitions=[{"AttributeName": key, "AttributeType": "S"}],
                         BillingMode="PAY_PER_REQUEST")
    sfn = boto3.client("stepfunctions", endpoint_url=endpoint, region_name=REGION,
                       aws_access_key_id="testing", aws_secret_access_key="testing")
    machines = {}
    for name, definition in (("echo", ECHO), ("broken", BROKEN), ("slow", SLOW)):
        arn = sfn.create_state_machine(name=f"agent-{name}", definition=json.dumps(definition), roleArn=ROLE)
        machines[name] = arn["stateMachineArn"]
        ddb.put_item(TableName="agents", Item={
            "agent_name": {"S": name}, "state_machine_arn": {"S": arn["stateMachineArn"]},
            "description": {"S": f"the {name} agent"}, "status": {"S": "active"},
            "average_execution_time": {"N": "1" if name == "echo" else "600"},
        })
    ddb.put_item(TableName="agents", Item={
        "agent_name": {"S": "retired"}, "state_machine_arn": {"S": machines["echo"]}, "status": {"S": "inactive"},
    })
    for key, (user, permissions) in KEYS.items():
        ddb.put_item(TableName="api-keys", Item={
            "api_key_hash": {"S": hashlib.sha256(key.encode()).hexdigest()}, "user_id": {"S": user},
            "permissions": {"L": [{"S": p} for p in permissions]},
        })
    return machines


def _bridge_env(endpoint: str) -> dict[str, str]:
    env = {**os.environ, **AWS_ENV, "AWS_ENDPOINT_URL": endpoint, "AGENTS_TABLE": "agents",
           "EXECUTIONS_TABLE": "executions"}
    env.pop("AWS_LAMBDA_RUNTIME_API", None)
    return env


@pytest.fixture(scope="module")
def bridge() -> Iterator[Bridge]:
    moto_port = free_port()
    with serving([require("moto_server"), "-H", "127.0.0.1", "-p", str(moto_port)], moto_port, "moto_server"):
        endpoint = f"http://127.0.0.1:{moto_port}"
        machines = _setup_aws(endpoint)
        port = free_port()
        binary = require_binary(debug_binary("agent-bridge", "AGENT_BRIDGE_BIN"), "agent-bridge")
        env = {**_bridge_env(endpoint), "MCP_BIND": f"127.0.0.1:{port}", "MCP_API_KEYS_TABLE": "api-keys",
               "MCP_TASK_TABLE": "tasks"}
        with serving([binary], port, "agent-bridge", env=env):
            yield Bridge(url=f"http://127.0.0.1:{port}/mcp", endpoint=endpoint, machines=machines)


class Caller:
    """An initialized Python SDK session for one API key."""

    def __init__(self, session: ClientSession) -> None:
        self.session = session

    async def call(self, tool: str, **arguments: object) -> dict:
        result = await self.session.call_tool(tool, arguments)
        assert not result.is_error, text_of(result)
        return json.loads(text_of(result))

    async def refused(self, tool: str, **arguments: object) -> str:
        result = await self.session.call_tool(tool, arguments)
        assert result.is_error, text_of(result)
        return text_of(result)

    async def until_ended(self, execution_id: str) -> dict:
        deadline = time.monotonic() + 30
        while True:
            state = await self.call("monitor_agent", execution_id=execution_id)
            if state["status"] != "running":
                return state
            assert time.monotonic() < deadline, f"{execution_id} still running: {state}"
            await anyio.sleep(0.3)


async def with_caller(url: str, key: str, body) -> None:  # noqa: ANN001 (an async callable taking a Caller)
    with anyio.fail_after(WAIT * 4):
        async with httpx2.AsyncClient(headers={"x-api-key": key}, timeout=WAIT) as http_client:
            async with streamable_http_client(url, http_client=http_client) as (read, write):
                async with ClientSession(read, write, read_timeout_seconds=WAIT) as session:
                    await session.initialize()
                    await body(Caller(session))


async def test_tools_and_schemas_are_the_guides(bridge: Bridge) -> None:
    async def body(c: Caller) -> None:
        tools = {t.name: t for t in (await c.session.list_tools()).tools}
        assert set(tools) == {"start_agent", "monitor_agent", "get_agent_results", "list_available_agents"}
        start = tools["start_agent"].input_schema
        assert start["required"] == ["agent_name", "input_message"], start
        assert start["properties"]["parameters"]["type"] == "object", start
        assert start["properties"]["agent_name"]["description"] == "Name of the agent to execute"
        results = tools["get_agent_results"].input_schema
        assert results["properties"]["include_metadata"]["default"] is False, results
        assert results["required"] == ["execution_id"]
        resources = {str(r.uri): r for r in (await c.session.list_resources()).resources}
        assert set(resources) == {"agents://available", "agents://executions"}
        assert resources["agents://available"].name == "available_agents"
        assert resources["agents://executions"].mime_type == "application/json"

    await with_caller(bridge.url, "ada-key", body)


async def test_an_agent_runs_to_completion_polled_with_monitor_agent(bridge: Bridge) -> None:
    async def body(c: Caller) -> None:
        started = await c.call("start_agent", agent_name="echo", input_message="hello agents",
                               parameters={"temperature": 0})
        assert started["status"] == "started" and started["poll_interval"] == 5, started
        assert started["agent_name"] == "echo" and started["estimated_time"] == 1
        execution_id = started["execution_id"]
        early = await c.call("get_agent_results", execution_id=execution_id)
        assert early["status"] in ("running", "completed"), early
        ended = await c.until_ended(execution_id)
        assert ended["status"] == "completed" and ended["progress"] == 100, ended
        assert ended["message"] == "Agent execution completed successfully"
        results = await c.call("get_agent_results", execution_id=execution_id)
        assert results["result"] == {"messages": [{"role": "user", "content": "hello agents"}], "user": "ada"}, results
        assert results["agent_name"] == "echo" and results["execution_time_ms"] >= 0
        assert "metadata" not in results
        detailed = await c.call("get_agent_results", execution_id=execution_id, include_metadata=True)
        assert detailed["metadata"]["user_id"] == "ada"
        assert detailed["metadata"]["input_message"] == "hello agents"
        arn = detailed["metadata"]["execution_arn"]
        assert arn.endswith(":" + execution_id) and ":execution:agent-echo:" in arn

        # Step Functions got the caller's identity in its input, as the guide sends it.
        described = bridge.aws("stepfunctions").describe_execution(executionArn=arn)
        sent = json.loads(described["input"])
        assert sent["metadata"]["user_id"] == "ada" and sent["metadata"]["source"] == "mcp_server"
        assert sent["messages"] == [{"role": "user", "content": "hello agents"}]
        assert sent["parameters"] == {"temperature": 0}

        # The executions table row.
        row = bridge.executions().get_item(Key={"execution_id": execution_id}, ConsistentRead=True)["Item"]
        assert row["owner"] == "ada" and row["status"] == "completed" and row["agent_name"] == "echo", row
        assert row["result"] == {"messages": [{"role": "user", "content": "hello agents"}], "user": "ada"}
        week = time.time() + 7 * 24 * 3600
        assert abs(int(row["ttl"]) - week) < 120, row["ttl"]

    await with_caller(bridge.url, "ada-key", body)


async def test_a_failing_agent_reports_its_cause(bridge: Bridge) -> None:
    async def body(c: Caller) -> None:
        started = await c.call("start_agent", agent_name="broken", input_message="try")
        ended = await c.until_ended(started["execution_id"])
        assert ended["status"] == "failed", ended
        assert ended["message"] == "Agent execution failed: the model refused", ended
        results = await c.call("get_agent_results", execution_id=started["execution_id"])
        assert results["status"] == "failed" and results["error"] == "the model refused", results
        row = bridge.executions().get_item(Key={"execution_id": started["execution_id"]})["Item"]
        assert row["status"] == "failed" and row["error"] == "the model refused", row

    await with_caller(bridge.url, "ada-key", body)


async def test_permissions_follow_the_guide(bridge: Bridge) -> None:
    mine: dict[str, str] = {}

    async def ada(c: Caller) -> None:
        mine["id"] = (await c.call("start_agent", agent_name="echo", input_message="private"))["execution_id"]
        assert await c.refused("monitor_agent", execution_id="nope") == "Execution not found: nope"
        # Bad input: a clear error naming the argument, and the server keeps serving.
        empty = await c.refused("monitor_agent", execution_id="")
        assert empty.startswith("`execution_id` \"\" is not an execution id"), empty
        long = await c.refused("get_agent_results", execution_id="x" * 5000)
        assert long.startswith("`execution_id` ") and "1 to 80" in long, long
        missing = await c.session.call_tool("start_agent", {"agent_name": "echo"})
        assert missing.is_error and "input_message" in text_of(missing), text_of(missing)
        listed = await c.call("list_available_agents")
        assert [a["name"] for a in listed] == ["broken", "echo", "slow"], listed
        available = await c.session.read_resource("agents://available")
        assert [a["name"] for a in json.loads(available.contents[0].text)] == ["broken", "echo", "slow"]
        executions = json.loads((await c.session.read_resource("agents://executions")).contents[0].text)
        assert mine["id"] in {e["execution_id"] for e in executions}
        assert {e["owner"] for e in executions} == {"ada"}, executions

    async def bob(c: Caller) -> None:
        refused = await c.refused("start_agent", agent_name="echo", input_message="hi")
        assert refused == "No permission to execute agent: echo (needs execute:echo)"
        assert await c.refused("monitor_agent", execution_id=mine["id"]) == "No permission to monitor this execution"
        denied = await c.refused("get_agent_results", execution_id=mine["id"])
        assert denied == "No permission to access this execution"
        assert [a["name"] for a in await c.call("list_available_agents")] == ["echo"]
        executions = json.loads((await c.session.read_resource("agents://executions")).contents[0].text)
        assert executions == []

    async def root(c: Caller) -> None:
        # Unknown and retired agents, for one allowed to run anything.
        assert await c.refused("start_agent", agent_name="nobody", input_message="x") == "Agent not found: nobody"
        assert await c.refused("start_agent", agent_name="retired", input_message="x") == "Agent not found: retired"
        huge = await c.refused("start_agent", agent_name="a" * 3000, input_message="x")
        assert huge == "`agent_name` must be 1 to 256 bytes, got 3000", huge
        # Admins (*:*) read anyone's.
        state = await c.until_ended(mine["id"])
        assert state["status"] == "completed"
        owners = {e["owner"] for e in json.loads((await c.session.read_resource("agents://executions")).contents[0].text)}
        assert "ada" in owners

    await with_caller(bridge.url, "ada-key", ada)
    await with_caller(bridge.url, "bob-key", bob)
    await with_caller(bridge.url, "root-key", root)
    # Bob's refusal started nothing.
    listed = bridge.aws("stepfunctions").list_executions(stateMachineArn=bridge.machines["echo"])["executions"]
    inputs = [json.loads(bridge.aws("stepfunctions").describe_execution(executionArn=e["executionArn"])["input"])
              for e in listed]
    assert all(i["metadata"]["user_id"] != "bob" for i in inputs)


async def test_over_stdio_the_local_user_runs_agents_with_the_permissions_given(bridge: Bridge) -> None:
    binary = require_binary(debug_binary("agent-bridge", "AGENT_BRIDGE_BIN"), "agent-bridge")
    env = {**_bridge_env(bridge.endpoint), "AGENT_BRIDGE_LOCAL_USER": "carol",
           "AGENT_BRIDGE_LOCAL_PERMISSIONS": "execute:echo, view:echo"}
    params = StdioServerParameters(command=binary, args=["--stdio"], env=env)
    with anyio.fail_after(WAIT * 3):
        async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
            await session.initialize()
            c = Caller(session)
            started = await c.call("start_agent", agent_name="echo", input_message="over stdio")
            assert (await c.until_ended(started["execution_id"]))["status"] == "completed"
            results = await c.call("get_agent_results", execution_id=started["execution_id"])
            assert results["result"]["user"] == "carol", results
            refused = await c.refused("start_agent", agent_name="slow", input_message="x")
            assert refused == "No permission to execute agent: slow (needs execute:slow)"
            assert [a["name"] for a in await c.call("list_available_agents")] == ["echo"]


def test_without_an_api_key_the_server_answers_401(bridge: Bridge) -> None:
    status, _, text = post_initialize(bridge.url)
    assert status == 401, text
    status, _, text = post_initialize(bridge.url, {"x-api-key": "not-a-key"})
    assert status == 401, text


def test_the_typescript_tasks_client_follows_completes_fails_and_cancels(bridge: Bridge) -> None:
    if not (npm_dir() / "node_modules" / "@modelcontextprotocol" / "ext-tasks").is_dir():
        pytest.fail("@modelcontextprotocol/ext-tasks not in .cache/npm; run ./scripts/test.sh (it installs it)")
    script = node_script("ts_agent_bridge_tasks.mjs")
    out = subprocess.run([str(node_bin() / "node"), str(script), bridge.url, "ada-key"], capture_output=True,
                         text=True, timeout=180, check=False)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "all checks passed" in out.stdout
    checks = {c["check"]: c for c in (json.loads(line) for line in out.stdout.splitlines() if line.startswith("{"))}
    assert checks["completed"]["result"] == {"messages": [{"role": "user", "content": "from a task"}], "user": "ada"}, checks
    assert checks["failed"]["message"] == "Agent execution failed: the model refused", checks
    assert checks["failed"]["data"]["cause"] == "the model refused"
    assert checks["refused"]["text"] == "No permission to execute agent: secret (needs execute:secret)"
    # The cancelled task stopped its execution, and the row says so.
    sfn = bridge.aws("stepfunctions")
    slow = sfn.list_executions(stateMachineArn=bridge.machines["slow"])["executions"]
    assert slow and all(e["status"] == "ABORTED" for e in slow), slow
    for execution in slow:
        row = bridge.executions().get_item(Key={"execution_id": execution["executionArn"].rsplit(":", 1)[1]})["Item"]
        assert row["status"] == "cancelled" and row["owner"] == "ada", row
    # The completed task recorded its execution too.
    done = bridge.executions().get_item(Key={"execution_id": checks["completed"]["execution_id"]})["Item"]
    assert done["status"] == "completed" and done["result"]["user"] == "ada", done
    # The tasks live in DynamoDB (MCP_TASK_TABLE), each bound to its creator.
    tasks = bridge.aws("dynamodb").scan(TableName="tasks")["Items"]
    rows = {t["task_id"]["S"]: (t["status"]["S"], t["owner"]["S"]) for t in tasks}
    for check in ("completed", "failed", "cancelled"):
        assert rows[checks[check]["taskId"]] == (check, "ada"), rows


def _stateless(port: int, key: str, method: str, name: str, params: dict) -> dict:
    """A 2026-07-28 request declaring the tasks extension, through the emulator's Function URL; the response."""
    params = {**params, "_meta": {"io.modelcontextprotocol/protocolVersion": "2026-07-28",
                                  "io.modelcontextprotocol/clientCapabilities": {"extensions": {TASKS: {}}}}}
    headers = {"content-type": "application/json", "accept": "application/json, text/event-stream",
               "mcp-protocol-version": "2026-07-28", "mcp-method": method, "mcp-name": name, "x-api-key": key}
    body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": params}
    status, _, text = http("POST", f"http://127.0.0.1:{port}/lambda-url/agent-bridge/mcp", body, headers)
    assert status in (200, 400), text
    lines = [line[5:] for line in text.splitlines() if line.startswith("data:") and len(line) > 5]
    return json.loads(lines[-1] if lines else text)


def test_two_lambda_instances_share_the_bridges_tasks(bridge: Bridge) -> None:
    env = {**AWS_ENV, "AWS_ENDPOINT_URL": bridge.endpoint, "AGENTS_TABLE": "agents", "EXECUTIONS_TABLE": "executions",
           "MCP_API_KEYS_TABLE": "api-keys", "MCP_TASK_TABLE": "tasks"}
    watch = {"package": "examples/agent-bridge", "function": "agent-bridge"}
    with cargo_lambda_watch(env, "cargo-lambda-watch-bridge-a.log", **watch) as a, \
            cargo_lambda_watch(env, "cargo-lambda-watch-bridge-b.log", **watch) as b:
        start = {"name": "start_agent", "arguments": {"agent_name": "echo", "input_message": "across instances"}}
        created = _stateless(a, "ada-key", "tools/call", "start_agent", start)["result"]
        assert created["resultType"] == "task", created
        task_id = created["taskId"]
        # Followed from the other instance, to the end.
        deadline = time.monotonic() + 30
        while True:
            task = _stateless(b, "ada-key", "tasks/get", task_id, {"taskId": task_id})["result"]
            if task["status"] != "working":
                break
            assert time.monotonic() < deadline, task
            time.sleep(0.3)
        assert task["status"] == "completed", task
        assert task["result"]["structuredContent"]["result"]["messages"][0]["content"] == "across instances"
        # Another caller cannot see it on either instance.
        other = _stateless(b, "bob-key", "tasks/get", task_id, {"taskId": task_id})
        assert other["error"]["code"] == -32602, other

        # Started on B, cancelled on A: the execution stops.
        sfn = bridge.aws("stepfunctions")
        before = {e["executionArn"] for e in sfn.list_executions(stateMachineArn=bridge.machines["slow"])["executions"]}
        slow = {"name": "start_agent", "arguments": {"agent_name": "slow", "input_message": "wait"}}
        task_id = _stateless(b, "ada-key", "tools/call", "start_agent", slow)["result"]["taskId"]
        ack = _stateless(a, "ada-key", "tasks/cancel", task_id, {"taskId": task_id})
        assert "error" not in ack, ack
        assert _stateless(b, "ada-key", "tasks/get", task_id, {"taskId": task_id})["result"]["status"] == "cancelled"
        after = sfn.list_executions(stateMachineArn=bridge.machines["slow"])["executions"]
        new = [e for e in after if e["executionArn"] not in before]
        assert [e["status"] for e in new] == ["ABORTED"], new
