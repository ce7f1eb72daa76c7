//! The CLI against moto: create the table, serve the registry service,
//! and list, get and decommission through both the table and the service.

#[path = "../../mcp-aws/tests/moto/mod.rs"]
mod moto;

use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn cli(endpoint: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mcp-registry"))
        .args(args)
        .env("AWS_ENDPOINT_URL", endpoint)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", "us-east-1")
        .env("MCP_REGISTRATION_TOKEN", "cli-token")
        .env_remove("MCP_REGISTRY_URL")
        .env_remove("MCP_REGISTRY_TABLE")
        .output()
        .expect("runs")
}

fn json(out: &Output) -> Value {
    assert!(out.status.success(), "stderr: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("JSON on stdout")
}

/// `mcp-registry --table TABLE serve` on a free port, with the health
/// checker every 0.2 s, once it accepts connections.
fn serve(ep: &str, table: &str) -> (Killed, u16) {
    serve_with(ep, table, &[])
}

/// [`serve`] with more variables.
fn serve_with(ep: &str, table: &str, vars: &[(&str, &str)]) -> (Killed, u16) {
    let port = moto::free_port();
    let bind = format!("127.0.0.1:{port}");
    let mut serve = Command::new(env!("CARGO_BIN_EXE_mcp-registry"));
    serve.args(["--table", table, "serve", "--bind", &bind, "--health-interval", "0.2"]);
    serve.env("AWS_ENDPOINT_URL", ep).env("AWS_ACCESS_KEY_ID", "testing").env("AWS_SECRET_ACCESS_KEY", "testing");
    serve
        .env("AWS_REGION", "us-east-1")
        .env("MCP_REGISTRATION_TOKEN", "cli-token")
        .env_remove("AWS_LAMBDA_RUNTIME_API")
        .envs(vars.iter().copied());
    let service = Killed(serve.stdout(Stdio::null()).stderr(Stdio::null()).spawn().expect("serve"));
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "the service did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    (service, port)
}

fn register(port: u16, body: &str) {
    let answer = exchange(port, "POST", "/mcp/register", "X-Registration-Token: cli-token", body);
    assert!(answer.starts_with("HTTP/1.1 201"), "{answer}");
}

/// One HTTP/1.1 exchange with the service: the whole answer as text.
fn exchange(port: u16, method: &str, path: &str, header: &str, body: &str) -> String {
    use std::io::{Read as _, Write as _};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
    stream.set_read_timeout(Some(Duration::from_secs(10))).expect("timeout");
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: x\r\n{header}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).and_then(|()| stream.write_all(body.as_bytes())).expect("write");
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    answer
}

#[test]
#[ignore = "needs moto_server: ./scripts/test.sh runs it (or MOTO_SERVER=... cargo test -- --include-ignored)"]
fn list_get_and_decommission_through_the_table_and_the_service() {
    let moto = moto::start_moto();
    let ep = moto.endpoint.as_str();
    let table = ["--table", "MCPServerRegistry-cli"];
    assert!(cli(ep, &[&table[..], &["create-table"]].concat()).status.success());

    let (_service, port) = serve(ep, "MCPServerRegistry-cli");
    let bind = format!("127.0.0.1:{port}");
    // No health_check_url answers here, so the checker will mark `dead` unhealthy.
    register(
        port,
        r#"{"server_id":"dead","version":"1","server_name":"D","endpoint_url":"http://127.0.0.1:9/mcp","health_check_url":"http://127.0.0.1:9/health"}"#,
    );

    let url = format!("http://{bind}");
    let via_service = ["--url", url.as_str()];
    let listed = json(&cli(ep, &[&via_service[..], &["list"]].concat()));
    assert_eq!(listed[0]["server_id"], "dead");
    let got = json(&cli(ep, &[&table[..], &["get", "dead", "1"]].concat()));
    assert_eq!(got["endpoint_url"], "http://127.0.0.1:9/mcp");

    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let unhealthy = json(&cli(ep, &[&table[..], &["list", "--status", "unhealthy"]].concat()));
        if unhealthy.as_array().is_some_and(|a| a.len() == 1) {
            break;
        }
        assert!(Instant::now() < deadline, "the health checker did not mark the server unhealthy");
        std::thread::sleep(Duration::from_millis(100));
    }

    let retired = json(&cli(ep, &[&via_service[..], &["decommission", "dead", "1"]].concat()));
    assert_eq!(retired["status"], "decommissioned");
    let active = json(&cli(ep, &[&table[..], &["list", "--status", "active"]].concat()));
    assert_eq!(active, serde_json::json!([]));

    let missing = cli(ep, &[&table[..], &["decommission", "nope", "1"]].concat());
    failed(&missing, "no registry entry for server nope");
}

