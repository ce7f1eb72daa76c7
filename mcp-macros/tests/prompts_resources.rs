//! `#[prompt]`, `#[resource]` (fixed URIs and templates) and `#[routes]` on
//! a module: what they list, what they return, and how they validate.

mod common;

use common::{Client, STATELESS};
use mcp_core::server::{Context, Json, ResourceRoute, Server, ServerBuilder};
use mcp_core::{Error, routes};
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::json;

#[derive(Serialize, JsonSchema)]
struct Version {
    major: u32,
    minor: u32,
}

#[routes]
mod shop {
    use super::{Context, Error, Json, Version};

    /// Write a product description.
    #[prompt(title = "Describe a product")]
    fn describe(
        /// The product's name
        product: String,
        /// The tone, e.g. `playful`
        tone: Option<String>,
        /// The language
        #[arg(default = "English")]
        language: String,
    ) -> String {
        let tone = tone.unwrap_or_else(|| "neutral".into());
        format!("Describe {product} in a {tone} tone, in {language}.")
    }

    /// Summarise a review.
    #[prompt(name = "summarise-review")]
    async fn summarise(review: String, ctx: &Context) -> Result<String, Error> {
        if review.is_empty() {
            return Err(Error::invalid_params("the review is empty"));
        }
        Ok(format!("Summarise ({}): {review}", ctx.protocol_version()))
    }

    /// The shop's opening hours.
    #[resource("shop://hours", mime_type = "text/plain")]
    fn hours() -> &'static str {
        "9-17"
    }

    /// The API version.
    #[resource("shop://version", title = "API version")]
    fn version() -> Json<Version> {
        Json(Version { major: 1, minor: 2 })
    }

    /// A product page.
    #[resource("shop://products/{id}{?lang,page}", name = "product", mime_type = "text/markdown")]
    async fn product(
        /// The product number
        id: u32,
        /// The language of the page
        lang: Option<String>,
        /// The page of reviews
        #[arg(default = 1)]
        page: u32,
    ) -> Result<String, Error> {
        if id == 0 {
            return Err(Error::ResourceNotFound { uri: format!("shop://products/{id}") });
        }
        Ok(format!("# Product {id} ({}, page {page})", lang.as_deref().unwrap_or("en")))
    }

    /// Not a handler: no attribute.
    pub(super) fn helper() -> &'static str {
        "untouched"
    }
}

#[test]
fn other_items_of_the_module_stay() {
    assert_eq!(shop::helper(), "untouched");
    assert_eq!(shop::routes().len(), 5);
}

fn server() -> Server {
    ServerBuilder::new("shop", "1.0.0").routes(shop::routes()).build().expect("valid server")
}

#[tokio::test]
async fn a_panicking_resource_shows_its_message_only_when_internal_errors_are_exposed() {
    let boom = || {
        ResourceRoute::new("shop://boom", "boom", |_: Context, uri: String| async move {
            assert!(uri.is_empty(), "secret detail");
            uri
        })
    };
    for (expose, shows) in [(true, true), (false, false)] {
        let server = ServerBuilder::new("shop", "1.0.0").resource(boom()).expose_internal_errors(expose).build();
        let mut c = Client::connect(&server.expect("valid"), STATELESS).await;
        let r = c.request("resources/read", json!({ "uri": "shop://boom" })).await;
        let message = r["error"]["message"].as_str().unwrap_or_default();
        assert!(message.contains("reading `shop://boom` failed"), "{r}");
        assert_eq!(message.contains("secret detail"), shows, "expose {expose}: {message}");
    }
}

#[tokio::test]
async fn prompts_list_their_arguments() {
    let mut c = Client::connect(&server(), STATELESS).await;
    let prompts = c.request("prompts/list", json!({})).await;
    let prompts = prompts["result"]["prompts"].as_array().cloned().unwrap_or_default();
    assert_eq!(prompts.len(), 2);
    let describe = prompts.iter().find(|p| p["name"] == "describe").expect("describe");
    assert_eq!(describe["title"], "Describe a product");
    assert_eq!(describe["description"], "Write a product description.");
    assert_eq!(
        describe["arguments"],
        json!([
            { "name": "product", "description": "The product's name", "required": true },
            { "name": "tone", "description": "The tone, e.g. `playful`", "required": false },
            { "name": "language", "description": "The language", "required": false },
        ])
    );
    assert!(prompts.iter().any(|p| p["name"] == "summarise-review"));
}

