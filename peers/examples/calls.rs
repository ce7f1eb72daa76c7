//! Runs N in-process `tools/call`s, for instruction counts that a busy
//! machine does not blur:
//!
//! ```sh
//! cargo build --release --manifest-path peers/Cargo.toml --example calls
//! valgrind --tool=callgrind --callgrind-out-file=/dev/null target/release/examples/calls frame 2000
//! ```
//!
//! Modes: `frame` (this SDK's `handle_frame`), `http` (its Streamable HTTP
//! service), `rmcp-http` (rmcp's). Run two counts and divide the
//! difference by the difference in calls to leave out the set-up.

use mcp_core::server::{Sink, handle_frame};
use mcp_core::transport::http::StreamableHttp;
use mcp_peers::{CALL_BODY, body_bytes, ours, post, rmcp_add};
use tower_service::Service as _;

fn main() {
    let mut args = std::env::args().skip(1);
    let mode = args.next().unwrap_or_else(|| "frame".to_owned());
    let n: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(100_000);
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let server = ours::server();
    let mut ours_http = StreamableHttp::new(server.clone());
    let mut rmcp_http = rmcp_add::http_service();
    let ext = http::Extensions::new();
    let mut bytes = 0;
    for _ in 0..n {
        bytes += match mode.as_str() {
            "frame" => rt
                .block_on(handle_frame(server.clone(), CALL_BODY.as_bytes(), None, &Sink::none(), &ext))
                .map_or(0, |b| b.len()),
            "http" => {
                let Ok(resp) = rt.block_on(ours_http.call(post(CALL_BODY)));
                rt.block_on(body_bytes(resp.into_body())).len()
            }
            "rmcp-http" => {
                let Ok(resp) = rt.block_on(rmcp_http.call(post(CALL_BODY)));
                rt.block_on(body_bytes(resp.into_body())).len()
            }
            other => panic!("unknown mode {other:?}: frame, http or rmcp-http"),
        };
    }
    println!("{n} calls, {bytes} response bytes");
}
