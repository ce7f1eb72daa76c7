//! Single flight: concurrent identical calls of a cached tool run it once;
//! the others wait for that call's outcome.
//!
//! This sits beside the store rather than inside it, so that it holds for
//! every [`CacheStore`](super::CacheStore), DynamoDB included: the first
//! caller of a key leads (looks the key up again, calls the tool, stores
//! the result), the others follow. A leader that goes away (its client
//! cancelled) hands the lead to one of the followers.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use mcp_core::jsonrpc::ErrorObject;
use serde_json::value::RawValue;
use tokio::sync::watch;

use super::key::CacheKey;
use super::store::CachedResult;

/// What a leader's call came to, for its followers.
#[derive(Debug, Clone)]
pub(crate) enum Landing {
    /// A result now stored: serve it.
    Stored(Arc<CachedResult>),
    /// An answer not to store but to share (an error, an `isError` result).
    Shared(Arc<Result<Box<RawValue>, ErrorObject>>),
    /// An answer bound to its own request (`input_required`, a task, no
    /// answer at all): each follower makes its own call.
    Own,
}

type Slot = watch::Receiver<Option<Landing>>;

/// The calls in flight, by key.
#[derive(Default)]
pub(crate) struct Flights {
    map: Mutex<HashMap<CacheKey, Slot>>,
}

/// A caller's part in a flight.
pub(crate) enum Role<'a> {
    /// Make the call, then [`Lead::land`].
    Lead(Lead<'a>),
    /// Wait with [`follow`].
    Follow(Slot),
}

/// The leader's handle: landing (or dropping it) ends the flight.
pub(crate) struct Lead<'a> {
    flights: &'a Flights,
    key: CacheKey,
    tx: watch::Sender<Option<Landing>>,
}

impl Flights {
    /// Joins the flight of `key`, leading it when there is none.
    pub(crate) fn join(&self, key: &CacheKey) -> Role<'_> {
        let mut map = self.map.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(slot) = map.get(key) {
            return Role::Follow(slot.clone());
        }
        let (tx, rx) = watch::channel(None);
        map.insert(key.clone(), rx);
        Role::Lead(Lead { flights: self, key: key.clone(), tx })
    }

    /// How many flights are under way.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.map.lock().unwrap_or_else(PoisonError::into_inner).len()
    }
}

impl Lead<'_> {
    /// Tells the followers how the call ended.
    pub(crate) fn land(self, landing: Landing) {
        // No follower listening is fine.
        let _ = self.tx.send(Some(landing));
        // `Drop` ends the flight.
    }
}

impl Drop for Lead<'_> {
    fn drop(&mut self) {
        let mut map = self.flights.map.lock().unwrap_or_else(PoisonError::into_inner);
        map.remove(&self.key);
    }
}

/// The leader's landing; `None` when the leader went away without one (the
/// follower then joins again).
pub(crate) async fn follow(mut slot: Slot) -> Option<Landing> {
    slot.wait_for(Option::is_some).await.ok().and_then(|landing| landing.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> CacheKey {
        CacheKey::from_parts("t", &"0".repeat(64)).expect("key")
    }

    #[tokio::test]
    async fn followers_get_the_landing_and_a_dropped_lead_frees_the_key() {
        let flights = Flights::default();
        let Role::Lead(lead) = flights.join(&key()) else { panic!("the first caller leads") };
        let Role::Follow(slot) = flights.join(&key()) else { panic!("the second follows") };
        lead.land(Landing::Own);
        assert!(matches!(follow(slot).await, Some(Landing::Own)));
        assert_eq!(flights.len(), 0);
        let Role::Lead(lead) = flights.join(&key()) else { panic!("a new flight") };
        let Role::Follow(slot) = flights.join(&key()) else { panic!("follows") };
        drop(lead);
        assert!(follow(slot).await.is_none(), "a leader gone lands nothing");
        assert!(matches!(flights.join(&key()), Role::Lead(_)));
    }
}
