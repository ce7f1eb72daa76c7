//! The tasks extension in process: a task-capable tool's call becomes a
//! task for a client that declares the extension; `tasks/get` inlines the
//! result or error; input goes through `tasks/update`; `tasks/cancel`
//! cancels the handler; tasks are bound to their creator's principal; two
//! servers sharing a store see each other's tasks; a task whose worker died
//! turns failed after its lease.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use mcp_core::protocol::elicitation::ElicitRequestParams;
use mcp_core::server::task::{InMemoryTaskStore, TaskStore, TaskSupport};
use mcp_core::server::{Context, NoArgs, Principal, Server, ServerBuilder, Sink, ToolRoute, handle_frame};
use serde_json::{Value, json};
use tokio::sync::Notify;

const TASKS: &str = "io.modelcontextprotocol/tasks";

/// What the test tools report to the test.
#[derive(Default)]
struct Probe {
    release: Notify,
    cancelled: AtomicBool,
    runs: AtomicUsize,
}

fn ask(message: &str, field: &str) -> ElicitRequestParams {
    let schema = serde_json::from_value(json!({
        "type": "object", "properties": { field: { "type": "string" } }, "required": [field],
    }))
    .expect("schema");
    ElicitRequestParams::form(message, schema)
}

fn server(probe: &Arc<Probe>, store: Option<Arc<dyn TaskStore>>, lease: Duration) -> Server {
    let p = Arc::clone(probe);
    let work = ToolRoute::new("work", move |ctx: Context, _: NoArgs| {
        let p = Arc::clone(&p);
        async move {
            p.runs.fetch_add(1, Ordering::SeqCst);
            tokio::select! {
                () = p.release.notified() => "done".to_owned(),
                () = ctx.cancelled() => {
                    p.cancelled.store(true, Ordering::SeqCst);
                    "cancelled".to_owned()
                }
            }
        }
    })
    .with_description("Works until released")
    .task_support(TaskSupport::Optional);
    let p = Arc::clone(probe);
    let two_questions = ToolRoute::new("two_questions", move |ctx: Context, _: NoArgs| {
        let p = Arc::clone(&p);
        async move {
            p.runs.fetch_add(1, Ordering::SeqCst);
            let (a, b) =
                tokio::join!(ctx.elicit_as("first", ask("First?", "v")), ctx.elicit_as("second", ask("Second?", "v")));
            let (a, b) = (a?, b?);
            let v = |r: &mcp_core::protocol::elicitation::ElicitResult| {
                r.content.as_ref().and_then(|c| c.get("v")).cloned().unwrap_or(Value::Null)
            };
            Ok::<_, mcp_core::Error>(format!("{} and {}", v(&a), v(&b)))
        }
    })
    .with_description("Asks two things")
    .task_support(TaskSupport::Optional);
    let needs_task = ToolRoute::new("needs_task", |_ctx: Context, _: NoArgs| async { "ran" })
        .with_description("Only as a task")
        .task_support(TaskSupport::Required);
    let boom = ToolRoute::new("boom", |_ctx: Context, _: NoArgs| async {
        if true {
            panic!("boom went the tool");
        }
        "unreachable"
    })
    .with_description("Panics")
    .task_support(TaskSupport::Optional);
    let mut b = ServerBuilder::new("tasks-test", "1")
        .tool(work)
        .tool(two_questions)
        .tool(needs_task)
        .tool(boom)
        .task_lease(lease)
        .task_poll_interval(Duration::from_millis(50))
        .expose_internal_errors(false);
    if let Some(store) = store {
        b = b.task_store(store);
    }
    b.build().expect("valid")
}

