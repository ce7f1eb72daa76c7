//! The typed calls, and the raw `request` they are built on.

use std::collections::{BTreeMap, HashSet};

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use super::error::ClientError;
use super::tasks::{ToolCall, tool_call};
use super::{Client, RequestOptions};
use crate::protocol::completion::{
    CompleteRequestParams, CompleteResult, CompletionArgument, CompletionContext, Reference,
};
use crate::protocol::logging::LoggingLevel;
use crate::protocol::methods;
use crate::protocol::prompts::{GetPromptResult, ListPromptsResult, Prompt};
use crate::protocol::resources::{
    ListResourceTemplatesResult, ListResourcesResult, ReadResourceResult, Resource, ResourceTemplate,
};
use crate::protocol::tools::{CallToolResult, ListToolsResult, Tool};

/// At most this many pages are followed by one `list_*` call.
const MAX_PAGES: usize = 10_000;

pub(super) fn object(method: &str, params: impl Serialize) -> Result<Map<String, Value>, ClientError> {
    match serde_json::to_value(params) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(Value::Null) => Ok(Map::new()),
        Ok(other) => Err(ClientError::InvalidParams {
            method: method.to_owned(),
            reason: format!("params must be a JSON object, got {other}"),
        }),
        Err(e) => Err(ClientError::InvalidParams { method: method.to_owned(), reason: e.to_string() }),
    }
}

/// A page of a list method: its items and its next cursor.
trait Page: DeserializeOwned {
    type Item;
    fn into_parts(self) -> (Vec<Self::Item>, Option<String>);
}

macro_rules! page {
    ($result:ty, $item:ty, $field:ident) => {
        impl Page for $result {
            type Item = $item;
            fn into_parts(self) -> (Vec<$item>, Option<String>) {
                (self.$field, self.next_cursor)
            }
        }
    };
}
page!(ListToolsResult, Tool, tools);
page!(ListResourcesResult, Resource, resources);
page!(ListResourceTemplatesResult, ResourceTemplate, resource_templates);
page!(ListPromptsResult, Prompt, prompts);

impl Client {
    /// Sends request `method` with `params` (a JSON object, or `null` for
    /// none) and returns its result: `_meta` stamped for the era (client
    /// capabilities already in `params._meta` are kept: a gateway passes
    /// its caller's on), and `input_required` rounds answered by the
    /// handlers. For methods this client has no typed call for, and for
    /// forwarding.
    ///
    /// # Errors
    /// [`ClientError::Rpc`] when the server answers with an error; the
    /// others as their variants say.
    pub async fn request(&self, method: &str, params: Value) -> Result<Value, ClientError> {
        self.request_with(method, params, &RequestOptions::default()).await
    }

    /// [`request`](Self::request) with per-request options.
    ///
    /// # Errors
    /// As [`request`](Self::request).
    pub async fn request_with(&self, method: &str, params: Value, opts: &RequestOptions) -> Result<Value, ClientError> {
        self.typed(method, object(method, params)?, opts).await
    }

    /// Sends a notification.
    ///
    /// # Errors
    /// When the transport cannot deliver it.
    pub async fn notify(&self, method: &str, params: Option<Value>) -> Result<(), ClientError> {
        let raw = params
            .map(|p| serde_json::value::to_raw_value(&p))
            .transpose()
            .map_err(|e| ClientError::InvalidParams { method: method.to_owned(), reason: e.to_string() })?;
        self.shared.notify(method, raw).await
    }

    pub(super) async fn typed<T: DeserializeOwned>(
        &self,
        method: &str,
        params: Map<String, Value>,
        opts: &RequestOptions,
    ) -> Result<T, ClientError> {
        let raw = self.shared.call(method, params, opts).await?;
        serde_json::from_str(raw.get()).map_err(|e| ClientError::InvalidResult { method: method.to_owned(), source: e })
    }

    async fn all_pages<P: Page>(&self, method: &str) -> Result<Vec<P::Item>, ClientError> {
        let mut items = Vec::new();
        let mut cursor: Option<String> = None;
        let mut seen = HashSet::new();
        for _ in 0..MAX_PAGES {
            let mut params = Map::new();
            if let Some(c) = &cursor {
                params.insert("cursor".into(), Value::String(c.clone()));
            }
            let page: P = self.typed(method, params, &RequestOptions::default()).await?;
            let (page_items, next) = page.into_parts();
            items.extend(page_items);
            match next {
                None => return Ok(items),
                Some(next) if !seen.insert(next.clone()) => {
                    return Err(ClientError::Protocol(format!("{method} repeated the cursor {next:?}")));
                }
                Some(next) => cursor = Some(next),
            }
        }
        Err(ClientError::Protocol(format!("{method} returned more than {MAX_PAGES} pages")))
    }

