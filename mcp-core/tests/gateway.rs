//! The gateway: tools of several upstreams on one server (prefixes,
//! allow/deny, clashes refused), calls forwarded with their results,
//! errors and progress, and the faults: a slow upstream, one killed
//! mid-call (the official Python SDK's server over stdio, which comes
//! back), and one answering nonsense. The Python upstreams need
//! `.cache/venv` (made by scripts/test.sh).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use mcp_core::Error;
use mcp_core::client::{Client, ClientBuilder, ClientError, Mode, RequestOptions, ServerNotification};
use mcp_core::gateway::{Gateway, GatewayError, UpstreamSpec};
use mcp_core::jsonrpc::ErrorCode;
use mcp_core::protocol::tools::{CallToolResult, Tool};
use mcp_core::server::{BoxFuture, Context, NoArgs, Server, ServerBuilder, ToolHandler, ToolOutput, ToolRoute};
use mcp_core::transport::http::{StreamableHttp, serve_listener};
use serde_json::json;

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct Pair {
    /// The first addend
    a: i64,
    /// The second addend
    b: i64,
}

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct Steps {
    /// How many progress reports
    steps: u32,
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn python_upstream(name: &str, script: &str, args: &[&str]) -> UpstreamSpec {
    let python = repo().join(".cache/venv/bin/python");
    assert!(python.exists(), "{} is missing: run scripts/test.sh once to install the Python SDK", python.display());
    let mut all = vec![repo().join("tests/interop").join(script).display().to_string()];
    all.extend(args.iter().map(|s| (*s).to_owned()));
    UpstreamSpec::stdio(name, python.display().to_string(), all)
}

/// Serves `server` on Streamable HTTP on a free port; returns its URL.
async fn serve_http(server: Server) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}/mcp", listener.local_addr().expect("addr"));
    tokio::spawn(serve_listener(listener, StreamableHttp::new(server), std::future::pending()));
    url
}

/// An upstream with `add`, `secret` and `count` (progress).
fn math(name: &str) -> Server {
    ServerBuilder::new(name, "1.0.0")
        .tool(ToolRoute::new("add", |_ctx: Context, p: Pair| async move { p.a + p.b }).with_description("Adds"))
        .tool(ToolRoute::new("secret", |_ctx: Context, _: NoArgs| async { "hidden" }).with_description("Hidden"))
        .tool(
            ToolRoute::new("count", |ctx: Context, s: Steps| async move {
                for i in 0..s.steps {
                    let _ = ctx.progress(f64::from(i + 1), Some(f64::from(s.steps)), Some("counting")).await;
                }
                format!("counted {}", s.steps)
            })
            .with_description("Counts"),
        )
        .build()
        .expect("valid server")
}

/// A test client on the gateway's server, over an in-process pipe.
async fn client_of(gateway: &Gateway) -> Client {
    let (client_end, server_end) = tokio::io::duplex(1 << 20);
    let (server_read, server_write) = tokio::io::split(server_end);
    tokio::spawn(mcp_core::transport::stdio::serve_on(gateway.server(), server_read, server_write, Default::default()));
    let (read, write) = tokio::io::split(client_end);
    ClientBuilder::new("gateway-test", "0.0.1")
        .connect(mcp_core::client::StdioTransport::from_streams(read, write))
        .await
        .expect("connect to the gateway")
}

fn text(result: &CallToolResult) -> &str {
    result.content.first().and_then(|c| c.as_text()).unwrap_or_default()
}

fn names(tools: &[Tool]) -> Vec<&str> {
    tools.iter().map(|t| t.name.as_str()).collect()
}