#[tokio::test]
async fn prompts_render_and_validate() {
    let mut c = Client::connect(&server(), STATELESS).await;
    let get = |name: &str, args| json!({ "name": name, "arguments": args });
    let r = c.request("prompts/get", get("describe", json!({ "product": "tea" }))).await;
    assert_eq!(r["result"]["messages"][0]["content"]["text"], "Describe tea in a neutral tone, in English.", "{r}");
    let r = c.request("prompts/get", get("describe", json!({}))).await;
    assert_eq!(r["error"]["code"], -32602, "{r}");
    assert!(r["error"]["message"].as_str().unwrap_or_default().contains("missing field `product`"), "{r}");
    let r = c.request("prompts/get", get("summarise-review", json!({ "review": "" }))).await;
    assert_eq!(r["error"]["code"], -32602, "{r}");
    let r = c.request("prompts/get", get("summarise-review", json!({ "review": "good" }))).await;
    assert_eq!(r["result"]["messages"][0]["content"]["text"], "Summarise (2026-07-28): good", "{r}");
}

#[tokio::test]
async fn resources_and_templates_are_listed() {
    let mut c = Client::connect(&server(), STATELESS).await;
    let r = c.request("resources/list", json!({})).await;
    assert_eq!(
        r["result"]["resources"],
        json!([
            { "uri": "shop://hours", "name": "hours", "description": "The shop's opening hours.", "mimeType": "text/plain" },
            { "uri": "shop://version", "name": "version", "title": "API version", "description": "The API version." },
        ]),
        "{r}"
    );
    let r = c.request("resources/templates/list", json!({})).await;
    assert_eq!(
        r["result"]["resourceTemplates"],
        json!([{
            "uriTemplate": "shop://products/{id}{?lang,page}",
            "name": "product",
            "description": "A product page.\n\n- `id`: The product number\n- `lang`: The language of the page\n- `page`: The page of reviews",
            "mimeType": "text/markdown",
        }]),
        "{r}"
    );
}

#[tokio::test]
async fn resources_read_with_typed_variables() {
    let mut c = Client::connect(&server(), STATELESS).await;
    let read = |uri: &str| json!({ "uri": uri });
    let r = c.request("resources/read", read("shop://hours")).await;
    assert_eq!(r["result"]["contents"], json!([{ "uri": "shop://hours", "mimeType": "text/plain", "text": "9-17" }]));
    let r = c.request("resources/read", read("shop://version")).await;
    assert_eq!(r["result"]["contents"][0]["mimeType"], "application/json");
    assert_eq!(r["result"]["contents"][0]["text"], r#"{"major":1,"minor":2}"#);
    let r = c.request("resources/read", read("shop://products/7?lang=fr&page=3")).await;
    assert_eq!(r["result"]["contents"][0]["text"], "# Product 7 (fr, page 3)", "{r}");
    assert_eq!(r["result"]["contents"][0]["mimeType"], "text/markdown");
    let r = c.request("resources/read", read("shop://products/7")).await;
    assert_eq!(r["result"]["contents"][0]["text"], "# Product 7 (en, page 1)", "{r}");
    let r = c.request("resources/read", read("shop://products/seven")).await;
    assert_eq!(r["error"]["code"], -32602, "{r}");
    let message = r["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("`id`") && message.contains("expected u32"), "{r}");
    let r = c.request("resources/read", read("shop://products/0")).await;
    assert_eq!(r["error"]["code"], -32602, "{r}"); // resource not found, 2026-07-28
    let mut legacy = Client::connect(&server(), "2025-11-25").await;
    let r = legacy.request("resources/read", read("shop://products/0")).await;
    assert_eq!(r["error"]["code"], -32002, "{r}");
}
