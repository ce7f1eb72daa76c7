//! Bad input over the real stdio transport: every malformed or invalid message
//! gets the right JSON-RPC error (exact code, the id it must echo, a message
//! naming the problem), the right `isError` tool result, or the right silence,
//! and the server still answers a `ping` (or, stateless, a `tools/list`)
//! afterwards and shuts down cleanly when stdin closes.
//!
//! Each case runs on a fresh stdio connection to one shared `Server`. A case
//! whose expectation the server does not meet yet carries `known_bug`: it is
//! still run and its outcome printed, but it does not fail the test.

use std::time::Duration;

use mcp_core::Error;
use mcp_core::protocol::resources::ResourceContents;
use mcp_core::server::{Context, NoArgs, PromptRoute, ResourceRoute, Server, ServerBuilder, ToolRoute};
use mcp_core::transport::stdio::{StdioOptions, serve_on};
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, DuplexStream};
use tokio::task::JoinHandle;

/// Every read and the shutdown are bounded by this.
const TIMEOUT: Duration = Duration::from_secs(5);
const LINE_LIMIT: usize = 64 * 1024;
const META: &str = r#""_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}"#;
const PANIC_MESSAGE: &str = "secret panic detail 4f1c";

#[derive(Deserialize, schemars::JsonSchema)]
struct AddArgs {
    /// The first addend
    a: f64,
    /// The second addend
    b: f64,
}

#[derive(Deserialize, schemars::JsonSchema)]
struct PromptArgs {
    /// What to write about
    topic: String,
}

fn explode() -> &'static str {
    panic!("{PANIC_MESSAGE}")
}

fn server() -> Server {
    ServerBuilder::new("bad-input", "1.0.0")
        .tool(ToolRoute::new("add", |_ctx: Context, a: AddArgs| async move { a.a + a.b }))
        .tool(ToolRoute::new("boom", |_ctx: Context, _: NoArgs| async move { explode() }))
        .tool(ToolRoute::new("slow", |_ctx: Context, _: NoArgs| async move {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            "finished"
        }))
        .resource(ResourceRoute::new("test://r", "r", |_ctx: Context, uri: String| async move {
            Ok::<_, Error>(ResourceContents::text(uri, None, "hello"))
        }))
        .prompt(PromptRoute::new("p", |_ctx: Context, a: PromptArgs| async move {
            Ok::<_, Error>(format!("Write about {}", a.topic))
        }))
        // Explicit, so that MCP_EXPOSE_INTERNAL_ERRORS in the environment
        // cannot change what the panicking tool reports.
        .expose_internal_errors(false)
        .build()
        .expect("valid server")
}

/// How the connection is set up before the case's input is sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    /// `initialize` at 2025-11-25, then `notifications/initialized`.
    Legacy,
    /// The same at 2025-06-18 (invalid tool arguments are -32602).
    V0618,
    /// The same at 2025-03-26 (batches are accepted).
    V0326,
    /// Nothing sent yet.
    PreInit,
    /// No handshake; every request carries the 2026-07-28 `_meta`.
    Stateless,
}

enum Expect {
    /// A JSON-RPC error: code, the id echoed, substrings of the message, and
    /// `(JSON pointer into data, value)` pairs (an array must contain it).
    Error { code: i64, id: Value, msg: Vec<&'static str>, data: Vec<(&'static str, Value)> },
    /// A `tools/call` result with `isError: true` whose text has `has` and
    /// lacks `lacks`.
    ToolError { id: Value, has: Vec<&'static str>, lacks: Vec<&'static str> },
    /// A successful result.
    Ok { id: Value },
    /// A batch response: `(id, None)` for a result, `(id, Some(code))` for an
    /// error, in any order.
    Batch(Vec<(Value, Option<i64>)>),
    /// Nothing at all.
    Silent,
}

struct Case {
    name: &'static str,
    mode: Mode,
    input: Vec<u8>,
    expect: Expect,
    known_bug: Option<&'static str>,
}

