//! The entry points' errors are the SDK's own: `?` carries them out of a
//! `main` returning `Box<dyn Error>`, `anyhow::Result` or the SDK's
//! `RunError`, with the Lambda runtime's error kept as the source.
#![cfg(feature = "lambda")]

use std::error::Error;

use mcp_aws::RunError;
use mcp_aws::lambda::gateway::GatewayTarget;
use mcp_aws::lambda::{LambdaAdapter, LambdaError};
use mcp_core::server::{Server, ServerBuilder};

fn server() -> Server {
    ServerBuilder::new("entry-errors", "1.0.0").build().expect("valid server")
}

/// A `main` as a newcomer writes it: each entry point's error goes out
/// through `?` unchanged. Compiling is the test; the loops never run here.
#[allow(dead_code)]
async fn main_returning<E: From<LambdaError> + From<RunError>>(which: u8) -> Result<(), E> {
    match which {
        0 => LambdaAdapter::new(server()).run().await?,
        1 => LambdaAdapter::new(server()).run_streaming().await?,
        2 => GatewayTarget::new(server()).run().await?,
        _ => mcp_aws::run(server()).await?,
    }
    Ok(())
}

/// `main` returning `Box<dyn Error>` or `anyhow::Result` (which needs
/// `Error + Send + Sync + 'static`): both take every entry point's error.
#[allow(dead_code)]
fn mains() {
    let _box_dyn_error = main_returning::<Box<dyn Error>>;
    let _anyhow = main_returning::<anyhow::Error>;
    let _run_error = main_returning::<RunError>;
}

#[cfg(feature = "registry-service")]
#[allow(dead_code)]
async fn registry_entry_points(router: axum::Router) -> anyhow::Result<()> {
    let registry = mcp_aws::registry::DynamoDbRegistry::from_env("t").await;
    mcp_aws::registry::custom_resource::CustomResource::new(registry)?.run().await?;
    mcp_aws::registry::service::run_lambda(router).await?;
    Ok(())
}

fn is_std_error<E: Error + Send + Sync + 'static>() {}

#[test]
fn the_lambda_error_is_a_std_error_that_keeps_the_runtimes_error_as_its_source() {
    is_std_error::<LambdaError>();
    is_std_error::<RunError>();

    let runtime: lambda_http::Error = "connection refused".into();
    let failed = || -> Result<(), LambdaError> { Err(LambdaError::from(runtime)) };
    let boxed = (|| -> Result<(), Box<dyn Error>> { Ok(failed()?) })().expect_err("an error");
    assert_eq!(boxed.to_string(), "the Lambda runtime failed");
    assert_eq!(boxed.source().map(ToString::to_string).as_deref(), Some("connection refused"));

    let runtime: lambda_http::Error = "connection refused".into();
    let any = (|| -> anyhow::Result<()> { Ok(Err(LambdaError::from(runtime))?) })().expect_err("an error");
    assert_eq!(format!("{any:#}"), "the Lambda runtime failed: connection refused");

    let runtime: lambda_http::Error = "connection refused".into();
    let run: RunError = LambdaError::from(runtime).into();
    assert!(matches!(run, RunError::Lambda(_)), "{run:?}");
    assert_eq!(run.to_string(), "the Lambda runtime failed");
    assert_eq!(run.source().map(ToString::to_string).as_deref(), Some("connection refused"));
}
