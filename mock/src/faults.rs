//! The faults the hub injects on request, as plain data with the rules for using them up.
//!
//! Owns the standing faults of `POST /control/faults` (refuse negotiations, refuse connects
//! N times or always, refuse transports, fail a hub method, send events twice, a hostile
//! handshake, close stateful resumes, hold negotiates) and how each is consumed: a counter goes down by one per
//! request it perturbs, a method rule matches by name and first argument, a switch (hostile
//! handshake, always refuse connects, close resumes, negotiate delay) stands until cleared. The hub keeps one [`HubFaults`] under its lock and asks it at the one place each
//! fault applies; this module does no I/O and knows no connection. One-shot actions (drop after
//! N messages, drop after a delay) are not standing state and live in the hub.

use std::time::Duration;

use hubwire::protocol::negotiate::TransportKind;
use serde::Serialize;
use serde_json::Value;

/// The message a failed method's Completion carries when the rule gives none.
pub const DEFAULT_METHOD_ERROR: &str = "Injected failure";

/// Every standing fault. The default is a healthy hub.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HubFaults {
    /// How many more negotiate requests get 503.
    pub refuse_negotiations: u32,
    /// How many more transport connects (WebSocket upgrade, Server-Sent Events request, first
    /// long poll) get 503.
    pub refuse_connects: u32,
    /// Transports neither offered by negotiate nor accepted when a client tries them anyway.
    pub refused_transports: Vec<TransportKind>,
    /// Hub method calls answered with an error instead of running.
    pub method_faults: Vec<MethodFault>,
    /// How many of the next events (server-to-client invocations sent to a group or to
    /// everyone) are sent twice.
    pub duplicate_next_events: u32,
    /// Every transport connect of a new connection gets 503 (after negotiate succeeded).
    pub refuse_all_connects: bool,
    /// How the hub mistreats every new connection's handshake, if it does.
    pub hostile: Option<HostileHandshake>,
    /// Every WebSocket resuming a stateful-reconnect connection is accepted and closed at once.
    pub close_resumes: bool,
    /// How long every negotiate is held before it is answered (zero: not held), so a client's
    /// request timeout can be seen cutting one off.
    pub negotiate_delay: Duration,
}

/// The longest `negotiateDelayMs` the hub accepts: a held request must end by itself.
pub const MAX_NEGOTIATE_DELAY: Duration = Duration::from_secs(60);

/// A hostile way to treat a handshake, applied to every new connection on every transport once
/// its handshake request has arrived. Resumes have no handshake and are not affected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostileHandshake {
    /// Close the transport without answering.
    CloseBeforeHandshake,
    /// Answer `{}`, then close the transport with no Close message.
    CloseAfterHandshake,
    /// Say nothing at all (no answer, no Pings) and keep the transport open.
    NeverAnswerHandshake,
    /// Answer with `{"error": ...}` (then close, as a refused handshake does).
    HandshakeError,
    /// Answer `{}`, then send a Close message with `allowReconnect: true` and close.
    CloseWithReconnectAfterHandshake,
    /// Answer `{}` (that one frame), then send nothing more: no Pings, no messages; the
    /// transport stays open.
    OneFrameThenSilent,
}

impl HostileHandshake {
    /// Every mode, for listing in error messages.
    pub const ALL: [HostileHandshake; 6] = [
        HostileHandshake::CloseBeforeHandshake,
        HostileHandshake::CloseAfterHandshake,
        HostileHandshake::NeverAnswerHandshake,
        HostileHandshake::HandshakeError,
        HostileHandshake::CloseWithReconnectAfterHandshake,
        HostileHandshake::OneFrameThenSilent,
    ];

    /// The control API's name for the mode.
    pub fn name(self) -> &'static str {
        match self {
            HostileHandshake::CloseBeforeHandshake => "closeBeforeHandshake",
            HostileHandshake::CloseAfterHandshake => "closeAfterHandshake",
            HostileHandshake::NeverAnswerHandshake => "neverAnswerHandshake",
            HostileHandshake::HandshakeError => "handshakeError",
            HostileHandshake::CloseWithReconnectAfterHandshake => {
                "closeWithReconnectAfterHandshake"
            }
            HostileHandshake::OneFrameThenSilent => "oneFrameThenSilent",
        }
    }

    /// The mode with this control API name (exact spelling).
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|mode| mode.name() == name)
    }
}

/// A rule that makes calls of one hub method fail.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MethodFault {
    /// The method's canonical name (matching is case-insensitive, as for calls).
    pub method: String,
    /// When set, only calls whose first argument equals this JSON value fail.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub argument: Option<Value>,
    /// How many more matching calls fail; `None` means every one until the faults are cleared.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub times: Option<u32>,
    /// The text after `HubException: ` in the error Completion.
    pub error: String,
}

impl HubFaults {
    /// Uses up one negotiate refusal; true when this negotiate must be refused.
    pub fn take_negotiation_refusal(&mut self) -> bool {
        take_one(&mut self.refuse_negotiations)
    }

