//! A connection's way out: everything the hub sends to one client passes through its
//! [`Outbox`], whichever transport currently carries it.
//!
//! Owns what happens to a record between "the hub decided to send it" and "a transport's queue
//! has it": counting messages for the drop-after-N fault, and, for connections that negotiated
//! stateful reconnect, sequence numbers, the replay buffer of unacknowledged messages and the
//! replay itself when a new transport takes over, and the silence of the `oneFrameThenSilent`
//! fault (nothing more reaches the transport). It never touches the hub's registry or a
//! session (both call into it, so calling back would invert the lock order), and it knows no
//! socket or HTTP type: transports take [`Outgoing`] items off the queue they attached.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use hubwire::protocol::HubMessage;
use tokio::sync::mpsc::UnboundedSender;

use crate::log::DisconnectReason;
use crate::transport::Outgoing;

/// Most bytes of unacknowledged messages a stateful connection has in flight. Beyond it the hub
/// applies backpressure, as ASP.NET Core does: further messages wait unsent (and unnumbered)
/// until acknowledgements make room, so a slow client slows the hub instead of losing its
/// connection.
pub const REPLAY_BUFFER_BYTES: usize = 4 * 1024 * 1024;

/// Most bytes of messages held back by that backpressure. A client that stops acknowledging
/// altogether would otherwise make the hub hold an unbounded amount; beyond this it is cut off
/// (as if its transport failed).
pub const HELD_BYTES_LIMIT: usize = 64 * 1024 * 1024;

/// One hub message, encoded once and ready to go to any number of outboxes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Encoded {
    /// The framed record.
    pub record: String,
    /// Whether the message takes part in stateful reconnect's sequence numbering (Invocation,
    /// StreamItem, Completion, StreamInvocation, CancelInvocation). Only these count for the
    /// drop-after-N fault, so Pings, Acks and Sequence messages never shift the count.
    pub trackable: bool,
}

impl Encoded {
    /// Encodes a hub message.
    pub fn new(message: &HubMessage) -> Self {
        Encoded {
            record: message.encode(),
            trackable: matches!(
                message,
                HubMessage::Invocation { .. }
                    | HubMessage::StreamItem { .. }
                    | HubMessage::Completion { .. }
                    | HubMessage::StreamInvocation { .. }
                    | HubMessage::CancelInvocation { .. }
            ),
        }
    }
}

/// A handle to one connection's outgoing side; clones share it.
#[derive(Clone)]
pub struct Outbox {
    state: Arc<Mutex<State>>,
}

struct State {
    /// The queue of the transport carrying the connection now, if one is attached.
    transport: Option<UnboundedSender<Outgoing>>,
    /// Counts attachments, so a transport that was replaced cannot detach its successor.
    epoch: u64,
    /// Trackable messages still to send before the transport is cut (drop-after-N fault).
    drop_after: Option<u32>,
    /// Stateful reconnect bookkeeping, when the connection negotiated it.
    replay: Option<Replay>,
    /// The connection ended: nothing is sent or buffered any more.
    finished: bool,
    /// The attached transport was told to go silent: records are no longer forwarded to it.
    silent: bool,
    /// The connection speaks MessagePack: transports translate its records (see
    /// [`crate::binary`]) and send binary frames and bodies.
    binary: bool,
}

/// The sending half of stateful reconnect.
#[derive(Default)]
struct Replay {
    /// Sequence id of the next trackable message.
    next_sequence_id: u64,
    /// Sent but not acknowledged: (sequence id, record), oldest first.
    unacked: VecDeque<(u64, String)>,
    /// Total length of the records in `unacked`.
    unacked_bytes: usize,
    /// Backpressure: records waiting for room in the replay buffer, oldest first; numbered
    /// when they go out.
    held: VecDeque<String>,
    /// Total length of the records in `held`.
    held_bytes: usize,
}

impl Outbox {
    /// An outbox delivering to `transport`, without stateful reconnect.
    pub fn new(transport: UnboundedSender<Outgoing>) -> Self {
        Outbox {
            state: Arc::new(Mutex::new(State {
                transport: Some(transport),
                epoch: 0,
                drop_after: None,
                replay: None,
                finished: false,
                silent: false,
                binary: false,
            })),
        }
    }

