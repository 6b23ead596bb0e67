//! The sans-IO engine: state machines that take inputs with the time passed in and produce
//! outputs. No I/O, no clock, no browser or runtime types; everything here runs natively under
//! `cargo test` on a virtual clock.
//!
//! - [`hub`]: one SignalR hub connection (negotiate, handshake, invocations, keep-alive).
//! - [`handlers`]: client methods by name, matched case-insensitively.
//! - [`timer`]: timers as data, one deadline per reason.
//! - [`time`]: the caller-supplied clock value.
//! - [`error`]: the errors the app sees.

pub mod error;
pub mod handlers;
pub mod hub;
pub mod time;
pub mod timer;

pub use error::HubError;
pub use hub::{ConnectionState, Event, HttpRequest, HttpResponse, HubConfig, HubConnection, Output};
pub use time::Instant;
