//! An in-process client: drives a `Server` through `Server::handle`, in a
//! legacy session (after `initialize`) or statelessly (2026-07-28), and
//! collects what the server sends besides responses.

#![allow(dead_code)] // each test binary uses a part

use std::sync::Arc;

use mcp_core::jsonrpc::Message;
use mcp_core::server::{Server, ServerRequest, Session, Sink};
use serde_json::{Value, json};
use tokio::sync::mpsc;

pub(crate) const STATELESS: &str = "2026-07-28";

pub(crate) struct Client {
    server: Server,
    version: &'static str,
    session: Option<Arc<Session>>,
    sink: Sink,
    outbound: mpsc::Receiver<String>,
    next_id: i64,
    /// Extensions every request carries (a principal, say).
    pub(crate) extensions: http::Extensions,
}

impl Client {
    /// A client speaking `version`: `initialize`d for a legacy version.
    pub(crate) async fn connect(server: &Server, version: &'static str) -> Self {
        let (sink, outbound) = Sink::channel(256);
        let session = (version != STATELESS).then(|| Session::new(None, sink.clone()));
        let mut client = Self {
            server: server.clone(),
            version,
            session,
            sink,
            outbound,
            next_id: 0,
            extensions: http::Extensions::new(),
        };
        if version != STATELESS {
            let init = client
                .request(
                    "initialize",
                    json!({
                        "protocolVersion": version,
                        "capabilities": {},
                        "clientInfo": { "name": "test", "version": "1" },
                    }),
                )
                .await;
            assert_eq!(init["result"]["protocolVersion"], version, "{init}");
            client.send(json!({ "jsonrpc": "2.0", "method": "notifications/initialized" })).await;
        }
        client
    }

    async fn send(&mut self, message: Value) -> Option<Value> {
        let message = Message::parse(message.to_string().as_bytes()).expect("a valid message");
        let mut req = ServerRequest::new(message, self.session.clone(), self.sink.clone());
        req.extensions = self.extensions.clone();
        let response = self.server.handle(req).await?;
        let mut out = Vec::new();
        response.write_to(&mut out);
        Some(serde_json::from_slice(&out).expect("the response is JSON"))
    }

    /// Sends a request and returns the whole response (`result` or
    /// `error`). Stateless requests get the protocol `_meta`.
    pub(crate) async fn request(&mut self, method: &str, mut params: Value) -> Value {
        if self.version == STATELESS {
            let meta = params.as_object_mut().expect("params object").entry("_meta").or_insert_with(|| json!({}));
            meta["io.modelcontextprotocol/protocolVersion"] = json!(STATELESS);
            meta["io.modelcontextprotocol/clientCapabilities"] = json!({});
        }
        self.next_id += 1;
        let msg = json!({ "jsonrpc": "2.0", "id": self.next_id, "method": method, "params": params });
        self.send(msg).await.expect("a request gets a response")
    }

    /// `tools/list`'s tools.
    pub(crate) async fn tools(&mut self) -> Vec<Value> {
        let r = self.request("tools/list", json!({})).await;
        r["result"]["tools"].as_array().cloned().unwrap_or_else(|| panic!("no tools: {r}"))
    }

    /// The tool called `name` in `tools/list`.
    pub(crate) async fn tool(&mut self, name: &str) -> Value {
        self.tools().await.into_iter().find(|t| t["name"] == name).unwrap_or_else(|| panic!("no tool {name}"))
    }

    /// `tools/call`'s whole response.
    pub(crate) async fn call(&mut self, name: &str, arguments: Value) -> Value {
        self.request("tools/call", json!({ "name": name, "arguments": arguments })).await
    }

    /// The text of a successful call's first content block.
    pub(crate) async fn call_text(&mut self, name: &str, arguments: Value) -> String {
        let r = self.call(name, arguments).await;
        assert_ne!(r["result"]["isError"], true, "{r}");
        r["result"]["content"][0]["text"].as_str().unwrap_or_else(|| panic!("no text: {r}")).to_owned()
    }

    /// The text of a call that failed with an `isError` result.
    pub(crate) async fn call_error(&mut self, name: &str, arguments: Value) -> String {
        let r = self.call(name, arguments).await;
        assert_eq!(r["result"]["isError"], true, "{r}");
        r["result"]["content"][0]["text"].as_str().unwrap_or_else(|| panic!("no text: {r}")).to_owned()
    }

    /// What the server sent besides responses so far.
    pub(crate) fn outbound(&mut self) -> Vec<Value> {
        let mut out = Vec::new();
        while let Ok(line) = self.outbound.try_recv() {
            out.push(serde_json::from_str(&line).expect("outbound JSON"));
        }
        out
    }
}
