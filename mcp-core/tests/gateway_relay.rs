//! What the gateway passes between an upstream and its caller during a
//! request, for each pairing of upstream and caller eras: the upstream's
//! log messages, several input requests in one round, the rounds of
//! `prompts/get`, the upstream's own input keys, and the caller's
//! capabilities (an upstream refuses what the caller could not answer,
//! even through a legacy session that declared everything).

use std::time::Duration;

use mcp_core::Error;
use mcp_core::client::{Client, ClientBuilder, ClientError, Mode, RequestOptions, ServerNotification};
use mcp_core::gateway::{Gateway, UpstreamSpec};
use mcp_core::jsonrpc::{ErrorCode, ErrorObject};
use mcp_core::protocol::elicitation::{ElicitAction, ElicitRequestParams, ElicitRequestedSchema, ElicitResult};
use mcp_core::protocol::logging::LoggingLevel;
use mcp_core::protocol::prompts::PromptMessage;
use mcp_core::protocol::sampling::{CreateMessageRequestParams, SamplingMessage};
use mcp_core::server::PromptRoute;
use mcp_core::server::{Context, NoArgs, Server, ServerBuilder, ToolRoute};
use mcp_core::transport::http::{StreamableHttp, serve_listener};
use serde_json::{Value, json};

const ERAS: [Mode; 2] = [Mode::Stateless, Mode::Legacy];

fn form(message: &str) -> Result<ElicitRequestParams, Error> {
    let schema: ElicitRequestedSchema =
        serde_json::from_value(json!({"type": "object", "properties": {"name": {"type": "string"}}}))
            .map_err(|e| Error::internal(e.to_string()))?;
    Ok(ElicitRequestParams::form(message, schema))
}

fn name_of(answer: &ElicitResult) -> String {
    answer.content.as_ref().and_then(|c| c.get("name")).and_then(Value::as_str).unwrap_or("?").to_owned()
}

/// The argument of `says`.
#[derive(serde::Deserialize, schemars::JsonSchema)]
struct Word {
    /// What to log and answer
    word: String,
}

/// The upstream: `says` logs its word and answers it after 200 ms, `chatty` logs twice, `both` asks a name and a greeting at
/// once, `named` asks under the key `user_name`, `needs_sampling` refuses a
/// client without sampling, and the prompt `greeting` asks a name first.
fn upstream() -> Server {
    ServerBuilder::new("up", "1")
        .tool(ToolRoute::new("chatty", |ctx: Context, _: NoArgs| async move {
            ctx.log(LoggingLevel::Info, Some("up"), "first").await?;
            ctx.log(LoggingLevel::Warning, Some("up"), "second").await?;
            Ok::<_, Error>("done")
        }))
        .tool(ToolRoute::new("both", |ctx: Context, _: NoArgs| async move {
            let greeting = CreateMessageRequestParams::new(vec![SamplingMessage::user_text("Greet")], 20);
            let (name, greeting) = tokio::join!(async { ctx.elicit_as("name", form("Name?")?).await }, async {
                ctx.sample_as("greeting", greeting).await
            });
            Ok::<_, Error>(format!("{} {}", greeting?.text(), name_of(&name?)))
        }))
        .tool(ToolRoute::new("says", |ctx: Context, w: Word| async move {
            ctx.log(LoggingLevel::Warning, Some("up"), w.word.clone()).await?;
            // Long enough for another call to be in flight meanwhile.
            tokio::time::sleep(Duration::from_millis(200)).await;
            Ok::<_, Error>(w.word)
        }))
        .tool(ToolRoute::new("named", |ctx: Context, _: NoArgs| async move {
            Ok::<_, Error>(name_of(&ctx.elicit_as("user_name", form("Name?")?).await?))
        }))
        .tool(ToolRoute::new("needs_sampling", |ctx: Context, _: NoArgs| async move {
            match ctx.client_capabilities().sampling {
                Some(_) => Ok("sampling declared"),
                None => Err(Error::MissingClientCapability { required: json!({"sampling": {}}) }),
            }
        }))
        .prompt(PromptRoute::new("greeting", |ctx: Context, _: NoArgs| async move {
            let answer = ctx.elicit_as("who", form("Whom to greet?")?).await?;
            Ok::<_, Error>(vec![PromptMessage::user_text(format!("Greet {}", name_of(&answer)))])
        }))
        .build()
        .expect("valid upstream")
}

async fn gateway(mode: Mode) -> Gateway {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}/mcp", listener.local_addr().expect("addr"));
    tokio::spawn(serve_listener(listener, StreamableHttp::new(upstream()), std::future::pending()));
    Gateway::connect("gw", "1", [UpstreamSpec::http("up", url).mode(mode)]).await.expect("gateway")
}

