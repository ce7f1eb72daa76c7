//! The conformance suite's resource fixtures.

/// Static resources (listed first: the caching scenario reads entry 0) and
/// one template.
#[mcp_core::routes]
pub(crate) mod fixtures {
    use mcp_core::protocol::resources::ResourceContents;

    use crate::content::PNG;

    /// A static text resource.
    #[resource("test://static-text", name = "static-text", mime_type = "text/plain")]
    fn static_text() -> &'static str {
        "This is the content of the static text resource."
    }

    /// A static binary resource (a PNG image).
    #[resource("test://static-binary", name = "static-binary", mime_type = "image/png")]
    fn static_binary() -> ResourceContents {
        ResourceContents::blob("test://static-binary", Some("image/png".into()), PNG)
    }

    /// A resource clients may subscribe to.
    #[resource("test://watched-resource", name = "watched-resource", mime_type = "text/plain")]
    fn watched_resource() -> &'static str {
        "Watched resource content"
    }

    /// Data for any id.
    #[resource("test://template/{id}/data", name = "template-data", mime_type = "application/json")]
    fn template_data(
        /// The item's id
        id: String,
    ) -> String {
        serde_json::json!({ "id": id, "templateTest": true, "data": format!("Data for ID: {id}") }).to_string()
    }
}
