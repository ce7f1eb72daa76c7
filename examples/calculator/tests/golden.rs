//! The calculator's listings, compared with the golden files in
//! `tests/golden/` (reviewed by eye when they change). Regenerate them with
//! `UPDATE_GOLDEN=1 cargo test -p calculator --test golden`.
//!
//! Beyond the exact text, the listings must describe every tool, prompt,
//! resource and property, list exactly the non-optional arguments as
//! required, and give an `outputSchema` to the tools that return `Json<T>`.

use std::path::PathBuf;

use mcp_core::jsonrpc::Message;
use mcp_core::server::{Server, ServerRequest, Sink};
use serde_json::{Value, json};

/// The `result` of a stateless (2026-07-28) `method` request.
async fn list(server: &Server, method: &str) -> Value {
    let request = json!({
        "jsonrpc": "2.0",
        "id": 1,
        "method": method,
        "params": { "_meta": {
            "io.modelcontextprotocol/protocolVersion": "2026-07-28",
            "io.modelcontextprotocol/clientCapabilities": {},
        } },
    });
    let message = Message::parse(request.to_string().as_bytes()).expect("a valid request");
    let response = server.handle(ServerRequest::new(message, None, Sink::none())).await.expect("a response");
    let mut out = Vec::new();
    response.write_to(&mut out);
    let mut response: Value = serde_json::from_slice(&out).expect("JSON");
    response["result"].take()
}

/// Compares `actual` with `tests/golden/<name>.json`, or rewrites the file
/// when `UPDATE_GOLDEN` is set.
fn golden(name: &str, actual: &Value) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden").join(format!("{name}.json"));
    let pretty = serde_json::to_string_pretty(actual).expect("JSON") + "\n";
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, pretty).expect("write the golden file");
        return;
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e}; run with UPDATE_GOLDEN=1 to create it", path.display()));
    let expected: Value = serde_json::from_str(&expected).expect("the golden file is JSON");
    assert!(
        &expected == actual,
        "{name} differs from {}; if the change is intended, run with UPDATE_GOLDEN=1 and review the diff.\nnow:\n{pretty}",
        path.display()
    );
}

/// Every property of `schema`, at any depth, has a description.
fn undescribed(schema: &Value, path: &str, out: &mut Vec<String>) {
    for (name, prop) in schema["properties"].as_object().into_iter().flatten() {
        let here = format!("{path}.{name}");
        if prop["description"].as_str().is_none_or(str::is_empty) {
            out.push(here.clone());
        }
        undescribed(prop, &here, out);
        undescribed(&prop["items"], &here, out);
    }
}

#[tokio::test]
async fn tools_list() {
    let server = calculator::server().expect("valid server");
    let mut result = list(&server, "tools/list").await;
    let tools = result["tools"].take();
    golden("tools_list", &tools);

    let tools = tools.as_array().expect("tools");
    let mut missing = Vec::new();
    for tool in tools {
        let name = tool["name"].as_str().expect("name");
        if tool["description"].as_str().is_none_or(str::is_empty) {
            missing.push(name.to_owned());
        }
        undescribed(&tool["inputSchema"], name, &mut missing);
        undescribed(&tool["outputSchema"], &format!("{name}->"), &mut missing);
    }
    assert!(missing.is_empty(), "without a description: {missing:?}");

    let by_name = |n: &str| tools.iter().find(|t| t["name"] == n).unwrap_or_else(|| panic!("no {n}"));
    for (name, required) in [
        ("add", json!(["a", "b"])),
        ("subtract", json!(["a", "b"])),
        ("multiply", json!(["a", "b"])),
        ("divide", json!(["a", "b"])),
        ("count", json!(["steps"])),
    ] {
        assert_eq!(by_name(name)["inputSchema"]["required"], required, "{name}");
    }
    assert!(by_name("confirm_reset")["inputSchema"].get("required").is_none());
    let with_output: Vec<&str> =
        tools.iter().filter(|t| t.get("outputSchema").is_some()).filter_map(|t| t["name"].as_str()).collect();
    assert_eq!(with_output, ["divide"], "only `divide` returns `Json<T>`");
    assert_eq!(by_name("divide")["outputSchema"]["required"], json!(["quotient", "remainder"]));
}

#[tokio::test]
async fn prompts_and_resources_lists() {
    let server = calculator::server().expect("valid server");
    let prompts = list(&server, "prompts/list").await["prompts"].take();
    golden("prompts_list", &prompts);
    for prompt in prompts.as_array().expect("prompts") {
        assert!(prompt["description"].is_string(), "{prompt}");
        for arg in prompt["arguments"].as_array().into_iter().flatten() {
            assert!(arg["description"].is_string(), "{prompt}");
        }
    }
    let resources = list(&server, "resources/list").await["resources"].take();
    let templates = list(&server, "resources/templates/list").await["resourceTemplates"].take();
    golden("resources_list", &json!({ "resources": resources, "resourceTemplates": templates }));
}
