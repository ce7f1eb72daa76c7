//! The façade's handler: each route becomes a `tools/list` or `tools/call`
//! through the layered service, and its reply plain JSON.

use std::sync::Arc;

use bytes::Bytes;
use http::{HeaderValue, Method, StatusCode, header};
use serde::Serialize;
use serde_json::value::RawValue;
use serde_json::{Value, json};

use super::Route;
use crate::jsonrpc::{ErrorCode, Message, Request, RequestId, Response};
use crate::protocol::{ProtocolVersion, methods};
use crate::server::{McpService, ServerRequest, Sink, TOOL_ERROR_META_KEY, call, without_position};
use crate::transport::http::guard::content_type_is_json;
use crate::transport::http::{BodyError, BoxError, HttpBody, Inner, auth_challenge, json_response, rate_limit_headers};

/// The version façade calls are served in: structured results, and invalid
/// arguments as errors (400) rather than tool results.
const REST_VERSION: ProtocolVersion = ProtocolVersion::V2025_06_18;

/// Pages of `tools/list` followed at most, against a cursor loop.
const MAX_PAGES: usize = 1000;

/// A façade error: `{"error": {"code", "message", "details"}}`.
pub(crate) fn rest_error(
    status: StatusCode,
    code: &str,
    message: &str,
    details: Option<Value>,
) -> http::Response<HttpBody> {
    let mut error = json!({ "code": code, "message": message });
    if let Some(details) = details {
        error["details"] = details;
    }
    json_response(status, json!({ "error": error }).to_string().into_bytes())
}

fn method_not_allowed(allow: &'static str) -> http::Response<HttpBody> {
    let mut resp = rest_error(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        &format!("method not allowed: use {allow}"),
        None,
    );
    resp.headers_mut().insert(header::ALLOW, HeaderValue::from_static(allow));
    resp
}

#[derive(Serialize)]
struct CallParams<'a> {
    name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    arguments: Option<&'a RawValue>,
}

/// The guide's body: `{"tool": "...", "params": {...}}`.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct GuideCall<'a> {
    tool: String,
    #[serde(borrow, default)]
    params: Option<&'a RawValue>,
}

