//! A command-line MCP client: lists a server's tools, resources and prompts,
//! and calls a tool.
//!
//! ```text
//! cargo run -p mcp-core --features client --example client -- http://127.0.0.1:3000/mcp
//! cargo run -p mcp-core --features client --example client -- http://127.0.0.1:3000/mcp add '{"a": 1, "b": 2}'
//! cargo run -p mcp-core --features client --example client -- --stdio "cargo run -p everything -- --stdio"
//! ```
//!
//! `MCP_BEARER_TOKEN` adds `Authorization: Bearer ...` to HTTP requests;
//! `MCP_MODE=legacy|stateless` pins the protocol era.

use std::error::Error;

use mcp_core::client::{
    BearerToken, ClientBuilder, HttpTransport, Mode, ServerNotification, StderrMode, StdioTransport,
};
use mcp_core::jsonrpc::ErrorObject;
use mcp_core::protocol::elicitation::{ElicitAction, ElicitRequestParams, ElicitResult};

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: client (URL | --stdio COMMAND) [TOOL [JSON-ARGUMENTS]]";
    let (target, rest) = match args.first().map(String::as_str) {
        Some("--stdio") => (args.get(1).ok_or(usage)?.clone(), &args[2.min(args.len())..]),
        Some(url) => (url.to_owned(), &args[1..]),
        None => return Err(usage.into()),
    };
    let mode = match std::env::var("MCP_MODE").as_deref() {
        Ok("legacy") => Mode::Legacy,
        Ok("stateless") => Mode::Stateless,
        _ => Mode::Auto,
    };
    let builder = ClientBuilder::new("mcp-sdk-example-client", env!("CARGO_PKG_VERSION")).mode(mode).elicitation(
        |params: ElicitRequestParams| async move {
            eprintln!("the server asks: {} (declining: this example cannot prompt)", params.message());
            Ok::<_, ErrorObject>(ElicitResult {
                result_type: None,
                action: ElicitAction::Decline,
                content: None,
                meta: None,
            })
        },
    );
    let client = if args.first().map(String::as_str) == Some("--stdio") {
        let mut words = target.split_whitespace();
        let mut cmd = tokio::process::Command::new(words.next().ok_or(usage)?);
        cmd.args(words);
        builder.connect(StdioTransport::spawn(cmd, StderrMode::Inherit)?).await?
    } else {
        let mut transport = HttpTransport::builder(&target);
        if let Ok(token) = std::env::var("MCP_BEARER_TOKEN") {
            transport = transport.auth(BearerToken::new(&token)?);
        }
        builder.connect(transport.build()?).await?
    };
    let n = client.negotiated();
    println!("connected: protocol {} to {:?}", n.protocol_version, n.server_info.as_ref().map(|i| &i.name));

    let mut notes = client.notifications();
    tokio::spawn(async move {
        while let Ok(note) = notes.recv().await {
            match note {
                ServerNotification::Progress(p) => {
                    eprintln!("progress {}/{:?} {}", p.progress, p.total, p.message.unwrap_or_default())
                }
                ServerNotification::Log(l) => eprintln!("log [{}] {}", l.level.as_str(), l.data),
                other => eprintln!("notification {other:?}"),
            }
        }
    });

    match rest {
        [] => {
            for tool in client.list_tools().await? {
                println!("tool      {:<40} {}", tool.name, tool.description.unwrap_or_default());
            }
            if n.capabilities.resources.is_some() {
                for r in client.list_resources().await? {
                    println!("resource  {:<40} {}", r.uri, r.name);
                }
            }
            if n.capabilities.prompts.is_some() {
                for p in client.list_prompts().await? {
                    println!("prompt    {:<40} {}", p.name, p.description.unwrap_or_default());
                }
            }
        }
        [tool, more @ ..] => {
            let arguments: serde_json::Value = match more.first() {
                Some(json) => serde_json::from_str(json)?,
                None => serde_json::Value::Null,
            };
            let result = client.call_tool(tool, arguments).await?;
            println!("{}", serde_json::to_string_pretty(&result)?);
        }
    }
    client.close().await;
    Ok(())
}
