//! Stateful reconnect's bookkeeping: sequence numbers, the replay buffer and duplicate drops.
//!
//! Both sides number the messages that carry application meaning (invocations, stream items,
//! completions, cancellations) from 1. The sender keeps each until the peer acknowledges it
//! (Ack), and after the socket is replaced it announces where its numbering resumes (Sequence)
//! and sends everything unacknowledged again. The receiver drops what it already processed.
//!
//! Like the official client (and unlike one reading of the spec text), the Sequence we send
//! carries the id of the *first unacknowledged* message, because those are the messages we are
//! about to replay; with nothing buffered it carries the next new id.
//!
//! Backpressure: once the unacknowledged bytes reach the limit, further messages wait in a
//! backlog, unnumbered and unsent, until Acks make room. Nothing is dropped.
//!
//! Memory: the replay buffer is bounded by its byte limit (`statefulReconnect.bufferSize`).
//! The backlog is not: it holds what the app sends while the server does not acknowledge,
//! like the official client's `MessageBuffer`, whose sends wait on the same condition. Both go
//! when the connection closes (pending invokes among them are rejected then).

use std::collections::VecDeque;
use std::time::Duration;

use super::error::HubError;
use crate::protocol::{HubMessage, HubProtocol, TransportData};

/// How long after receiving a message we acknowledge it (acks are coalesced meanwhile).
pub const ACK_DELAY: Duration = Duration::from_secs(1);

/// The replay state of one connection.
#[derive(Debug, Clone)]
pub struct Replay {
    limit: usize,
    /// Encodes the Sequence messages of a resume.
    protocol: HubProtocol,
    /// Sent (or to be sent on resume) and not yet acknowledged: (id, text).
    buffer: VecDeque<(u64, TransportData)>,
    buffered_bytes: usize,
    /// Waiting for room in the buffer, not numbered yet.
    backlog: VecDeque<TransportData>,
    /// Trackable messages numbered so far.
    sent_count: u64,
    /// The id the next received trackable message is expected to carry.
    next_incoming: u64,
    /// The highest id processed.
    latest_incoming: u64,
    /// The highest id acknowledged to the peer.
    acked_incoming: u64,
    /// After a resume, everything but the peer's Sequence is dropped until it arrives.
    awaiting_sequence: bool,
    /// Replaced socket not open yet: new messages are only buffered.
    resuming: bool,
}

impl Replay {
    /// Fresh counters with a buffer of `limit` bytes, for a connection speaking `protocol`.
    pub fn new(limit: usize, protocol: HubProtocol) -> Self {
        Replay {
            limit: limit.max(1),
            protocol,
            buffer: VecDeque::new(),
            buffered_bytes: 0,
            backlog: VecDeque::new(),
            sent_count: 0,
            next_incoming: 1,
            latest_incoming: 0,
            acked_incoming: 0,
            awaiting_sequence: false,
            resuming: false,
        }
    }

    /// Whether `message` is numbered and replayed.
    pub fn is_trackable(message: &HubMessage) -> bool {
        matches!(
            message,
            HubMessage::Invocation { .. }
                | HubMessage::StreamItem { .. }
                | HubMessage::Completion { .. }
                | HubMessage::StreamInvocation { .. }
                | HubMessage::CancelInvocation { .. }
        )
    }

    /// Takes a trackable message to send; returns what may go on the wire now.
    pub fn outgoing(&mut self, text: TransportData, resuming: bool) -> Vec<TransportData> {
        if self.buffered_bytes >= self.limit || !self.backlog.is_empty() {
            self.backlog.push_back(text);
            return Vec::new();
        }
        let sendable = self.number(text);
        if resuming || self.resuming {
            Vec::new()
        } else {
            vec![sendable]
        }
    }

    fn number(&mut self, text: TransportData) -> TransportData {
        self.sent_count += 1;
        self.buffered_bytes += text.len();
        self.buffer.push_back((self.sent_count, text.clone()));
        text
    }

    /// The peer acknowledged everything up to `sequence_id`: release it and return backlog
    /// messages that now fit (to send in order).
    pub fn acknowledged(&mut self, sequence_id: u64) -> Vec<TransportData> {
        while self.buffer.front().is_some_and(|(id, _)| *id <= sequence_id) {
            if let Some((_, text)) = self.buffer.pop_front() {
                self.buffered_bytes -= text.len();
            }
        }
        let mut released = Vec::new();
        while self.buffered_bytes < self.limit {
            let Some(text) = self.backlog.pop_front() else { break };
            let text = self.number(text);
            if !self.resuming {
                released.push(text);
            }
        }
        released
    }

    /// Judges a received message: `Ok(true)` to process it, `Ok(false)` to drop it (a
    /// duplicate, or anything before the peer's Sequence after a resume), `Err` when the peer's
    /// numbering skips messages we never got.
    pub fn incoming(&mut self, message: &HubMessage) -> Result<bool, HubError> {
        if let HubMessage::Sequence { sequence_id } = message {
            if *sequence_id > self.next_incoming {
                return Err(HubError::Transport(
                    "Stateful reconnect failed: the server resumed past messages this client never received.".into(),
                ));
            }
            self.awaiting_sequence = false;
            self.next_incoming = *sequence_id;
            return Ok(false);
        }
        if self.awaiting_sequence {
            return Ok(false);
        }
        if !Self::is_trackable(message) {
            return Ok(true);
        }
        let id = self.next_incoming;
        self.next_incoming += 1;
        if id <= self.latest_incoming {
            return Ok(false);
        }
        self.latest_incoming = id;
        Ok(true)
    }

    /// Whether an Ack is owed: something was processed since the last Ack that went out.
    pub fn ack_pending(&self) -> bool {
        self.latest_incoming > self.acked_incoming
    }

    /// The Ack to send now, if anything new was processed since the last one.
    pub fn ack_due(&mut self) -> Option<u64> {
        (self.latest_incoming > self.acked_incoming).then(|| {
            self.acked_incoming = self.latest_incoming;
            self.latest_incoming
        })
    }

    /// The socket dropped: buffer new messages and wait for the peer's Sequence.
    pub fn disconnected(&mut self) {
        self.resuming = true;
        self.awaiting_sequence = true;
        // Our Ack may not have arrived; the peer replays from its own buffer anyway.
        self.acked_incoming = 0;
    }

    /// The new socket is open: the Sequence and every unacknowledged message, in order.
    pub fn resend(&mut self) -> Vec<TransportData> {
        self.resuming = false;
        let first = self.buffer.front().map_or(self.sent_count + 1, |(id, _)| *id);
        let mut texts = vec![self.protocol.encode(&HubMessage::Sequence { sequence_id: first })];
        texts.extend(self.buffer.iter().map(|(_, text)| text.clone()));
        texts
    }

    /// Bytes waiting for acknowledgement.
    pub fn buffered_bytes(&self) -> usize {
        self.buffered_bytes
    }
}
