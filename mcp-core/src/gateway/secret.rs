//! Upstream credentials kept in a secret store (AWS Secrets Manager through
//! `mcp_aws::secrets::SecretsManagerSource`, or any [`SecretSource`]):
//! read on every request to the upstream, through the source's cache, so a
//! rotation is picked up without reconnecting.
//!
//! mcp-core has no AWS dependency, so the gateway names a secret
//! ([`SecretRef`]) and asks a [`SecretSource`] it is given
//! ([`Gateway::connect_with_secrets`](super::Gateway::connect_with_secrets))
//! for its value; the AWS implementation lives in mcp-aws.

use std::fmt;
use std::sync::Arc;

use http::{HeaderMap, HeaderName, HeaderValue};

use crate::async_trait;
use crate::client::{AuthHook, TransportError};

/// A secret: its id in the store (for Secrets Manager a name or an ARN)
/// and, for a secret stored as a JSON object, the field holding the value.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub struct SecretRef {
    /// The secret's id.
    pub id: String,
    /// The JSON field holding the value, when the secret is a JSON object.
    pub field: Option<String>,
}

impl SecretRef {
    /// The secret `id`, used whole.
    pub fn new(id: impl Into<String>) -> Self {
        Self { id: id.into(), field: None }
    }

    /// The field `field` of the JSON object stored in the secret.
    #[must_use]
    pub fn field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }
}

impl fmt::Display for SecretRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.field {
            Some(field) => write!(f, "{} (field `{field}`)", self.id),
            None => f.write_str(&self.id),
        }
    }
}

/// Where the gateway reads secret upstream credentials. Implement it for
/// a secret store; `mcp_aws::secrets::SecretsManagerSource` implements it
/// for AWS Secrets Manager. It is asked on every request to an upstream,
/// so it should cache (and pick up rotations when its cache expires).
///
/// ```
/// use mcp_core::async_trait;
/// use mcp_core::gateway::{SecretRef, SecretSource};
///
/// #[derive(Debug)]
/// struct Fixed;
///
/// #[async_trait]
/// impl SecretSource for Fixed {
///     async fn secret(&self, secret: &SecretRef) -> Result<String, String> {
///         match secret.id.as_str() {
///             "upstream/token" => Ok("s3cr3t".into()),
///             other => Err(format!("no secret {other}")),
///         }
///     }
/// }
/// # let _ = Fixed;
/// ```
#[async_trait]
pub trait SecretSource: fmt::Debug + Send + Sync + 'static {
    /// The current value of `secret`.
    ///
    /// # Errors
    /// Why it cannot be read, without the value.
    async fn secret(&self, secret: &SecretRef) -> Result<String, String>;
}

/// Signs each request to an upstream with a credential read from a
/// [`SecretSource`]: a bearer token, or an API key in `header`.
pub(super) struct SecretAuth {
    pub(super) source: Arc<dyn SecretSource>,
    pub(super) secret: SecretRef,
    /// `None`: `Authorization: Bearer`.
    pub(super) header: Option<HeaderName>,
}

#[async_trait]
impl AuthHook for SecretAuth {
    async fn apply(&self, headers: &mut HeaderMap) -> Result<(), TransportError> {
        let value = self
            .source
            .secret(&self.secret)
            .await
            .map_err(|e| TransportError::Config(format!("upstream credential from secret {}: {e}", self.secret)))?;
        let value = match &self.header {
            Some(_) => value.trim().to_owned(),
            None => format!("Bearer {}", value.trim()),
        };
        let mut value = HeaderValue::from_str(&value).map_err(|_| {
            TransportError::Config(format!("secret {} has characters a header cannot carry", self.secret))
        })?;
        value.set_sensitive(true);
        headers.insert(self.header.clone().unwrap_or(http::header::AUTHORIZATION), value);
        Ok(())
    }
}