    /// Turns on stateful reconnect (the handshake agreed to it): from now on trackable messages
    /// are numbered from 1 and kept until acknowledged.
    pub fn enable_replay(&self) {
        self.state().replay = Some(Replay {
            next_sequence_id: 1,
            ..Replay::default()
        });
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // The state is plain data; a panic elsewhere must not stop this connection's sends.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Marks the connection as speaking MessagePack (its handshake chose it).
    pub fn use_binary(&self) {
        self.state().binary = true;
    }

    /// Whether the connection speaks MessagePack.
    pub fn is_binary(&self) -> bool {
        self.state().binary
    }

    /// Whether the connection negotiated stateful reconnect.
    pub fn is_stateful(&self) -> bool {
        self.state().replay.is_some()
    }

    /// Which attachment is current (0 for the transport the outbox was made with).
    pub fn epoch(&self) -> u64 {
        self.state().epoch
    }

    /// Sends the handshake response: never numbered, never counted.
    pub fn send_handshake(&self, record: String) {
        self.state().forward(Outgoing::Records(record));
    }

    /// Sends a hub message: numbered and buffered if it is trackable on a stateful connection,
    /// counted for the drop-after-N fault, and forwarded to the attached transport (if none is
    /// attached, a stateful connection keeps it for replay and any other drops it).
    pub fn send(&self, message: &Encoded) {
        let mut state = self.state();
        if state.finished {
            return;
        }
        if message.trackable {
            if let Some(replay) = &mut state.replay {
                let full = replay.unacked_bytes + message.record.len() > REPLAY_BUFFER_BYTES;
                if full || !replay.held.is_empty() {
                    // Backpressure: wait for acknowledgements (order kept behind earlier ones).
                    replay.held_bytes += message.record.len();
                    replay.held.push_back(message.record.clone());
                    if replay.held_bytes > HELD_BYTES_LIMIT {
                        state.cut(DisconnectReason::ReplayBufferFull);
                    }
                    return;
                }
                replay.number(message.record.clone());
            }
        }
        state.forward(Outgoing::Records(message.record.clone()));
        if message.trackable {
            if let Some(remaining) = &mut state.drop_after {
                *remaining = remaining.saturating_sub(1);
                if *remaining == 0 {
                    state.drop_after = None;
                    state.cut(DisconnectReason::DroppedByFault);
                }
            }
        }
    }

    /// Silences the attached transport: it stops its Pings, and no later record reaches it
    /// (stateful messages are still numbered and buffered). Close and abort still end it; a
    /// transport that resumes the connection later speaks normally.
    pub fn go_silent(&self) {
        let mut state = self.state();
        state.forward(Outgoing::Silence);
        state.silent = true;
    }

    /// Delivers a final Close message (if any) and ends the transport cleanly.
    pub fn close(&self, close: Option<String>) {
        self.state().forward(Outgoing::Close(close));
    }

    /// Cuts the attached transport with nothing more sent, like a network failure, and detaches
    /// it at once (so a stateful client may resume before the old transport has wound down).
    /// The transport reports `reason` when it has ended. Returns whether one was attached.
    pub fn abort(&self, reason: DisconnectReason) -> bool {
        let mut state = self.state();
        let attached = state.transport.is_some();
        state.cut(reason);
        attached
    }

    /// Cuts the transport after `count` more trackable messages (right away for 0).
    pub fn drop_after(&self, count: u32) {
        let mut state = self.state();
        if count == 0 {
            state.cut(DisconnectReason::DroppedByFault);
        } else {
            state.drop_after = Some(count);
        }
    }

    /// Forgets the transport of attachment `epoch` if it is still the current one, so nothing
    /// more is forwarded to it. Returns whether it was.
    pub fn detach(&self, epoch: u64) -> bool {
        let mut state = self.state();
        if state.epoch == epoch && state.transport.is_some() {
            state.transport = None;
            true
        } else {
            false
        }
    }

    /// Whether a transport is attached.
    pub fn is_attached(&self) -> bool {
        self.state().transport.is_some()
    }

    /// The connection ended: drops the transport's queue (after what was already queued, such
    /// as a final Close) and the replay buffer; later sends are ignored.
    pub fn finish(&self) {
        let mut state = self.state();
        state.finished = true;
        state.transport = None;
        state.replay = state.replay.take().map(|_| Replay::default());
    }

    /// Whether the connection ended (streams still running stop when they see this).
    pub fn is_finished(&self) -> bool {
        self.state().finished
    }

    /// Stateful reconnect: a new transport takes over a connection whose transport was lost.
    /// Queues a Sequence message naming the first message about to be replayed (or the next new
    /// one when nothing is unacknowledged), then every unacknowledged message in order. Returns
    /// the new attachment's epoch, or `None` when the connection is not stateful or still has a
    /// transport (a second transport at once is a conflict).
    pub fn resume(&self, transport: UnboundedSender<Outgoing>) -> Option<u64> {
        let mut state = self.state();
        if state.transport.is_some() || state.finished {
            return None;
        }
        let replay = state.replay.as_ref()?;
        let first = replay
            .unacked
            .front()
            .map_or(replay.next_sequence_id, |(id, _)| *id);
        let mut records = HubMessage::Sequence { sequence_id: first }.encode();
        for (_, record) in &replay.unacked {
            records.push_str(record);
        }
        // One queue item keeps the Sequence message and the replay together in one frame.
        let _ = transport.send(Outgoing::Records(records));
        state.transport = Some(transport);
        state.silent = false;
        state.epoch += 1;
        Some(state.epoch)
    }

    /// The client acknowledged every message up to `sequence_id`: they need no replay.
    pub fn acknowledge(&self, sequence_id: u64) {
        let mut state = self.state();
        let Some(replay) = &mut state.replay else { return };
        while let Some((id, record)) = replay.unacked.front() {
            if *id > sequence_id {
                break;
            }
            replay.unacked_bytes -= record.len();
            replay.unacked.pop_front();
        }
        // Room again: what backpressure held goes out now, in order.
        let mut released = Vec::new();
        while let Some(record) = replay.held.front() {
            if replay.unacked_bytes + record.len() > REPLAY_BUFFER_BYTES && !replay.unacked.is_empty() {
                break;
            }
            // front() was Some just above.
            let record = replay.held.pop_front().unwrap_or_default();
            replay.held_bytes -= record.len();
            replay.number(record.clone());
            released.push(record);
        }
        for record in released {
            state.forward(Outgoing::Records(record));
        }
    }

    /// How many sent messages wait for an acknowledgement (always 0 without stateful reconnect).
    pub fn unacknowledged(&self) -> usize {
        self.state()
            .replay
            .as_ref()
            .map_or(0, |replay| replay.unacked.len())
    }
}

impl Replay {
    /// Gives `record` the next sequence id and keeps it until acknowledged.
    fn number(&mut self, record: String) {
        let id = self.next_sequence_id;
        self.next_sequence_id += 1;
        self.unacked_bytes += record.len();
        self.unacked.push_back((id, record));
    }
}

impl State {
    fn forward(&mut self, item: Outgoing) {
        if self.silent && matches!(item, Outgoing::Records(_)) {
            return;
        }
        if let Some(transport) = &self.transport {
            // A transport that ended has dropped its queue; it reports its own end.
            let _ = transport.send(item);
        }
    }