fn case(name: &'static str, mode: Mode, input: impl Into<Vec<u8>>, expect: Expect) -> Case {
    Case { name, mode, input: input.into(), expect, known_bug: None }
}

impl Case {
    /// Marks a case whose expectation the server does not meet yet (none
    /// today); the case still runs and reports what came back.
    #[allow(dead_code)]
    fn bug(mut self, why: &'static str) -> Self {
        self.known_bug = Some(why);
        self
    }
}

fn err(code: i64, id: Value, msg: &[&'static str]) -> Expect {
    Expect::Error { code, id, msg: msg.to_vec(), data: Vec::new() }
}

fn err_data(code: i64, id: Value, msg: &[&'static str], data: &[(&'static str, Value)]) -> Expect {
    Expect::Error { code, id, msg: msg.to_vec(), data: data.to_vec() }
}

fn tool_err(has: &[&'static str], lacks: &[&'static str]) -> Expect {
    Expect::ToolError { id: json!("x"), has: has.to_vec(), lacks: lacks.to_vec() }
}

/// A request with id `"x"`.
fn req(method: &str, params: &str) -> String {
    format!(r#"{{"jsonrpc":"2.0","id":"x","method":"{method}","params":{params}}}"#)
}

/// A `tools/call` with id `"x"`; `rest` is the params after `name`.
fn call(name: &str, rest: &str) -> String {
    req("tools/call", &format!(r#"{{"name":"{name}"{rest}}}"#))
}

/// A stateless request with id `"x"`; `rest` is the params besides `_meta`.
fn sl(method: &str, rest: &str) -> String {
    let sep = if rest.is_empty() { "" } else { "," };
    req(method, &format!("{{{META}{sep}{rest}}}"))
}

/// A request whose `_meta` is `meta`.
fn with_meta(method: &str, meta: &str) -> String {
    req(method, &format!(r#"{{"_meta":{meta}}}"#))
}

fn cases() -> Vec<Case> {
    use Mode::*;
    let x = || json!("x");
    let ping = r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#;
    let deep_array = "[".repeat(10_000);
    let long_line =
        format!(r#"{{"jsonrpc":"2.0","id":1,"method":"ping","params":{{"pad":"{}"}}}}"#, "x".repeat(70_000));
    let mut invalid_utf8 = br#"{"jsonrpc":"2.0","id":1,"method":"pi"#.to_vec();
    invalid_utf8.extend_from_slice(b"\xff\xfeng\"}");
    vec![
        // Syntax.
        case(
            "malformed json",
            Legacy,
            r#"{"jsonrpc":"2.0","id":1,"method":}"#,
            err(-32700, Value::Null, &["parse error"]),
        ),
        case(
            "truncated json",
            Legacy,
            r#"{"jsonrpc":"2.0","id":1,"method":"ping""#,
            err(-32700, Value::Null, &["parse error", "EOF"]),
        ),
        case("not json at all", Legacy, "hello", err(-32700, Value::Null, &["parse error"])),
        case("invalid utf-8", Legacy, invalid_utf8, err(-32700, Value::Null, &["UTF-8"])),
        case("10000 unclosed [", Legacy, deep_array, err(-32700, Value::Null, &["parse error"])),
        case("line over the limit", Legacy, long_line, err(-32600, Value::Null, &["65536", "limit"])),
        case("whitespace-only line", Legacy, " \t ", Expect::Silent),
        // Envelope.
        case("empty object", Legacy, "{}", err(-32600, Value::Null, &["jsonrpc"])),
        case("top-level string", Legacy, r#""ping""#, err(-32600, Value::Null, &["object"])),
        case("top-level number", Legacy, "42", err(-32600, Value::Null, &["object"])),
        case("top-level null", Legacy, "null", err(-32600, Value::Null, &["object"])),
        case("array of numbers", Legacy, "[1,2]", err(-32600, Value::Null, &["batches"])),
        case("empty batch", Legacy, "[]", err(-32600, Value::Null, &["empty batch"])),
        case("missing jsonrpc", Legacy, r#"{"id":1,"method":"ping"}"#, err(-32600, json!(1), &["jsonrpc"])),
        case(
            "jsonrpc 1.0",
            Legacy,
            r#"{"jsonrpc":"1.0","id":1,"method":"ping"}"#,
            err(-32600, json!(1), &["jsonrpc", "2.0"]),
        ),
        case(
            "jsonrpc as a number",
            Legacy,
            r#"{"jsonrpc":2.0,"id":1,"method":"ping"}"#,
            err(-32600, json!(1), &["jsonrpc"]),
        ),
        case("null id", Legacy, r#"{"jsonrpc":"2.0","id":null,"method":"ping"}"#, err(-32600, Value::Null, &["id"])),
        case(
            "object id",
            Legacy,
            r#"{"jsonrpc":"2.0","id":{"a":1},"method":"ping"}"#,
            err(-32600, Value::Null, &["`id`"]),
        ),
        case("array id", Legacy, r#"{"jsonrpc":"2.0","id":[1],"method":"ping"}"#, err(-32600, Value::Null, &["`id`"])),
        case(
            "fractional id",
            Legacy,
            r#"{"jsonrpc":"2.0","id":1.5,"method":"ping"}"#,
            err(-32600, Value::Null, &["`id`"]),
        ),
        case(
            "boolean id",
            Legacy,
            r#"{"jsonrpc":"2.0","id":true,"method":"ping"}"#,
            err(-32600, Value::Null, &["`id`"]),
        ),
        case("missing method", Legacy, r#"{"jsonrpc":"2.0","id":7}"#, err(-32600, json!(7), &["method"])),
        case(
            "method not a string",
            Legacy,
            r#"{"jsonrpc":"2.0","id":8,"method":42}"#,
            err(-32600, json!(8), &["method"]),
        ),
        case(
            "request with a result",
            Legacy,
            r#"{"jsonrpc":"2.0","id":5,"method":"ping","result":{}}"#,
            err(-32600, json!(5), &["result"]),
        ),
        case("params a string", Legacy, req("ping", r#""p""#), err(-32602, x(), &["params"])),
        case("params a number", Legacy, req("ping", "3"), err(-32602, x(), &["params"])),
        case("params an array", Legacy, req("tools/list", "[1,2]"), err(-32602, x(), &["params"])),
        // Methods.
        case("unknown method", Legacy, req("foo/bar", "{}"), err(-32601, x(), &["foo/bar"])),
        case(
            "stateless-only method, legacy",
            Legacy,
            req("server/discover", "{}"),
            err(-32601, x(), &["server/discover"]),
        ),
        case(
            "initialize twice",
            Legacy,
            req(
                "initialize",
                r#"{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"c","version":"1"}}"#,
            ),
            err(-32600, x(), &["initialize"]),
        ),
        case("request before initialize", PreInit, req("tools/list", "{}"), err(-32600, x(), &["initialize"])),
        case("batch before initialize", PreInit, format!("[{ping}]"), err(-32600, Value::Null, &["batches"])),
        case(
            "initialize without protocolVersion",
            PreInit,
            req("initialize", r#"{"capabilities":{},"clientInfo":{"name":"c","version":"1"}}"#),
            err(-32602, x(), &["protocolVersion"]),
        ),
        case(
            "setLevel bad level",
            Legacy,
            req("logging/setLevel", r#"{"level":"loud"}"#),
            err(-32602, x(), &["level", "loud"]),
        ),
        case("subscribe without uri", Legacy, req("resources/subscribe", "{}"), err(-32602, x(), &["uri"])),
        case("bad cursor", Legacy, req("tools/list", r#"{"cursor":"!!not-a-cursor"}"#), err(-32602, x(), &["cursor"])),
        case("_meta not an object", Legacy, req("tools/list", r#"{"_meta":5}"#), err(-32602, x(), &["_meta"])),
        case(
            "progressToken an object",
            Legacy,
            with_meta("tools/list", r#"{"progressToken":{}}"#),
            err(-32602, x(), &["progressToken"]),
        ),
        case("cursor a number", Legacy, req("tools/list", r#"{"cursor":5}"#), err(-32602, x(), &["cursor"])),
        case(
            "id beyond i64",
            Legacy,
            r#"{"jsonrpc":"2.0","id":9223372036854775808,"method":"ping"}"#,
            err(-32600, Value::Null, &["`id`", "range"]),
        ),
        case(
            "duplicate in-flight id",
            Legacy,
            concat!(
                r#"{"jsonrpc":"2.0","id":"dup","method":"tools/call","params":{"name":"slow"}}"#,
                "\n",
                r#"{"jsonrpc":"2.0","id":"dup","method":"ping"}"#,
                "\n",
                r#"{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":"dup"}}"#,
            ),
            err(-32600, json!("dup"), &["id", "dup"]),
        ),
        // Tools.
        case("unknown tool", Legacy, call("nope", ""), err(-32602, x(), &["nope"])),
        case("missing argument b", Legacy, call("add", r#","arguments":{"a":1}"#), tool_err(&["add", "`b`"], &[])),
        case("no arguments at all", Legacy, call("add", ""), tool_err(&["add", "`a`"], &[])),
        case(
            "argument a wrong type",
            Legacy,
            call("add", r#","arguments":{"a":"one","b":2}"#),
            tool_err(&["`a`", "f64"], &[]),
        ),
        case(
            "arguments an array",
            Legacy,
            call("add", r#","arguments":[1,2]"#),
            err(-32602, x(), &["arguments", "object"]),
        ),
        case(
            "arguments a string",
            Legacy,
            call("add", r#","arguments":"1,2""#),
            err(-32602, x(), &["arguments", "object"]),
        ),
        case("tools/call without name", Legacy, req("tools/call", r#"{"arguments":{}}"#), err(-32602, x(), &["name"])),
        case("name not a string", Legacy, req("tools/call", r#"{"name":42}"#), err(-32602, x(), &["name"])),
        case("panicking tool", Legacy, call("boom", ""), tool_err(&["boom"], &[PANIC_MESSAGE, "secret"])),
        // Prompts and resources.
        case("unknown prompt", Legacy, req("prompts/get", r#"{"name":"nope"}"#), err(-32602, x(), &["nope"])),
        case("prompt without name", Legacy, req("prompts/get", "{}"), err(-32602, x(), &["name"])),
        case(
            "prompt missing topic",
            Legacy,
            req("prompts/get", r#"{"name":"p","arguments":{}}"#),
            err(-32602, x(), &["topic"]),
        ),
        case(
            "prompt topic a number",
            Legacy,
            req("prompts/get", r#"{"name":"p","arguments":{"topic":5}}"#),
            err(-32602, x(), &["topic"]),
        ),
        case(
            "unknown resource, legacy",
            Legacy,
            req("resources/read", r#"{"uri":"test://nope"}"#),
            err_data(-32002, x(), &["test://nope"], &[("/uri", json!("test://nope"))]),
        ),
        case("resources/read without uri", Legacy, req("resources/read", "{}"), err(-32602, x(), &["uri"])),
        case("resources/read uri a number", Legacy, req("resources/read", r#"{"uri":5}"#), err(-32602, x(), &["uri"])),
        case(
            "completion without ref",
            Legacy,
            req("completion/complete", r#"{"argument":{"name":"topic","value":"a"}}"#),
            err(-32602, x(), &["ref"]),
        ),
        // Notifications and responses from the client.
        case("response with unknown id", Legacy, r#"{"jsonrpc":"2.0","id":"zzz","result":{}}"#, Expect::Silent),
        case(
            "unknown notification",
            Legacy,
            r#"{"jsonrpc":"2.0","method":"notifications/whatever","params":{}}"#,
            Expect::Silent,
        ),
        case(
            "cancel with object requestId",
            Legacy,
            r#"{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":{"x":1}}}"#,
            Expect::Silent,
        ),
        case(
            "error response with null id",
            Legacy,
            r#"{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"x"}}"#,
            Expect::Silent,
        ),
        case(
            "cancel without params",
            Legacy,
            r#"{"jsonrpc":"2.0","method":"notifications/cancelled"}"#,
            Expect::Silent,
        ),
        case(
            "cancelled slow request",
            Legacy,
            concat!(
                r#"{"jsonrpc":"2.0","id":"slow-1","method":"tools/call","params":{"name":"slow","arguments":{}}}"#,
                "\n",
                r#"{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":"slow-1","reason":"t"}}"#,
            ),
            Expect::Silent,
        ),
        // Batches.
        case("batch at 2025-11-25", Legacy, format!("[{ping},{ping}]"), err(-32600, Value::Null, &["batches"])),
        case(
            "batch of two pings at 2025-03-26",
            V0326,
            r#"[{"jsonrpc":"2.0","id":1,"method":"ping"},{"jsonrpc":"2.0","id":2,"method":"ping"}]"#,
            Expect::Batch(vec![(json!(1), None), (json!(2), None)]),
        ),
        case(
            "mixed batch at 2025-03-26",
            V0326,
            r#"[{"jsonrpc":"2.0","id":1,"method":"ping"},{"jsonrpc":"1.0","id":2,"method":"ping"},7,{"jsonrpc":"2.0","method":"notifications/initialized"}]"#,
            Expect::Batch(vec![(json!(1), None), (json!(2), Some(-32600)), (Value::Null, Some(-32600))]),
        ),
        case(
            "batch of notifications at 2025-03-26",
            V0326,
            r#"[{"jsonrpc":"2.0","method":"notifications/whatever"}]"#,
            Expect::Silent,
        ),
        case("empty batch at 2025-03-26", V0326, "[]", err(-32600, Value::Null, &["empty batch"])),
        // Stateless `_meta` on a stdio connection.
        case(
            "_meta without protocolVersion is legacy",
            Legacy,
            with_meta("tools/list", r#"{"io.modelcontextprotocol/clientCapabilities":{}}"#),
            Expect::Ok { id: x() },
        ),
        case(
            "unsupported protocolVersion",
            Stateless,
            with_meta(
                "tools/list",
                r#"{"io.modelcontextprotocol/protocolVersion":"v999.0.0","io.modelcontextprotocol/clientCapabilities":{}}"#,
            ),
            err_data(
                -32022,
                x(),
                &["v999.0.0"],
                &[("/supported", json!("2026-07-28")), ("/requested", json!("v999.0.0"))],
            ),
        ),
        case(
            "legacy protocolVersion sent statelessly",
            Stateless,
            with_meta(
                "tools/list",
                r#"{"io.modelcontextprotocol/protocolVersion":"2025-11-25","io.modelcontextprotocol/clientCapabilities":{}}"#,
            ),
            err_data(
                -32022,
                x(),
                &["2025-11-25"],
                &[("/supported", json!("2026-07-28")), ("/requested", json!("2025-11-25"))],
            ),
        ),
        case(
            "protocolVersion a number",
            Stateless,
            with_meta(
                "tools/list",
                r#"{"io.modelcontextprotocol/protocolVersion":20260728,"io.modelcontextprotocol/clientCapabilities":{}}"#,
            ),
            err(-32602, x(), &["protocolVersion"]),
        ),
        case(
            "clientCapabilities missing",
            Stateless,
            with_meta("tools/list", r#"{"io.modelcontextprotocol/protocolVersion":"2026-07-28"}"#),
            err(-32602, x(), &["clientCapabilities"]),
        ),
        case(
            "clientCapabilities not an object",
            Stateless,
            with_meta(
                "tools/list",
                r#"{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":5}"#,
            ),
            err(-32602, x(), &["clientCapabilities"]),
        ),
        case(
            "logLevel invalid",
            Stateless,
            with_meta(
                "tools/list",
                r#"{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{},"io.modelcontextprotocol/logLevel":"loud"}"#,
            ),
            err(-32602, x(), &["logLevel"]),
        ),
        case(
            "initialize stateless",
            Stateless,
            sl(
                "initialize",
                r#""protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"c","version":"1"}"#,
            ),
            err(-32601, x(), &["initialize"]),
        ),
        case("ping stateless", Stateless, sl("ping", ""), err(-32601, x(), &["ping"])),
        case(
            "logging/setLevel stateless",
            Stateless,
            sl("logging/setLevel", r#""level":"info""#),
            err(-32601, x(), &["logging/setLevel"]),
        ),
        case(
            "resources/subscribe stateless",
            Stateless,
            sl("resources/subscribe", r#""uri":"test://r""#),
            err(-32601, x(), &["resources/subscribe"]),
        ),
        case("unknown method stateless", Stateless, sl("foo/bar", ""), err(-32601, x(), &["foo/bar"])),
        case(
            "tampered requestState",
            Stateless,
            sl("tools/call", r#""name":"add","arguments":{"a":1,"b":2},"requestState":"abc.def""#),
            err(-32602, x(), &["requestState"]),
        ),
        case(
            "inputResponses a string",
            Stateless,
            sl("tools/call", r#""name":"add","arguments":{"a":1,"b":2},"inputResponses":"yes""#),
            err(-32602, x(), &["inputResponses"]),
        ),
        case(
            "unknown resource, stateless",
            Stateless,
            sl("resources/read", r#""uri":"test://nope""#),
            err_data(-32602, x(), &["test://nope"], &[("/uri", json!("test://nope"))]),
        ),
        case("unknown tool, stateless", Stateless, sl("tools/call", r#""name":"nope""#), err(-32602, x(), &["nope"])),
        case(
            "missing argument b, stateless",
            Stateless,
            sl("tools/call", r#""name":"add","arguments":{"a":1}"#),
            tool_err(&["`b`"], &[]),
        ),
        case("bad cursor, stateless", Stateless, sl("tools/list", r#""cursor":"zz""#), err(-32602, x(), &["cursor"])),
        case(
            "listen without notifications",
            Stateless,
            sl("subscriptions/listen", ""),
            err(-32602, x(), &["notifications"]),
        ),
    ]
}

/// One stdio connection to the server, driven from the client side.
struct Client {
    to_server: DuplexStream,
    from_server: BufReader<DuplexStream>,
    task: JoinHandle<std::io::Result<()>>,
}

impl Client {
    async fn start(server: &Server, mode: Mode) -> Result<Self, String> {
        let (to_server, server_in) = tokio::io::duplex(LINE_LIMIT);
        let (server_out, from_server) = tokio::io::duplex(LINE_LIMIT);
        let mut options = StdioOptions::default();
        options.max_line_bytes = LINE_LIMIT;
        // Long, so that a request still running at shutdown shows up as a
        // server that does not stop.
        options.shutdown_grace = Duration::from_secs(60);
        let srv = server.clone();
        let task = tokio::spawn(async move { serve_on(srv, server_in, server_out, options).await });
        let mut client = Self { to_server, from_server: BufReader::new(from_server), task };
        let version = match mode {
            Mode::Legacy => "2025-11-25",
            Mode::V0618 => "2025-06-18",
            Mode::V0326 => "2025-03-26",
            Mode::PreInit | Mode::Stateless => return Ok(client),
        };
        let init = format!(
            r#"{{"jsonrpc":"2.0","id":"init","method":"initialize","params":{{"protocolVersion":"{version}","capabilities":{{}},"clientInfo":{{"name":"t","version":"1"}}}}}}"#
        );
        client.send(init.as_bytes()).await?;
        let resp = client.recv().await?;
        if resp["result"]["protocolVersion"] != version {
            return Err(format!("initialize at {version} failed: {resp}"));
        }
        client.send(br#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#).await?;
        Ok(client)
    }

    async fn send(&mut self, line: &[u8]) -> Result<(), String> {
        let write = async {
            self.to_server.write_all(line).await?;
            self.to_server.write_all(b"\n").await?;
            self.to_server.flush().await
        };
        match tokio::time::timeout(TIMEOUT, write).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(format!("writing to the server failed: {e}")),
            Err(_) => Err("writing to the server blocked for 5 s".into()),
        }
    }

    /// The next line, or `None` at end of output.
    async fn next_line(&mut self) -> Result<Option<String>, String> {
        let mut line = String::new();
        match tokio::time::timeout(TIMEOUT, self.from_server.read_line(&mut line)).await {
            Err(_) => Err("no response within 5 s".into()),
            Ok(Err(e)) => Err(format!("reading the server's output failed: {e}")),
            Ok(Ok(0)) => Ok(None),
            Ok(Ok(_)) => Ok(Some(line)),
        }
    }

    async fn recv(&mut self) -> Result<Value, String> {
        let line = self.next_line().await?.ok_or("the server closed its output instead of answering")?;
        serde_json::from_str(&line).map_err(|e| format!("the server wrote a line that is not JSON ({e}): {line}"))
    }

    /// Closes stdin: nothing more may be written, and the server must stop.
    async fn finish(mut self) -> Result<(), String> {
        self.to_server.shutdown().await.map_err(|e| format!("closing stdin failed: {e}"))?;
        let mut extra = Vec::new();
        loop {
            match self.next_line().await {
                Ok(Some(line)) => extra.push(line),
                Ok(None) => break,
                Err(e) => {
                    self.task.abort();
                    return Err(format!("after stdin closed: {e} (a request still running?); wrote {extra:?}"));
                }
            }
        }
        if !extra.is_empty() {
            return Err(format!("unexpected output after the probe: {extra:?}"));
        }
        match tokio::time::timeout(TIMEOUT, &mut self.task).await {
            Ok(Ok(Ok(()))) => Ok(()),
            Ok(Ok(Err(e))) => Err(format!("serve returned an error: {e}")),
            Ok(Err(e)) => Err(format!("serve panicked: {e}")),
            Err(_) => {
                self.task.abort();
                Err("serve did not return within 5 s of stdin closing".into())
            }
        }
    }
}

fn check(expect: &Expect, v: &Value) -> Result<(), String> {
    let fail = |why: String| Err(format!("{why}; got {v}"));
    match expect {
        Expect::Error { code, id, msg, data } => {
            let e = &v["error"];
            if v.get("result").is_some() || !e.is_object() {
                return fail(format!("expected error {code}"));
            }
            if e["code"] != *code {
                return fail(format!("expected code {code}"));
            }
            if v["id"] != *id {
                return fail(format!("expected id {id}"));
            }
            let message = e["message"].as_str().unwrap_or_default();
            if let Some(missing) = msg.iter().find(|s| !message.contains(**s)) {
                return fail(format!("message does not mention {missing:?}"));
            }
            for (pointer, want) in data {
                let got = e["data"].pointer(pointer);
                let ok = match got {
                    Some(Value::Array(items)) if !want.is_array() => items.contains(want),
                    Some(got) => got == want,
                    None => false,
                };
                if !ok {
                    return fail(format!("expected data{pointer} to be or contain {want}"));
                }
            }
            Ok(())
        }
        Expect::ToolError { id, has, lacks } => {
            if v["id"] != *id || v["result"]["isError"] != true {
                return fail(format!("expected an isError result with id {id}"));
            }
            let text: String = v["result"]["content"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|c| c["text"].as_str())
                .collect::<Vec<_>>()
                .join("\n");
            if let Some(missing) = has.iter().find(|s| !text.contains(**s)) {
                return fail(format!("tool error text does not mention {missing:?}"));
            }
            if let Some(leaked) = lacks.iter().find(|s| text.contains(**s)) {
                return fail(format!("tool error text must not contain {leaked:?}"));
            }
            Ok(())
        }
        Expect::Ok { id } => {
            if v["id"] != *id || !v["result"].is_object() {
                return fail(format!("expected a result with id {id}"));
            }
            Ok(())
        }
        Expect::Batch(items) => {
            let Some(got) = v.as_array() else { return fail("expected a batch response".into()) };
            if got.len() != items.len() {
                return fail(format!("expected {} responses", items.len()));
            }
            for (id, code) in items {
                let found = got.iter().any(|r| {
                    r["id"] == *id
                        && match code {
                            None => r["result"].is_object(),
                            Some(c) => r["error"]["code"] == *c,
                        }
                });
                if !found {
                    return fail(format!("expected a response with id {id} and error code {code:?}"));
                }
            }
            Ok(())
        }
        Expect::Silent => Ok(()),
    }
}

fn probe(mode: Mode) -> String {
    match mode {
        Mode::Stateless => format!(r#"{{"jsonrpc":"2.0","id":"after","method":"tools/list","params":{{{META}}}}}"#),
        _ => r#"{"jsonrpc":"2.0","id":"after","method":"ping"}"#.to_owned(),
    }
}

/// Sends the case's input, checks the answer, checks the server still
/// answers the probe (and that nothing else was written), then closes.
async fn run_case(server: &Server, case: &Case) -> Result<(), String> {
    let mut client = Client::start(server, case.mode).await?;
    client.send(&case.input).await?;
    if !matches!(case.expect, Expect::Silent) {
        let resp = client.recv().await?;
        check(&case.expect, &resp)?;
    }
    client.send(probe(case.mode).as_bytes()).await?;
    let resp = client.recv().await.map_err(|e| format!("probe: {e}"))?;
    if resp["id"] != "after" || !resp["result"].is_object() {
        return Err(format!("expected the probe's result next; got {resp}"));
    }
    client.finish().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_table() {
    let server = server();
    let cases = cases();
    assert!(cases.len() >= 45, "only {} cases", cases.len());
    let mut failures = Vec::new();
    for case in &cases {
        let outcome = run_case(&server, case).await;
        match (case.known_bug, outcome) {
            (None, Ok(())) => {}
            (None, Err(e)) => failures.push(format!("{} ({:?}): {e}", case.name, case.mode)),
            (Some(bug), Err(e)) => eprintln!("known bug, skipped: {}: {bug}\n    {e}", case.name),
            (Some(bug), Ok(())) => eprintln!("known bug no longer reproduces, remove the marker: {}: {bug}", case.name),
        }
    }
    assert!(failures.is_empty(), "{} of {} cases failed:\n{}", failures.len(), cases.len(), failures.join("\n"));
}

/// Invalid tool arguments are a -32602 error before 2025-11-25 and an
/// `isError` result from 2025-11-25 on; both name the field.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_tool_arguments_by_version() {
    let server = server();
    let input = call("add", r#","arguments":{"a":"one","b":2}"#);
    let by_version = [
        case("2025-03-26", Mode::V0326, input.clone(), err(-32602, json!("x"), &["`a`", "f64"])),
        case("2025-06-18", Mode::V0618, input.clone(), err(-32602, json!("x"), &["`a`", "f64"])),
        case("2025-11-25", Mode::Legacy, input.clone(), tool_err(&["`a`", "f64"], &[])),
        case(
            "2026-07-28",
            Mode::Stateless,
            sl("tools/call", r#""name":"add","arguments":{"a":"one","b":2}"#),
            tool_err(&["`a`", "f64"], &[]),
        ),
    ];
    for c in &by_version {
        if let Err(e) = run_case(&server, c).await {
            panic!("{}: {e}", c.name);
        }
    }
}
