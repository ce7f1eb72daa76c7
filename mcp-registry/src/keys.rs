//! `mcp-registry keys ...`: API keys in the auth layer's DynamoDB table
//! (`--keys-table NAME`, or `MCP_API_KEYS_TABLE`).
//!
//! ```text
//! mcp-registry keys create-table
//! mcp-registry keys create USER_ID [--permissions execute:*,read:reports] [--expires-in-days N] [--rate-limit PER_MINUTE]
//! mcp-registry keys list
//! mcp-registry keys disable|enable|delete HASH
//! ```
//!
//! `create` prints the new key once, on stdout, with its record; only the
//! key's SHA-256 is stored. `HASH` is the full hash or a prefix of at least
//! 8 digits naming one key. `list` shows records, never keys.

use std::time::{SystemTime, UNIX_EPOCH};

use mcp_aws::auth::{ApiKeyRecord, DynamoDbApiKeyStore};
use serde_json::json;

use super::{Args, Error, env, print};

pub(super) const USAGE: &str = "keys (create-table | create USER_ID [--permissions P,Q] [--expires-in-days N] \
[--rate-limit N] | list | disable HASH | enable HASH | delete HASH) [--keys-table NAME]";

async fn store(args: &Args) -> Result<DynamoDbApiKeyStore, Error> {
    let table = args
        .option("keys-table")
        .or_else(|| env("MCP_API_KEYS_TABLE"))
        .ok_or("set --keys-table or MCP_API_KEYS_TABLE")?;
    Ok(DynamoDbApiKeyStore::from_env(table).await)
}

/// A new key: `mcp_` and 32 random bytes in hex.
fn new_key() -> Result<String, Error> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| format!("no randomness: {e}"))?;
    Ok(bytes.iter().fold(String::from("mcp_"), |mut s, b| {
        s.push_str(&format!("{b:02x}"));
        s
    }))
}

/// The one stored hash `given` names (full, or a prefix of 8 or more).
async fn resolve(store: &DynamoDbApiKeyStore, given: &str) -> Result<String, Error> {
    if given.len() == 64 {
        return Ok(given.to_ascii_lowercase());
    }
    if given.len() < 8 {
        return Err("give the key's hash, or at least its first 8 digits".into());
    }
    let prefix = given.to_ascii_lowercase();
    let matches: Vec<String> =
        store.list().await?.into_iter().map(|r| r.api_key_hash).filter(|h| h.starts_with(&prefix)).collect();
    match matches.as_slice() {
        [one] => Ok(one.clone()),
        [] => Err(format!("no key's hash starts with {prefix}").into()),
        _ => Err(format!("{} keys' hashes start with {prefix}; give more digits", matches.len()).into()),
    }
}

pub(super) async fn run(args: &Args, command: &[&str]) -> Result<(), Error> {
    let store = store(args).await?;
    match command {
        ["create-table"] => Ok(store.create_table().await?),
        ["create", user] => {
            let key = new_key()?;
            let permissions: Vec<String> = args
                .option("permissions")
                .map(|p| p.split(',').map(str::trim).filter(|p| !p.is_empty()).map(str::to_owned).collect())
                .unwrap_or_default();
            let mut record = ApiKeyRecord::new(&key, *user, permissions);
            if let Some(days) = args.option("expires-in-days") {
                let days: u64 = days.parse().map_err(|_| format!("--expires-in-days {days:?}: expected whole days"))?;
                let now = SystemTime::now().duration_since(UNIX_EPOCH)?.as_secs();
                record = record.with_expires_at(now + days * 86_400);
            }
            if let Some(rate) = args.option("rate-limit") {
                record = record
                    .with_rate_limit(rate.parse().map_err(|_| format!("--rate-limit {rate:?}: expected a number"))?);
            }
            store.put(&record).await?;
            print(
                &json!({ "api_key": key, "record": record, "note": "the key is shown once; only its hash is stored" }),
            )
        }
        ["list"] => print(&store.list().await?),
        [verb @ ("disable" | "enable"), given] => {
            let hash = resolve(&store, given).await?;
            if !store.set_enabled(&hash, *verb == "enable").await? {
                return Err(format!("no key with hash {hash}").into());
            }
            print(&json!({ "api_key_hash": hash, "enabled": *verb == "enable" }))
        }
        ["delete", given] => {
            let hash = resolve(&store, given).await?;
            store.delete(&hash).await?;
            print(&json!({ "api_key_hash": hash, "deleted": true }))
        }
        _ => Err(format!("usage: mcp-registry {USAGE}").into()),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn new_keys_are_random_and_prefixed() {
        let (a, b) = (super::new_key().expect("key"), super::new_key().expect("key"));
        assert!(a.starts_with("mcp_") && a.len() == 68, "{a}");
        assert_ne!(a, b);
        assert_ne!(mcp_aws::auth::hash_key(&a), a);
    }
}
