//! A Secrets Manager client for moto, shared by the tests that read secrets
//! (kept apart from `moto/`, which other crates' tests include by path).
#![allow(dead_code, unreachable_pub)]

/// A Secrets Manager client for moto at `endpoint`, with dummy credentials.
pub fn secrets_client(endpoint: &str) -> aws_sdk_secretsmanager::Client {
    use aws_sdk_secretsmanager::config::{BehaviorVersion, Credentials, Region};
    let config = aws_sdk_secretsmanager::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("testing", "testing", None, None, "static"))
        .build();
    aws_sdk_secretsmanager::Client::from_conf(config)
}
