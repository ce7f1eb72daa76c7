// Interop: the official TypeScript SDK client (@modelcontextprotocol/sdk)
// against the `everything` example over Streamable HTTP (legacy era: the
// TypeScript SDK 1.x client speaks 2025-11-25).
//
// Usage: node ts_http_client.mjs http://127.0.0.1:PORT/mcp
// Exits non-zero on the first failed check. Run from a folder whose
// node_modules holds @modelcontextprotocol/sdk (NODE_PATH works too).
import assert from "node:assert/strict";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import {
  CreateMessageRequestSchema,
  ElicitRequestSchema,
  LoggingMessageNotificationSchema,
} from "@modelcontextprotocol/sdk/types.js";

const url = new URL(process.argv[2]);
const client = new Client(
  { name: "ts-interop", version: "1.0.0" },
  { capabilities: { sampling: {}, elicitation: {} } },
);
client.setRequestHandler(ElicitRequestSchema, async () => ({ action: "accept", content: { response: "yes" } }));
client.setRequestHandler(CreateMessageRequestSchema, async (req) => ({
  role: "assistant",
  model: "test-model",
  content: { type: "text", text: `echo: ${req.params.messages[0].content.text}` },
}));
const logs = [];
client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => logs.push(n.params.data));

const transport = new StreamableHTTPClientTransport(url);
const timeout = setTimeout(() => {
  console.error("timed out");
  process.exit(2);
}, 30000);

await client.connect(transport);
assert.ok(transport.sessionId, "the server issued a session id");
assert.equal(client.getServerVersion().name, "mcp-sdk-everything");

const { tools } = await client.listTools();
assert.equal(tools[0].name, "test_simple_text");
for (const t of tools) {
  assert.ok(t.description, `${t.name} has a description`);
  assert.equal(t.inputSchema.type, "object");
}

const simple = await client.callTool({ name: "test_simple_text", arguments: {} });
assert.equal(simple.content[0].text, "This is a simple text response for testing.");

const progress = [];
await client.callTool(
  { name: "test_tool_with_progress", arguments: {} },
  undefined,
  { onprogress: (p) => progress.push(p.progress) },
);
assert.deepEqual(progress, [0, 50, 100]);

await client.setLoggingLevel("debug");
await client.callTool({ name: "test_tool_with_logging", arguments: {} });
assert.deepEqual(logs, ["Tool execution started", "Tool processing data", "Tool execution completed"]);

const sampled = await client.callTool({ name: "test_sampling", arguments: { prompt: "hi" } });
assert.equal(sampled.content[0].text, "LLM response: echo: hi");
const elicited = await client.callTool({ name: "test_elicitation", arguments: { message: "ok?" } });
assert.match(elicited.content[0].text, /action=accept/);

const failed = await client.callTool({ name: "test_error_handling", arguments: {} });
assert.equal(failed.isError, true);

const res = await client.readResource({ uri: "test://template/42/data" });
assert.match(res.contents[0].text, /"id":"42"/);
const prompt = await client.getPrompt({ name: "test_simple_prompt" });
assert.equal(prompt.messages[0].content.text, "This is a simple prompt for testing.");

// Ends the session with DELETE; the id is then unknown.
const sessionId = transport.sessionId;
await transport.terminateSession();
const after = await fetch(url, {
  method: "POST",
  headers: {
    "content-type": "application/json",
    accept: "application/json, text/event-stream",
    "mcp-session-id": sessionId,
    "mcp-protocol-version": "2025-11-25",
  },
  body: JSON.stringify({ jsonrpc: "2.0", id: 99, method: "tools/list" }),
});
assert.equal(after.status, 404);
await client.close();
clearTimeout(timeout);
console.log("typescript sdk client: all checks passed");
