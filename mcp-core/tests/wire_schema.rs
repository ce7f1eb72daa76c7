//! Schema conformance on the wire: a calculator-like server is driven
//! through the real stdio transport (in-process, over `tokio::io::duplex`)
//! for each protocol version, every line it writes is captured, and each
//! message is validated against the official JSON schema of that version
//! (`tests/spec/<version>/schema.json`): responses against the result type
//! of the request they answer and the response envelope, notifications and
//! server-to-client requests against their own definitions.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;
use std::time::Duration;

use jsonschema::{Draft, Validator};
use mcp_core::Error;
use mcp_core::protocol::completion::CompleteResult;
use mcp_core::protocol::elicitation::{ElicitAction, ElicitRequestParams};
use mcp_core::protocol::logging::LoggingLevel;
use mcp_core::protocol::resources::ResourceContents;
use mcp_core::server::{
    Context, Json, NoArgs, PromptRoute, ResourceRoute, Server, ServerBuilder, TemplateRoute, ToolError, ToolRoute,
};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, DuplexStream, Lines};

const STATELESS: &str = "2026-07-28";

// ---------------------------------------------------------------- server

#[derive(Deserialize, JsonSchema)]
struct Operands {
    /// The left operand
    a: f64,
    /// The right operand
    b: f64,
}

#[derive(Serialize, JsonSchema)]
struct Division {
    /// `a / b`
    quotient: f64,
    /// `a % b`
    remainder: f64,
}

#[derive(Deserialize, JsonSchema)]
struct CountArgs {
    /// How many steps to count
    steps: u32,
}

#[derive(Deserialize, JsonSchema)]
struct ExplainArgs {
    /// The expression to explain
    expression: String,
    /// The audience
    audience: Option<String>,
}

async fn count(ctx: Context, args: CountArgs) -> Result<String, Error> {
    ctx.log(LoggingLevel::Info, Some("count"), format!("counting to {}", args.steps)).await?;
    for step in 1..=args.steps {
        ctx.progress(f64::from(step), Some(f64::from(args.steps)), Some(&format!("step {step}"))).await?;
    }
    Ok(format!("counted to {}", args.steps))
}

async fn confirm_reset(ctx: Context, _: NoArgs) -> Result<String, Error> {
    let schema = serde_json::from_value(json!({
        "type": "object",
        "properties": { "confirm": { "type": "boolean", "title": "Reset the memory?" } },
        "required": ["confirm"],
    }))
    .map_err(|e| Error::internal(e.to_string()))?;
    let answer = ctx.elicit(ElicitRequestParams::form("Really reset the calculator memory?", schema)).await?;
    let confirmed = answer.action == ElicitAction::Accept
        && answer.content.as_ref().and_then(|c| c.get("confirm")).and_then(Value::as_bool) == Some(true);
    Ok(if confirmed { "memory reset".into() } else { "reset cancelled".into() })
}

