//! The organisation's MCP server registry: a server registers itself from
//! its own tool list, keeps the entry fresh and retires it on shutdown.
//!
//! - [`Registration`] is one entry; its field names are the table's
//!   attribute names and the HTTP API's JSON keys (`server_id`, `version`,
//!   `server_name`, `available_tools`, `status`, ...).
//! - [`DynamoDbRegistry`] keeps entries in the table
//!   `MCPServerRegistry-{env}` (partition key `server_id`, sort key
//!   `version`); [`HttpRegistry`] posts them to a registry service
//!   (`POST /mcp/register` with `X-Registration-Token`).
//! - [`Registrar`] runs the lifecycle next to a server: register at start-up
//!   (retrying with backoff while the registry is down), re-register when
//!   the tool list changes, heartbeat, and mark the entry `decommissioned`
//!   on graceful shutdown.
//! - With feature `registry-service`: the registry service itself
//!   (`service`), its health checker (`health_checker`) and the
//!   CloudFormation custom resource (`custom_resource`).
//!
//! **How entries are stored in DynamoDB.** Every attribute is native:
//! strings as `S`, `available_tools` as a list (`L`) of maps (`M`) with
//! `name`, `description` and `inputSchema`, the schema itself and
//! `metadata` as nested maps, numbers as `N`. A `get-item` shows the entry
//! as it is, and a scan filtered on `status = active` finds the live ones.
//! Timestamps are RFC 3339 strings in UTC.
//!
//! **The integration guide's payloads** are accepted as written: see
//! [`Registration::from_json`] for the derived `server_id`, the default
//! version and health check URL, and the `custom_resource` module for the PascalCase
//! properties. **Items the registry cannot read** (written by another tool
//! or by hand) are skipped with a warning naming the key and the field,
//! and reported ([`DynamoDbRegistry::list_report`]); they never fail a
//! listing or the health checker.
//!
//! ```no_run
//! # async fn demo(server: mcp_core::server::Server) -> Result<(), mcp_aws::registry::RegistryError> {
//! use mcp_aws::registry::{HttpRegistry, Registrar, Registration};
//!
//! let registry = HttpRegistry::new("https://registry.example.com", "token-from-secrets")?;
//! let template = Registration::new("weather", "1.2.0", "Weather", "https://weather.example.com/mcp");
//! let registrar = Registrar::new(server.clone(), registry, template).spawn();
//! // ... serve until shutdown ...
//! registrar.shutdown().await; // the entry is now `decommissioned`
//! # Ok(()) }
//! ```

pub mod dynamodb;
pub mod http;
pub mod model;
mod registrar;

#[cfg(feature = "registry-service")]
#[cfg_attr(docsrs, doc(cfg(feature = "registry-service")))]
pub mod custom_resource;
#[cfg(feature = "registry-service")]
#[cfg_attr(docsrs, doc(cfg(feature = "registry-service")))]
pub mod health_checker;
#[cfg(feature = "registry-service")]
#[cfg_attr(docsrs, doc(cfg(feature = "registry-service")))]
pub mod service;

use std::future::Future;
use std::pin::Pin;

pub use dynamodb::{DynamoDbRegistry, Listing, SkippedItem};
pub use http::HttpRegistry;
pub use model::{AuthenticationType, DEFAULT_VERSION, ProtocolType, Registration, Status, ToolEntry};
pub use registrar::{Backoff, Registrar, RegistrarHandle, RegistryConfig, available_tools};

/// A boxed future borrowing its backend.
pub type RegistryFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// What the [`Registrar`] writes to: the DynamoDB table or the registry
/// service. Implement it to register somewhere else.
pub trait RegistryBackend: Send + Sync + 'static {
    /// Creates or replaces the entry for (`server_id`, `version`), keeping
    /// its `created_at`, and returns the stored entry's status.
    fn register<'a>(&'a self, registration: &'a Registration) -> RegistryFuture<'a, Result<Status, RegistryError>>;

    /// Marks the entry `decommissioned` (never deletes it).
    fn decommission<'a>(
        &'a self,
        server_id: &'a str,
        version: &'a str,
    ) -> RegistryFuture<'a, Result<(), RegistryError>>;
}

/// Why a registry operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RegistryError {
    /// A registration field is missing or has a bad value (HTTP 400).
    #[error("invalid registration: {field}: {reason}")]
    Invalid {
        /// The field, e.g. `endpoint_url` or `available_tools[2].name`.
        field: String,
        /// What is wrong with it.
        reason: String,
    },
    /// No entry for this server and version (HTTP 404).
    #[error("no registry entry for server {server_id} version {version}")]
    NotFound {
        /// The partition key.
        server_id: String,
        /// The sort key.
        version: String,
    },
    /// The registry service refused the request (a 4xx other than 404):
    /// a bad token, an invalid body. Not retried.
    #[error("the registry rejected the request with HTTP {status}: {message}")]
    Rejected {
        /// The HTTP status.
        status: u16,
        /// The service's error message.
        message: String,
    },
    /// The registry could not be reached, timed out or answered 5xx.
    /// Retried.
    #[error("the registry is unavailable: {0}")]
    Unavailable(String),
    /// A DynamoDB call failed.
    #[error("dynamodb {operation}: {message}")]
    DynamoDb {
        /// The API call, e.g. `UpdateItem`.
        operation: &'static str,
        /// The SDK's error with its context.
        message: String,
    },
    /// A stored item or a service answer could not be read.
    #[error("unreadable registry entry: {0}")]
    Corrupt(String),
    /// The server's own `tools/list` failed.
    #[error("listing the server's tools failed: {0}")]
    Tools(String),
    /// A setting is missing or invalid.
    #[error("registry setting {variable}: {reason}")]
    Config {
        /// The variable or option.
        variable: &'static str,
        /// What is wrong.
        reason: String,
    },
}

impl From<crate::http_client::ClientError> for RegistryError {
    fn from(e: crate::http_client::ClientError) -> Self {
        use crate::http_client::ClientError;
        match e {
            ClientError::Config { variable, reason } => Self::Config { variable, reason },
            ClientError::Unavailable(reason) => Self::Unavailable(reason),
        }
    }
}

impl RegistryError {
    /// Whether trying again later may succeed: the registry was unreachable
    /// or DynamoDB failed. Invalid input and refusals are not retried.
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::Unavailable(_) | Self::DynamoDb { .. })
    }

    /// The HTTP status the registry service answers with for this error.
    pub fn http_status(&self) -> u16 {
        match self {
            Self::Invalid { .. } => 400,
            Self::NotFound { .. } => 404,
            Self::Rejected { status, .. } => *status,
            Self::Unavailable(_) | Self::DynamoDb { .. } => 503,
            Self::Corrupt(_) | Self::Tools(_) | Self::Config { .. } => 500,
        }
    }
}
