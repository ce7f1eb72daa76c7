//! Transports: thin edges that turn bytes into [`ServerRequest`]s for the
//! one dispatcher and write back what it answers.
//!
//! [`ServerRequest`]: crate::server::ServerRequest

#[cfg(feature = "stdio")]
#[cfg_attr(docsrs, doc(cfg(feature = "stdio")))]
pub mod stdio;

#[cfg(feature = "http")]
#[cfg_attr(docsrs, doc(cfg(feature = "http")))]
pub mod http;

#[cfg(all(test, feature = "stdio", feature = "http"))]
mod startup_log;

/// The protocol versions every transport serves, for start-up logs.
#[cfg(any(feature = "stdio", feature = "http"))]
pub(crate) fn served_versions() -> String {
    crate::protocol::ProtocolVersion::ALL.map(crate::protocol::ProtocolVersion::as_str).join(", ")
}
