//! `mcp-registry`: the operator CLI for the MCP server registry, and the
//! registry service's own binary.
//!
//! ```text
//! mcp-registry list [--status active|unhealthy|decommissioned]
//! mcp-registry get SERVER_ID VERSION
//! mcp-registry decommission SERVER_ID VERSION
//! mcp-registry create-table
//! mcp-registry check
//! mcp-registry serve [--bind 127.0.0.1:9000] [--health-interval SECS]
//! mcp-registry custom-resource
//! mcp-registry keys create-table | create USER_ID | list | disable HASH | enable HASH | delete HASH
//! ```
//!
//! The registry is the DynamoDB table `--table NAME` (or `MCP_REGISTRY_TABLE`,
//! default `MCPServerRegistry-{ENVIRONMENT}`), or the registry service at
//! `--url URL` (or `MCP_REGISTRY_URL`) with the token in
//! `MCP_REGISTRATION_TOKEN`. `serve` runs the service on the table: on
//! Lambda as a function, elsewhere on `--bind` with the health checker; its
//! token comes from `MCP_REGISTRATION_TOKEN` or, by ARN or name, from
//! Secrets Manager (`MCP_REGISTRATION_TOKEN_SECRET`; plain, or JSON with
//! `token`), re-read every `MCP_REGISTRATION_TOKEN_TTL_SECS` (60) and
//! within 5 s of a server presenting another token, so a rotation needs no
//! restart. `check` runs one
//! round of health checks. `custom-resource` runs the CloudFormation custom
//! resource handler as a Lambda function.
//!
//! With the auth layer's settings (`MCP_API_KEYS_TABLE` for API keys,
//! `MCP_AUTH_DISCOVERY_URL` with `MCP_AUTH_AUDIENCE` or
//! `MCP_AUTH_ALLOWED_CLIENTS` for Cognito or other OAuth tokens), `serve`
//! opens `GET /mcp/servers` and `GET /mcp/servers/{id}/{version}` to
//! callers holding `MCP_REGISTRY_READ_PERMISSION` (`read:registry`), who
//! see the active servers only; writes keep needing the token.
//!
//! **On Lambda** (`AWS_LAMBDA_RUNTIME_API` set) the binary is the function's
//! `bootstrap`, started without arguments: `MCP_REGISTRY_COMMAND` names
//! the command (`serve` by default, `check`, `custom-resource`). `serve`
//! answers API Gateway and Function URL events with the service and
//! EventBridge scheduled events with one round of health checks; `check`
//! answers scheduled events only. The checker runs
//! `MCP_HEALTH_CONCURRENCY` checks at a time (16), each within
//! `MCP_HEALTH_TIMEOUT_SECS` (5); with `MCP_METRICS_NAMESPACE` each
//! scheduled round also writes its EMF records (`ServerHealthy` per
//! server, `UnhealthyServers`...; dimension `Environment` from
//! `ENVIRONMENT`) to stdout.
//! `keys` manages the API keys of the auth layer (see `keys.rs`). `list`
//! (on the table or through the service) skips items that are not
//! registrations, naming each one's key and the field at fault on stderr.

mod keys;

use std::process::ExitCode;
use std::time::Duration;

use mcp_aws::auth::ConfiguredAuth;
use mcp_aws::registry::custom_resource::CustomResource;
use mcp_aws::registry::health_checker::HealthChecker;
use mcp_aws::registry::service::{
    RegistrationToken, RegistryReaders, router, router_with_readers, run_lambda_with_checker,
};
use mcp_aws::registry::{DynamoDbRegistry, HttpRegistry, Listing, Registration, RegistryError, Status};
use mcp_aws::secrets::CachedSecret;

type Error = Box<dyn std::error::Error + Send + Sync>;