/// Exit status 1, nothing on stdout, and `why` on stderr.
fn failed(out: &Output, why: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "exit status; stderr: {stderr}");
    assert!(out.stdout.is_empty(), "nothing on stdout: {}", String::from_utf8_lossy(&out.stdout));
    assert!(stderr.contains(why), "stderr says {why:?}: {stderr}");
}

/// Mistakes on the command line fail before any AWS call (nothing listens
/// at the endpoint), so scripts can rely on the exit status.
#[test]
fn bad_arguments_exit_with_status_1_and_say_why() {
    let nowhere = "http://127.0.0.1:9";
    let table = ["--table", "MCPServerRegistry-cli"];
    let bad = cli(nowhere, &[&table[..], &["list", "--status", "sleepy"]].concat());
    failed(&bad, "--status \"sleepy\": expected active, unhealthy or decommissioned");
    let usage = cli(nowhere, &["frobnicate"]);
    failed(&usage, "usage: mcp-registry");
    let dangling = cli(nowhere, &["list", "--status"]);
    failed(&dangling, "--status needs a value");
}

#[test]
#[ignore = "needs moto_server: ./scripts/test.sh runs it (or MOTO_SERVER=... cargo test -- --include-ignored)"]
fn api_keys_are_created_once_listed_by_hash_disabled_and_deleted() {
    let moto = moto::start_moto();
    let ep = moto.endpoint.as_str();
    let keys = |args: &[&str]| cli(ep, &[&["--keys-table", "mcp-api-keys-cli", "keys"][..], args].concat());
    assert!(keys(&["create-table"]).status.success());
    let created = json(&keys(&["create", "alice", "--permissions", "execute:*,read:reports", "--rate-limit", "30"]));
    let key = created["api_key"].as_str().expect("the key, once").to_owned();
    let hash = created["record"]["api_key_hash"].as_str().expect("hash").to_owned();
    assert_eq!(hash, mcp_aws::auth::hash_key(&key));
    assert_eq!(created["record"]["permissions"], serde_json::json!(["execute:*", "read:reports"]));

    let listed = keys(&["list"]);
    let text = String::from_utf8_lossy(&listed.stdout).into_owned();
    assert!(!text.contains(&key), "list shows keys: {text}");
    let list = json(&listed);
    assert_eq!((list[0]["api_key_hash"].as_str(), list[0]["rate_limit"].as_u64()), (Some(hash.as_str()), Some(30)));

    assert_eq!(json(&keys(&["disable", &hash[..8]]))["enabled"], false);
    assert_eq!(json(&keys(&["list"]))[0]["enabled"], false);
    assert!(!keys(&["disable", "0000000000"]).status.success(), "an unknown prefix fails");
    assert!(!keys(&["disable", "abc"]).status.success(), "a short prefix fails");
    assert_eq!(json(&keys(&["enable", &hash]))["enabled"], true);
    assert_eq!(json(&keys(&["delete", &hash[..12]]))["deleted"], true);
    assert_eq!(json(&keys(&["list"])), serde_json::json!([]));
}

