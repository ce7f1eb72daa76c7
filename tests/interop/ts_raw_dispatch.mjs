// The raw dispatcher @modelcontextprotocol/ext-tasks asks its host for in
// the 2026-07-28 era (the SDK's codecs predate the extension): one POST per
// request with the era's routing headers (plus `extraHeaders`); the answer
// is JSON or an SSE stream ending with the response, handed back as
// `{kind: "result" | "error", ...}`. `sent` lists the methods sent.
export function rawDispatcher(url, version, extraHeaders = {}) {
  const sent = [];
  let nextId = 1;
  const headersFor = (request) => {
    const h = {
      "content-type": "application/json",
      accept: "application/json, text/event-stream",
      "mcp-protocol-version": version,
      "mcp-method": request.method,
      ...extraHeaders,
    };
    const p = request.params ?? {};
    const name = request.method === "tools/call" ? p.name : request.method.startsWith("tasks/") ? p.taskId : undefined;
    if (typeof name === "string") h["mcp-name"] = name;
    return h;
  };
  async function rawDispatch(request, options) {
    sent.push(request.method);
    const message = { jsonrpc: "2.0", id: request.id ?? `raw-${nextId++}`, ...request };
    const res = await fetch(url, {
      method: "POST",
      headers: { ...headersFor(message), ...(options?.headers ?? {}) },
      body: JSON.stringify(message),
      signal: options?.signal,
    });
    const text = await res.text();
    let response;
    if ((res.headers.get("content-type") ?? "").includes("text/event-stream")) {
      response = text
        .split("\n")
        .filter((l) => l.startsWith("data:") && l.length > 5)
        .map((l) => JSON.parse(l.slice(5)))
        .find((m) => m.id === message.id);
    } else {
      response = JSON.parse(text);
    }
    if (response?.error) return { kind: "error", error: response.error };
    return { kind: "result", result: response.result };
  }
  return { rawDispatch, sent };
}