/// A caller in `mode` on the gateway's server, answering elicitation with
/// the name Ferris and sampling with "Hi"; `sampling: false` leaves the
/// sampling handler (and capability) out.
async fn caller(gateway: &Gateway, mode: Mode, sampling: bool) -> Client {
    let (client_end, server_end) = tokio::io::duplex(1 << 20);
    let (sr, sw) = tokio::io::split(server_end);
    tokio::spawn(mcp_core::transport::stdio::serve_on(gateway.server(), sr, sw, Default::default()));
    let (read, write) = tokio::io::split(client_end);
    let mut builder = ClientBuilder::new("caller", "1").mode(mode).elicitation(|_p: ElicitRequestParams| async {
        let Value::Object(content) = json!({"name": "Ferris"}) else {
            return Err(ErrorObject::new(ErrorCode::INTERNAL_ERROR, "not an object"));
        };
        Ok(ElicitResult { result_type: None, action: ElicitAction::Accept, content: Some(content), meta: None })
    });
    if sampling {
        builder = builder.sampling(|_p: CreateMessageRequestParams| async {
            serde_json::from_value(
                json!({"role": "assistant", "content": {"type": "text", "text": "Hi"}, "model": "m"}),
            )
            .map_err(|e| ErrorObject::new(ErrorCode::INTERNAL_ERROR, e.to_string()))
        });
    }
    builder.connect(mcp_core::client::StdioTransport::from_streams(read, write)).await.expect("connect")
}

fn text(result: &mcp_core::protocol::tools::CallToolResult) -> &str {
    result.content.first().and_then(|c| c.as_text()).unwrap_or_default()
}

#[tokio::test]
async fn an_upstream_log_reaches_the_caller_at_the_callers_level() {
    for up in ERAS {
        let gw = gateway(up).await;
        for mode in ERAS {
            let client = caller(&gw, mode, true).await;
            client.set_log_level(LoggingLevel::Warning).await.expect("set the level");
            let mut notes = client.notifications();
            let result = client.call_tool("chatty", json!({})).await.expect("call");
            assert_eq!(text(&result), "done");
            let mut logs = Vec::new();
            while let Ok(Ok(n)) = tokio::time::timeout(Duration::from_millis(300), notes.recv()).await {
                if let ServerNotification::Log(m) = n {
                    logs.push((m.level, m.data));
                }
            }
            assert_eq!(logs, [(LoggingLevel::Warning, json!("second"))], "upstream {up:?}, caller {mode:?}");
        }
    }
}

#[tokio::test]
async fn several_input_requests_reach_a_stateless_caller_in_one_round() {
    // A legacy upstream sends its two questions as two requests, one after
    // the other: the gateway's round waits for the second.
    for up in ERAS {
        let gw = gateway(up).await;
        let client = caller(&gw, Mode::Stateless, true).await;
        let opts = RequestOptions::new().return_input_required();
        let round = client.request_with("tools/call", json!({"name": "both"}), &opts).await.expect("round");
        assert_eq!(round["resultType"], "input_required", "upstream {up:?}: {round}");
        let mut keys: Vec<&String> = round["inputRequests"].as_object().expect("requests").keys().collect();
        keys.sort();
        assert_eq!(keys, ["greeting", "name"], "upstream {up:?}: both at once, under the upstream's keys");
        for mode in ERAS {
            let answered = caller(&gw, mode, true).await.call_tool("both", json!({})).await.expect("call");
            assert_eq!(text(&answered), "Hi Ferris", "upstream {up:?}, caller {mode:?}");
        }
    }
}

#[tokio::test]
async fn a_legacy_upstreams_request_is_asked_under_its_own_key() {
    let gw = gateway(Mode::Legacy).await;
    let client = caller(&gw, Mode::Stateless, true).await;
    let opts = RequestOptions::new().return_input_required();
    let round = client.request_with("tools/call", json!({"name": "named"}), &opts).await.expect("round");
    let requests = round["inputRequests"].as_object().expect("requests");
    assert_eq!(requests.keys().collect::<Vec<_>>(), ["user_name"], "{round}");
    assert!(requests["user_name"]["params"].get("_meta").is_none(), "the key's carrier is not passed on: {round}");
    assert_eq!(text(&client.call_tool("named", json!({})).await.expect("call")), "Ferris");
}