    /// Tells the transport to end abruptly and detaches it. The hub decides what the loss means
    /// for the connection when the transport reports that it ended.
    fn cut(&mut self, reason: DisconnectReason) {
        self.forward(Outgoing::Abort(reason));
        self.transport = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hubwire::protocol::{Completion, RawJson};
    use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver};

    fn event(n: u32) -> Encoded {
        Encoded::new(&HubMessage::Invocation {
            invocation_id: None,
            target: "Tick".into(),
            arguments: RawJson::from_value(&[n]).into(),
            stream_ids: Vec::new(),
        })
    }

    fn stateful(transport: UnboundedSender<Outgoing>) -> Outbox {
        let outbox = Outbox::new(transport);
        outbox.enable_replay();
        outbox
    }

    fn drain(queue: &mut UnboundedReceiver<Outgoing>) -> Vec<Outgoing> {
        let mut items = Vec::new();
        while let Ok(item) = queue.try_recv() {
            items.push(item);
        }
        items
    }

    #[test]
    fn a_full_replay_buffer_holds_messages_back_until_acknowledged_then_sends_them_in_order() {
        let (transport, mut queue) = unbounded_channel();
        let outbox = stateful(transport);
        // Six-digit numbers: every record the same size.
        const FIRST: u32 = 100_000;
        let size = event(FIRST).record.len();
        let fits = REPLAY_BUFFER_BYTES / size;
        for n in FIRST..FIRST + fits as u32 + 3 {
            outbox.send(&event(n));
        }
        assert_eq!(drain(&mut queue).len(), fits, "only what fits goes out");
        assert_eq!(outbox.unacknowledged(), fits);
        // Acknowledging the first three makes room for the three held back, numbered next.
        outbox.acknowledge(3);
        let released = drain(&mut queue);
        assert_eq!(released.len(), 3, "the held messages go out");
        assert!(matches!(&released[0], Outgoing::Records(r) if *r == event(FIRST + fits as u32).record));
        assert_eq!(outbox.unacknowledged(), fits);
        assert!(outbox.is_attached(), "backpressure never cuts a client that acknowledges");
    }