fn server() -> Server {
    ServerBuilder::new("calculator", "1.0.0")
        .instructions("Arithmetic tools.")
        .tool(ToolRoute::new("add", |_ctx: Context, o: Operands| async move { o.a + o.b }).with_description("Add"))
        .tool(
            ToolRoute::new("divide", |_ctx: Context, o: Operands| async move {
                if o.b == 0.0 {
                    return Err(ToolError::new("division_by_zero", "cannot divide by zero"));
                }
                Ok(Json(Division { quotient: o.a / o.b, remainder: o.a % o.b }))
            })
            .with_description("Divide a by b"),
        )
        .tool(ToolRoute::new("fail", |_ctx: Context, _: NoArgs| async move {
            Err::<String, _>(ToolError::new("always", "this tool always fails"))
        }))
        .tool(ToolRoute::new("count", count).with_description("Count, reporting progress"))
        .tool(ToolRoute::new("confirm_reset", confirm_reset).with_description("Confirm a memory reset"))
        .resource(
            ResourceRoute::new("calc://constants", "constants", |_ctx, uri| async move {
                let text = json!({ "pi": std::f64::consts::PI }).to_string();
                Ok::<_, Error>(ResourceContents::text(uri, Some("application/json".into()), text))
            })
            .with(|r| r.with_description("Mathematical constants").with_mime_type("application/json")),
        )
        .resource_template(
            TemplateRoute::new("calc://table/{n}", "multiplication-table", |_ctx, uri, vars| async move {
                let n: i64 = vars
                    .get("n")
                    .and_then(|n| n.parse().ok())
                    .ok_or_else(|| Error::ResourceNotFound { uri: uri.clone() })?;
                let table: Vec<String> = (1..=3).map(|i| format!("{n} x {i} = {}", n * i)).collect();
                Ok::<_, Error>(ResourceContents::text(uri, Some("text/plain".into()), table.join("\n")))
            })
            .with(|t| t.with_description("The multiplication table of n").with_mime_type("text/plain")),
        )
        .prompt(
            PromptRoute::new("explain", |_ctx, a: ExplainArgs| async move {
                let audience = a.audience.unwrap_or_else(|| "engineer".into());
                Ok::<_, Error>(format!("Explain, for a {audience}, how to evaluate `{}`.", a.expression))
            })
            .with_description("Explain an expression"),
        )
        .completion(|_ctx, params| async move {
            let prefix = params.argument.value.to_lowercase();
            let values = ["child", "engineer"].iter().filter(|v| v.starts_with(&prefix)).map(|v| (*v).to_owned());
            Ok(CompleteResult::new(values.collect()))
        })
        .build()
        .expect("valid server")
}

// ---------------------------------------------------------------- client

/// A scripted client: writes requests, and captures every line the server
/// writes, in order.
struct Client {
    version: &'static str,
    out: DuplexStream,
    lines: Lines<BufReader<DuplexStream>>,
    captured: Vec<Value>,
    methods: HashMap<String, String>,
    next_id: i64,
}

impl Client {
    fn stateless(&self) -> bool {
        self.version == STATELESS
    }

    /// Adds the stateless `_meta` fields the caller did not set.
    fn params(&self, mut params: Value) -> Value {
        if self.stateless() {
            let defaults = json!({
                "io.modelcontextprotocol/protocolVersion": STATELESS,
                "io.modelcontextprotocol/clientCapabilities": { "sampling": {}, "elicitation": {}, "roots": {} },
                "io.modelcontextprotocol/clientInfo": { "name": "wire-schema-test", "version": "0.0.0" },
            });
            let meta = params.as_object_mut().expect("params object").entry("_meta").or_insert_with(|| json!({}));
            for (k, v) in defaults.as_object().expect("object") {
                meta.as_object_mut().expect("_meta object").entry(k.clone()).or_insert_with(|| v.clone());
            }
        }
        params
    }

    async fn write(&mut self, msg: &Value) {
        let mut line = msg.to_string();
        line.push('\n');
        self.out.write_all(line.as_bytes()).await.expect("write to the server");
    }