#[tokio::test]
async fn aggregates_prefixed_and_filtered_tools_and_forwards_calls_with_progress() {
    let a = serve_http(math("a")).await;
    let b = serve_http(math("b")).await;
    let gateway = Gateway::connect(
        "gw",
        "1.0.0",
        [UpstreamSpec::http("a", a).prefix("a").deny(["secret"]), UpstreamSpec::http("b", b).allow(["add"])],
    )
    .await
    .expect("gateway");
    let client = client_of(&gateway).await;
    let mut tools = client.list_tools().await.expect("list");
    tools.sort_by(|x, y| x.name.cmp(&y.name));
    assert_eq!(names(&tools), ["a___add", "a___count", "add"]);
    assert_eq!(tools[0].description.as_deref(), Some("Adds"));
    assert!(tools[0].input_schema["properties"]["a"].is_object(), "the upstream's schema is kept");

    let sum = client.call_tool("a___add", json!({"a": 2, "b": 3})).await.expect("call");
    assert_eq!(text(&sum), "5");
    assert_eq!(text(&client.call_tool("add", json!({"a": 40, "b": 2})).await.expect("call")), "42");

    let mut notes = client.notifications();
    let opts = RequestOptions::new().progress("mine");
    let counted = client.call_tool_with("a___count", json!({"steps": 3}), &opts).await.expect("count");
    assert_eq!(text(&counted), "counted 3");
    let mut seen = Vec::new();
    while let Ok(Ok(n)) = tokio::time::timeout(Duration::from_millis(500), notes.recv()).await {
        if let ServerNotification::Progress(p) = n {
            assert_eq!(p.progress_token, "mine".into(), "the caller's own token comes back");
            seen.push(p.progress);
            if seen.len() == 3 {
                break;
            }
        }
    }
    assert_eq!(seen, [1.0, 2.0, 3.0]);

    // Invalid arguments are the upstream's to judge; its verdict comes back.
    let bad = client.call_tool("a___add", json!({"a": "two"})).await.expect("an answer");
    assert_eq!(bad.is_error, Some(true), "{bad:?}");
    assert!(gateway.health().iter().all(|h| h.error.is_none()), "{:?}", gateway.health());
}

#[tokio::test]
async fn a_name_two_upstreams_expose_is_refused_naming_both() {
    let a = serve_http(math("a")).await;
    let b = serve_http(math("b")).await;
    let err = Gateway::connect("gw", "1.0.0", [UpstreamSpec::http("first", a), UpstreamSpec::http("second", b)])
        .await
        .expect_err("a clash");
    assert!(matches!(&err, GatewayError::Clash { first, second, .. } if first == "first" && second == "second"));
    let message = err.to_string();
    assert!(message.contains("`first`") && message.contains("`second`") && message.contains("`add`"), "{message}");
}

#[tokio::test]
async fn an_unreachable_upstream_stops_start_up_naming_it() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port();
    let spec = UpstreamSpec::http("gone", format!("http://127.0.0.1:{port}/mcp")).timeout(Duration::from_secs(5));
    let err = Gateway::connect("gw", "1.0.0", [spec]).await.expect_err("nothing listens");
    assert!(err.to_string().starts_with("upstream `gone`: cannot connect"), "{err}");
}

/// A tool that fails with a protocol error of its own code.
struct Refuses;

impl ToolHandler for Refuses {
    fn call(
        &self,
        _ctx: Context,
        _arguments: Option<&serde_json::value::RawValue>,
    ) -> Result<BoxFuture<ToolOutput>, Error> {
        Ok(Box::pin(async {
            Err(Error::Other { code: ErrorCode(-32042), message: "not today".into(), data: Some(json!({"why": 1})) })
        }))
    }
}

#[tokio::test]
async fn an_upstream_protocol_error_keeps_its_code_message_and_data() {
    let tool = Tool::new("refuse", serde_json::Map::from_iter([("type".to_owned(), json!("object"))]));
    let server = ServerBuilder::new("r", "1").tool(ToolRoute::from_handler(tool, Refuses)).build().expect("server");
    let gateway =
        Gateway::connect("gw", "1.0.0", [UpstreamSpec::http("r", serve_http(server).await)]).await.expect("gw");
    let client = client_of(&gateway).await;
    match client.call_tool("refuse", json!({})).await {
        Err(ClientError::Rpc(e)) => {
            assert_eq!(e.code, ErrorCode(-32042));
            assert_eq!(e.message, "not today");
            assert_eq!(e.data, Some(json!({"why": 1})));
        }
        other => panic!("expected the upstream's error, got {other:?}"),
    }
}

