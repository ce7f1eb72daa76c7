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