    /// Uses up one connect refusal, unless every connect is refused; true when this connect
    /// must be refused.
    pub fn take_connect_refusal(&mut self) -> bool {
        self.refuse_all_connects || take_one(&mut self.refuse_connects)
    }

    /// Whether `transport` is switched off.
    pub fn refuses(&self, transport: TransportKind) -> bool {
        self.refused_transports.contains(&transport)
    }

    /// The injected error for a call of `method` (canonical name) whose first argument is
    /// `first_argument`, if a rule matches; the first matching rule is used up by one and
    /// forgotten when it reaches zero.
    pub fn take_method_failure(
        &mut self,
        method: &str,
        first_argument: Option<&Value>,
    ) -> Option<String> {
        let index = self.method_faults.iter().position(|rule| {
            rule.method.eq_ignore_ascii_case(method)
                && rule
                    .argument
                    .as_ref()
                    .is_none_or(|wanted| Some(wanted) == first_argument)
        })?;
        let rule = &mut self.method_faults[index];
        let error = rule.error.clone();
        if let Some(times) = &mut rule.times {
            *times = times.saturating_sub(1);
            if *times == 0 {
                self.method_faults.remove(index);
            }
        }
        Some(error)
    }

    /// Uses up one duplication; true when the event about to be sent must go out twice.
    pub fn take_duplicate(&mut self) -> bool {
        take_one(&mut self.duplicate_next_events)
    }

    /// The faults as `GET /control/faults` shows them (camelCase keys).
    pub fn view(&self) -> Value {
        serde_json::json!({
            "refuseNegotiations": self.refuse_negotiations,
            "refuseConnects": self.refuse_connects,
            "refuseTransports": self
                .refused_transports
                .iter()
                .map(|kind| kind.name())
                .collect::<Vec<_>>(),
            "failMethods": self.method_faults,
            "duplicateNextEvents": self.duplicate_next_events,
            "refuseAllConnects": self.refuse_all_connects,
            "hostile": self.hostile.map(HostileHandshake::name),
            "closeResumes": self.close_resumes,
            "negotiateDelayMs": self.negotiate_delay.as_millis() as u64,
        })
    }
}

fn take_one(counter: &mut u32) -> bool {
    if *counter == 0 {
        return false;
    }
    *counter -= 1;
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rule(argument: Option<Value>, times: Option<u32>) -> MethodFault {
        MethodFault {
            method: "JoinDispatchGroup".into(),
            argument,
            times,
            error: "nope".into(),
        }
    }

    #[test]
    fn counters_refuse_exactly_n_times() {
        let mut faults = HubFaults {
            refuse_connects: 2,
            ..HubFaults::default()
        };
        let taken: Vec<bool> = (0..3).map(|_| faults.take_connect_refusal()).collect();
        assert_eq!(taken, [true, true, false]);
    }

    #[test]
    fn refusing_all_connects_refuses_every_time_and_leaves_the_counter_alone() {
        let mut faults = HubFaults {
            refuse_connects: 1,
            refuse_all_connects: true,
            ..HubFaults::default()
        };
        assert!((0..5).all(|_| faults.take_connect_refusal()));
        assert_eq!(faults.refuse_connects, 1);
    }

    #[test]
    fn hostile_modes_round_trip_through_their_names() {
        for mode in HostileHandshake::ALL {
            assert_eq!(HostileHandshake::from_name(mode.name()), Some(mode));
        }
        assert_eq!(HostileHandshake::from_name("closebeforehandshake"), None);
    }

    #[test]
    fn a_counted_method_rule_fails_n_calls_then_is_forgotten() {
        let mut faults = HubFaults {
            method_faults: vec![rule(None, Some(2))],
            ..HubFaults::default()
        };
        let arg = json!("europe");
        assert!(faults
            .take_method_failure("joindispatchgroup", Some(&arg))
            .is_some());
        assert!(faults
            .take_method_failure("JoinDispatchGroup", Some(&arg))
            .is_some());
        assert_eq!(
            faults.take_method_failure("JoinDispatchGroup", Some(&arg)),
            None
        );
        assert!(faults.method_faults.is_empty());
    }

    #[test]
    fn an_argument_rule_fails_only_that_argument_until_cleared() {
        let mut faults = HubFaults {
            method_faults: vec![rule(Some(json!("europe")), None)],
            ..HubFaults::default()
        };
        let (europe, asia) = (json!("europe"), json!("asia-pacific"));
        for _ in 0..3 {
            assert_eq!(
                faults.take_method_failure("JoinDispatchGroup", Some(&europe)),
                Some("nope".into())
            );
        }
        assert_eq!(
            faults.take_method_failure("JoinDispatchGroup", Some(&asia)),
            None
        );
        assert_eq!(faults.take_method_failure("Echo", Some(&europe)), None);
    }
}
