//! Credentials on every HTTP request: [`AuthHook`], with [`BearerToken`]
//! and [`ApiKey`] for fixed ones.

use std::fmt;

use async_trait::async_trait;
use http::{HeaderMap, HeaderName, HeaderValue};

use crate::client::error::TransportError;

/// Adds credentials to every HTTP request: a bearer token, an API key, a
/// signature. Implement it for tokens that change (refresh them here); use
/// [`BearerToken`] or [`ApiKey`] for fixed ones, or a closure
/// `Fn(&mut HeaderMap) -> Result<(), TransportError>`.
#[async_trait]
pub trait AuthHook: Send + Sync + 'static {
    /// Adds headers to one outgoing request.
    ///
    /// # Errors
    /// When no credentials can be produced (a failed refresh): the request
    /// fails with this error and is not sent.
    async fn apply(&self, headers: &mut HeaderMap) -> Result<(), TransportError>;
}

#[async_trait]
impl<F> AuthHook for F
where
    F: Fn(&mut HeaderMap) -> Result<(), TransportError> + Send + Sync + 'static,
{
    async fn apply(&self, headers: &mut HeaderMap) -> Result<(), TransportError> {
        self(headers)
    }
}

/// `Authorization: Bearer <token>` on every request. Its `Debug` output
/// hides the token, and the header is marked sensitive.
#[derive(Clone)]
pub struct BearerToken(HeaderValue);

impl BearerToken {
    /// A bearer token.
    ///
    /// # Errors
    /// When the token has characters a header cannot carry.
    pub fn new(token: &str) -> Result<Self, TransportError> {
        let mut v = HeaderValue::from_str(&format!("Bearer {token}"))
            .map_err(|_| TransportError::Config("the bearer token has characters a header cannot carry".into()))?;
        v.set_sensitive(true);
        Ok(Self(v))
    }
}

impl fmt::Debug for BearerToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("BearerToken(<redacted>)")
    }
}

#[async_trait]
impl AuthHook for BearerToken {
    async fn apply(&self, headers: &mut HeaderMap) -> Result<(), TransportError> {
        headers.insert(http::header::AUTHORIZATION, self.0.clone());
        Ok(())
    }
}

/// An API key in a header of your choice (`x-api-key: <key>`). Its `Debug`
/// output hides the key.
#[derive(Clone)]
pub struct ApiKey {
    name: HeaderName,
    value: HeaderValue,
}

impl ApiKey {
    /// The key `key` in header `header`.
    ///
    /// # Errors
    /// When the header name or the key cannot be a header.
    pub fn new(header: &str, key: &str) -> Result<Self, TransportError> {
        let name = HeaderName::try_from(header)
            .map_err(|_| TransportError::Config(format!("{header:?} is not a valid header name")))?;
        let mut value = HeaderValue::from_str(key)
            .map_err(|_| TransportError::Config("the API key has characters a header cannot carry".into()))?;
        value.set_sensitive(true);
        Ok(Self { name, value })
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiKey").field("header", &self.name).field("key", &"<redacted>").finish()
    }
}

#[async_trait]
impl AuthHook for ApiKey {
    async fn apply(&self, headers: &mut HeaderMap) -> Result<(), TransportError> {
        headers.insert(self.name.clone(), self.value.clone());
        Ok(())
    }
}