    /// Every tool, following `nextCursor` through every page.
    ///
    /// # Errors
    /// As [`request`](Self::request); [`ClientError::Protocol`] when a
    /// cursor repeats.
    pub async fn list_tools(&self) -> Result<Vec<Tool>, ClientError> {
        self.all_pages::<ListToolsResult>(methods::TOOLS_LIST).await
    }

    /// One page of `tools/list`.
    ///
    /// # Errors
    /// As [`request`](Self::request).
    pub async fn list_tools_page(&self, cursor: Option<&str>) -> Result<ListToolsResult, ClientError> {
        self.typed(methods::TOOLS_LIST, object(methods::TOOLS_LIST, Cursor { cursor })?, &RequestOptions::default())
            .await
    }

    /// Every resource, through every page.
    ///
    /// # Errors
    /// As [`list_tools`](Self::list_tools).
    pub async fn list_resources(&self) -> Result<Vec<Resource>, ClientError> {
        self.all_pages::<ListResourcesResult>(methods::RESOURCES_LIST).await
    }

    /// Every resource template, through every page.
    ///
    /// # Errors
    /// As [`list_tools`](Self::list_tools).
    pub async fn list_resource_templates(&self) -> Result<Vec<ResourceTemplate>, ClientError> {
        self.all_pages::<ListResourceTemplatesResult>(methods::RESOURCES_TEMPLATES_LIST).await
    }

    /// Every prompt, through every page.
    ///
    /// # Errors
    /// As [`list_tools`](Self::list_tools).
    pub async fn list_prompts(&self) -> Result<Vec<Prompt>, ClientError> {
        self.all_pages::<ListPromptsResult>(methods::PROMPTS_LIST).await
    }

    /// Calls tool `name` with `arguments` (anything that serialises to a JSON
    /// object; `()` or `Value::Null` for none). A tool's own failure is an
    /// `Ok` result with [`is_error`](CallToolResult::is_error).
    ///
    /// When the client declared [`tasks`](super::ClientBuilder::tasks) and
    /// the server answers with a task, the call follows the task to its end
    /// transparently, as [`wait_task`](Self::wait_task) does (polling, its
    /// input answered by the handlers), and returns its result; the task is
    /// cancelled if the future is dropped before it ended. The request
    /// timeout applies to each request, not to the whole task.
    /// [`call_tool_as_task`](Self::call_tool_as_task) returns the task
    /// instead.
    ///
    /// # Errors
    /// As [`request`](Self::request): an unknown tool is
    /// [`ClientError::Rpc`] (-32602). A task that failed is
    /// [`ClientError::Rpc`] with its error, one that was cancelled
    /// [`ClientError::TaskCancelled`].
    pub async fn call_tool(&self, name: &str, arguments: impl Serialize) -> Result<CallToolResult, ClientError> {
        self.call_tool_with(name, arguments, &RequestOptions::default()).await
    }

    /// [`call_tool`](Self::call_tool) with per-request options (a progress
    /// token, a timeout).
    ///
    /// # Errors
    /// As [`call_tool`](Self::call_tool).
    pub async fn call_tool_with(
        &self,
        name: &str,
        arguments: impl Serialize,
        opts: &RequestOptions,
    ) -> Result<CallToolResult, ClientError> {
        match self.tools_call(name, arguments, opts).await? {
            ToolCall::Done(result) => Ok(result),
            ToolCall::Task(created) => self.follow_created(created, opts).await,
        }
    }

    /// `tools/call`, its answer told apart: a result or a task.
    pub(super) async fn tools_call(
        &self,
        name: &str,
        arguments: impl Serialize,
        opts: &RequestOptions,
    ) -> Result<ToolCall, ClientError> {
        let arguments = object(methods::TOOLS_CALL, arguments)?;
        let mut params = Map::new();
        params.insert("name".into(), Value::String(name.to_owned()));
        if !arguments.is_empty() {
            params.insert("arguments".into(), Value::Object(arguments));
        }
        let raw = self.shared.call(methods::TOOLS_CALL, params, opts).await?;
        tool_call(&raw)
    }