    async fn send(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = json!(self.next_id);
        self.methods.insert(id.to_string(), method.to_owned());
        let params = self.params(params);
        self.write(&json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params })).await;
        id
    }

    async fn notify(&mut self, method: &str, params: Value) {
        self.write(&json!({ "jsonrpc": "2.0", "method": method, "params": params })).await;
    }

    /// Reads and captures the server's next line.
    async fn next(&mut self) -> Option<Value> {
        let line = tokio::time::timeout(Duration::from_secs(10), self.lines.next_line())
            .await
            .unwrap_or_else(|_| panic!("[{}] no message from the server within 10 s", self.version))
            .expect("read from the server")?;
        let msg: Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
        self.captured.push(msg.clone());
        Some(msg)
    }

    async fn wait(&mut self, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
        loop {
            match self.next().await {
                Some(m) if pred(&m) => return m,
                Some(_) => {}
                None => panic!("[{}] the server closed its output while waiting for {what}", self.version),
            }
        }
    }

    async fn response(&mut self, id: &Value) -> Value {
        self.wait(&format!("the response to {id}"), |m| m.get("method").is_none() && m.get("id") == Some(id)).await
    }

    async fn method(&mut self, method: &str) -> Value {
        self.wait(method, |m| m["method"] == method).await
    }

    async fn call(&mut self, method: &str, params: Value) -> Value {
        let id = self.send(method, params).await;
        self.response(&id).await
    }

    async fn tool(&mut self, name: &str, arguments: Value) -> Value {
        self.call("tools/call", json!({ "name": name, "arguments": arguments })).await
    }
}

fn text_of(resp: &Value) -> &str {
    resp["result"]["content"][0]["text"].as_str().unwrap_or_else(|| panic!("no text content in {resp}"))
}

