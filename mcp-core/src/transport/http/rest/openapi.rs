//! The OpenAPI 3.1 document of the REST façade, generated from the tools
//! registered when it is asked for, so it follows tools added or removed
//! at run time.

use serde_json::{Map, Value, json};

use super::{RestOptions, SecurityScheme};
use crate::server::Server;

/// The façade's error responses, by status: (status, component name,
/// description).
const ERRORS: &[(&str, &str, &str)] = &[
    ("400", "BadRequest", "The body is not a JSON object, or the arguments do not fit (the message names the field)."),
    ("401", "Unauthorized", "No valid credentials."),
    ("403", "Forbidden", "The credentials do not allow this tool."),
    ("404", "NotFound", "No such tool."),
    ("405", "MethodNotAllowed", "The route does not take this method."),
    ("413", "PayloadTooLarge", "The body exceeds the server's limit."),
    ("415", "UnsupportedMediaType", "The body is not declared as application/json."),
    ("422", "ToolError", "The tool ran and reported a failure; `code` is the tool's own."),
    ("429", "TooManyRequests", "A rate limit refused the call; retry after `Retry-After` seconds."),
    ("500", "InternalError", "The tool or the server failed; no details are given."),
    ("503", "Overloaded", "The server is shedding load."),
    ("504", "Timeout", "The tool overran its deadline."),
];

/// The OpenAPI 3.1 document for `server`'s tools under `options`.
///
/// ```
/// use mcp_core::server::{Context, NoArgs, ServerBuilder, ToolRoute};
/// use mcp_core::transport::http::rest::{RestOptions, openapi_document};
///
/// let server = ServerBuilder::new("clock", "1.0.0")
///     .tool(ToolRoute::new("now", |_ctx: Context, _: NoArgs| async { "noon" }).with_description("The time"))
///     .build()
///     .unwrap();
/// let doc = openapi_document(&server, &RestOptions::default());
/// assert_eq!(doc["openapi"], "3.1.0");
/// assert_eq!(doc["paths"]["/tools/now"]["post"]["description"], "The time");
/// ```
pub fn document(server: &Server, options: &RestOptions) -> Value {
    let tools = server.tools();
    let mut schemas = Map::new();
    schemas.insert("Error".into(), error_schema());
    let mut paths = Map::new();
    let errors = |statuses: &[&str]| -> Map<String, Value> {
        let mut out = Map::new();
        for (status, name, _) in ERRORS {
            let secured = matches!(*status, "401" | "403");
            if statuses.contains(status) && (!secured || !options.security.is_empty()) {
                out.insert((*status).into(), json!({ "$ref": format!("#/components/responses/{name}") }));
            }
        }
        out
    };
    let call_errors = ["400", "401", "403", "405", "413", "415", "422", "429", "500", "503", "504"];

    let mut list_responses = errors(&["401", "403", "405", "429", "500", "503"]);
    list_responses.insert(
        "200".into(),
        json!({
            "description": "The tools, as MCP's `tools/list` describes them.",
            "content": { "application/json": { "schema": {
                "type": "object",
                "required": ["tools"],
                "properties": { "tools": { "type": "array", "items": { "type": "object" } } },
            } } },
        }),
    );
    paths.insert(
        options.path("/tools"),
        json!({ "get": { "operationId": "listTools", "summary": "List the tools", "responses": list_responses } }),
    );

    for tool in &tools {
        let key = component_name(&tool.name);
        let input = hoist(&tool.input_schema, &key, &mut schemas);
        let output = tool.output_schema.as_ref().map(|s| hoist(s, &format!("{key}.output"), &mut schemas));
        let mut responses = errors(&call_errors);
        responses.insert("200".into(), success(output));
        let mut op = Map::new();
        op.insert("operationId".into(), json!(format!("call_{key}")));
        op.insert("summary".into(), json!(tool.title.clone().unwrap_or_else(|| tool.name.clone())));
        if let Some(d) = &tool.description {
            op.insert("description".into(), json!(d));
        }
        op.insert(
            "requestBody".into(),
            json!({
                "required": true,
                "description": "The tool's arguments.",
                "content": { "application/json": { "schema": input } },
            }),
        );
        op.insert("responses".into(), Value::Object(responses));
        paths.insert(options.path(&format!("/tools/{}", path_segment(&tool.name))), json!({ "post": op }));
    }

    let names: Vec<&str> = tools.iter().map(|t| t.name.as_str()).collect();
    let mut guide_responses =
        errors(&["400", "401", "403", "404", "405", "413", "415", "422", "429", "500", "503", "504"]);
    guide_responses.insert(
        "200".into(),
        json!({
            "description": "The named tool's result: its structured result, else its text.",
            "content": { "application/json": { "schema": {} } },
        }),
    );
    paths.insert(
        options.path("/"),
        json!({ "post": {
            "operationId": "callTool",
            "summary": "Call a tool by name",
            "description": "The Step Functions server guide's form: the tool's name and its arguments in one body.",
            "requestBody": { "required": true, "content": { "application/json": { "schema": {
                "type": "object",
                "required": ["tool"],
                "additionalProperties": false,
                "properties": {
                    "tool": { "type": "string", "enum": names },
                    "params": { "type": "object", "description": "The tool's arguments." },
                },
            } } } },
            "responses": guide_responses,
        } }),
    );
    paths.insert(
        options.path("/openapi.json"),
        json!({ "get": {
            "operationId": "openApi",
            "summary": "This document",
            "security": [],
            "responses": {
                "200": { "description": "The OpenAPI document.", "content": { "application/json": { "schema": { "type": "object" } } } },
                "405": { "$ref": "#/components/responses/MethodNotAllowed" },
            },
        } }),
    );

    let mut responses = Map::new();
    for (status, name, description) in ERRORS {
        let mut response = json!({
            "description": description,
            "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } },
        });
        if *status == "429" {
            response["headers"] = json!({
                "Retry-After": { "description": "Seconds until a retry would be admitted.", "schema": { "type": "integer", "minimum": 1 } },
            });
        }
        responses.insert((*name).into(), response);
    }
    let mut components = json!({ "schemas": schemas, "responses": responses });
    let mut doc = json!({
        "openapi": "3.1.0",
        "jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
        "info": {
            "title": server.info().name,
            "version": server.info().version,
            "description": "The REST façade of an MCP server: each tool as an operation, dispatched as `tools/call`.",
        },
        "paths": paths,
    });
    if !options.security.is_empty() {
        let mut schemes = Map::new();
        let mut requirements = Vec::new();
        for scheme in &options.security {
            let (name, value) = match scheme {
                SecurityScheme::ApiKey { header } => {
                    ("apiKey", json!({ "type": "apiKey", "in": "header", "name": header }))
                }
                SecurityScheme::Bearer => ("bearer", json!({ "type": "http", "scheme": "bearer" })),
            };
            schemes.insert(name.into(), value);
            requirements.push(json!({ name: [] }));
        }
        components["securitySchemes"] = Value::Object(schemes);
        doc["security"] = Value::Array(requirements);
    }
    doc["components"] = components;
    doc
}