    /// [`call_tool`](Self::call_tool), with a result whose `isError` is true
    /// turned into [`ClientError::ToolFailed`].
    ///
    /// # Errors
    /// As [`call_tool`](Self::call_tool), plus [`ClientError::ToolFailed`].
    pub async fn call_tool_checked(
        &self,
        name: &str,
        arguments: impl Serialize,
    ) -> Result<CallToolResult, ClientError> {
        let result = self.call_tool(name, arguments).await?;
        if result.is_error() {
            return Err(ClientError::ToolFailed { name: name.to_owned(), result: Box::new(result) });
        }
        Ok(result)
    }

    /// Reads the resource at `uri`.
    ///
    /// # Errors
    /// As [`request`](Self::request): an unknown URI is [`ClientError::Rpc`]
    /// (-32002 in the legacy era, -32602 in the stateless one).
    pub async fn read_resource(&self, uri: &str) -> Result<ReadResourceResult, ClientError> {
        let mut params = Map::new();
        params.insert("uri".into(), Value::String(uri.to_owned()));
        self.typed(methods::RESOURCES_READ, params, &RequestOptions::default()).await
    }

    /// Gets prompt `name` with string `arguments`.
    ///
    /// # Errors
    /// As [`request`](Self::request).
    pub async fn get_prompt<K, V>(
        &self,
        name: &str,
        arguments: impl IntoIterator<Item = (K, V)>,
    ) -> Result<GetPromptResult, ClientError>
    where
        K: Into<String>,
        V: Into<String>,
    {
        let arguments: BTreeMap<String, String> = arguments.into_iter().map(|(k, v)| (k.into(), v.into())).collect();
        let mut params = Map::new();
        params.insert("name".into(), Value::String(name.to_owned()));
        if !arguments.is_empty() {
            params.insert("arguments".into(), object(methods::PROMPTS_GET, arguments)?.into());
        }
        self.typed(methods::PROMPTS_GET, params, &RequestOptions::default()).await
    }

    /// Completion values for argument `argument` of a prompt or resource
    /// template, given its partial `value` and the arguments already
    /// resolved.
    ///
    /// # Errors
    /// As [`request`](Self::request).
    pub async fn complete(
        &self,
        reference: Reference,
        argument: &str,
        value: &str,
        resolved: Option<BTreeMap<String, String>>,
    ) -> Result<CompleteResult, ClientError> {
        let params = CompleteRequestParams {
            reference,
            argument: CompletionArgument { name: argument.to_owned(), value: value.to_owned() },
            context: resolved.map(|arguments| CompletionContext { arguments: Some(arguments) }),
            meta: None,
        };
        let params = object(methods::COMPLETION_COMPLETE, params)?;
        self.typed(methods::COMPLETION_COMPLETE, params, &RequestOptions::default()).await
    }

    /// Checks the server is alive: `ping` in the legacy era,
    /// `server/discover` in the stateless one (which has no `ping`).
    ///
    /// # Errors
    /// As [`request`](Self::request).
    pub async fn ping(&self) -> Result<(), ClientError> {
        let method = if self.shared.is_stateless() { methods::SERVER_DISCOVER } else { methods::PING };
        self.typed::<Value>(method, Map::new(), &RequestOptions::default()).await.map(drop)
    }

    /// Asks for log messages at `level` and above: `logging/setLevel` in the
    /// legacy era; in the stateless era every later request carries the
    /// level in its `_meta`.
    ///
    /// # Errors
    /// As [`request`](Self::request) (legacy era).
    pub async fn set_log_level(&self, level: LoggingLevel) -> Result<(), ClientError> {
        if let Ok(mut l) = self.shared.log_level.lock() {
            *l = Some(level);
        }
        if self.shared.is_stateless() {
            return Ok(());
        }
        let mut params = Map::new();
        params.insert("level".into(), Value::String(level.as_str().into()));
        self.typed::<Value>(methods::LOGGING_SET_LEVEL, params, &RequestOptions::default()).await.map(drop)
    }
}

#[derive(Serialize)]
struct Cursor<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    cursor: Option<&'a str>,
}