/// Drives one connection through every method of `version` and returns
/// everything the server wrote, with the map from request id to method.
async fn drive(version: &'static str) -> (Vec<Value>, HashMap<String, String>) {
    let server = server();
    let (client_w, server_r) = tokio::io::duplex(1 << 16);
    let (server_w, client_r) = tokio::io::duplex(1 << 16);
    let srv = server.clone();
    let serving = tokio::spawn(async move {
        mcp_core::transport::stdio::serve_on(srv.clone(), server_r, server_w, Default::default()).await
    });
    let mut c = Client {
        version,
        out: client_w,
        lines: BufReader::new(client_r).lines(),
        captured: Vec::new(),
        methods: HashMap::new(),
        next_id: 0,
    };
    let legacy = !c.stateless();
    let elicitation = version != "2025-03-26";

    if legacy {
        let mut caps = json!({ "sampling": {}, "elicitation": {}, "roots": {} });
        if !elicitation {
            caps.as_object_mut().expect("object").remove("elicitation");
        }
        let init = c
            .call(
                "initialize",
                json!({
                    "protocolVersion": version, "capabilities": caps,
                    "clientInfo": { "name": "wire-schema-test", "version": "0.0.0" },
                }),
            )
            .await;
        assert_eq!(init["result"]["protocolVersion"], version, "{init}");
        c.notify("notifications/initialized", json!({})).await;
        c.call("ping", json!({})).await;
        c.call("logging/setLevel", json!({ "level": "debug" })).await;
    } else {
        c.call("server/discover", json!({})).await;
    }

    let tools = c.call("tools/list", json!({})).await;
    assert_eq!(tools["result"]["tools"].as_array().map(Vec::len), Some(5), "{tools}");
    assert_eq!(text_of(&c.tool("add", json!({ "a": 1, "b": 2 })).await), "3");
    let div = c.tool("divide", json!({ "a": 7, "b": 2 })).await;
    assert!(div["result"]["content"].is_array(), "{div}");
    let div0 = c.tool("divide", json!({ "a": 1, "b": 0 })).await;
    assert_eq!(div0["result"]["isError"], true, "{div0}");
    let fail = c.tool("fail", json!({})).await;
    assert_eq!(fail["result"]["isError"], true, "{fail}");
    // Invalid arguments: an `isError` result from 2025-11-25 on, -32602 before.
    c.tool("add", json!({ "a": "one", "b": 2 })).await;

    // Progress and logging.
    let mut meta = json!({ "progressToken": "p1" });
    if !legacy {
        meta["io.modelcontextprotocol/logLevel"] = json!("debug");
    }
    let before = c.captured.len();
    let counted = c.call("tools/call", json!({ "name": "count", "arguments": { "steps": 2 }, "_meta": meta })).await;
    assert_eq!(text_of(&counted), "counted to 2");
    let during = &c.captured[before..];
    let seen = |m: &str| during.iter().filter(|v| v["method"] == m).count();
    assert_eq!(seen("notifications/progress"), 2, "{during:?}");
    assert_eq!(seen("notifications/message"), 1, "{during:?}");

    c.call("resources/list", json!({})).await;
    c.call("resources/templates/list", json!({})).await;
    c.call("resources/read", json!({ "uri": "calc://constants" })).await;
    let table = c.call("resources/read", json!({ "uri": "calc://table/7" })).await;
    assert!(table["result"]["contents"][0]["text"].is_string(), "{table}");
    c.call("prompts/list", json!({})).await;
    c.call("prompts/get", json!({ "name": "explain", "arguments": { "expression": "2 * (3 + 4)" } })).await;
    let completion = json!({
        "ref": { "type": "ref/prompt", "name": "explain" },
        "argument": { "name": "audience", "value": "e" },
    });
    let done = c.call("completion/complete", completion).await;
    assert_eq!(done["result"]["completion"]["values"], json!(["engineer"]), "{done}");

    // Errors.
    let unknown_tool = c.tool("nope", json!({})).await;
    assert!(unknown_tool.get("error").is_some(), "{unknown_tool}");
    let unknown_method = c.call("calc/nope", json!({})).await;
    assert_eq!(unknown_method["error"]["code"], -32601, "{unknown_method}");
    let unknown_resource = c.call("resources/read", json!({ "uri": "calc://nope" })).await;
    assert!(unknown_resource.get("error").is_some(), "{unknown_resource}");

    // Elicitation.
    if legacy && !elicitation {
        // No error code exists for this before 2026-07-28: the tool fails.
        let refused = c.tool("confirm_reset", json!({})).await;
        assert_eq!(refused["result"]["isError"], true, "{refused}");
        assert!(text_of(&refused).contains("elicitation"), "{refused}");
    } else if legacy {
        let id = c.send("tools/call", json!({ "name": "confirm_reset", "arguments": {} })).await;
        let ask = c.method("elicitation/create").await;
        let answer = json!({ "action": "accept", "content": { "confirm": true } });
        c.write(&json!({ "jsonrpc": "2.0", "id": ask["id"], "result": answer })).await;
        assert_eq!(text_of(&c.response(&id).await), "memory reset");
    } else {
        let first = c.tool("confirm_reset", json!({})).await;
        assert_eq!(first["result"]["resultType"], "input_required", "{first}");
        let key = first["result"]["inputRequests"].as_object().and_then(|m| m.keys().next().cloned());
        let key = key.unwrap_or_else(|| panic!("no inputRequests in {first}"));
        let retry = json!({
            "name": "confirm_reset", "arguments": {},
            "inputResponses": { key: { "action": "accept", "content": { "confirm": true } } },
            "requestState": first["result"]["requestState"],
        });
        assert_eq!(text_of(&c.call("tools/call", retry).await), "memory reset");
        let caps = json!({ "io.modelcontextprotocol/clientCapabilities": {} });
        let missing = c.call("tools/call", json!({ "name": "confirm_reset", "arguments": {}, "_meta": caps })).await;
        assert_eq!(missing["error"]["code"], -32021, "{missing}");
        let old = json!({ "io.modelcontextprotocol/protocolVersion": "1999-01-01" });
        let unsupported = c.call("tools/list", json!({ "_meta": old })).await;
        assert_eq!(unsupported["error"]["code"], -32022, "{unsupported}");
    }

    // Subscriptions.
    if legacy {
        c.call("resources/subscribe", json!({ "uri": "calc://constants" })).await;
        server.notify_resource_updated("calc://constants");
        c.method("notifications/resources/updated").await;
    } else {
        let filter = json!({ "toolsListChanged": true, "resourceSubscriptions": ["calc://constants"] });
        let id = c.send("subscriptions/listen", json!({ "notifications": filter })).await;
        c.method("notifications/subscriptions/acknowledged").await;
        server.notify_resource_updated("calc://constants");
        c.method("notifications/resources/updated").await;
        c.notify("notifications/cancelled", json!({ "requestId": id, "reason": "test over" })).await;
    }

    // Close stdin and read what is left until the server closes stdout.
    c.out.shutdown().await.expect("close the server's input");
    while c.next().await.is_some() {}
    serving.await.expect("serve task").expect("serve");
    (c.captured, c.methods)
}

