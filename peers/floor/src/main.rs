//! The floor `scripts/compare.sh` measures the MCP servers against: hyper
//! on a multi-threaded tokio runtime, set up as the servers are (HTTP/1.1
//! keep-alive, `TCP_NODELAY`), that reads each request body whole and
//! answers the `add` call's result as fixed bytes. No JSON is parsed and no
//! MCP rule applies, so its figures are what the machine, the kernel's
//! loopback and hyper cost on their own: no MCP server can beat them.

use std::convert::Infallible;

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;

const RESULT: &str = r#"{"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"5"}],"isError":false,"resultType":"complete"}}"#;

async fn answer(req: hyper::Request<Incoming>) -> Result<hyper::Response<Full<Bytes>>, Infallible> {
    // Read the body as a server must, then answer.
    let _ = req.into_body().collect().await;
    let mut resp = hyper::Response::new(Full::new(Bytes::from_static(RESULT.as_bytes())));
    resp.headers_mut().insert(hyper::header::CONTENT_TYPE, hyper::header::HeaderValue::from_static("application/json"));
    Ok(resp)
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let port: u16 = std::env::var("PORT").ok().and_then(|p| p.parse().ok()).unwrap_or(3002);
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    eprintln!("floor: answering every POST at http://127.0.0.1:{port}/ with a fixed result");
    loop {
        let (stream, _) = listener.accept().await?;
        let _ = stream.set_nodelay(true);
        tokio::spawn(async move {
            let _ = hyper::server::conn::http1::Builder::new()
                .keep_alive(true)
                .serve_connection(TokioIo::new(stream), hyper::service::service_fn(answer))
                .await;
        });
    }
}
