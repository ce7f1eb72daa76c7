//! The upstreams' prompts, resources and resource templates: listed at
//! start-up and again when an upstream says its prompt or resource list
//! changed, or reconnects (prompts under the upstream's prefix, resources
//! and templates under their own URIs; the allow/deny lists filter prompt
//! names and resource URIs as they do tool names), and `prompts/get` and
//! `resources/read` forwarded to the upstream that owns them.

use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::GatewayError;
use super::forward::{Failure, exchange, rpc_error};
use super::relist::Relister;
use super::upstream::{CatalogKey, Upstream};
use crate::Error;
use crate::client::{Client, ClientError};
use crate::jsonrpc::ErrorCode;
use crate::protocol::methods;
use crate::protocol::prompts::{GetPromptResult, Prompt};
use crate::protocol::resources::{ReadResourceResult, Resource, ResourceTemplate};
use crate::server::{BuildError, Context, PromptRoute, ResourceRoute, Server, TemplateRoute};

/// What one upstream offers besides tools.
#[derive(Default)]
pub(super) struct Catalog {
    /// Exposed name and the upstream's prompt.
    pub(super) prompts: Vec<(String, Prompt)>,
    pub(super) resources: Vec<Resource>,
    pub(super) templates: Vec<ResourceTemplate>,
}

/// One catalog item, ready to register on the gateway's server.
pub(super) enum Entry {
    Prompt(PromptRoute),
    Resource(ResourceRoute),
    Template(TemplateRoute),
}

impl Catalog {
    /// Its items as routes forwarding to `upstream`, each with its key.
    /// (`relister` re-lists the upstream when a request reconnects it.)
    pub(super) fn entries(self, upstream: &Arc<Upstream>, relister: &Relister) -> Vec<(CatalogKey, Entry)> {
        let prompts = self.prompts.into_iter().map(|(exposed, prompt)| {
            let route = prompt_route(upstream, relister, exposed.clone(), prompt);
            (CatalogKey::Prompt(exposed), Entry::Prompt(route))
        });
        let resources = self.resources.into_iter().map(|resource| {
            let key = CatalogKey::Resource(resource.uri.clone());
            (key, Entry::Resource(resource_route(upstream, relister, resource)))
        });
        let templates = self.templates.into_iter().map(|template| {
            let key = CatalogKey::Template(template.uri_template.clone());
            (key, Entry::Template(template_route(upstream, relister, template)))
        });
        prompts.chain(resources).chain(templates).collect()
    }
}

impl Entry {
    /// Registers it on a running server (replacing an item of its key).
    pub(super) fn add_to(self, server: &Server) -> Result<(), BuildError> {
        match self {
            Self::Prompt(route) => server.add_prompt(route),
            Self::Resource(route) => server.add_resource(route),
            Self::Template(route) => server.add_resource_template(route)?,
        }
        Ok(())
    }
}

impl CatalogKey {
    /// Removes its item from a running server.
    pub(super) fn remove_from(&self, server: &Server) {
        match self {
            Self::Prompt(name) => server.remove_prompt(name),
            Self::Resource(uri) => server.remove_resource(uri),
            Self::Template(uri_template) => server.remove_resource_template(uri_template),
        };
    }
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
fn prompt_route(upstream: &Arc<Upstream>, relister: &Relister, exposed: String, prompt: Prompt) -> PromptRoute {
    let name = prompt.name.clone();
    let mut described = prompt;
    described.name = exposed;
    let (upstream, relister) = (Arc::clone(upstream), relister.clone());
    PromptRoute::from_parts(described, move |ctx, arguments| {
        let (upstream, relister) = (Arc::clone(&upstream), relister.clone());
        let mut params = json!({ "name": name });
        if let Some(args) = arguments.and_then(|a| serde_json::from_str::<Value>(a.get()).ok()) {
            params["arguments"] = args;
        }
        Box::pin(
            async move { request::<GetPromptResult>(&upstream, &relister, methods::PROMPTS_GET, params, &ctx).await },
        )
    })
}

/// The route reading `resource` from `upstream`.
fn resource_route(upstream: &Arc<Upstream>, relister: &Relister, resource: Resource) -> ResourceRoute {
    let (upstream, relister) = (Arc::clone(upstream), relister.clone());
    let (uri, name) = (resource.uri.clone(), resource.name.clone());
    ResourceRoute::new(uri, name, move |ctx: Context, uri: String| {
        let (upstream, relister) = (Arc::clone(&upstream), relister.clone());
        async move { read(&upstream, &relister, uri, &ctx).await }
    })
    .with(|_| resource)
}

/// The route reading URIs matching `template` from `upstream`.
fn template_route(upstream: &Arc<Upstream>, relister: &Relister, template: ResourceTemplate) -> TemplateRoute {
    let (upstream, relister) = (Arc::clone(upstream), relister.clone());
    let (uri_template, name) = (template.uri_template.clone(), template.name.clone());
    TemplateRoute::new(uri_template, name, move |ctx: Context, uri: String, _| {
        let (upstream, relister) = (Arc::clone(&upstream), relister.clone());
        async move { read(&upstream, &relister, uri, &ctx).await }
    })
    .with(|_| template)
}

/// Forwards `resources/read` of `uri`.
async fn read(
    upstream: &Arc<Upstream>,
    relister: &Relister,
    uri: String,
    ctx: &Context,
) -> Result<ReadResourceResult, Error> {
    request(upstream, relister, methods::RESOURCES_READ, json!({ "uri": uri }), ctx).await
}

/// Sends `method` to the upstream (its rounds asked of the caller, as for
/// a tool call) and reads its result as `T`; its own JSON-RPC errors pass
/// on as they came, anything else is -32603 naming it.
async fn request<T: DeserializeOwned>(
    upstream: &Arc<Upstream>,
    relister: &Relister,
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
    match exchange(upstream, method, params, ctx, relister).await {
        Ok(value) => serde_json::from_value(value).map_err(|e| unavailable(format!("invalid {method} result: {e}"))),
        Err(Failure::Caller(e)) => Err(e),
        Err(Failure::Rpc(e)) => Err(rpc_error(e)),
        Err(Failure::Unavailable(reason)) => Err(unavailable(reason)),
    }
}
