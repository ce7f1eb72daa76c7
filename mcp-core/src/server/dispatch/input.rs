//! Multi-round-trip input (2026-07-28): a handler that asks for input ends
//! the round with `input_required` and a sealed `requestState`; the next
//! round's `inputResponses` and state are opened back into its context.

use serde_json::value::RawValue;
use serde_json::{Value, json};

use super::{Reply, Server, raw};
use crate::error::Error;
use crate::protocol::ResultType;
use crate::server::context::InputState;
use crate::server::input::Binding;
use crate::server::{Context, Principal};

impl Server {
    pub(super) fn open_input(
        &self,
        binding: &Binding<'_>,
        request_state: Option<&str>,
        responses: Option<Value>,
    ) -> Result<InputState, Error> {
        let mut st = InputState::default();
        if let Some(state) = request_state {
            let opened = self.shared.sealer.open(state, binding)?;
            st.round = opened.round;
            st.answers = opened.answers;
        }
        match responses {
            None | Some(Value::Null) => {}
            Some(Value::Object(map)) => {
                // Answers sealed in the state are authoritative: a retry
                // cannot rewrite an earlier round's answer.
                for (k, v) in map {
                    st.answers.entry(k).or_insert(v);
                }
            }
            Some(other) => {
                return Err(Error::invalid_params(format!("`inputResponses` must be an object, got {other}")));
            }
        }
        Ok(st)
    }

    pub(super) fn input_required(&self, ctx: &Context, binding: &Binding<'_>) -> Result<Reply, Error> {
        let (requests, carried, round) = ctx.with_input(|st| {
            let carried: std::collections::BTreeMap<String, Value> =
                st.answers.iter().filter(|(k, _)| st.used.contains(*k)).map(|(k, v)| (k.clone(), v.clone())).collect();
            (std::mem::take(&mut st.requested), carried, st.round)
        });
        let state = self.shared.sealer.seal(binding, round + 1, &carried);
        let result = json!({
            "resultType": ResultType::InputRequired,
            "inputRequests": requests,
            "requestState": state,
            "_meta": self.shared.server_info_meta,
        });
        raw(&result).map(Reply::Result)
    }

    pub(super) fn binding<'a>(
        &self,
        ctx: &'a Context,
        method: &'a str,
        target: &'a str,
        args: Option<&'a RawValue>,
    ) -> Binding<'a> {
        let principal = ctx.extensions().get::<Principal>().map(|p| p.subject.as_str());
        Binding::new(method, target, args, principal)
    }

    /// Opens a stateless request's carried input (`requestState` and
    /// `inputResponses`) into its context.
    pub(super) fn resume_input(
        &self,
        ctx: &Context,
        binding: &Binding<'_>,
        request_state: Option<&str>,
        responses: Option<Value>,
    ) -> Result<(), Error> {
        if request_state.is_none() && responses.is_none() {
            // A first round: nothing to carry.
            return Ok(());
        }
        let opened = self.open_input(binding, request_state, responses)?;
        ctx.with_input(|st| *st = opened);
        Ok(())
    }
}
