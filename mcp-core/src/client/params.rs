//! `Mcp-Param-*` headers (2026-07-28): tool arguments whose input schema
//! marks them `x-mcp-header` travel in a header too, so that proxies can
//! route on them. The client learns the marks from every `tools/list` page
//! it reads and adds the headers to `tools/call`.

use std::collections::HashMap;
use std::sync::Mutex;

use base64::Engine as _;
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use crate::protocol::tools::Tool;
use crate::server::headers::names;

/// Per tool, its `(argument, header suffix)` pairs.
#[derive(Debug, Default)]
pub(super) struct ParamHeaders {
    tools: Mutex<HashMap<String, Vec<(String, String)>>>,
}

impl ParamHeaders {
    /// Learns the marks of one `tools/list` page.
    pub(super) fn learn(&self, page: &RawValue) {
        #[derive(serde::Deserialize)]
        struct Page {
            tools: Vec<Tool>,
        }
        let Ok(page) = serde_json::from_str::<Page>(page.get()) else { return };
        let Ok(mut tools) = self.tools.lock() else { return };
        for tool in page.tools {
            let marks: Vec<(String, String)> = tool
                .input_schema
                .get("properties")
                .and_then(Value::as_object)
                .map(|props| {
                    props
                        .iter()
                        .filter_map(|(prop, schema)| {
                            let header = schema.get("x-mcp-header")?.as_str()?;
                            Some((prop.clone(), header.to_owned()))
                        })
                        .collect()
                })
                .unwrap_or_default();
            if marks.is_empty() {
                tools.remove(&tool.name);
            } else {
                tools.insert(tool.name, marks);
            }
        }
    }

    /// The headers a `tools/call` with these params carries.
    pub(super) fn headers(&self, params: &Map<String, Value>) -> Vec<(String, String)> {
        let Some(name) = params.get("name").and_then(Value::as_str) else { return Vec::new() };
        let Ok(tools) = self.tools.lock() else { return Vec::new() };
        let Some(marks) = tools.get(name) else { return Vec::new() };
        let args = params.get("arguments").and_then(Value::as_object);
        marks
            .iter()
            .filter_map(|(prop, header)| {
                let value = match args?.get(prop)? {
                    Value::String(s) => encode(s),
                    other => encode(&other.to_string()),
                };
                Some((format!("{}{header}", names::PARAM_PREFIX), value))
            })
            .collect()
    }
}

/// A header value for `value`: itself when it is visible ASCII without
/// edge spaces and cannot be read as the encoded form; otherwise
/// `=?base64?<base64 of its UTF-8>?=`.
fn encode(value: &str) -> String {
    let visible = value.bytes().all(|b| b == b' ' || b.is_ascii_graphic());
    let padded = value.starts_with(' ') || value.ends_with(' ');
    let looks_encoded = value.starts_with("=?base64?") && value.ends_with("?=");
    if visible && !padded && !looks_encoded {
        value.to_owned()
    } else {
        format!("=?base64?{}?=", base64::engine::general_purpose::STANDARD.encode(value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn learns_marks_and_encodes_values() {
        let h = ParamHeaders::default();
        let page = serde_json::value::to_raw_value(&json!({"tools": [{
            "name": "t",
            "inputSchema": {"type": "object", "properties": {"region": {"type": "string", "x-mcp-header": "Region"}, "n": {"type": "integer", "x-mcp-header": "N"}}}
        }]}))
        .expect("json");
        h.learn(&page);
        let params = json!({"name": "t", "arguments": {"region": "Zürich", "n": 3}});
        let Value::Object(params) = params else { unreachable!() };
        let mut got = h.headers(&params);
        got.sort();
        assert_eq!(
            got,
            vec![
                ("mcp-param-N".to_owned(), "3".to_owned()),
                ("mcp-param-Region".to_owned(), "=?base64?WsO8cmljaA==?=".to_owned())
            ]
        );
        assert_eq!(encode("eu-west-1"), "eu-west-1");
        assert_eq!(encode(" padded"), "=?base64?IHBhZGRlZA==?=");
    }
}