#[test]
#[ignore = "needs moto_server: ./scripts/test.sh runs it (or MOTO_SERVER=... cargo test -- --include-ignored)"]
fn list_skips_an_unreadable_item_and_names_it_on_stderr() {
    use aws_sdk_dynamodb::types::AttributeValue;
    let moto = moto::start_moto();
    let ep = moto.endpoint.as_str();
    let table = "MCPServerRegistry-cli-mixed";
    assert!(cli(ep, &["--table", table, "create-table"]).status.success());
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    runtime.block_on(async {
        let client = moto::client(ep).await;
        let s = |v: &str| AttributeValue::S(v.to_owned());
        for (id, protocol) in [("good-a", "jsonrpc"), ("good-b", "graphql"), ("hand-written", "soap")] {
            client
                .put_item()
                .table_name(table)
                .item("server_id", s(id))
                .item("version", s("1"))
                .item("server_name", s(id))
                .item("endpoint_url", s("https://x.example.com/mcp"))
                .item("protocol_type", s(protocol))
                .item("status", s("active"))
                .send()
                .await
                .expect("PutItem");
        }
    });
    // On the table, and through the service (whose health checker runs
    // on the same table meanwhile).
    let (_service, port) = serve(ep, table);
    let url = format!("http://127.0.0.1:{port}");
    for args in [["--table", table, "list"], ["--url", url.as_str(), "list"]] {
        let out = cli(ep, &args);
        let listed = json(&out);
        let ids: Vec<&str> =
            listed.as_array().expect("a list").iter().filter_map(|e| e["server_id"].as_str()).collect();
        assert_eq!(ids, ["good-a", "good-b"], "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("hand-written") && stderr.contains("protocol_type"), "{args:?}: {stderr}");
    }

    // The integration guide's self-registration body, posted twice: one entry.
    let guide = r#"{"server_name": "My Custom MCP Server", "description": "Provides specialized tools for X",
        "endpoint_url": "https://my-server.example.com/mcp", "protocol_type": "jsonrpc", "authentication_type": "none",
        "available_tools": [{"name": "custom_tool", "description": "Does something custom",
            "inputSchema": {"type": "object", "properties": {"input": {"type": "string"}}, "required": ["input"]}}],
        "health_check_url": "https://my-server.example.com/health",
        "metadata": {"team": "platform-team", "cost_center": "12345"}}"#;
    register(port, guide);
    register(port, guide);
    let listed = json(&cli(ep, &["--table", table, "list"]));
    let guides: Vec<&Value> =
        listed.as_array().expect("a list").iter().filter(|e| e["server_name"] == "My Custom MCP Server").collect();
    assert_eq!(guides.len(), 1, "{listed}");
    assert_eq!(guides[0]["version"], "1.0.0");
}

#[test]
#[ignore = "needs moto_server: ./scripts/test.sh runs it (or MOTO_SERVER=... cargo test -- --include-ignored)"]
fn serve_opens_reads_to_api_keys_with_the_read_permission() {
    let moto = moto::start_moto();
    let ep = moto.endpoint.as_str();
    let keys = |args: &[&str]| cli(ep, &[&["--keys-table", "mcp-api-keys-readers", "keys"][..], args].concat());
    assert!(keys(&["create-table"]).status.success());
    let agent = json(&keys(&["create", "agent", "--permissions", "read:registry"]));
    let agent = format!("x-api-key: {}", agent["api_key"].as_str().expect("the key"));
    let other = json(&keys(&["create", "tools", "--permissions", "execute:*"]));
    let other = format!("x-api-key: {}", other["api_key"].as_str().expect("the key"));
    let table = "MCPServerRegistry-readers";
    assert!(cli(ep, &["--table", table, "create-table"]).status.success());
    let (_service, port) = serve_with(ep, table, &[("MCP_API_KEYS_TABLE", "mcp-api-keys-readers")]);
    // Checked at the service's own /health, so that the health checker (every 0.2 s) keeps it active.
    let own_health = format!("http://127.0.0.1:{port}/health");
    let body = serde_json::json!({"server_id": "calc", "server_name": "Calc",
        "endpoint_url": "https://calc.example.com/mcp", "health_check_url": own_health});
    register(port, &body.to_string());

    let listed = exchange(port, "GET", "/mcp/servers", &agent, "");
    assert!(listed.starts_with("HTTP/1.1 200") && listed.contains(r#""server_id":"calc""#), "{listed}");
    let got = exchange(port, "GET", "/mcp/servers/calc/1.0.0", &agent, "");
    assert!(got.starts_with("HTTP/1.1 200"), "{got}");
    let forbidden = exchange(port, "GET", "/mcp/servers", &other, "");
    assert!(forbidden.starts_with("HTTP/1.1 403"), "{forbidden}");
    let anonymous = exchange(port, "GET", "/mcp/servers", "Accept: */*", "");
    assert!(anonymous.starts_with("HTTP/1.1 401"), "{anonymous}");
    assert!(anonymous.to_lowercase().contains("www-authenticate: bearer"), "{anonymous}");
    let body = r#"{"server_name":"X","endpoint_url":"https://x.example.com/mcp"}"#;
    let write = exchange(port, "POST", "/mcp/register", &agent, body);
    assert!(write.starts_with("HTTP/1.1 401"), "writes need the token: {write}");
}
