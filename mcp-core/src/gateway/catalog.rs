//! The upstreams' prompts, resources and resource templates: listed at
//! start-up (prompts under the upstream's prefix, resources and templates
//! under their own URIs; the allow/deny lists filter prompt names and
//! resource URIs as they do tool names), and `prompts/get` and `resources/read` forwarded
//! to the upstream that owns them.

use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::GatewayError;
use super::forward::{Failure, exchange, rpc_error};
use super::upstream::Upstream;
use crate::Error;
use crate::client::{Client, ClientError};
use crate::jsonrpc::ErrorCode;
use crate::protocol::methods;
use crate::protocol::prompts::{GetPromptResult, Prompt};
use crate::protocol::resources::{ReadResourceResult, Resource, ResourceTemplate};
use crate::server::{Context, PromptRoute, ResourceRoute, TemplateRoute};

/// What one upstream offers besides tools.
#[derive(Default)]
pub(super) struct Catalog {
    /// Exposed name and the upstream's prompt.
    pub(super) prompts: Vec<(String, Prompt)>,
    pub(super) resources: Vec<Resource>,
    pub(super) templates: Vec<ResourceTemplate>,
}

/// Lists what `client`'s server says it has (its capabilities), within the
/// upstream's timeout.
pub(super) async fn list(upstream: &Upstream, client: &Client) -> Result<Catalog, GatewayError> {
    let failed = |e: String| GatewayError::List { upstream: upstream.name().to_owned(), reason: e };
    let caps = &client.negotiated().capabilities;
    let listing = async {
        let mut catalog = Catalog::default();
        if caps.prompts.is_some() {
            let prompts = client.list_prompts().await?;
            catalog.prompts = prompts
                .into_iter()
                .filter(|p| upstream.spec.admits(&p.name))
                .map(|p| (upstream.spec.exposed_name(&p.name), p))
                .collect();
        }
        if caps.resources.is_some() {
            catalog.resources = client.list_resources().await?;
            catalog.resources.retain(|r| upstream.spec.admits(&r.uri));
            catalog.templates = client.list_resource_templates().await?;
            catalog.templates.retain(|t| upstream.spec.admits(&t.uri_template));
        }
        Ok::<_, ClientError>(catalog)
    };
    match tokio::time::timeout(upstream.spec.timeout, listing).await {
        Ok(Ok(catalog)) => Ok(catalog),
        Ok(Err(e)) => Err(failed(e.to_string())),
        Err(_) => Err(failed(format!("no answer within {:?}", upstream.spec.timeout))),
    }
}

/// The route exposing `prompt` of `upstream` as `exposed`.
pub(super) fn prompt_route(upstream: &Arc<Upstream>, exposed: String, prompt: Prompt) -> PromptRoute {
    let name = prompt.name.clone();
    let mut described = prompt;
    described.name = exposed;
    let upstream = Arc::clone(upstream);
    PromptRoute::from_parts(described, move |ctx, arguments| {
        let upstream = Arc::clone(&upstream);
        let mut params = json!({ "name": name });
        if let Some(args) = arguments.and_then(|a| serde_json::from_str::<Value>(a.get()).ok()) {
            params["arguments"] = args;
        }
        Box::pin(async move { request::<GetPromptResult>(&upstream, methods::PROMPTS_GET, params, &ctx).await })
    })
}

/// The route reading `resource` from `upstream`.
pub(super) fn resource_route(upstream: &Arc<Upstream>, resource: Resource) -> ResourceRoute {
    let upstream = Arc::clone(upstream);
    let (uri, name) = (resource.uri.clone(), resource.name.clone());
    ResourceRoute::new(uri, name, move |ctx: Context, uri: String| {
        let upstream = Arc::clone(&upstream);
        async move { request::<ReadResourceResult>(&upstream, methods::RESOURCES_READ, json!({ "uri": uri }), &ctx).await }
    })
    .with(|_| resource)
}

/// The route reading URIs matching `template` from `upstream`.
pub(super) fn template_route(upstream: &Arc<Upstream>, template: ResourceTemplate) -> TemplateRoute {
    let upstream = Arc::clone(upstream);
    let (uri_template, name) = (template.uri_template.clone(), template.name.clone());
    TemplateRoute::new(uri_template, name, move |ctx: Context, uri: String, _| {
        let upstream = Arc::clone(&upstream);
        async move { request::<ReadResourceResult>(&upstream, methods::RESOURCES_READ, json!({ "uri": uri }), &ctx).await }
    })
    .with(|_| template)
}

/// Sends `method` to the upstream (its rounds asked of the caller, as for
/// a tool call) and reads its result as `T`; its own JSON-RPC errors pass
/// on as they came, anything else is -32603 naming it.
async fn request<T: DeserializeOwned>(
    upstream: &Arc<Upstream>,
    method: &str,
    params: Value,
    ctx: &Context,
) -> Result<T, Error> {
    let unavailable = |reason: String| Error::Other {
        code: ErrorCode::INTERNAL_ERROR,
        message: format!("upstream `{}` is unavailable: {reason}", upstream.name()),
        data: Some(json!({ "upstream": upstream.name() })),
    };
    let Value::Object(params) = params else {
        return Err(Error::internal(format!("{method} params must be an object")));
    };
    match exchange(upstream, method, params, ctx, None).await {
        Ok(value) => serde_json::from_value(value).map_err(|e| unavailable(format!("invalid {method} result: {e}"))),
        Err(Failure::Caller(e)) => Err(e),
        Err(Failure::Rpc(e)) => Err(rpc_error(e)),
        Err(Failure::Unavailable(reason)) => Err(unavailable(reason)),
    }
}
