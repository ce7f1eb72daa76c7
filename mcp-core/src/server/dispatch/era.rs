//! Settling a request's era: which protocol version it is served in, with
//! which client capabilities, and whether its method exists there.

use std::sync::Arc;

use super::Server;
use crate::error::Error;
use crate::protocol::ProtocolVersion;
use crate::protocol::lifecycle::{ClientCapabilities, Implementation};
use crate::protocol::logging::LoggingLevel;
use crate::protocol::meta::keys;
use crate::server::head::{Era, RequestHead, Requested, no_capabilities};
use crate::server::headers::HeaderSource;
use crate::server::session::Session;

/// The protocol facts of one request, settled.
pub(super) struct Settled {
    pub(super) version: ProtocolVersion,
    pub(super) capabilities: Arc<ClientCapabilities>,
    pub(super) client_info: Option<Box<Implementation>>,
    pub(super) log_level: Option<LoggingLevel>,
}

/// An error, and the version to word it for (`None`: the request's own
/// version is not known).
pub(super) type Refusal = (Error, Option<ProtocolVersion>);

impl Server {
    /// Decides the request's era from its head and checks it is allowed
    /// there: everything the dispatcher decides before a handler runs.
    pub(super) fn settle(
        &self,
        head: &mut RequestHead,
        method: &str,
        session: Option<&Session>,
        headers: Option<HeaderSource<'_>>,
    ) -> Result<Settled, Refusal> {
        if let Some(e) = head.meta_error.take() {
            return Err((*e, None));
        }
        match (head.era(), session) {
            (Era::Session, Some(session)) => legacy(method, session, head.meta.client_capabilities.take()),
            (Era::Sessionless, None) if head.sessionless => sessionless(head, method),
            _ => self.stateless(head, method, headers),
        }
    }

    fn stateless(
        &self,
        head: &mut RequestHead,
        method: &str,
        headers: Option<HeaderSource<'_>>,
    ) -> Result<Settled, Refusal> {
        let modern = Some(ProtocolVersion::LATEST);
        let requested = match &head.requested {
            Requested::Known(v) => v.as_str(),
            Requested::Unknown(s) => s,
            Requested::NotAString(raw) => {
                return Err((
                    Error::invalid_params(format!("`_meta.{}` must be a string, got {raw}", keys::PROTOCOL_VERSION)),
                    modern,
                ));
            }
            Requested::Absent => {
                let hint = if headers.is_some_and(|h| h.protocol_version().is_none()) {
                    " (a legacy client must send the `Mcp-Session-Id` header that `initialize` returned)"
                } else {
                    ""
                };
                return Err((
                    Error::invalid_params(format!(
                        "missing `_meta.{}`: a request without a session must carry its protocol version{hint}",
                        keys::PROTOCOL_VERSION
                    )),
                    modern,
                ));
            }
        };
        let Some(capabilities) = head.meta.client_capabilities.take() else {
            return Err((Error::invalid_params(format!("missing `_meta.{}`", keys::CLIENT_CAPABILITIES)), modern));
        };
        if let Some(headers) = headers {
            headers.check(requested, method, head, &self.routes()).map_err(|e| (e, modern))?;
        }
        let version = match head.requested {
            Requested::Known(v) if v.is_stateless() => v,
            _ => {
                let supported = ProtocolVersion::MODERN.iter().map(|v| v.as_str()).collect();
                return Err((Error::UnsupportedProtocolVersion { requested: requested.to_owned(), supported }, modern));
            }
        };
        if !version.has_method(method) {
            return Err((
                Error::MethodNotFound {
                    method: method.to_owned(),
                    reason: Some("not part of protocol version 2026-07-28"),
                },
                modern,
            ));
        }
        Ok(Settled { version, capabilities, client_info: head.meta.client_info.take(), log_level: head.meta.log_level })
    }
}

/// A legacy request served without a session, in the version the transport
/// gave it (or, for `initialize`, the one negotiated from its params).
fn sessionless(head: &RequestHead, method: &str) -> Result<Settled, Refusal> {
    use crate::protocol::methods;
    let Some(version) = head.protocol_version() else {
        return Err((Error::internal("a sessionless request without a protocol version"), None));
    };
    if matches!(method, methods::LOGGING_SET_LEVEL | methods::RESOURCES_SUBSCRIBE | methods::RESOURCES_UNSUBSCRIBE) {
        return Err((
            Error::InvalidRequest(format!(
                "`{method}` needs a session, and this request has none: the server serves legacy requests \
                 without a session (sessionless mode) and offers neither logging nor subscriptions there; \
                 use a server with sessions, or protocol version 2026-07-28 (log levels per request)"
            )),
            Some(version),
        ));
    }
    if version.is_stateless() || !version.has_method(method) {
        return Err((
            Error::MethodNotFound { method: method.to_owned(), reason: Some("not part of the legacy protocol") },
            Some(version),
        ));
    }
    Ok(Settled { version, capabilities: no_capabilities(), client_info: None, log_level: None })
}

/// A request inside a legacy session. A request that carries
/// `_meta["io.modelcontextprotocol/clientCapabilities"]` (a gateway passing
/// on its own caller's) narrows the session's capabilities for itself:
/// never widens them.
fn legacy(method: &str, session: &Session, narrowed: Option<Arc<ClientCapabilities>>) -> Result<Settled, Refusal> {
    use crate::protocol::methods;
    // The client info stays in the session (the context reads it on
    // demand): no per-request string copies.
    let (version, capabilities) = session.update(|s| (s.version, Arc::clone(&s.client_capabilities)));
    let version = match version {
        Some(v) => {
            if method == methods::INITIALIZE {
                return Err((Error::InvalidRequest("session already initialized".into()), Some(v)));
            }
            v
        }
        None if method == methods::INITIALIZE => ProtocolVersion::LATEST_LEGACY,
        None if method == methods::PING => ProtocolVersion::LATEST_LEGACY,
        None => return Err((Error::NotInitialized, None)),
    };
    if !version.has_method(method) {
        return Err((
            Error::MethodNotFound {
                method: method.to_owned(),
                reason: Some("only in the stateless protocol (2026-07-28)"),
            },
            Some(version),
        ));
    }
    let capabilities = match narrowed {
        Some(request) => Arc::new(capabilities.narrowed_to(&request)),
        None => capabilities,
    };
    Ok(Settled { version, capabilities, client_info: None, log_level: None })
}