// ---------------------------------------------------------------- schema

/// One version's schema, with a validator per definition built once.
struct Spec {
    version: &'static str,
    defs_key: &'static str,
    dialect: Value,
    draft: Draft,
    defs: Value,
    cache: HashMap<String, Validator>,
}

impl Spec {
    fn load(version: &'static str) -> Self {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/spec").join(version).join("schema.json");
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
        let mut doc: Value = serde_json::from_str(&text).expect("schema.json is JSON");
        let dialect = doc["$schema"].clone();
        let (draft, defs_key) = match dialect.as_str() {
            Some(s) if s.contains("draft-07") => (Draft::Draft7, "definitions"),
            Some(s) if s.contains("2020-12") => (Draft::Draft202012, "$defs"),
            other => panic!("{version}: unexpected $schema {other:?}"),
        };
        let defs = doc[defs_key].take();
        assert!(defs.is_object(), "{version}: no {defs_key}");
        Self { version, defs_key, dialect, draft, defs, cache: HashMap::new() }
    }

    fn has(&self, name: &str) -> bool {
        self.defs.get(name).is_some()
    }

    /// The first of `names` this version defines.
    fn pick<'a>(&self, names: &[&'a str]) -> &'a str {
        names.iter().copied().find(|n| self.has(n)).unwrap_or_else(|| panic!("{}: none of {names:?}", self.version))
    }

    /// Validates `instance` against definition `name`; the errors, if any.
    fn check(&mut self, name: &str, instance: &Value) -> Vec<String> {
        if !self.cache.contains_key(name) {
            assert!(self.has(name), "{}: no definition {name}", self.version);
            let mut schema = json!({ "$schema": self.dialect, "$ref": format!("#/{}/{name}", self.defs_key) });
            schema[self.defs_key] = self.defs.clone();
            let validator = jsonschema::options()
                .with_draft(self.draft)
                .build(&schema)
                .unwrap_or_else(|e| panic!("{}: cannot build a validator for {name}: {e}", self.version));
            self.cache.insert(name.to_owned(), validator);
        }
        self.cache[name]
            .iter_errors(instance)
            .map(|e| format!("at `{}` (schema path `{}`): {e}", e.instance_path(), e.schema_path()))
            .collect()
    }
}

fn result_def(method: &str) -> &'static [&'static str] {
    match method {
        "initialize" => &["InitializeResult"],
        "server/discover" => &["DiscoverResult"],
        "ping" | "logging/setLevel" | "resources/subscribe" | "resources/unsubscribe" => &["EmptyResult", "Result"],
        "tools/list" => &["ListToolsResult"],
        "tools/call" => &["CallToolResult"],
        "resources/list" => &["ListResourcesResult"],
        "resources/templates/list" => &["ListResourceTemplatesResult"],
        "resources/read" => &["ReadResourceResult"],
        "prompts/list" => &["ListPromptsResult"],
        "prompts/get" => &["GetPromptResult"],
        "completion/complete" => &["CompleteResult"],
        "subscriptions/listen" => &["SubscriptionsListenResult"],
        _ => &[],
    }
}