#[tokio::test]
async fn a_slow_upstream_times_out_naming_it_without_stalling_the_others() {
    let slow = ServerBuilder::new("slow", "1")
        .tool(ToolRoute::new("nap", |_ctx: Context, _: NoArgs| async {
            tokio::time::sleep(Duration::from_secs(30)).await;
            "rested"
        }))
        .build()
        .expect("server");
    let gateway = Gateway::connect(
        "gw",
        "1.0.0",
        [
            UpstreamSpec::http("slow", serve_http(slow).await).timeout(Duration::from_millis(700)),
            UpstreamSpec::http("fast", serve_http(math("fast")).await).allow(["add"]),
        ],
    )
    .await
    .expect("gateway");
    let client = client_of(&gateway).await;
    let started = Instant::now();
    let napping = tokio::spawn({
        let client = client.clone();
        async move { client.call_tool("nap", json!({})).await }
    });
    let sum = client.call_tool("add", json!({"a": 1, "b": 1})).await.expect("fast call");
    assert_eq!(text(&sum), "2");
    assert!(started.elapsed() < Duration::from_millis(600), "the fast upstream waited: {:?}", started.elapsed());
    let nap = napping.await.expect("join").expect("an answer");
    assert_eq!(nap.is_error, Some(true));
    assert!(text(&nap).starts_with("upstream `slow` is unavailable"), "{}", text(&nap));
    assert!(started.elapsed() < Duration::from_secs(5), "took {:?}", started.elapsed());
    let health = gateway.health();
    assert!(health.iter().any(|h| h.name == "slow" && h.error.is_some()), "{health:?}");
}

