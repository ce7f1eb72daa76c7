//! Multi-round-trip requests (2026-07-28): authenticated `requestState`.
//!
//! When a stateless request needs input from the client, the server answers
//! `input_required` with the questions and a `requestState`; the client
//! retries with the answers and the state echoed. The state carries the
//! answers of earlier rounds, so the handler re-runs from the start and every
//! earlier `ctx.elicit(..)` returns at once.
//!
//! The state is untrusted input. It is sealed with HMAC-SHA-256 under a
//! server key, bound to the method, the target (tool, prompt or URI), the
//! arguments and the caller's principal, and it expires. A tampered, foreign,
//! misbound or expired state is rejected with -32602.

use std::collections::BTreeMap;
use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use serde_json::value::RawValue;
use sha2::{Digest, Sha256};

use crate::error::Error;

type HmacSha256 = Hmac<Sha256>;

/// Seals and opens `requestState` values.
#[derive(Clone)]
pub(crate) struct StateSealer {
    key: [u8; 32],
    ttl: Duration,
}

impl fmt::Debug for StateSealer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StateSealer").field("ttl", &self.ttl).finish_non_exhaustive()
    }
}

#[derive(Serialize, Deserialize)]
struct Payload {
    /// Format version.
    v: u8,
    /// SHA-256 of what the state is bound to, hex.
    b: String,
    /// Expiry, seconds since the Unix epoch.
    e: u64,
    /// The round this state was issued in.
    r: u32,
    /// Answers collected in earlier rounds.
    a: BTreeMap<String, Value>,
}

/// What a verified state yields.
#[derive(Debug, Default)]
pub(crate) struct OpenedState {
    pub(crate) round: u32,
    pub(crate) answers: BTreeMap<String, Value>,
}

fn now_secs() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

fn invalid(why: &str) -> Error {
    Error::invalid_params(format!("invalid requestState: {why}"))
}

impl StateSealer {
    /// A sealer with `key` (any length; hashed to 32 bytes), or a random key
    /// when `None`. Servers behind a load balancer need a shared key.
    pub(crate) fn new(key: Option<&[u8]>, ttl: Duration) -> Self {
        let key = match key {
            Some(k) => Sha256::digest(k).into(),
            None => {
                let mut k = [0u8; 32];
                // Without an OS random source there is nothing safe to fall
                // back to; a zero key would make states forgeable, so hash
                // the time and address space layout as a last resort.
                if getrandom::fill(&mut k).is_err() {
                    let seed = format!("{:?}{:p}", SystemTime::now(), &k);
                    k = Sha256::digest(seed.as_bytes()).into();
                }
                k
            }
        };
        Self { key, ttl }
    }

    fn mac(&self) -> HmacSha256 {
        // HMAC accepts keys of any length.
        <HmacSha256 as Mac>::new_from_slice(&self.key).unwrap_or_else(|_| unreachable!("hmac takes any key length"))
    }

    pub(crate) fn seal(&self, binding: &Binding<'_>, round: u32, answers: &BTreeMap<String, Value>) -> String {
        let payload = Payload {
            v: 1,
            b: binding.digest(),
            e: now_secs().saturating_add(self.ttl.as_secs()),
            r: round,
            a: answers.clone(),
        };
        let body = B64.encode(serde_json::to_vec(&payload).unwrap_or_default());
        let mut mac = self.mac();
        mac.update(body.as_bytes());
        let tag = B64.encode(mac.finalize().into_bytes());
        format!("{body}.{tag}")
    }

    pub(crate) fn open(&self, state: &str, binding: &Binding<'_>) -> Result<OpenedState, Error> {
        let (body, tag) = state.split_once('.').ok_or_else(|| invalid("malformed"))?;
        let tag = B64.decode(tag).map_err(|_| invalid("malformed signature"))?;
        let mut mac = self.mac();
        mac.update(body.as_bytes());
        mac.verify_slice(&tag).map_err(|_| invalid("signature mismatch (tampered, or issued by another server)"))?;
        let bytes = B64.decode(body).map_err(|_| invalid("malformed"))?;
        let payload: Payload = serde_json::from_slice(&bytes).map_err(|_| invalid("malformed"))?;
        if payload.v != 1 {
            return Err(invalid("unknown format version"));
        }
        if payload.b != binding.digest() {
            return Err(invalid("issued for a different request"));
        }
        if payload.e < now_secs() {
            return Err(invalid("expired"));
        }
        Ok(OpenedState { round: payload.r, answers: payload.a })
    }
}