    #[test]
    fn only_invocation_messages_are_trackable() {
        assert!(event(1).trackable);
        assert!(
            Encoded::new(&HubMessage::Completion {
                invocation_id: "1".into(),
                completion: Completion::Void
            })
            .trackable
        );
        assert!(!Encoded::new(&HubMessage::Ping).trackable);
        assert!(!Encoded::new(&HubMessage::Ack { sequence_id: 1 }).trackable);
    }

    #[test]
    fn drop_after_cuts_the_transport_right_after_the_last_counted_message() {
        let (transport, mut queue) = unbounded_channel();
        let outbox = Outbox::new(transport);
        outbox.drop_after(2);
        outbox.send(&event(1));
        outbox.send(&Encoded::new(&HubMessage::Ping));
        outbox.send(&event(2));
        outbox.send(&event(3));
        let items = drain(&mut queue);
        assert_eq!(
            items.len(),
            4,
            "two events, the Ping, the cut; nothing after: {items:?}"
        );
        assert_eq!(items[3], Outgoing::Abort(DisconnectReason::DroppedByFault));
    }

    #[test]
    fn resume_replays_unacknowledged_messages_after_a_sequence_message() {
        let (transport, _old) = unbounded_channel();
        let outbox = stateful(transport);
        for n in 1..=3 {
            outbox.send(&event(n));
        }
        outbox.acknowledge(1);
        assert!(outbox.detach(0));
        outbox.send(&event(4)); // buffered while no transport is attached
        let (transport, mut queue) = unbounded_channel();
        assert_eq!(outbox.resume(transport), Some(1));
        let expected = format!(
            "{}{}{}{}",
            HubMessage::Sequence { sequence_id: 2 }.encode(),
            event(2).record,
            event(3).record,
            event(4).record
        );
        assert_eq!(drain(&mut queue), vec![Outgoing::Records(expected)]);
    }

    #[test]
    fn a_stale_transport_cannot_detach_its_successor() {
        let (transport, _first) = unbounded_channel();
        let outbox = stateful(transport);
        assert!(outbox.detach(0));
        let (transport, _second) = unbounded_channel();
        outbox.resume(transport);
        assert!(!outbox.detach(0));
        assert!(outbox.is_attached());
    }

    #[test]
    fn a_connection_with_a_transport_cannot_be_resumed() {
        let (transport, _first) = unbounded_channel();
        let outbox = stateful(transport);
        let (transport, _second) = unbounded_channel();
        assert_eq!(outbox.resume(transport), None);
    }

    #[test]
    fn a_cut_detaches_at_once_so_the_client_may_resume() {
        let (transport, _first) = unbounded_channel();
        let outbox = stateful(transport);
        assert!(outbox.abort(DisconnectReason::DroppedByControl));
        let (transport, _second) = unbounded_channel();
        assert_eq!(outbox.resume(transport), Some(1));
    }

    #[test]
    fn a_silenced_outbox_forwards_no_records_but_still_closes() {
        let (transport, mut queue) = unbounded_channel();
        let outbox = Outbox::new(transport);
        outbox.send_handshake("{}\u{1e}".into());
        outbox.go_silent();
        outbox.send(&event(1));
        outbox.close(None);
        assert_eq!(
            drain(&mut queue),
            vec![
                Outgoing::Records("{}\u{1e}".into()),
                Outgoing::Silence,
                Outgoing::Close(None)
            ]
        );
    }

    #[test]
    fn a_finished_outbox_sends_nothing_and_cannot_be_resumed() {
        let (transport, mut queue) = unbounded_channel();
        let outbox = stateful(transport);
        outbox.finish();
        outbox.send(&event(1));
        assert_eq!(drain(&mut queue), vec![]);
        let (transport, _second) = unbounded_channel();
        assert_eq!(outbox.resume(transport), None);
    }
}