fn message_def(method: &str) -> Option<&'static str> {
    Some(match method {
        "elicitation/create" => "ElicitRequest",
        "sampling/createMessage" => "CreateMessageRequest",
        "roots/list" => "ListRootsRequest",
        "ping" => "PingRequest",
        "notifications/progress" => "ProgressNotification",
        "notifications/message" => "LoggingMessageNotification",
        "notifications/resources/updated" => "ResourceUpdatedNotification",
        "notifications/resources/list_changed" => "ResourceListChangedNotification",
        "notifications/tools/list_changed" => "ToolListChangedNotification",
        "notifications/prompts/list_changed" => "PromptListChangedNotification",
        "notifications/subscriptions/acknowledged" => "SubscriptionsAcknowledgedNotification",
        "notifications/cancelled" => "CancelledNotification",
        _ => return None,
    })
}

fn error_def(code: i64) -> &'static [&'static str] {
    match code {
        -32700 => &["ParseError"],
        -32600 => &["InvalidRequestError"],
        -32601 => &["MethodNotFoundError"],
        -32602 => &["InvalidParamsError"],
        -32603 => &["InternalError"],
        -32020 => &["HeaderMismatchError"],
        -32021 => &["MissingRequiredClientCapabilityError"],
        -32022 => &["UnsupportedProtocolVersionError"],
        -32042 => &["URLElicitationRequiredError"],
        _ => &[],
    }
}

/// The (definition, instance) pairs one captured message must satisfy.
fn checks<'m>(
    spec: &Spec,
    msg: &'m Value,
    methods: &HashMap<String, String>,
) -> Result<Vec<(String, &'m Value)>, String> {
    let mut out = Vec::new();
    if let Some(method) = msg.get("method").and_then(Value::as_str) {
        let def = message_def(method).filter(|d| spec.has(d));
        out.push((def.ok_or_else(|| format!("`{method}` is not a server message of this version"))?.to_owned(), msg));
        let envelope = if msg.get("id").is_some() { "JSONRPCRequest" } else { "JSONRPCNotification" };
        out.push((envelope.to_owned(), msg));
    } else if let Some(error) = msg.get("error") {
        out.push((spec.pick(&["JSONRPCErrorResponse", "JSONRPCError"]).to_owned(), msg));
        for def in error_def(error["code"].as_i64().unwrap_or_default()).iter().filter(|d| spec.has(d)) {
            let whole = spec.defs[def].pointer("/properties/error").is_some();
            out.push(((*def).to_owned(), if whole { msg } else { error }));
        }
    } else if let Some(result) = msg.get("result") {
        let id = msg.get("id").map(Value::to_string).unwrap_or_default();
        let method = methods.get(&id).ok_or_else(|| format!("a response to unknown request id {id}"))?;
        let defs = result_def(method);
        if defs.is_empty() {
            return Err(format!("no result type known for `{method}`"));
        }
        let def = spec.pick(defs);
        let input_required = result.get("resultType").and_then(Value::as_str) == Some("input_required");
        let def_of_result = if input_required { "InputRequiredResult" } else { def };
        if !spec.has(def_of_result) {
            return Err(format!("{def_of_result} does not exist in this version"));
        }
        out.push((def_of_result.to_owned(), result));
        out.push((spec.pick(&["JSONRPCResultResponse", "JSONRPCResponse"]).to_owned(), msg));
        let typed = format!("{def}Response");
        if spec.has(&typed) {
            out.push((typed, msg));
        }
    } else {
        return Err("neither a request, a notification nor a response".into());
    }
    Ok(out)
}

