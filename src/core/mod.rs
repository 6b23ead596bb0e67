//! The sans-IO engine: state machines that take inputs with the time passed in and produce
//! outputs. No I/O, no clock, no browser or runtime types; everything here runs natively under
//! `cargo test` on a virtual clock.
//!
//! - [`session`]: what the shell drives: a hub connection kept alive by a supervisor.
//! - [`supervisor`]: the connection manager: reconnect schedule, group rejoin, lifecycle.
//! - [`hub`]: one SignalR hub connection (negotiate, handshake, invocations, keep-alive).
//! - [`plain_session`]: a plain JSON WebSocket link ([`plain_link`]) kept alive by the same supervisor.
//! - [`subscription`]: live subscriptions: push or polling by flag and health, one deduped stream.
//! - [`redact`]: tokens out of every text that leaves the core.
//! - [`replay`]: stateful reconnect's sequence numbers, replay buffer and duplicate drops.
//! - [`retry`]: retry policies (the official 0/2/10/30 s default and its variations).
//! - [`dedupe`]: duplicate and stale update suppression.
//! - [`id_map`]: the map of in-flight things by id, in key order.
//! - [`key_table`]: the dedupe filter's string-keyed tables.
//! - [`handlers`]: client methods by name, matched case-insensitively.
//! - [`limits`]: the bounds of interval, timeout and size settings, and their typed error.
//! - [`timer`]: timers as data, one deadline per reason.
//! - [`text`]: numbers into texts without `core::fmt`.
//! - [`time`]: the caller-supplied clock value.
//! - [`error`]: the errors the app sees.

pub mod dedupe;
pub mod error;
pub mod handlers;
pub mod hub;
pub mod id_map;
pub mod key_table;
pub mod limits;
#[cfg(feature = "live")]
pub mod plain_link;
#[cfg(feature = "live")]
pub mod plain_session;
pub mod redact;
pub mod replay;
pub mod retry;
pub mod session;
#[cfg(feature = "live")]
pub mod subscription;
pub mod supervisor;
pub mod text;
pub mod time;
pub mod timer;

pub use error::HubError;
pub use hub::{ConnectionState, Event, HttpRequest, HttpResponse, HubConfig, HubConnection, Output};
pub use time::Instant;

/// A small deterministic generator (xorshift) for the randomized model tests, so failures replay.
#[cfg(test)]
pub(crate) mod test_rng {
    pub(crate) struct Rng(pub(crate) u64);

    impl Rng {
        pub(crate) fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
    }
}
