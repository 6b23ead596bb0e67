//! Wire formats as pure functions: text or bytes in, typed values out, and back.
//!
//! This module owns the SignalR wire rules and nothing else: it knows no connection state, no
//! time and no I/O. Every parser returns an error value for bad input and never panics, because
//! a panic in WebAssembly takes the whole module down.
//!
//! - [`framing`]: the 0x1E record separator of the text transfer format.
//! - [`handshake`]: the handshake request and response that open a hub connection.
//! - [`json`]: the little JSON the wire layer reads itself (envelopes), and its string writer.
//! - [`message`]: hub messages (types 1–9) and their JSON encoding.
//! - [`msgpack`]: the same messages in the MessagePack encoding, with its VarInt framing.
//! - [`wire`]: which of the two a connection speaks, and the text or bytes it sends.
//! - [`negotiate`]: the negotiate request URL and response, and the connect URLs after it.
//! - [`plain`]: `{ type, payload }` messages of plain JSON WebSocket endpoints (not SignalR).
//!
//! The server side of the wire (used by the mock hub) goes through the same functions, so the
//! two ends cannot drift apart.

pub mod framing;
pub mod handshake;
pub mod json;
pub mod message;
#[cfg(feature = "msgpack")]
pub mod msgpack;
pub mod negotiate;
#[cfg(feature = "live")]
pub mod plain;
pub mod wire;

mod error;

pub use error::ProtocolError;
pub use message::{Completion, HubMessage, Payload, RawJson, RawMessagePack, SharedText};
pub use wire::{HubProtocol, TransportData};