impl<S> Inner<S>
where
    S: McpService,
{
    /// Answers a façade route.
    pub(in crate::transport::http) async fn rest<B>(
        self: Arc<Self>,
        route: Route,
        req: http::Request<B>,
    ) -> http::Response<HttpBody>
    where
        B: http_body::Body<Data = Bytes> + Send + 'static,
        B::Error: Into<BoxError>,
    {
        let (parts, body) = req.into_parts();
        let get = parts.method == Method::GET || parts.method == Method::HEAD;
        match route {
            Route::List | Route::OpenApi if !get => method_not_allowed("GET"),
            Route::Call(_) | Route::Guide if parts.method != Method::POST => method_not_allowed("POST"),
            Route::OpenApi => {
                let Some(options) = self.options.rest.as_ref() else {
                    return rest_error(StatusCode::NOT_FOUND, "not_found", "not found", None);
                };
                let doc = super::openapi::document(&self.server, options);
                json_response(StatusCode::OK, doc.to_string().into_bytes())
            }
            Route::List => self.list(request_extensions(parts)).await,
            Route::Call(name) => {
                let args = match self.read_json(&parts.headers, body).await {
                    Ok(args) => args,
                    Err(resp) => return resp,
                };
                if let Some(refusal) = not_an_object(args.as_deref(), "invalid_request", "the body") {
                    return refusal;
                }
                self.call_tool(&name, args.as_deref(), parts).await
            }
            Route::Guide => {
                let body = match self.read_json(&parts.headers, body).await {
                    Ok(Some(body)) => body,
                    Ok(None) => {
                        return rest_error(
                            StatusCode::BAD_REQUEST,
                            "invalid_request",
                            "the body must be {\"tool\": \"<name>\", \"params\": {...}}",
                            None,
                        );
                    }
                    Err(resp) => return resp,
                };
                let call: GuideCall<'_> = match serde_json::from_str(body.get()) {
                    Ok(c) => c,
                    Err(e) => {
                        return rest_error(
                            StatusCode::BAD_REQUEST,
                            "invalid_request",
                            &format!(
                                "the body must be {{\"tool\": \"<name>\", \"params\": {{...}}}}: {}",
                                without_position(&e)
                            ),
                            None,
                        );
                    }
                };
                if let Some(refusal) = not_an_object(call.params, "invalid_arguments", "`params`") {
                    return refusal;
                }
                self.call_tool(&call.tool, call.params, parts).await
            }
        }
    }

    /// The body as JSON (`None` when empty), or the error response.
    async fn read_json<B>(
        &self,
        headers: &http::HeaderMap,
        body: B,
    ) -> Result<Option<Box<RawValue>>, http::Response<HttpBody>>
    where
        B: http_body::Body<Data = Bytes> + Send + 'static,
        B::Error: Into<BoxError>,
    {
        if !content_type_is_json(headers) {
            return Err(rest_error(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "send the body as `Content-Type: application/json`",
                None,
            ));
        }
        let declared = super::super::post::declared_length(headers.get(http::header::CONTENT_LENGTH));
        let bytes = match super::super::post::read_limited(self.options.max_body_bytes, declared, body).await {
            Ok(b) => b,
            Err(BodyError::TooLarge(max)) => {
                return Err(rest_error(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "payload_too_large",
                    &format!("the request body exceeds the {max}-byte limit"),
                    None,
                ));
            }
            Err(BodyError::Unreadable(why)) => {
                return Err(rest_error(StatusCode::BAD_REQUEST, "invalid_request", &why, None));
            }
        };
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(None);
        }
        serde_json::from_slice::<Box<RawValue>>(&bytes).map(Some).map_err(|e| {
            rest_error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                &format!("the body is not JSON: {}", without_position(&e)),
                None,
            )
        })
    }

    /// `GET {base}tools`: every page of `tools/list`, through the layers.
    async fn list(&self, extensions: http::Extensions) -> http::Response<HttpBody> {
        let mut tools = Vec::new();
        let mut cursor: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let params = match &cursor {
                Some(c) => json!({ "cursor": c }),
                None => json!({}),
            };
            let resp = self.dispatch(methods::TOOLS_LIST, &params, extensions.clone()).await;
            let page = match outcome(resp) {
                Ok(page) => page,
                Err(error) => return *error,
            };
            if let Some(Value::Array(list)) = page.get("tools") {
                tools.extend(list.iter().cloned());
            }
            cursor = page.get("nextCursor").and_then(Value::as_str).map(str::to_owned);
            if cursor.is_none() {
                break;
            }
        }
        json_response(StatusCode::OK, json!({ "tools": tools }).to_string().into_bytes())
    }

    /// One tool call, through the layers; its reply as plain JSON.
    async fn call_tool(
        &self,
        name: &str,
        arguments: Option<&RawValue>,
        parts: http::request::Parts,
    ) -> http::Response<HttpBody> {
        if !self.server.has_tool(name) {
            return rest_error(
                StatusCode::NOT_FOUND,
                "unknown_tool",
                &format!("unknown tool `{name}`; GET the tools route for the list"),
                None,
            );
        }
        let params = CallParams { name, arguments };
        let resp = self.dispatch(methods::TOOLS_CALL, &params, request_extensions(parts)).await;
        let result = match outcome(resp) {
            Ok(result) => result,
            Err(error) => return *error,
        };
        if result.get("isError") == Some(&Value::Bool(true)) {
            return tool_failure(name, &result);
        }
        let body = match result.get("structuredContent") {
            Some(structured) => structured.clone(),
            None => match result.get("content") {
                Some(Value::Array(items)) if items.len() == 1 && items[0]["type"] == "text" => items[0]["text"].clone(),
                Some(content) => content.clone(),
                None => Value::Null,
            },
        };
        json_response(StatusCode::OK, body.to_string().into_bytes())
    }

    /// Sends `method` through the layered service as a sessionless request.
    async fn dispatch(
        &self,
        method: &str,
        params: &impl Serialize,
        extensions: http::Extensions,
    ) -> Result<Response, http::Response<HttpBody>> {
        let params = serde_json::value::to_raw_value(params).map_err(|e| {
            tracing::error!(error = %e, "could not encode a REST call");
            rest_error(StatusCode::INTERNAL_SERVER_ERROR, "internal_error", "internal error", None)
        })?;
        let request = Request { id: RequestId::Number(1), method: method.to_owned(), params: Some(params) };
        let mut req = ServerRequest::sessionless(Message::Request(request), REST_VERSION, Sink::none());
        req.extensions = extensions;
        call(self.service.clone(), req)
            .await
            .ok_or_else(|| rest_error(StatusCode::INTERNAL_SERVER_ERROR, "internal_error", "internal error", None))
    }
}