/// A tool's 200: its output schema, or its text (or content array).
fn success(output: Option<Value>) -> Value {
    let schema = output.unwrap_or_else(|| {
        json!({ "oneOf": [
            { "type": "string", "description": "The tool's text." },
            { "type": "array", "items": { "type": "object" }, "description": "The tool's content items." },
        ] })
    });
    json!({
        "description": "The tool's result: its structured result, else its text.",
        "content": { "application/json": { "schema": schema } },
    })
}

fn error_schema() -> Value {
    json!({
        "type": "object",
        "required": ["error"],
        "properties": { "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": { "type": "string" },
                "message": { "type": "string" },
                "details": {},
            },
        } },
    })
}

/// A component name from a tool name (`[A-Za-z0-9._-]`).
fn component_name(name: &str) -> String {
    name.chars().map(|c| if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') { c } else { '_' }).collect()
}

/// A tool name as a path segment (percent-encoded outside `[A-Za-z0-9._~-]`).
fn path_segment(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'~' | b'-') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `schema` with its `$defs` (or `definitions`) moved to
/// `components/schemas` as `{prefix}.{name}` and its `$ref`s rewritten to
/// match: a `#/$defs/..` reference would otherwise resolve against the
/// OpenAPI document's root. `$schema` is dropped (the document names the
/// dialect).
fn hoist(schema: &Map<String, Value>, prefix: &str, components: &mut Map<String, Value>) -> Value {
    let mut schema = schema.clone();
    schema.remove("$schema");
    for key in ["$defs", "definitions"] {
        if let Some(Value::Object(defs)) = schema.remove(key) {
            for (name, def) in defs {
                let mut def = def;
                rewrite_refs(&mut def, prefix);
                components.insert(format!("{prefix}.{}", component_name(&name)), def);
            }
        }
    }
    let mut out = Value::Object(schema);
    rewrite_refs(&mut out, prefix);
    out
}

fn rewrite_refs(value: &mut Value, prefix: &str) {
    match value {
        Value::Object(map) => {
            for (key, v) in map.iter_mut() {
                if key == "$ref"
                    && let Value::String(r) = v
                    && let Some(name) = r.strip_prefix("#/$defs/").or_else(|| r.strip_prefix("#/definitions/"))
                {
                    *r = format!("#/components/schemas/{prefix}.{}", component_name(name));
                } else {
                    rewrite_refs(v, prefix);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| rewrite_refs(v, prefix)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defs_move_to_components_and_refs_follow() {
        let schema = json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "type": "object",
            "properties": { "p": { "$ref": "#/$defs/Point" }, "q": { "items": { "$ref": "#/$defs/Point" } } },
            "$defs": { "Point": { "type": "object", "properties": { "next": { "$ref": "#/$defs/Point" } } } },
        });
        let mut components = Map::new();
        let Value::Object(schema) = schema else { unreachable!() };
        let out = hoist(&schema, "geo", &mut components);
        assert!(out.get("$schema").is_none() && out.get("$defs").is_none());
        assert_eq!(out["properties"]["p"]["$ref"], "#/components/schemas/geo.Point");
        assert_eq!(out["properties"]["q"]["items"]["$ref"], "#/components/schemas/geo.Point");
        assert_eq!(components["geo.Point"]["properties"]["next"]["$ref"], "#/components/schemas/geo.Point");
        assert_eq!(path_segment("a b/c"), "a%20b%2Fc");
    }
}