#[tokio::test]
async fn a_prompt_round_is_passed_on_in_every_pairing() {
    for up in ERAS {
        let gw = gateway(up).await;
        for mode in ERAS {
            let prompt = caller(&gw, mode, true).await.get_prompt("greeting", [("x", "y")]).await.expect("prompt");
            let said = serde_json::to_value(&prompt.messages).expect("json");
            assert_eq!(said[0]["content"]["text"], "Greet Ferris", "upstream {up:?}, caller {mode:?}");
        }
    }
}

#[tokio::test]
async fn an_upstream_refuses_what_the_caller_did_not_declare_even_through_a_legacy_session() {
    for up in ERAS {
        let gw = gateway(up).await;
        let with = caller(&gw, Mode::Stateless, true).await;
        assert_eq!(text(&with.call_tool("needs_sampling", json!({})).await.expect("call")), "sampling declared");
        let without = caller(&gw, Mode::Stateless, false).await;
        match without.call_tool("needs_sampling", json!({})).await {
            Err(ClientError::Rpc(e)) => {
                assert_eq!(e.code, ErrorCode::MISSING_REQUIRED_CLIENT_CAPABILITY, "upstream {up:?}: {e:?}");
            }
            other => panic!("upstream {up:?}: expected -32021, got {other:?}"),
        }
    }
}

/// A stateless caller whose elicitation handler waits (up to 5 s) until
/// `barrier` is full, then answers `name`.
async fn waiting_caller(
    gateway: &Gateway,
    name: &'static str,
    barrier: std::sync::Arc<tokio::sync::Barrier>,
) -> Client {
    let (client_end, server_end) = tokio::io::duplex(1 << 20);
    let (sr, sw) = tokio::io::split(server_end);
    tokio::spawn(mcp_core::transport::stdio::serve_on(gateway.server(), sr, sw, Default::default()));
    let (read, write) = tokio::io::split(client_end);
    ClientBuilder::new("caller", "1")
        .mode(Mode::Legacy)
        .elicitation(move |_p: ElicitRequestParams| {
            let barrier = std::sync::Arc::clone(&barrier);
            async move {
                let _ = tokio::time::timeout(Duration::from_secs(5), barrier.wait()).await;
                let Value::Object(content) = json!({"name": name}) else {
                    return Err(ErrorObject::new(ErrorCode::INTERNAL_ERROR, "not an object"));
                };
                Ok(ElicitResult { result_type: None, action: ElicitAction::Accept, content: Some(content), meta: None })
            }
        })
        .connect(mcp_core::client::StdioTransport::from_streams(read, write))
        .await
        .expect("connect")
}

#[tokio::test]
async fn concurrent_calls_on_a_legacy_http_upstream_each_ask_their_own_caller() {
    // Both calls are in flight on one upstream session when it asks: the
    // question comes on each call's own response stream, which says whose.
    let gw = gateway(Mode::Legacy).await;
    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(2));
    let ferris = waiting_caller(&gw, "Ferris", std::sync::Arc::clone(&barrier)).await;
    let corro = waiting_caller(&gw, "Corro", barrier).await;
    let (a, b) = tokio::join!(ferris.call_tool("named", json!({})), corro.call_tool("named", json!({})));
    assert_eq!(text(&a.expect("Ferris's call")), "Ferris");
    assert_eq!(text(&b.expect("Corro's call")), "Corro");
}

#[tokio::test]
async fn concurrent_calls_on_a_legacy_http_upstream_each_get_their_own_log() {
    // Two calls in flight on one upstream session: each log message came on
    // its call's response stream, which says whose it is.
    let gw = gateway(Mode::Legacy).await;
    let (a, b) = (caller(&gw, Mode::Legacy, true).await, caller(&gw, Mode::Legacy, true).await);
    for c in [&a, &b] {
        c.set_log_level(LoggingLevel::Info).await.expect("set the level");
    }
    let (mut notes_a, mut notes_b) = (a.notifications(), b.notifications());
    let (ra, rb) =
        tokio::join!(a.call_tool("says", json!({"word": "alpha"})), b.call_tool("says", json!({"word": "beta"})));
    assert_eq!(text(&ra.expect("a's call")), "alpha");
    assert_eq!(text(&rb.expect("b's call")), "beta");
    for (notes, want) in [(&mut notes_a, "alpha"), (&mut notes_b, "beta")] {
        let mut logs = Vec::new();
        while let Ok(Ok(n)) = tokio::time::timeout(Duration::from_millis(300), notes.recv()).await {
            if let ServerNotification::Log(m) = n {
                logs.push(m.data);
            }
        }
        assert_eq!(logs, [json!(want)], "each caller hears its own call's log");
    }
}