const USAGE: &str = "usage: mcp-registry [--table NAME | --url URL] \
(list [--status S] | get ID VERSION | decommission ID VERSION | create-table | check | serve [--bind ADDR] [--health-interval SECS] | custom-resource | keys ...)";

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(tracing_subscriber::EnvFilter::new(
            std::env::var("LOG_LEVEL").unwrap_or_else(|_| "info".into()),
        ))
        .init();
    match run(std::env::args().skip(1).collect()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("mcp-registry: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Parsed command line: options anywhere, positionals in order.
struct Args {
    positional: Vec<String>,
    options: Vec<(String, String)>,
}

impl Args {
    fn parse(raw: Vec<String>) -> Result<Self, Error> {
        let (mut positional, mut options) = (Vec::new(), Vec::new());
        let mut it = raw.into_iter();
        while let Some(arg) = it.next() {
            if let Some(name) = arg.strip_prefix("--") {
                let value = it.next().ok_or_else(|| format!("--{name} needs a value\n{USAGE}"))?;
                options.push((name.to_owned(), value));
            } else {
                positional.push(arg);
            }
        }
        Ok(Self { positional, options })
    }

    fn option(&self, name: &str) -> Option<String> {
        self.options.iter().rev().find(|(n, _)| n == name).map(|(_, v)| v.clone())
    }
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

async fn table(args: &Args) -> DynamoDbRegistry {
    let name = args
        .option("table")
        .or_else(|| env("MCP_REGISTRY_TABLE"))
        .unwrap_or_else(|| DynamoDbRegistry::table_for(&env("ENVIRONMENT").unwrap_or_else(|| "dev".to_owned())));
    DynamoDbRegistry::from_env(name).await
}

fn print(value: &impl serde::Serialize) -> Result<(), Error> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

/// Prints the entries on stdout and names each skipped item on stderr.
fn print_listing(listing: &Listing) -> Result<(), Error> {
    for item in &listing.skipped {
        eprintln!(
            "mcp-registry: skipped an unreadable item (server_id {}, version {}): {}: {}",
            item.server_id, item.version, item.field, item.reason
        );
    }
    print(&listing.servers)
}

fn on_lambda() -> bool {
    env("AWS_LAMBDA_RUNTIME_API").is_some()
}

/// The positive number in the variable `name`, or `default`.
fn positive(name: &str, default: f64) -> Result<f64, Error> {
    match env(name) {
        None => Ok(default),
        Some(v) => v
            .parse::<f64>()
            .ok()
            .filter(|n| n.is_finite() && *n > 0.0)
            .ok_or_else(|| format!("{name}: {v:?} is not a positive number").into()),
    }
}

/// The health checker over `registry` with the `MCP_HEALTH_*` settings.
fn checker(registry: DynamoDbRegistry) -> Result<HealthChecker, Error> {
    let timeout = Duration::from_secs_f64(positive("MCP_HEALTH_TIMEOUT_SECS", 5.0)?);
    let concurrency = positive("MCP_HEALTH_CONCURRENCY", 16.0)?;
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)] // positive, finite, clamped
    let concurrency = concurrency.min(1024.0) as usize;
    let checker = HealthChecker::new(registry)?.timeout(timeout).concurrency(concurrency);
    Ok(match env("MCP_METRICS_NAMESPACE") {
        Some(namespace) => checker.metrics(namespace, env("ENVIRONMENT").unwrap_or_else(|| "dev".to_owned())),
        None => checker,
    })
}

async fn run(raw: Vec<String>) -> Result<(), Error> {
    let args = Args::parse(raw)?;
    let lambda_command = env("MCP_REGISTRY_COMMAND").unwrap_or_else(|| "serve".to_owned());
    let mut command: Vec<&str> = args.positional.iter().map(String::as_str).collect();
    if command.is_empty() && on_lambda() {
        command.push(&lambda_command);
    }
    let service = args.option("url").or_else(|| env("MCP_REGISTRY_URL"));
    match command.as_slice() {
        ["keys", rest @ ..] => return keys::run(&args, rest).await,
        ["serve"] => return serve(&args).await,
        ["custom-resource"] => return Ok(CustomResource::new(table(&args).await)?.run().await?),
        ["create-table"] => return Ok(table(&args).await.create_table().await?),
        ["check"] if on_lambda() => return Ok(checker(table(&args).await)?.run_lambda().await?),
        ["check"] => {
            let report = checker(table(&args).await)?.check_once().await?;
            println!(
                "checked {}, unhealthy {:?}, recovered {:?}",
                report.checked, report.marked_unhealthy, report.recovered
            );
            return Ok(());
        }
        _ => {}
    }
    let status = match args.option("status") {
        Some(s) => Some(
            Status::from_wire(&s)
                .ok_or_else(|| format!("--status {s:?}: expected active, unhealthy or decommissioned"))?,
        ),
        None => None,
    };
    match service {
        Some(url) => {
            let client = match (env("MCP_REGISTRATION_TOKEN"), env("MCP_REGISTRATION_TOKEN_SECRET")) {
                (Some(token), _) => HttpRegistry::new(url, token)?,
                (None, Some(id)) => HttpRegistry::with_secret_token(url, token_secret(id)?)?,
                (None, None) => return Err("MCP_REGISTRATION_TOKEN (or _SECRET) is required with --url".into()),
            };
            match command.as_slice() {
                ["list"] => print_listing(&client.list_report(status).await?),
                ["get", id, version] => print(&found(client.get(id, version).await?, id, version)?),
                ["decommission", id, version] => print(&client.decommission(id, version).await?),
                _ => Err(USAGE.into()),
            }
        }
        None => {
            let registry = table(&args).await;
            match command.as_slice() {
                ["list"] => print_listing(&registry.list_report(status).await?),
                ["get", id, version] => print(&found(registry.get(id, version).await?, id, version)?),
                ["decommission", id, version] => print(&registry.decommission(id, version).await?),
                _ => Err(USAGE.into()),
            }
        }
    }
}

fn found(entry: Option<Registration>, id: &str, version: &str) -> Result<Registration, RegistryError> {
    entry.ok_or_else(|| RegistryError::NotFound { server_id: id.to_owned(), version: version.to_owned() })
}

/// The token's secret, re-read every `MCP_REGISTRATION_TOKEN_TTL_SECS` (60).
fn token_secret(id: String) -> Result<CachedSecret, Error> {
    let ttl = positive("MCP_REGISTRATION_TOKEN_TTL_SECS", 60.0)?;
    Ok(CachedSecret::new(id).json_field("token").ttl(Duration::from_secs_f64(ttl)))
}

async fn token() -> Result<RegistrationToken, Error> {
    if let Some(token) = env("MCP_REGISTRATION_TOKEN") {
        return Ok(RegistrationToken::new(token));
    }
    if let Some(secret) = env("MCP_REGISTRATION_TOKEN_SECRET") {
        return Ok(RegistrationToken::from_cached_secret(token_secret(secret)?, Duration::from_secs(5)).await?);
    }
    Err("set MCP_REGISTRATION_TOKEN or MCP_REGISTRATION_TOKEN_SECRET".into())
}

/// The service's routes; with auth settings (`MCP_API_KEYS_TABLE`,
/// `MCP_AUTH_DISCOVERY_URL`...), readers holding
/// `MCP_REGISTRY_READ_PERMISSION` (`read:registry`) may list and get active
/// servers without the token.
async fn app(registry: DynamoDbRegistry, token: RegistrationToken) -> Result<axum::Router, Error> {
    let settings = mcp_aws::config::DeployConfig::from_env()?.auth;
    Ok(match ConfiguredAuth::from_settings(&settings).await? {
        Some(auth) => {
            let permission = env("MCP_REGISTRY_READ_PERMISSION").unwrap_or_else(|| "read:registry".to_owned());
            router_with_readers(registry, token, RegistryReaders::new(auth.layer).permission(permission))
        }
        None => router(registry, token),
    })
}

async fn serve(args: &Args) -> Result<(), Error> {
    let registry = table(args).await;
    let app = app(registry.clone(), token().await?).await?;
    if on_lambda() {
        // Nothing runs between invocations: a schedule's events each run
        // one round of checks.
        return Ok(run_lambda_with_checker(app, checker(registry)?).await?);
    }
    let bind = args.option("bind").unwrap_or_else(|| "127.0.0.1:9000".to_owned());
    let interval: f64 = args.option("health-interval").map_or(Ok(60.0), |s| s.parse())?;
    if !(interval.is_finite() && interval > 0.0) {
        return Err("--health-interval must be a positive number of seconds".into());
    }
    let listener = tokio::net::TcpListener::bind(&bind).await?;
    eprintln!("mcp-registry: serving {} on http://{}", registry.table(), listener.local_addr()?);
    let checker = checker(registry)?.interval(Duration::from_secs_f64(interval));
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let checks = tokio::spawn(checker.run(async move {
        let mut stopped = stopped;
        let _ = stopped.wait_for(|s| *s).await;
    }));
    axum::serve(listener, app).with_graceful_shutdown(mcp_core::transport::http::shutdown_signal()).await?;
    let _ = stop.send(true);
    let _ = checks.await;
    Ok(())
}
