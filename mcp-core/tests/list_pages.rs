//! List pagination, and the encoded pages the registry keeps: every page
//! is reachable through the cursors, a repeated listing answers the same
//! bytes, and a tool added or removed at run time shows in the next list
//! (the whole list read through the client, which follows the cursors).

use mcp_core::client::{ClientBuilder, StdioTransport};
use mcp_core::server::{Context, NoArgs, Server, ServerBuilder, Sink, ToolRoute, handle_frame};
use serde_json::{Value, json};

fn tool(name: &str) -> ToolRoute {
    ToolRoute::new(name, |_ctx: Context, _: NoArgs| async { "ok" }).with_description("A tool")
}

fn server(n: usize) -> Server {
    let mut b = ServerBuilder::new("pages", "1").page_size(2);
    for i in 0..n {
        b = b.tool(tool(&format!("t{i}")));
    }
    b.build().expect("valid")
}

async fn list(server: &Server, cursor: Option<&str>) -> (String, Value) {
    let mut params = json!({"_meta": {
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientCapabilities": {},
    }});
    if let Some(c) = cursor {
        params["cursor"] = json!(c);
    }
    let frame = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": params}).to_string();
    let out = handle_frame(server.clone(), frame.as_bytes(), None, &Sink::none(), &http::Extensions::new())
        .await
        .expect("a response");
    let text = String::from_utf8(out).expect("utf-8");
    let v: Value = serde_json::from_str(&text).expect("json");
    (text, v)
}

/// Every tool name, as a client sees them: the client follows
/// `nextCursor` from the first page (and refuses a repeated cursor).
async fn all_names(server: &Server) -> Vec<String> {
    let (client_end, server_end) = tokio::io::duplex(1 << 16);
    let (read, write) = tokio::io::split(server_end);
    tokio::spawn(mcp_core::transport::stdio::serve_on(server.clone(), read, write, Default::default()));
    let (read, write) = tokio::io::split(client_end);
    let client = ClientBuilder::new("pages-test", "1")
        .connect(StdioTransport::from_streams(read, write))
        .await
        .expect("connect");
    client.list_tools().await.expect("every page").into_iter().map(|t| t.name).collect()
}

#[tokio::test]
async fn cursors_reach_every_tool_once_in_order() {
    let s = server(5);
    assert_eq!(all_names(&s).await, ["t0", "t1", "t2", "t3", "t4"]);
    // The last page has no cursor; the first has one.
    let (_, first) = list(&s, None).await;
    assert_eq!(first["result"]["tools"].as_array().map(Vec::len), Some(2));
    assert!(first["result"]["nextCursor"].is_string());
    let (_, last) = list(&s, Some(first["result"]["nextCursor"].as_str().unwrap_or_default())).await;
    let (_, last) = list(&s, last["result"]["nextCursor"].as_str()).await;
    assert_eq!(last["result"]["tools"][0]["name"], "t4", "{last}");
    assert!(last["result"].get("nextCursor").is_none(), "{last}");
}

#[tokio::test]
async fn a_repeated_listing_answers_the_same_bytes() {
    let s = server(3);
    let (a, _) = list(&s, None).await;
    let (b, _) = list(&s, None).await;
    assert_eq!(a, b);
    let (_, first) = list(&s, None).await;
    let next = first["result"]["nextCursor"].as_str().expect("cursor").to_owned();
    let (c, _) = list(&s, Some(&next)).await;
    let (d, v) = list(&s, Some(&next)).await;
    assert_eq!(c, d);
    assert_eq!(v["result"]["tools"][0]["name"], "t2", "{v}");
}

#[tokio::test]
async fn tools_added_or_removed_at_run_time_show_in_the_next_list() {
    let s = server(3);
    // Fill the cache first.
    assert_eq!(all_names(&s).await, ["t0", "t1", "t2"]);
    s.add_tool(tool("late")).expect("valid");
    assert_eq!(all_names(&s).await, ["t0", "t1", "t2", "late"]);
    assert!(s.remove_tool("t0"));
    assert_eq!(all_names(&s).await, ["t1", "t2", "late"]);
}