/// Sends one stateless request as `who` (no principal when `None`), with
/// or without the tasks extension; returns the JSON-RPC response.
async fn call(server: &Server, who: Option<&str>, tasks: bool, method: &str, params: Value) -> Value {
    let caps = if tasks { json!({"elicitation": {}, "extensions": {TASKS: {}}}) } else { json!({"elicitation": {}}) };
    let mut params = params;
    params["_meta"] = json!({
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientCapabilities": caps,
    });
    let frame = json!({"jsonrpc": "2.0", "id": 7, "method": method, "params": params}).to_string();
    let mut ext = http::Extensions::new();
    if let Some(who) = who {
        ext.insert(Principal::new(who));
    }
    let out = handle_frame(server.clone(), frame.as_bytes(), None, &Sink::none(), &ext).await.expect("a response");
    serde_json::from_slice(&out).expect("json")
}

async fn create(server: &Server, who: Option<&str>, tool: &str) -> String {
    let r = call(server, who, true, "tools/call", json!({"name": tool, "arguments": {}})).await;
    let result = &r["result"];
    assert_eq!(result["resultType"], "task", "{r}");
    for absent in ["task", "ttl", "pollInterval", "requestState", "result", "error"] {
        assert!(result.get(absent).is_none(), "{absent} in {r}");
    }
    assert!(result["ttlMs"].as_u64().is_some_and(|t| t > 0), "{r}");
    assert_eq!(result["pollIntervalMs"], 50);
    result["taskId"].as_str().expect("taskId").to_owned()
}

async fn get(server: &Server, who: Option<&str>, id: &str) -> Value {
    call(server, who, true, "tasks/get", json!({"taskId": id})).await
}