/// What a state is bound to: the method, the target, the arguments and
/// the principal. The digest is computed only when a state is sealed or
/// opened, so that requests which never need input pay nothing for it.
#[derive(Debug, Clone)]
pub(crate) struct Binding<'a> {
    method: &'a str,
    target: &'a str,
    arguments: Option<&'a RawValue>,
    principal: Option<String>,
}

impl<'a> Binding<'a> {
    pub(crate) fn new(
        method: &'a str,
        target: &'a str,
        arguments: Option<&'a RawValue>,
        principal: Option<&str>,
    ) -> Self {
        Self { method, target, arguments, principal: principal.map(str::to_owned) }
    }

    /// SHA-256 of the method, the target, the principal and the canonical
    /// arguments, hex.
    fn digest(&self) -> String {
        let mut h = Sha256::new();
        for part in [self.method, self.target, self.principal.as_deref().unwrap_or("")] {
            h.update((part.len() as u64).to_le_bytes());
            h.update(part.as_bytes());
        }
        // Canonical form: serde_json's map is sorted, so the same arguments
        // in another key order or spacing bind the same.
        let canonical = self
            .arguments
            .and_then(|a| serde_json::from_str::<Value>(a.get()).ok())
            .map(|v| v.to_string())
            .unwrap_or_default();
        h.update(canonical.as_bytes());
        let mut hex = String::with_capacity(64);
        for b in h.finalize() {
            hex.push(char::from(HEX[usize::from(b >> 4)]));
            hex.push(char::from(HEX[usize::from(b & 0xf)]));
        }
        hex
    }
}

const HEX: &[u8; 16] = b"0123456789abcdef";

#[cfg(test)]
mod tests {
    use super::*;

    fn binding() -> Binding<'static> {
        let args = serde_json::value::to_raw_value(&serde_json::json!({"b": 1, "a": 2})).unwrap();
        Binding::new("tools/call", "t", Some(Box::leak(args)), None)
    }

    #[test]
    fn roundtrip_and_tamper() {
        let s = StateSealer::new(None, Duration::from_secs(60));
        let mut answers = BTreeMap::new();
        answers.insert("k".to_owned(), serde_json::json!({"action": "accept"}));
        let state = s.seal(&binding(), 2, &answers);
        let opened = s.open(&state, &binding()).unwrap();
        assert_eq!(opened.round, 2);
        assert_eq!(opened.answers, answers);

        let tampered = format!("{state}-TAMPERED");
        assert!(s.open(&tampered, &binding()).unwrap_err().to_string().contains("invalid requestState"));
        let other = Binding::new("tools/call", "other", None, None);
        assert!(s.open(&state, &other).unwrap_err().to_string().contains("different request"));
        let foreign = StateSealer::new(None, Duration::from_secs(60));
        assert!(foreign.open(&state, &binding()).is_err());
    }

    #[test]
    fn expiry() {
        let s = StateSealer::new(Some(b"k"), Duration::ZERO);
        let mut state = s.seal(&binding(), 1, &BTreeMap::new());
        // Re-seal a payload that expired a minute ago.
        let (body, _) = state.split_once('.').unwrap();
        let mut p: Payload = serde_json::from_slice(&B64.decode(body).unwrap()).unwrap();
        p.e = now_secs() - 60;
        let body = B64.encode(serde_json::to_vec(&p).unwrap());
        let mut mac = s.mac();
        mac.update(body.as_bytes());
        state = format!("{body}.{}", B64.encode(mac.finalize().into_bytes()));
        assert!(s.open(&state, &binding()).unwrap_err().to_string().contains("expired"));
    }

    #[test]
    fn key_order_does_not_matter() {
        let a = serde_json::value::to_raw_value(&serde_json::json!({"a": 2, "b": 1})).unwrap();
        assert_eq!(binding().digest(), Binding::new("tools/call", "t", Some(&a), None).digest());
    }
}
