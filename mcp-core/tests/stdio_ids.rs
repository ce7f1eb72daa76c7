//! Request ids on stdio: a finished request's id may be reused, and a
//! duplicate of a running request's id is refused.

use std::time::Duration;

use mcp_core::server::{Context, NoArgs, ServerBuilder, ToolRoute};
use mcp_core::transport::stdio::serve_on;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

async fn next(lines: &mut tokio::io::Lines<BufReader<tokio::io::ReadHalf<tokio::io::DuplexStream>>>) -> Value {
    let line = tokio::time::timeout(Duration::from_secs(5), lines.next_line()).await.expect("a reply").expect("io");
    serde_json::from_str(&line.expect("a line")).expect("json")
}

#[tokio::test]
async fn ids_are_reusable_after_completion_but_not_while_running() {
    let server = ServerBuilder::new("t", "1")
        .tool(ToolRoute::new("wait", |ctx: Context, _: NoArgs| async move {
            ctx.cancelled().await;
            "never"
        }))
        .build()
        .expect("valid");
    let (client, server_io) = tokio::io::duplex(1 << 16);
    let (r, w) = tokio::io::split(server_io);
    let s = server.clone();
    tokio::spawn(async move { serve_on(s, r, w, Default::default()).await });
    let (cr, mut cw) = tokio::io::split(client);
    let mut lines = BufReader::new(cr).lines();
    let mut send = async |v: Value| {
        cw.write_all(format!("{v}\n").as_bytes()).await.expect("write");
    };
    send(json!({"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"c","version":"1"}}})).await;
    assert_eq!(next(&mut lines).await["id"], 0);
    for _ in 0..3 {
        send(json!({"jsonrpc":"2.0","id":7,"method":"ping"})).await;
        let reply = next(&mut lines).await;
        assert_eq!(reply, json!({"jsonrpc":"2.0","id":7,"result":{}}));
    }
    send(json!({"jsonrpc":"2.0","id":8,"method":"tools/call","params":{"name":"wait"}})).await;
    send(json!({"jsonrpc":"2.0","id":8,"method":"ping"})).await;
    let dup = next(&mut lines).await;
    assert_eq!(dup["error"]["code"], -32600, "{dup}");
    assert!(dup["error"]["message"].as_str().unwrap_or("").contains("already in use"), "{dup}");
    // Cancelling the running request frees its id.
    send(json!({"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":8}})).await;
    // The cancelled task releases the id as it ends; poll until it has.
    let mut freed = false;
    for _ in 0..100 {
        send(json!({"jsonrpc":"2.0","id":8,"method":"ping"})).await;
        if next(&mut lines).await == json!({"jsonrpc":"2.0","id":8,"result":{}}) {
            freed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(freed, "id 8 was never released after cancellation");
}