async fn conformance(version: &'static str, floor: usize, required: &str) {
    let mut spec = Spec::load(version);
    let (captured, methods) = drive(version).await;
    let mut violations = Vec::new();
    let mut used = BTreeSet::new();
    let mut validations = 0;
    for msg in &captured {
        match checks(&spec, msg, &methods) {
            Err(e) => violations.push(format!("[{version}] {e}\n    message: {msg}")),
            Ok(list) => {
                for (def, instance) in list {
                    let errors = spec.check(&def, instance);
                    if !errors.is_empty() {
                        violations.push(format!("[{version}] {def}: {}\n    message: {msg}", errors.join("; ")));
                    }
                    used.insert(def);
                    validations += 1;
                }
            }
        }
    }
    let (n, d) = (captured.len(), used.len());
    println!("[{version}] validated {n} messages ({validations} checks against {d} definitions): {used:?}");
    assert!(violations.is_empty(), "{} schema violation(s):\n{}", violations.len(), violations.join("\n"));
    assert!(captured.len() >= floor, "[{version}] only {} messages captured (floor {floor})", captured.len());
    let missing: Vec<_> = required.split_whitespace().filter(|d| !used.contains(*d)).collect();
    assert!(missing.is_empty(), "[{version}] never validated against {missing:?}");
}

/// Definitions every legacy run must have validated something against.
const LEGACY_DEFS: &str = "InitializeResult ListToolsResult CallToolResult ListResourcesResult \
    ListResourceTemplatesResult ReadResourceResult ListPromptsResult GetPromptResult CompleteResult EmptyResult \
    ProgressNotification LoggingMessageNotification ResourceUpdatedNotification";

#[tokio::test]
async fn wire_2025_03_26() {
    conformance("2025-03-26", 26, LEGACY_DEFS).await;
}

#[tokio::test]
async fn wire_2025_06_18() {
    conformance("2025-06-18", 27, &format!("{LEGACY_DEFS} ElicitRequest JSONRPCRequest")).await;
}

#[tokio::test]
async fn wire_2025_11_25() {
    conformance("2025-11-25", 27, &format!("{LEGACY_DEFS} ElicitRequest JSONRPCRequest")).await;
}

#[tokio::test]
async fn wire_2026_07_28() {
    let required = "DiscoverResult CallToolResultResponse InputRequiredResult ProgressNotification \
        LoggingMessageNotification SubscriptionsAcknowledgedNotification ResourceUpdatedNotification \
        MethodNotFoundError MissingRequiredClientCapabilityError UnsupportedProtocolVersionError";
    conformance(STATELESS, 27, required).await;
}

/// The validators are not vacuous: a `$ref` that resolved to nothing would
/// accept anything.
#[test]
fn validators_reject_invalid_messages() {
    for version in ["2025-03-26", "2025-06-18", "2025-11-25", STATELESS] {
        let mut spec = Spec::load(version);
        let ok = json!({ "content": [{ "type": "text", "text": "3" }], "resultType": "complete" });
        assert_eq!(spec.check("CallToolResult", &ok), Vec::<String>::new(), "{version}");
        assert!(!spec.check("CallToolResult", &json!({ "content": "3" })).is_empty(), "{version}");
        let progress = json!({ "jsonrpc": "2.0", "method": "notifications/progress", "params": { "progress": "x" } });
        assert!(!spec.check("ProgressNotification", &progress).is_empty(), "{version}");
        let envelope = spec.pick(&["JSONRPCErrorResponse", "JSONRPCError"]);
        assert!(!spec.check(envelope, &json!({ "jsonrpc": "1.0", "id": 1, "error": {} })).is_empty(), "{version}");
    }
}

/// 2026-07-28: `io.modelcontextprotocol/subscriptionId` is "the JSON-RPC ID
/// of the `subscriptions/listen` request that opened the stream".
#[tokio::test]
async fn subscription_id_is_the_listen_request_id() {
    let (captured, methods) = drive(STATELESS).await;
    let listen = methods.iter().find(|(_, m)| *m == "subscriptions/listen").map(|(id, _)| id.clone());
    let listen: Value = serde_json::from_str(&listen.expect("a listen request")).expect("an id");
    let tagged: Vec<_> =
        captured.iter().filter_map(|m| m.pointer("/params/_meta/io.modelcontextprotocol~1subscriptionId")).collect();
    assert!(!tagged.is_empty());
    for id in tagged {
        assert_eq!(id, &listen, "subscriptionId {id} is not the listen request id {listen}");
    }
}
