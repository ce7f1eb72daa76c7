//! The conformance suite's resource fixtures.

use mcp_core::Error;
use mcp_core::protocol::resources::ResourceContents;
use mcp_core::server::{ResourceRoute, ServerBuilder, TemplateRoute};

use crate::content::PNG;

fn text(uri: &'static str, name: &'static str, description: &'static str, body: &'static str) -> ResourceRoute {
    ResourceRoute::new(uri, name, move |_ctx, uri| async move {
        Ok::<_, Error>(ResourceContents::text(uri, Some("text/plain".into()), body))
    })
    .with(|r| r.with_description(description).with_mime_type("text/plain"))
}

pub(crate) fn register(builder: ServerBuilder) -> ServerBuilder {
    builder
        // First: the caching scenario reads entry 0.
        .resource(text(
            "test://static-text",
            "static-text",
            "A static text resource",
            "This is the content of the static text resource.",
        ))
        .resource(
            ResourceRoute::new("test://static-binary", "static-binary", |_ctx, uri| async move {
                Ok::<_, Error>(ResourceContents::blob(uri, Some("image/png".into()), PNG))
            })
            .with(|r| r.with_description("A static binary resource (a PNG image)").with_mime_type("image/png")),
        )
        .resource(text(
            "test://watched-resource",
            "watched-resource",
            "A resource clients may subscribe to",
            "Watched resource content",
        ))
        .resource_template(
            TemplateRoute::new("test://template/{id}/data", "template-data", |_ctx, uri, vars| async move {
                let id = vars.get("id").cloned().unwrap_or_default();
                let body = serde_json::json!({ "id": id, "templateTest": true, "data": format!("Data for ID: {id}") });
                Ok::<_, Error>(ResourceContents::text(uri, Some("application/json".into()), body.to_string()))
            })
            .with(|t| t.with_description("Data for any id").with_mime_type("application/json")),
        )
}
