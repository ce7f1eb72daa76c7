//! moto in server mode (a real DynamoDB API on 127.0.0.1) for the tests.
//!
//! moto comes from the test venv (`./scripts/test.sh` installs it); each
//! test starts `moto_server` itself. The tests that need it are
//! `#[ignore = "needs moto_server ..."]`, so that a plain `cargo test` lists them as ignored
//! (with the reason) instead of passing them untested; the test script runs
//! them with `--run-ignored all`. Run explicitly, a test fails when moto is
//! missing.
#![allow(dead_code, unreachable_pub)]

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};

/// A moto server, killed on drop.
pub struct Moto {
    child: Child,
    pub endpoint: String,
    pub port: u16,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn moto_binary() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("MOTO_SERVER") {
        return Some(PathBuf::from(path));
    }
    let default = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.cache/venv/bin/moto_server");
    default.is_file().then_some(default)
}

/// A free port on 127.0.0.1.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free port").port()
}

/// Starts moto on a free port.
pub fn start_moto() -> Moto {
    start_moto_on(free_port())
}

/// Starts moto on `port`, waiting (up to 20 s) until it accepts
/// connections; fails the test when moto is not installed.
pub fn start_moto_on(port: u16) -> Moto {
    let bin = moto_binary().unwrap_or_else(|| {
        panic!("moto_server not found: run ./scripts/test.sh (it installs moto into .cache/venv) or set MOTO_SERVER")
    });
    let child = Command::new(&bin)
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("{}: {e}", bin.display()));
    let moto = Moto { child, endpoint: format!("http://127.0.0.1:{port}"), port };
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "moto_server did not start on port {port}");
        std::thread::sleep(Duration::from_millis(50));
    }
    moto
}

/// A DynamoDB client for moto at `endpoint`, with dummy credentials.
pub async fn client(endpoint: &str) -> aws_sdk_dynamodb::Client {
    let config = aws_sdk_dynamodb::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("testing", "testing", None, None, "static"))
        .build();
    aws_sdk_dynamodb::Client::from_conf(config)
}
