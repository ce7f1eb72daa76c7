//! Who sent an HTTP event (the caller's IP as API Gateway or ALB saw it),
//! and the path it named without the API Gateway stage.

use std::net::IpAddr;

use lambda_http::request::RequestContext;

/// The client's IP: API Gateway's `sourceIp` (v1 `identity.sourceIp`, v2
/// and Function URLs `http.sourceIp`); behind ALB, the last
/// `X-Forwarded-For` entry (the one ALB appended; earlier ones are the
/// client's word).
pub(super) fn client_ip(parts: &http::request::Parts) -> Option<IpAddr> {
    let from_context = match parts.extensions.get::<RequestContext>()? {
        RequestContext::ApiGatewayV1(ctx) => ctx.identity.source_ip.as_deref(),
        RequestContext::ApiGatewayV2(ctx) => ctx.http.source_ip.as_deref(),
        _ => None,
    };
    if let Some(ip) = from_context.and_then(|ip| ip.trim().parse().ok()) {
        return Some(ip);
    }
    let forwarded = parts.headers.get_all("x-forwarded-for").iter().filter_map(|v| v.to_str().ok()).next_back()?;
    forwarded.rsplit(',').next()?.trim().parse().ok()
}

/// The request's path without its API Gateway stage prefix (`/prod/tools`
/// → `/tools`), when the event names a stage other than `$default` and the
/// path starts with it; `None` otherwise.
pub(super) fn path_without_stage(parts: &http::request::Parts) -> Option<String> {
    let stage = match parts.extensions.get::<RequestContext>()? {
        RequestContext::ApiGatewayV1(ctx) => ctx.stage.as_deref(),
        RequestContext::ApiGatewayV2(ctx) => ctx.stage.as_deref(),
        _ => None,
    }?;
    if stage.is_empty() || stage == "$default" {
        return None;
    }
    let path = parts.uri.path();
    let rest = path.strip_prefix('/')?.strip_prefix(stage)?;
    match rest {
        "" => Some("/".to_owned()),
        r if r.starts_with('/') => Some(r.to_owned()),
        _ => None,
    }
}