/// Polls `tasks/get` until the status is one of `want` (5 s at most).
async fn wait_for(server: &Server, who: Option<&str>, id: &str, want: &[&str]) -> Value {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let r = get(server, who, id).await;
        let status = r["result"]["status"].as_str().unwrap_or_default().to_owned();
        if want.contains(&status.as_str()) {
            return r["result"].clone();
        }
        assert!(Instant::now() < deadline, "task {id} never reached {want:?}: {r}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

const LEASE: Duration = Duration::from_secs(30);

#[tokio::test]
async fn a_task_runs_its_tool_and_inlines_the_result() {
    let probe = Arc::new(Probe::default());
    let s = server(&probe, None, LEASE);
    let id = create(&s, None, "work").await;
    // Readable at once, while working: no result yet.
    let working = get(&s, None, &id).await;
    assert_eq!(working["result"]["status"], "working", "{working}");
    assert!(working["result"].get("result").is_none());
    assert_eq!(working["result"]["resultType"], "complete");
    while probe.runs.load(Ordering::SeqCst) == 0 {
        tokio::task::yield_now().await;
    }
    probe.release.notify_one();
    let done = wait_for(&s, None, &id, &["completed"]).await;
    assert_eq!(done["result"]["content"][0]["text"], "done", "{done}");
    assert!(done.get("error").is_none());
    // Cancelling an ended task is an idempotent ack that changes nothing.
    let ack = call(&s, None, true, "tasks/cancel", json!({"taskId": id})).await;
    assert_eq!(ack["result"]["resultType"], "complete", "{ack}");
    assert!(ack["result"].get("status").is_none());
    assert_eq!(get(&s, None, &id).await["result"]["status"], "completed");
}

#[tokio::test]
async fn cancelling_a_task_cancels_its_handler() {
    let probe = Arc::new(Probe::default());
    let s = server(&probe, None, LEASE);
    let id = create(&s, None, "work").await;
    while probe.runs.load(Ordering::SeqCst) == 0 {
        tokio::task::yield_now().await;
    }
    let ack = call(&s, None, true, "tasks/cancel", json!({"taskId": id})).await;
    assert_eq!(ack["result"]["resultType"], "complete", "{ack}");
    let t = wait_for(&s, None, &id, &["cancelled", "completed", "failed"]).await;
    assert_eq!(t["status"], "cancelled", "{t}");
    let deadline = Instant::now() + Duration::from_secs(5);
    while !probe.cancelled.load(Ordering::SeqCst) {
        assert!(Instant::now() < deadline, "the handler never saw the cancellation");
        tokio::task::yield_now().await;
    }
    // Cancelling again is the same ack.
    let again = call(&s, None, true, "tasks/cancel", json!({"taskId": id})).await;
    assert_eq!(again["result"]["resultType"], "complete", "{again}");
}

#[tokio::test]
async fn a_task_belongs_to_its_creator() {
    let probe = Arc::new(Probe::default());
    let s = server(&probe, None, LEASE);
    let id = create(&s, Some("alice"), "work").await;
    assert_eq!(get(&s, Some("alice"), &id).await["result"]["taskId"], id.as_str());
    for who in [Some("mallory"), None] {
        for method in ["tasks/get", "tasks/cancel"] {
            let r = call(&s, who, true, method, json!({"taskId": id})).await;
            assert_eq!(r["error"]["code"], -32602, "{method} as {who:?}: {r}");
        }
        let r = call(&s, who, true, "tasks/update", json!({"taskId": id, "inputResponses": {}})).await;
        assert_eq!(r["error"]["code"], -32602, "{r}");
    }
    // Mallory's cancel did nothing.
    assert_eq!(get(&s, Some("alice"), &id).await["result"]["status"], "working");
}

#[tokio::test]
async fn without_the_extension_tasks_are_refused_and_optional_tools_run_inline() {
    let probe = Arc::new(Probe::default());
    let s = server(&probe, None, LEASE);
    for (method, params) in [
        ("tasks/get", json!({"taskId": "x"})),
        ("tasks/update", json!({"taskId": "x", "inputResponses": {}})),
        ("tasks/cancel", json!({"taskId": "x"})),
        ("tools/call", json!({"name": "needs_task", "arguments": {}})),
    ] {
        let r = call(&s, None, false, method, params).await;
        assert_eq!(r["error"]["code"], -32021, "{method}: {r}");
        assert!(r["error"]["data"]["requiredCapabilities"]["extensions"][TASKS].is_object(), "{r}");
    }
    // An optional tool runs as an ordinary call.
    let p = Arc::clone(&probe);
    let release = tokio::spawn(async move {
        while p.runs.load(Ordering::SeqCst) == 0 {
            tokio::task::yield_now().await;
        }
        p.release.notify_one();
    });
    let r = call(&s, None, false, "tools/call", json!({"name": "work", "arguments": {}})).await;
    release.await.expect("released");
    assert_eq!(r["result"]["resultType"], "complete", "{r}");
    assert_eq!(r["result"]["content"][0]["text"], "done");
    // Unknown ids and malformed params name the problem.
    let r = get(&s, None, "no-such-task").await;
    assert_eq!(r["error"]["code"], -32602);
    assert!(r["error"]["message"].as_str().is_some_and(|m| m.contains("unknown task")), "{r}");
    let r = call(&s, None, true, "tasks/get", json!({"taskId": 5})).await;
    assert!(r["error"]["message"].as_str().is_some_and(|m| m.contains("taskId")), "{r}");
    let r = call(&s, None, true, "tasks/update", json!({"taskId": "x"})).await;
    assert!(r["error"]["message"].as_str().is_some_and(|m| m.contains("inputResponses")), "{r}");
}

#[tokio::test]
async fn input_inside_a_task_goes_through_tasks_update() {
    let probe = Arc::new(Probe::default());
    let s = server(&probe, None, LEASE);
    let id = create(&s, None, "two_questions").await;
    let t = wait_for(&s, None, &id, &["input_required"]).await;
    let keys: Vec<&str> = t["inputRequests"].as_object().expect("inputRequests").keys().map(String::as_str).collect();
    assert_eq!(keys, ["first", "second"], "{t}");
    assert_eq!(t["inputRequests"]["first"]["method"], "elicitation/create");
    // A partial answer (and an unknown key) keeps it waiting for the rest.
    let ack = call(
        &s,
        None,
        true,
        "tasks/update",
        json!({"taskId": id, "inputResponses": {"first": {"action": "accept", "content": {"v": "one"}}, "bogus": {}}}),
    )
    .await;
    assert_eq!(ack["result"]["resultType"], "complete", "{ack}");
    let t = get(&s, None, &id).await["result"].clone();
    assert_eq!(t["status"], "input_required", "{t}");
    assert_eq!(
        t["inputRequests"].as_object().map(|m| m.keys().cloned().collect::<Vec<_>>()),
        Some(vec!["second".to_owned()])
    );
    call(
        &s,
        None,
        true,
        "tasks/update",
        json!({"taskId": id, "inputResponses": {"second": {"action": "accept", "content": {"v": "two"}}}}),
    )
    .await;
    let done = wait_for(&s, None, &id, &["completed", "failed"]).await;
    assert_eq!(done["result"]["content"][0]["text"], "\"one\" and \"two\"", "{done}");
    // The handler ran twice: asking, then with both answers.
    assert_eq!(probe.runs.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_panicking_task_fails_without_leaking_the_panic() {
    let probe = Arc::new(Probe::default());
    let s = server(&probe, None, LEASE);
    let id = create(&s, None, "boom").await;
    let t = wait_for(&s, None, &id, &["failed", "completed"]).await;
    assert_eq!(t["status"], "failed", "{t}");
    assert_eq!(t["error"]["code"], -32603);
    assert!(!t["error"]["message"].as_str().unwrap_or_default().contains("boom went"), "{t}");
    assert!(t.get("result").is_none());
}

#[tokio::test]
async fn two_servers_sharing_a_store_share_tasks() {
    let store: Arc<dyn TaskStore> = Arc::new(InMemoryTaskStore::new(100));
    let (pa, pb) = (Arc::new(Probe::default()), Arc::new(Probe::default()));
    let lease = Duration::from_millis(300);
    let a = server(&pa, Some(Arc::clone(&store)), lease);
    let b = server(&pb, Some(Arc::clone(&store)), lease);
    let id = create(&a, Some("alice"), "work").await;
    assert_eq!(get(&b, Some("alice"), &id).await["result"]["status"], "working");
    // Cancelled on B: A's worker sees it at its next lease renewal.
    call(&b, Some("alice"), true, "tasks/cancel", json!({"taskId": id})).await;
    let deadline = Instant::now() + Duration::from_secs(5);
    while !pa.cancelled.load(Ordering::SeqCst) {
        assert!(Instant::now() < deadline, "A's handler never stopped");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(get(&a, Some("alice"), &id).await["result"]["status"], "cancelled");
}

#[test]
fn a_task_whose_worker_died_fails_after_its_lease() {
    let store: Arc<dyn TaskStore> = Arc::new(InMemoryTaskStore::new(100));
    let lease = Duration::from_millis(300);
    // Instance A runs on its own runtime, which then shuts down with the
    // handler still running: its worker is gone, as in a recycled instance.
    let dying = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().expect("runtime");
    let pa = Arc::new(Probe::default());
    let a = server(&pa, Some(Arc::clone(&store)), lease);
    let id = dying.block_on(create(&a, None, "work"));
    dying.shutdown_background();
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let b = server(&Arc::new(Probe::default()), Some(store), lease);
    rt.block_on(async {
        assert_eq!(get(&b, None, &id).await["result"]["status"], "working");
        let t = wait_for(&b, None, &id, &["failed"]).await;
        assert!(t["error"]["message"].as_str().is_some_and(|m| m.contains("lease")), "{t}");
    });
}

/// External jobs a [`TaskFollower`] follows: id → (done, stopped).
#[derive(Default)]
struct Jobs {
    jobs: std::sync::Mutex<std::collections::HashMap<String, (bool, bool)>>,
    started: AtomicUsize,
}

struct JobFollower(Arc<Jobs>);

#[mcp_core::async_trait]
impl mcp_core::server::task::TaskFollower for JobFollower {
    async fn poll(
        &self,
        _ctx: &Context,
        reference: &Value,
    ) -> Result<mcp_core::server::task::Followed, mcp_core::Error> {
        use mcp_core::server::task::Followed;
        let id = reference["job"].as_str().unwrap_or_default();
        let jobs = self.0.jobs.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        match jobs.get(id) {
            Some((true, _)) => {
                Ok(Followed::Completed(mcp_core::protocol::tools::CallToolResult::text(format!("job {id} done"))))
            }
            Some((false, _)) => Ok(Followed::Working(Some(format!("job {id} running")))),
            None => Ok(Followed::Failed(mcp_core::Error::internal(format!("job {id} vanished")))),
        }
    }

    async fn cancel(&self, _ctx: &Context, reference: &Value) -> Result<(), mcp_core::Error> {
        let id = reference["job"].as_str().unwrap_or_default();
        if let Some(job) = self.0.jobs.lock().unwrap_or_else(std::sync::PoisonError::into_inner).get_mut(id) {
            job.1 = true;
        }
        Ok(())
    }
}

fn external_server(jobs: &Arc<Jobs>) -> Server {
    let j = Arc::clone(jobs);
    let start = ToolRoute::new("start_job", move |ctx: Context, _: NoArgs| {
        let j = Arc::clone(&j);
        async move {
            let n = j.started.fetch_add(1, Ordering::SeqCst);
            let id = format!("job-{n}");
            j.jobs.lock().unwrap_or_else(std::sync::PoisonError::into_inner).insert(id.clone(), (false, false));
            ctx.follow_external(json!({ "job": id })).await?;
            // Without the tasks extension: the client polls some other way.
            Ok::<_, mcp_core::Error>(format!("started {id}"))
        }
    })
    .with_description("Starts a job elsewhere")
    .task_support(TaskSupport::Optional)
    .task_follower(JobFollower(Arc::clone(jobs)));
    ServerBuilder::new("external-test", "1")
        .tool(start)
        .task_lease(Duration::from_millis(300))
        .task_poll_interval(Duration::from_millis(50))
        .build()
        .expect("valid")
}

#[tokio::test]
async fn a_task_can_follow_work_that_runs_elsewhere() {
    let jobs = Arc::new(Jobs::default());
    let s = external_server(&jobs);
    // Without the extension the handler answers as it would without tasks.
    let r = call(&s, None, false, "tools/call", json!({"name": "start_job", "arguments": {}})).await;
    assert_eq!(r["result"]["content"][0]["text"], "started job-0", "{r}");

    let id = create(&s, None, "start_job").await;
    let t = wait_for(&s, None, &id, &["working"]).await;
    assert_eq!(t["taskId"], id.as_str());
    let deadline = Instant::now() + Duration::from_secs(5);
    let t = loop {
        let t = get(&s, None, &id).await["result"].clone();
        if t["statusMessage"] == "job job-1 running" {
            break t;
        }
        assert!(Instant::now() < deadline, "the follower was never asked: {t}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(t["status"], "working");
    // No worker holds the task, so no lease runs out on it.
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(get(&s, None, &id).await["result"]["status"], "working");
    jobs.jobs.lock().unwrap_or_else(std::sync::PoisonError::into_inner).insert("job-1".into(), (true, false));
    let done = get(&s, None, &id).await["result"].clone();
    assert_eq!(done["status"], "completed", "{done}");
    assert_eq!(done["result"]["content"][0]["text"], "job job-1 done");

    // Cancelling stops the external work through the follower.
    let id = create(&s, None, "start_job").await;
    let deadline = Instant::now() + Duration::from_secs(5);
    while get(&s, None, &id).await["result"]["statusMessage"] != "job job-2 running" {
        assert!(Instant::now() < deadline, "never followed");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    call(&s, None, true, "tasks/cancel", json!({"taskId": id})).await;
    assert_eq!(get(&s, None, &id).await["result"]["status"], "cancelled");
    assert_eq!(jobs.jobs.lock().unwrap_or_else(std::sync::PoisonError::into_inner)["job-2"], (false, true));
    // Each call started its job once.
    assert_eq!(jobs.started.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn listen_streams_status_notifications_for_the_tasks_asked_for() {
    let probe = Arc::new(Probe::default());
    let s = server(&probe, None, LEASE);
    let id = create(&s, Some("alice"), "work").await;
    let other = create(&s, Some("alice"), "two_questions").await;
    let (sink, mut rx) = Sink::channel(16);
    let params = json!({
        "notifications": {"taskIds": [id], "toolsListChanged": true},
        "_meta": {
            "io.modelcontextprotocol/protocolVersion": "2026-07-28",
            "io.modelcontextprotocol/clientCapabilities": {"extensions": {TASKS: {}}},
        },
    });
    let frame =
        json!({"jsonrpc": "2.0", "id": "listen-1", "method": "subscriptions/listen", "params": params}).to_string();
    let listener = {
        let s = s.clone();
        tokio::spawn(async move {
            let mut ext = http::Extensions::new();
            ext.insert(Principal::new("alice"));
            handle_frame(s, frame.as_bytes(), None, &sink, &ext).await
        })
    };
    let next = async |rx: &mut tokio::sync::mpsc::Receiver<String>| -> Value {
        let line = tokio::time::timeout(Duration::from_secs(5), rx.recv()).await.expect("in time").expect("a message");
        serde_json::from_str(&line).expect("json")
    };
    let ack = next(&mut rx).await;
    assert_eq!(ack["method"], "notifications/subscriptions/acknowledged", "{ack}");
    assert_eq!(ack["params"]["notifications"]["taskIds"], json!([id]), "{ack}");
    // The other task's change is not sent; this one's completion is, with
    // its result inlined.
    wait_for(&s, Some("alice"), &other, &["input_required"]).await;
    while probe.runs.load(Ordering::SeqCst) < 2 {
        tokio::task::yield_now().await;
    }
    probe.release.notify_one();
    let n = next(&mut rx).await;
    assert_eq!(n["method"], "notifications/tasks", "{n}");
    assert_eq!(n["params"]["taskId"], id.as_str());
    assert_eq!(n["params"]["status"], "completed");
    assert_eq!(n["params"]["result"]["content"][0]["text"], "done");
    assert_eq!(n["params"]["_meta"]["io.modelcontextprotocol/subscriptionId"], "listen-1");
    assert!(n["params"].get("resultType").is_none());
    listener.abort();
}

/// The tasks extension (SEP-2663) dropped the 2025-11-25 `execution.taskSupport`
/// tool field on purpose: the extension capability is the one handshake and
/// any `tools/call` may come back as a task, so `tools/list` carries no
/// per-tool task declaration, in either era (this server implements the
/// extension, not 2025-11-25's experimental tasks, whose field it would be).
#[tokio::test]
async fn tools_list_declares_no_per_tool_task_support() {
    let probe = Arc::new(Probe::default());
    let s = server(&probe, None, LEASE);
    let listed = call(&s, None, true, "tools/list", json!({})).await;
    let tools = listed["result"]["tools"].as_array().expect("tools").clone();
    assert!(tools.iter().any(|t| t["name"] == "work"), "{listed}");
    assert!(tools.iter().all(|t| t.get("execution").is_none()), "{listed}");
    // Yet the calls become tasks: the capability is what counts.
    let id = create(&s, None, "work").await;
    assert!(!id.is_empty());
    // The wire description every era lists from.
    assert!(s.tools().iter().all(|t| t.execution.is_none()));
}
