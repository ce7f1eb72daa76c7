// Interop: the official TypeScript SDK client (@modelcontextprotocol/sdk,
// legacy era) against a server that answers `initialize` without a session
// (sessionless serving, as on Lambda without a session table). The URL may
// be a proxy that sends each request to another instance.
//
// Usage: node ts_sessionless_client.mjs http://127.0.0.1:PORT/.../mcp
// Exits non-zero on the first failed check. Run from a folder whose
// node_modules holds @modelcontextprotocol/sdk.
import assert from "node:assert/strict";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";

const url = new URL(process.argv[2]);
const client = new Client({ name: "ts-sessionless", version: "1.0.0" }, { capabilities: {} });
const transport = new StreamableHTTPClientTransport(url);
const timeout = setTimeout(() => {
  console.error("timed out");
  process.exit(2);
}, 60000);

await client.connect(transport);
assert.equal(transport.sessionId, undefined, "no session id was issued");
assert.equal(client.getServerVersion().name, "calculator");

const { tools } = await client.listTools();
const names = tools.map((t) => t.name);
assert.ok(names.includes("add") && names.includes("divide"), names.join(","));

const sum = await client.callTool({ name: "add", arguments: { a: 20, b: 22 } });
assert.equal(sum.content[0].text, "42");

const bad = await client.callTool({ name: "divide", arguments: { a: 1, b: 0 } });
assert.equal(bad.isError, true, JSON.stringify(bad));

const constants = await client.readResource({ uri: "calc://constants" });
assert.ok(JSON.parse(constants.contents[0].text).pi > 3.14);

const table = await client.readResource({ uri: "calc://table/7" });
assert.ok(table.contents[0].text.includes("7 x 3 = 21"));

const prompt = await client.getPrompt({ name: "explain", arguments: { expression: "1 + 2" } });
assert.ok(prompt.messages[0].content.text.includes("`1 + 2`"));

await client.close();
clearTimeout(timeout);
console.log("typescript sessionless client: all checks passed");