/// A reply's result, or the façade error for its JSON-RPC error (with the
/// signals' headers).
fn outcome(resp: Result<Response, http::Response<HttpBody>>) -> Result<Value, Box<http::Response<HttpBody>>> {
    let resp = resp.map_err(Box::new)?;
    let error = match &resp.payload {
        Ok(raw) => {
            return serde_json::from_str(raw.get()).map_err(|e| {
                tracing::error!(error = %e, "a result that is not JSON");
                Box::new(rest_error(StatusCode::INTERNAL_SERVER_ERROR, "internal_error", "internal error", None))
            });
        }
        Err(e) => e,
    };
    let (status, code) = match error.code {
        ErrorCode::INVALID_PARAMS => (StatusCode::BAD_REQUEST, "invalid_arguments"),
        ErrorCode::PARSE_ERROR | ErrorCode::INVALID_REQUEST => (StatusCode::BAD_REQUEST, "invalid_request"),
        ErrorCode::RATE_LIMITED => (StatusCode::TOO_MANY_REQUESTS, "rate_limited"),
        ErrorCode::REQUEST_TIMEOUT => (StatusCode::GATEWAY_TIMEOUT, "timeout"),
        ErrorCode::SERVER_OVERLOADED => (StatusCode::SERVICE_UNAVAILABLE, "overloaded"),
        ErrorCode::UNAUTHORIZED => (StatusCode::UNAUTHORIZED, "unauthorized"),
        ErrorCode::FORBIDDEN => (StatusCode::FORBIDDEN, "forbidden"),
        _ => (StatusCode::INTERNAL_SERVER_ERROR, "internal_error"),
    };
    let mut out = if status == StatusCode::INTERNAL_SERVER_ERROR {
        // No details of what failed inside.
        rest_error(status, code, "internal error", None)
    } else {
        rest_error(status, code, &error.message, error.data.clone())
    };
    rate_limit_headers(&resp, out.headers_mut());
    // The auth layer's status and `WWW-Authenticate`, as on MCP requests.
    auth_challenge(&resp, &mut out);
    Err(Box::new(out))
}

/// An `isError` result: the tool's own failure (422, with its code and
/// details), or an internal one (500, no details).
fn tool_failure(name: &str, result: &Value) -> http::Response<HttpBody> {
    let reported = result.get("_meta").and_then(|m| m.get(TOOL_ERROR_META_KEY));
    let code = reported.and_then(|r| r.get("code")).and_then(Value::as_str).unwrap_or("tool_error");
    if code == crate::server::ToolError::INTERNAL {
        return rest_error(StatusCode::INTERNAL_SERVER_ERROR, "internal_error", "internal error", None);
    }
    let message = result
        .get("content")
        .and_then(Value::as_array)
        .and_then(|c| c.iter().find_map(|item| item.get("text").and_then(Value::as_str)))
        .map_or_else(|| format!("tool `{name}` failed"), str::to_owned);
    let details = reported.and_then(|r| r.get("details")).cloned();
    rest_error(StatusCode::UNPROCESSABLE_ENTITY, code, &message, details)
}

/// What layers see of the HTTP request: its extensions (the peer address,
/// the Lambda context) and its headers (API keys, bearer tokens).
fn request_extensions(parts: http::request::Parts) -> http::Extensions {
    let mut extensions = parts.extensions;
    extensions.insert(parts.headers);
    extensions
}

/// The 400 for arguments (`what`) that are not a JSON object; `None` when
/// they are one, or absent.
fn not_an_object(arguments: Option<&RawValue>, code: &str, what: &str) -> Option<http::Response<HttpBody>> {
    let raw = arguments?.get();
    (!raw.trim_start().starts_with('{')).then(|| {
        let message = format!("{what} must be the tool's arguments as a JSON object, got {}", preview(raw));
        rest_error(StatusCode::BAD_REQUEST, code, &message, None)
    })
}

/// The start of a JSON text, for messages.
fn preview(json: &str) -> String {
    let mut s: String = json.chars().take(40).collect();
    if s.len() < json.len() {
        s.push('…');
    }
    s
}
