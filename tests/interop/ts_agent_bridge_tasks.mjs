// The TypeScript tasks client (@modelcontextprotocol/ext-tasks over the
// TypeScript SDK v2 client, 2026-07-28 era) against examples/agent-bridge:
// `start_agent` becomes a task that follows its Step Functions execution.
// Usage: node ts_agent_bridge_tasks.mjs http://127.0.0.1:PORT/mcp API_KEY
// Prints one JSON line per check; exits non-zero on the first failure.
import assert from "node:assert/strict";
import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";
import { createTaskSessionFromClient } from "@modelcontextprotocol/ext-tasks/client";
import { rawDispatcher } from "./ts_raw_dispatch.mjs";

const [url, apiKey] = process.argv.slice(2);
const VERSION = "2026-07-28";
const TASKS = "io.modelcontextprotocol/tasks";
const clientInfo = { name: "ts-agent-bridge-tasks", version: "1.0.0" };
const clientCapabilities = { extensions: { [TASKS]: {} } };
setTimeout(() => { console.error("timed out"); process.exit(2); }, 150000).unref();

const { rawDispatch, sent } = rawDispatcher(url, VERSION, { "x-api-key": apiKey });

const client = new Client(clientInfo, { capabilities: {}, versionNegotiation: { mode: { pin: VERSION } } });
await client.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers: { "x-api-key": apiKey } } }));
const session = createTaskSessionFromClient(client, {
  endpointId: "agent-bridge-interop",
  rawDispatch,
  v2RequestFraming: { protocolVersion: VERSION, clientInfo, clientCapabilities },
});
const report = (check, detail) => console.log(JSON.stringify({ check, ...detail }));

try {
  // A succeeding agent: the task completes with the execution's output.
  const run = await session.callTool("start_agent", { agent_name: "echo", input_message: "from a task" });
  assert.equal(run.kind, "task", "start_agent becomes a task");
  const first = await session.task(run.handle.taskId).snapshot();
  assert.ok(["working", "completed"].includes(first.status), `first status ${first.status}`);
  const outcome = await run.result();
  assert.equal(outcome.status, "completed", JSON.stringify(outcome));
  const answer = outcome.result.structuredContent;
  assert.equal(answer.status, "completed");
  assert.deepEqual(JSON.parse(outcome.result.content[0].text), answer);
  report("completed", { taskId: run.handle.taskId, execution_id: answer.execution_id, result: answer.result });

  // A failing agent: the task fails with the execution's cause.
  const broken = await session.callTool("start_agent", { agent_name: "broken", input_message: "try" });
  assert.equal(broken.kind, "task");
  const failed = await broken.result();
  assert.equal(failed.status, "failed", JSON.stringify(failed));
  report("failed", { taskId: broken.handle.taskId, message: failed.error.message, code: failed.error.code, data: failed.error.data });

  // A long one, cancelled: the execution is stopped (checked with boto3).
  const slow = await session.callTool("start_agent", { agent_name: "slow", input_message: "wait" });
  assert.equal(slow.kind, "task");
  const slowId = slow.handle.taskId;
  const before = await session.task(slowId).snapshot();
  assert.equal(before.status, "working");
  await session.cancelTask(slowId);
  const cancelled = await session.task(slowId).snapshot();
  assert.equal(cancelled.status, "cancelled");
  await session.cancelTask(slowId); // idempotent
  report("cancelled", { taskId: slowId });

  // Refused before any task exists: the call's own answer.
  const refused = await session.callTool("start_agent", { agent_name: "secret", input_message: "x" });
  assert.equal(refused.kind, "immediate");
  const refusal = await refused.result();
  assert.equal(refusal.result.isError, true);
  report("refused", { text: refusal.result.content[0].text });
  assert.ok(sent.includes("tasks/get") && sent.includes("tasks/cancel"), sent.join(","));
  console.log("all checks passed");
} finally {
  await session.close();
  await client.close();
}
