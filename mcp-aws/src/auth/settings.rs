//! [`ConfiguredAuth`]: the layer and metadata document that the
//! deployment settings ([`AuthSettings`], from `MCP_AUTH_*` and
//! `MCP_API_KEYS_TABLE`) ask for. `mcp_aws::run` applies it.

use super::error::AuthError;
use super::jwt::{JwtConfig, JwtVerifier};
use super::layer::AuthLayer;
use super::metadata::ProtectedResourceMetadata;
use crate::config::AuthSettings;

/// What the settings ask for: the auth layer, and the RFC 9728 document to
/// serve when the server's resource URL is known.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ConfiguredAuth {
    /// The layer to put around the server.
    pub layer: AuthLayer,
    /// The protected-resource metadata, when bearer tokens are accepted
    /// and the resource URL is known.
    pub metadata: Option<ProtectedResourceMetadata>,
}

/// The issuer named by the settings: `MCP_AUTH_ISSUER`, else the discovery
/// URL without its `/.well-known/openid-configuration`.
fn issuer(settings: &AuthSettings) -> Option<String> {
    settings.issuer.clone().or_else(|| {
        let url = settings.discovery_url.as_deref()?;
        Some(url.strip_suffix("/.well-known/openid-configuration").unwrap_or(url).to_owned())
    })
}

impl ConfiguredAuth {
    /// The auth `settings` describe, or `None` when they describe none.
    ///
    /// # Errors
    /// [`AuthError::Unavailable`] when the settings cannot work: an API key
    /// table without the `dynamodb` feature, or a token configuration
    /// [`JwtVerifier::new`] refuses.
    pub async fn from_settings(settings: &AuthSettings) -> Result<Option<Self>, AuthError> {
        if !settings.is_enabled() {
            return Ok(None);
        }
        let mut layer = AuthLayer::new().trust_gateway_authorizer(settings.trust_gateway);
        let mut metadata = None;
        let source = match (&settings.discovery_url, &settings.jwks_url, &settings.issuer) {
            (Some(url), _, _) => Some(JwtConfig::discovery(url.clone())),
            (None, Some(url), Some(iss)) => Some(JwtConfig::jwks(url.clone(), iss.clone())),
            _ => None,
        };
        if let Some(mut config) = source {
            if let Some(iss) = &settings.issuer {
                config = config.issuer(iss.clone());
            }
            let config = config
                .audience(settings.audience.iter().cloned())
                .allowed_clients(settings.allowed_clients.iter().cloned())
                .required_scopes(settings.required_scopes.iter().cloned());
            layer = layer.jwt(JwtVerifier::new(config)?);
            if let (Some(resource), Some(issuer)) = (settings.resource(), issuer(settings)) {
                let doc = ProtectedResourceMetadata::new(resource, [issuer])
                    .with_scopes(settings.required_scopes.iter().cloned());
                layer = layer.resource_metadata(&doc);
                metadata = Some(doc);
            }
        }
        if let Some(table) = &settings.api_keys_table {
            layer = with_key_table(layer, table).await?;
        }
        Ok(Some(Self { layer, metadata }))
    }
}

#[cfg(feature = "dynamodb")]
async fn with_key_table(layer: AuthLayer, table: &str) -> Result<AuthLayer, AuthError> {
    let store = super::dynamodb::DynamoDbApiKeyStore::from_env(table).await;
    Ok(layer.api_keys(super::api_key::ApiKeys::new(store)))
}

#[cfg(not(feature = "dynamodb"))]
async fn with_key_table(_: AuthLayer, _: &str) -> Result<AuthLayer, AuthError> {
    Err(AuthError::Unavailable("MCP_API_KEYS_TABLE is set but mcp-aws was built without the `dynamodb` feature".into()))
}