#[tokio::test]
async fn an_upstream_killed_mid_call_fails_naming_it_and_comes_back() {
    let gateway = Gateway::connect(
        "gw",
        "1.0.0",
        [
            python_upstream("py", "python_mcp_server.py", &["stdio"]).prefix("py").timeout(Duration::from_secs(20)),
            UpstreamSpec::http("math", serve_http(math("math")).await).allow(["add"]),
        ],
    )
    .await
    .expect("gateway");
    let client = client_of(&gateway).await;
    assert!(names(&client.list_tools().await.expect("list")).contains(&"py___sleepy"));

    let started = Instant::now();
    let sleeping = tokio::spawn({
        let client = client.clone();
        async move { client.call_tool("py___sleepy", json!({"tag": "t", "seconds": 30})).await }
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    let died = client.call_tool("py___exit_process", json!({})).await.expect("an answer");
    assert_eq!(died.is_error, Some(true));
    assert!(text(&died).starts_with("upstream `py` is unavailable"), "{}", text(&died));
    let slept = sleeping.await.expect("join").expect("an answer");
    assert!(text(&slept).starts_with("upstream `py` is unavailable"), "{}", text(&slept));
    assert!(started.elapsed() < Duration::from_secs(15), "took {:?}", started.elapsed());
    assert!(gateway.health().iter().any(|h| h.name == "py" && h.error.is_some()), "{:?}", gateway.health());

    // The others keep serving.
    assert_eq!(text(&client.call_tool("add", json!({"a": 2, "b": 2})).await.expect("math")), "4");
    // The dead one is started again on its next call.
    let again = client.call_tool("py___add", json!({"a": 20, "b": 1})).await.expect("py again");
    assert_eq!(text(&again), "21", "{again:?}");
    assert!(gateway.health().iter().all(|h| h.error.is_none()), "{:?}", gateway.health());
    let checked = gateway.check(Duration::from_secs(5)).await;
    assert!(checked.iter().all(|h| h.error.is_none()), "{checked:?}");
}

#[tokio::test]
async fn a_malformed_upstream_result_is_an_error_naming_it() {
    let gateway = Gateway::connect(
        "gw",
        "1.0.0",
        [python_upstream("odd", "malformed_mcp_server.py", &[]).mode(Mode::Legacy).timeout(Duration::from_secs(10))],
    )
    .await
    .expect("gateway");
    let client = client_of(&gateway).await;
    let result = client.call_tool("broken", json!({})).await.expect("an answer");
    assert_eq!(result.is_error, Some(true));
    assert!(text(&result).starts_with("upstream `odd` is unavailable: invalid tools/call result"), "{}", text(&result));
}

#[tokio::test]
async fn a_list_change_upstream_is_followed() {
    // Legacy: the upstream's session sends the change unasked; stateless:
    // the gateway holds a `subscriptions/listen` stream open.
    for mode in [Mode::Legacy, Mode::Stateless] {
        let upstream = math("live");
        let url = serve_http(upstream.clone()).await;
        let gateway =
            Gateway::connect("gw", "1.0.0", [UpstreamSpec::http("live", url).mode(mode).allow(["add", "new*"])])
                .await
                .expect("gateway");
        assert_eq!(names(&gateway.server().tools()), ["add"]);
        upstream
            .add_tool(ToolRoute::new("newer", |_ctx: Context, _: NoArgs| async { "fresh" }).with_description("New"))
            .expect("add");
        let deadline = Instant::now() + Duration::from_secs(10);
        while !names(&gateway.server().tools()).contains(&"newer") {
            assert!(Instant::now() < deadline, "{mode:?}: not re-listed: {:?}", names(&gateway.server().tools()));
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let client = client_of(&gateway).await;
        assert_eq!(text(&client.call_tool("newer", json!({})).await.expect("call")), "fresh");
        assert!(upstream.remove_tool("newer"));
        while names(&gateway.server().tools()).contains(&"newer") {
            assert!(Instant::now() < deadline, "{mode:?}: not removed");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

#[test]
fn the_config_file_names_each_bad_field() {
    use mcp_core::gateway::{GatewayConfig, Target, UpstreamAuth};
    let ok = GatewayConfig::from_json(
        r#"{"name": "g", "timeout_ms": 1500, "upstreams": [
            {"name": "calc", "url": "http://127.0.0.1:1/mcp", "prefix": "calc", "auth": {"api_key_env": "CALC_KEY"}},
            {"name": "py", "command": "python", "args": ["s.py"], "deny": ["x*"], "timeout_ms": 200, "mode": "legacy"}
        ]}"#,
    )
    .expect("valid");
    assert_eq!(ok.name, "g");
    assert_eq!(ok.upstreams[0].timeout, Duration::from_millis(1500));
    assert_eq!(
        ok.upstreams[0].auth,
        Some(UpstreamAuth::ApiKey { header: "x-api-key".into(), key_env: "CALC_KEY".into() })
    );
    assert!(matches!(&ok.upstreams[1].target, Target::Stdio { command, .. } if command == "python"));
    assert_eq!(ok.upstreams[1].timeout, Duration::from_millis(200));
    assert_eq!(ok.upstreams[1].mode, Mode::Legacy);
    assert!(!ok.upstreams[1].admits("xray"));
    let secret = GatewayConfig::from_json(
        r#"{"upstreams": [{"name": "s", "url": "u", "auth": {"api_key_secret": "arn:aws:secretsmanager:x", "secret_field": "key"}}]}"#,
    )
    .expect("valid");
    assert_eq!(
        secret.upstreams[0].auth,
        Some(UpstreamAuth::ApiKeySecret {
            header: "x-api-key".into(),
            secret: mcp_core::gateway::SecretRef::new("arn:aws:secretsmanager:x").field("key")
        })
    );

    let cases = [
        (r#"{"upstreams": [{"name": "a", "url": "u", "prefx": "p"}]}"#, "`upstreams[0].prefx`: unknown field `prefx`"),
        (r#"{"upstreams": [{"name": "a", "url": "u", "command": "c"}]}"#, "exactly one of `url` or `command`"),
        (
            r#"{"upstreams": [{"name": "a", "url": "u", "auth": {"bearer_env": "A", "api_key_env": "B"}}]}"#,
            "`upstreams[0].auth`",
        ),
        (
            r#"{"upstreams": [{"name": "a", "url": "u", "auth": {"bearer_env": "A", "secret_field": "f"}}]}"#,
            "`secret_field` with a secret",
        ),
        (
            r#"{"upstreams": [{"name": "a", "url": "u", "auth": {"bearer_secret": "A", "api_key_secret": "B"}}]}"#,
            "`upstreams[0].auth`",
        ),
        (
            r#"{"upstreams": [{"name": "a", "command": "c", "auth": {"bearer_env": "A"}}]}"#,
            "credentials are for `url` upstreams",
        ),
        (r#"{"upstreams": [{"name": "a", "url": "u"}, {"name": "a", "url": "v"}]}"#, "`upstreams[1].name`"),
        (r#"{"upstreams": [{"name": "a", "url": "u", "mode": "modern"}]}"#, "`upstreams[0].mode`"),
        (r#"{"upstreams": []}"#, "at least one upstream"),
        (r#"{"upstreams": [{"name": "a", "url": "u", "timeout_ms": 0}]}"#, "`upstreams[0].timeout_ms`"),
    ];
    for (doc, expected) in cases {
        let err = GatewayConfig::from_json(doc).expect_err(doc).to_string();
        assert!(err.contains(expected), "{doc}: {err}");
    }
}

#[tokio::test]
async fn a_missing_credential_variable_is_named_and_its_value_never_shown() {
    let spec = UpstreamSpec::http("calc", "http://127.0.0.1:9/mcp")
        .auth(mcp_core::gateway::UpstreamAuth::Bearer { token_env: "MCP_GATEWAY_TEST_UNSET_TOKEN".into() });
    let err = Gateway::connect("gw", "1", [spec]).await.expect_err("no token");
    assert_eq!(
        err.to_string(),
        "upstream `calc`: cannot connect: the credential variable MCP_GATEWAY_TEST_UNSET_TOKEN is not set"
    );
}

/// An upstream with a prompt, a resource and a template.
fn library(name: &str, uri: &str) -> Server {
    #[derive(serde::Deserialize, schemars::JsonSchema)]
    struct Topic {
        /// What about
        topic: String,
    }
    let uri = uri.to_owned();
    ServerBuilder::new(name, "1")
        .prompt(mcp_core::server::PromptRoute::new("explain", |_ctx: Context, t: Topic| async move {
            format!("Explain {}.", t.topic)
        }))
        .resource(mcp_core::server::ResourceRoute::new(uri, "readme", |_ctx: Context, _uri: String| async {
            "read me"
        }))
        .resource_template(mcp_core::server::TemplateRoute::new(
            "books://{title}",
            "book",
            |_ctx: Context, uri: String, _vars| async move { format!("the book at {uri}") },
        ))
        .build()
        .expect("server")
}

#[tokio::test]
async fn prompts_resources_and_templates_are_served_too_and_their_clashes_refused() {
    let url = serve_http(library("lib", "docs://readme")).await;
    let gateway =
        Gateway::connect("gw", "1.0.0", [UpstreamSpec::http("lib", url.clone()).prefix("lib")]).await.expect("gateway");
    let client = client_of(&gateway).await;
    let prompts = client.list_prompts().await.expect("prompts");
    assert_eq!(prompts.iter().map(|p| p.name.as_str()).collect::<Vec<_>>(), ["lib___explain"]);
    let got = client.get_prompt("lib___explain", [("topic", "gateways")]).await.expect("get");
    assert_eq!(serde_json::to_value(&got.messages[0]).expect("json")["content"]["text"], "Explain gateways.");
    let read = client.read_resource("docs://readme").await.expect("read");
    assert_eq!(serde_json::to_value(&read.contents[0]).expect("json")["text"], "read me");
    let templates = client.list_resource_templates().await.expect("templates");
    assert_eq!(templates[0].uri_template, "books://{title}");
    let book = client.read_resource("books://dune").await.expect("read a template");
    assert_eq!(serde_json::to_value(&book.contents[0]).expect("json")["text"], "the book at books://dune");
    // A missing prompt argument is the upstream's error, passed on.
    assert!(matches!(
        client.get_prompt("lib___explain", Vec::<(String, String)>::new()).await,
        Err(ClientError::Rpc(_))
    ));

    let other = serve_http(library("other", "docs://readme")).await;
    let err = Gateway::connect(
        "gw",
        "1.0.0",
        [UpstreamSpec::http("lib", url).prefix("lib"), UpstreamSpec::http("other", other).prefix("other")],
    )
    .await
    .expect_err("the same resource URI twice");
    assert!(matches!(&err, GatewayError::Clash { name, .. } if name == "docs://readme"), "{err}");
}

async fn follows_catalog_changes(mode: Mode) {
    let upstream = library("lib", "docs://readme");
    let url = serve_http(upstream.clone()).await;
    let gateway = Gateway::connect("gw", "1.0.0", [UpstreamSpec::http("lib", url).mode(mode).prefix("lib")])
        .await
        .expect("gateway");
    let client = client_of(&gateway).await;
    let deadline = Instant::now() + Duration::from_secs(10);
    let prompts =
        || async { client.list_prompts().await.expect("prompts").into_iter().map(|p| p.name).collect::<Vec<_>>() };
    upstream.add_prompt(mcp_core::server::PromptRoute::new("summarise", |_ctx: Context, _: NoArgs| async {
        "Summarise.".to_owned()
    }));
    while prompts().await != ["lib___explain", "lib___summarise"] {
        assert!(Instant::now() < deadline, "{mode:?}: prompt not re-listed: {:?}", prompts().await);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let got = client.get_prompt("lib___summarise", Vec::<(String, String)>::new()).await.expect("the new prompt");
    assert_eq!(serde_json::to_value(&got.messages[0]).expect("json")["content"]["text"], "Summarise.");

    assert!(upstream.remove_resource("docs://readme"));
    assert!(upstream.remove_resource_template("books://{title}"));
    upstream.add_resource(mcp_core::server::ResourceRoute::new(
        "docs://changes",
        "changes",
        |_ctx: Context, _uri: String| async { "what changed" },
    ));
    let resources = || async {
        let listed = client.list_resources().await.expect("resources");
        let templates = client.list_resource_templates().await.expect("templates");
        (listed.into_iter().map(|r| r.uri).collect::<Vec<_>>(), templates.len())
    };
    while resources().await != (vec!["docs://changes".to_owned()], 0) {
        assert!(Instant::now() < deadline, "{mode:?}: resources not re-listed: {:?}", resources().await);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let read = client.read_resource("docs://changes").await.expect("read the new resource");
    assert_eq!(serde_json::to_value(&read.contents[0]).expect("json")["text"], "what changed");
    assert!(client.read_resource("docs://readme").await.is_err(), "a removed resource is gone from the gateway too");
    assert!(!upstream.remove_prompt("lib___summarise"), "the upstream's own name has no prefix");
    assert!(upstream.remove_prompt("summarise"));
    while prompts().await != ["lib___explain"] {
        assert!(Instant::now() < deadline, "{mode:?}: prompt not removed: {:?}", prompts().await);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_prompt_or_resource_list_change_upstream_is_followed() {
    for mode in [Mode::Legacy, Mode::Stateless] {
        follows_catalog_changes(mode).await;
    }
}

/// An upstream whose `ask` tool elicits a name.
fn asker() -> Server {
    use mcp_core::protocol::elicitation::{ElicitRequestParams, ElicitRequestedSchema};
    ServerBuilder::new("asker", "1")
        .tool(ToolRoute::new("ask", |ctx: Context, _: NoArgs| async move {
            let schema: ElicitRequestedSchema =
                serde_json::from_value(json!({"type": "object", "properties": {"name": {"type": "string"}}}))
                    .map_err(|e| Error::internal(e.to_string()))?;
            let answer = ctx.elicit(ElicitRequestParams::form("Your name?", schema)).await?;
            let name = answer.content.and_then(|c| c.get("name").cloned()).unwrap_or_default();
            Ok::<_, Error>(format!("Hello, {}!", name.as_str().unwrap_or("?")))
        }))
        .build()
        .expect("server")
}

#[tokio::test]
async fn an_upstream_elicitation_is_asked_of_the_caller_with_the_upstream_in_either_era() {
    use mcp_core::jsonrpc::ErrorObject;
    use mcp_core::protocol::elicitation::{ElicitAction, ElicitRequestParams, ElicitResult};
    for mode in [Mode::Stateless, Mode::Legacy] {
        let url = serve_http(asker()).await;
        let gateway = Gateway::connect("gw", "1", [UpstreamSpec::http("asker", url).mode(mode)]).await.expect("gw");
        for caller_mode in [Mode::Stateless, Mode::Legacy] {
            let (client_end, server_end) = tokio::io::duplex(1 << 20);
            let (sr, sw) = tokio::io::split(server_end);
            tokio::spawn(mcp_core::transport::stdio::serve_on(gateway.server(), sr, sw, Default::default()));
            let (read, write) = tokio::io::split(client_end);
            let client = ClientBuilder::new("caller", "1")
                .mode(caller_mode)
                .elicitation(|params: ElicitRequestParams| async move {
                    assert_eq!(params.message(), "Your name?");
                    let serde_json::Value::Object(content) = json!({"name": "Ferris"}) else {
                        return Err(ErrorObject::new(ErrorCode::INTERNAL_ERROR, "not an object"));
                    };
                    Ok(ElicitResult {
                        result_type: None,
                        action: ElicitAction::Accept,
                        content: Some(content),
                        meta: None,
                    })
                })
                .connect(mcp_core::client::StdioTransport::from_streams(read, write))
                .await
                .expect("connect");
            let result = client.call_tool("ask", json!({})).await.expect("ask");
            assert_eq!(text(&result), "Hello, Ferris!", "upstream {mode:?}, caller {caller_mode:?}: {result:?}");
        }
    }
}

#[tokio::test]
async fn a_task_capable_upstream_tool_runs_to_its_end_for_a_caller_that_speaks_tasks() {
    use mcp_core::server::task::TaskSupport;
    let upstream = ServerBuilder::new("jobs", "1")
        .tool(
            ToolRoute::new("job", |_ctx: Context, _: NoArgs| async {
                tokio::time::sleep(Duration::from_millis(50)).await;
                "done"
            })
            .task_support(TaskSupport::Optional),
        )
        .build()
        .expect("upstream");
    let url = serve_http(upstream).await;
    let gateway = Gateway::connect("gw", "1.0.0", [UpstreamSpec::http("jobs", url).mode(Mode::Stateless)])
        .await
        .expect("gateway");
    let (client_end, server_end) = tokio::io::duplex(1 << 16);
    let (sr, sw) = tokio::io::split(server_end);
    tokio::spawn(mcp_core::transport::stdio::serve_on(gateway.server(), sr, sw, Default::default()));
    let (read, write) = tokio::io::split(client_end);
    let caller = ClientBuilder::new("t", "1")
        .tasks()
        .connect(mcp_core::client::StdioTransport::from_streams(read, write))
        .await
        .expect("connect");
    let result = caller.call_tool("job", json!({})).await.expect("the call");
    assert_eq!(text(&result), "done", "{result:?}");
}
