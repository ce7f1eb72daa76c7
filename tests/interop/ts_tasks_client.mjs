// The TypeScript tasks client (@modelcontextprotocol/ext-tasks over the
// TypeScript SDK v2 client, @modelcontextprotocol/client, in the 2026-07-28
// era) against the `everything` example: creates tasks, polls them, reads
// their results, answers a task's input request and cancels one.
// Usage: node ts_tasks_client.mjs http://127.0.0.1:PORT/mcp
// Prints one JSON line per check; exits non-zero on the first failure.
import assert from "node:assert/strict";
import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";
import { createTaskSessionFromClient } from "@modelcontextprotocol/ext-tasks/client";
import { rawDispatcher } from "./ts_raw_dispatch.mjs";

const url = process.argv[2];
const VERSION = "2026-07-28";
const TASKS = "io.modelcontextprotocol/tasks";
const clientInfo = { name: "ts-tasks-interop", version: "1.0.0" };
const clientCapabilities = { elicitation: {}, extensions: { [TASKS]: {} } };

const { rawDispatch, sent } = rawDispatcher(url, VERSION);

const client = new Client(clientInfo, { capabilities: { elicitation: {} }, versionNegotiation: { mode: { pin: VERSION } } });
await client.connect(new StreamableHTTPClientTransport(new URL(url)));
const session = createTaskSessionFromClient(client, {
  endpointId: "everything-interop",
  rawDispatch,
  v2RequestFraming: { protocolVersion: VERSION, clientInfo, clientCapabilities },
});
const report = (check, detail) => console.log(JSON.stringify({ check, ...detail }));

try {
  // Create, poll, read.
  const run = await session.callTool("slow_compute", { seconds: 1, label: "ts" });
  assert.equal(run.kind, "task", "slow_compute becomes a task");
  const id = run.handle.taskId;
  const first = await session.task(id).snapshot();
  assert.ok(["working", "completed"].includes(first.status), `first status ${first.status}`);
  report("created", { taskId: id, status: first.status, ttlMs: first.retentionMs, pollMs: first.suggestedPollIntervalMs });
  const outcome = await run.result();
  assert.equal(outcome.status, "completed");
  assert.equal(outcome.result.content[0].text, "Computed ts in 1s");
  const reread = await session.task(id).result();
  assert.equal(reread.status, "completed");
  report("completed", { taskId: id, text: outcome.result.content[0].text });

  // A tool error is a completed task with isError; an internal failure a failed one.
  const failing = await session.callTool("failing_job", {});
  const failed = await failing.result();
  assert.equal(failed.status, "completed");
  assert.equal(failed.result.isError, true);
  const broken = await session.callTool("protocol_error_job", {});
  const brokenOutcome = await broken.result();
  assert.equal(brokenOutcome.status, "failed");
  report("errors", { toolError: failed.result.content[0].text, failedCode: brokenOutcome.error.code ?? null });

  // Input inside a task: answered through tasks/update.
  const asking = await session.callTool("confirm_delete", { filename: "notes.txt" });
  assert.equal(asking.kind, "task");
  const askId = asking.handle.taskId;
  let view;
  for (let i = 0; i < 50; i += 1) {
    view = await session.task(askId).snapshot();
    if (view.status === "input_required") break;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal(view.status, "input_required");
  const keys = Object.keys(view.raw.inputRequests ?? {});
  assert.deepEqual(keys, ["confirm"]);
  await session.task(askId).update({ confirm: { action: "accept", content: { confirm: true } } });
  const answered = await session.task(askId).result();
  assert.equal(answered.status, "completed");
  assert.equal(answered.result.content[0].text, "Deleted notes.txt");
  report("input", { taskId: askId, text: answered.result.content[0].text });

  // Cancel a long one.
  const long = await session.callTool("slow_compute", { seconds: 60, label: "long" });
  const longId = long.handle.taskId;
  await session.cancelTask(longId);
  const cancelled = await session.task(longId).snapshot();
  assert.equal(cancelled.status, "cancelled");
  // Idempotent.
  await session.cancelTask(longId);
  report("cancelled", { taskId: longId, status: cancelled.status });

  // A synchronous tool stays immediate.
  const greet = await session.callTool("greet", { name: "TS" });
  assert.equal(greet.kind, "immediate");
  const greeted = await greet.result();
  assert.equal(greeted.result.content[0].text, "Hello, TS!");
  report("immediate", { text: greeted.result.content[0].text });

  assert.ok(sent.includes("tasks/get") && sent.includes("tasks/update") && sent.includes("tasks/cancel"), sent.join(","));
  console.log("all checks passed");
} finally {
  await session.close();
  await client.close();
}
