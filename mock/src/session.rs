//! One client's conversation with the hub, whatever transport carries it (and across
//! transports, for a stateful-reconnect connection that is resumed).
//!
//! Owns the protocol decisions for a connection: the handshake (JSON protocol, version 1, or 2
//! to turn on stateful reconnect when negotiate agreed to it), then reading hub messages,
//! logging invocations, running hub methods and answering with Completions, running
//! server-to-client streams (and cancelling them), collecting client-to-server upload streams,
//! handing clients' results to the control calls waiting for them, stateful reconnect's
//! receiving half (sequence ids, duplicates dropped, Acks sent, the Sequence message after a
//! resume), closing with an error when the client breaks the protocol, and acting out the
//! hostile-handshake faults (close before or after the answer, no answer, an error answer, a
//! Close with `allowReconnect`, one frame then silence). It parses and
//! encodes through `hubwire::protocol` and sends only through the connection's [`Outbox`]; it
//! touches no socket and reads no clock (stream pauses run in tasks it spawns), so every
//! transport reuses it unchanged.

use std::collections::HashMap;
use std::time::Duration;

use hubwire::protocol::framing::DEFAULT_MAX_FRAME_BYTES;
use hubwire::protocol::handshake::{encode_response, parse_request};
use hubwire::protocol::message::parse_frame;
use hubwire::protocol::negotiate::TransportKind;
use hubwire::protocol::wire::handshake_end;
use hubwire::protocol::{Completion, HubMessage, HubProtocol, Payload, RawJson};
use serde_json::Number;
use tokio::sync::oneshot;

use crate::faults::HostileHandshake;
use crate::hub::{Admission, Hub};
use crate::log::{DisconnectReason, HandshakeAnswer};
use crate::methods::{self, Invoked, StreamPlan};
use crate::outbox::{Encoded, Outbox};

/// Handshake versions accepted: 1, and 2, which asks for stateful reconnect.
const PROTOCOL_VERSIONS: [u32; 2] = [1, 2];

/// The error of the handshake answer the `handshakeError` fault sends.
pub const INJECTED_HANDSHAKE_ERROR: &str = "The server refused the handshake (injected fault).";
/// The error of the Close message the `closeWithReconnectAfterHandshake` fault sends.
pub const INJECTED_CLOSE_ERROR: &str = "Server closed the connection (injected fault).";

/// A handshake request is a few dozen bytes; anything this long without a record separator is
/// not one, and buffering it further would only let a client eat memory.
const MAX_HANDSHAKE_BYTES: usize = 64 * 1024;

/// What the transport should do after the session handled some input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    /// Keep reading.
    Continue,
    /// A final item was queued (Close, or a refused handshake) and the connection is already
    /// unregistered with its reason; deliver the queue and end.
    Closing,
}

enum Phase {
    /// Waiting for the handshake request; holds what has arrived of it so far.
    AwaitingHandshake(String),
    /// The handshake succeeded: the connection is registered with the hub.
    Open,
    /// A fault keeps the handshake unanswered: input is ignored until the transport ends.
    Unanswered,
    /// A final item was queued; further input is ignored.
    Ended,
}

/// The protocol state of one connection.
pub struct Session {
    hub: Hub,
    admission: Admission,
    outbox: Outbox,
    phase: Phase,
    /// Running server-to-client streams by invocation id; sending on (or dropping) the sender
    /// stops the stream (with, or without, a final Completion).
    streams: HashMap<String, oneshot::Sender<()>>,
    /// Upload streams being collected, by the client's stream id.
    uploads: HashMap<String, Upload>,
    /// The hub protocol the handshake chose (JSON until then).
    protocol: HubProtocol,
    /// Stateful reconnect's receiving half, when the handshake turned it on.
    inbound: Option<Inbound>,
}

/// An `UploadSum` waiting for the end of its stream.
struct Upload {
    invocation_id: Option<String>,
    target: String,
    total: Total,
}

/// A running sum that stays an exact integer while every item is one.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Total {
    Whole(i64),
    Real(f64),
}

impl Total {
    fn add(self, item: &Number) -> Total {
        match (self, item.as_i64()) {
            (Total::Whole(sum), Some(item)) => match sum.checked_add(item) {
                Some(sum) => Total::Whole(sum),
                None => Total::Real(sum as f64 + item as f64),
            },
            _ => Total::Real(self.as_f64() + item.as_f64().unwrap_or(0.0)),
        }
    }

    fn as_f64(self) -> f64 {
        match self {
            Total::Whole(sum) => sum as f64,
            Total::Real(sum) => sum,
        }
    }

    fn to_json(self) -> RawJson {
        match self {
            Total::Whole(sum) => RawJson::from_value(&sum),
            Total::Real(sum) => RawJson::from_value(&sum),
        }
    }
}

/// Sequence bookkeeping for what the client sends (stateful reconnect).
#[derive(Debug, Default)]
struct Inbound {
    /// The sequence id the next trackable message from the client carries.
    next_id: u64,
    /// The highest sequence id processed; anything at or below it is a replayed duplicate.
    latest: u64,
    /// The highest sequence id acknowledged to the client.
    acknowledged: u64,
    /// After a resume, trackable messages are ignored until the client's Sequence message.
    awaiting_sequence: bool,
}

/// What stateful reconnect says about one incoming message.
enum Admit {
    Process,
    Skip,
    Fail(String),
}

impl Inbound {
    fn admit(&mut self, message: &HubMessage) -> Admit {
        match message {
            HubMessage::Sequence { sequence_id } => {
                if *sequence_id > self.latest + 1 {
                    return Admit::Fail(format!(
                        "Sequence ID {sequence_id} is greater than the number of messages received."
                    ));
                }
                self.next_id = *sequence_id;
                self.awaiting_sequence = false;
                Admit::Skip
            }
            message if Encoded::new(message).trackable => {
                if self.awaiting_sequence {
                    return Admit::Skip;
                }
                let id = self.next_id;
                self.next_id += 1;
                if id <= self.latest {
                    // The client replays what it holds unacknowledged, so the Ack for the last
                    // of these was lost with the old socket: acknowledge it again (as ASP.NET
                    // Core does on the last duplicate), or a client whose replay buffer is full
                    // waits for room forever.
                    if id == self.latest {
                        self.acknowledged = self.acknowledged.min(id.saturating_sub(1));
                    }
                    return Admit::Skip;
                }
                self.latest = id;
                Admit::Process
            }
            _ => Admit::Process,
        }
    }
}

impl Session {
    /// A session for an admitted client that sends through `outbox`.
    pub fn new(hub: Hub, admission: Admission, outbox: Outbox) -> Self {
        Session {
            hub,
            admission,
            outbox,
            phase: Phase::AwaitingHandshake(String::new()),
            streams: HashMap::new(),
            uploads: HashMap::new(),
            protocol: HubProtocol::Json,
            inbound: None,
        }
    }

    /// Whether the connection has ended (later input is ignored).
    pub fn is_ended(&self) -> bool {
        matches!(self.phase, Phase::Ended)
    }

    /// Handles one piece of text from the client (a transport frame or request body).
    pub fn receive(&mut self, text: &str) -> Flow {
        if self.protocol.is_binary() && matches!(self.phase, Phase::Open) {
            return self.receive_bytes(text.as_bytes(), "");
        }
        match &mut self.phase {
            Phase::AwaitingHandshake(received) => {
                received.push_str(text);
                let received = std::mem::take(received);
                self.receive_handshake(&received)
            }
            Phase::Open => self.receive_messages(text),
            Phase::Unanswered | Phase::Ended => Flow::Continue,
        }
    }

    /// Handles bytes from the client (a binary frame or a request body): the handshake text,
    /// then hub messages of the chosen protocol. For JSON they must be UTF-8 text; what is not
    /// fails as `not_text` says.
    pub fn receive_bytes(&mut self, data: &[u8], not_text: &str) -> Flow {
        if matches!(self.phase, Phase::AwaitingHandshake(_)) {
            // The handshake request is JSON text whatever the protocol.
            let end = handshake_end(data).unwrap_or(data.len());
            let Ok(head) = std::str::from_utf8(&data[..end]) else {
                return self.protocol_error(not_text);
            };
            let flow = self.receive(head);
            if flow == Flow::Closing || end == data.len() {
                return flow;
            }
            return self.receive_bytes(&data[end..], not_text);
        }
        if !matches!(self.phase, Phase::Open) {
            return Flow::Continue;
        }
        match self.protocol {
            HubProtocol::MessagePack => match crate::binary::frame_to_records(data, DEFAULT_MAX_FRAME_BYTES) {
                Ok(records) => self.receive_messages(&records),
                Err(error) => self.fail(error.to_string()),
            },
            HubProtocol::Json => match std::str::from_utf8(data) {
                Ok(text) => self.receive_messages(text),
                Err(_) => self.protocol_error(not_text),
            },
        }
    }

    /// A new transport resumed this (stateful) connection: the client's messages count again
    /// from its Sequence message.
    pub fn resumed(&mut self) {
        if let Some(inbound) = &mut self.inbound {
            inbound.awaiting_sequence = true;
        }
    }

    /// The client sent nothing for the whole client timeout.
    pub fn client_timed_out(&mut self) -> Flow {
        let close = match self.phase {
            // A client that never finished its handshake cannot read a Close message.
            Phase::AwaitingHandshake(_) | Phase::Unanswered => None,
            Phase::Open => Some(close_message(
                "Server closed the connection: no message from the client within the client timeout.",
                true,
            )),
            Phase::Ended => return Flow::Closing,
        };
        self.end(close, DisconnectReason::ClientTimeout)
    }

    /// The client closed its side of the transport on purpose.
    pub fn client_closed(&mut self) -> Flow {
        if !matches!(self.phase, Phase::Ended) {
            self.end(None, DisconnectReason::ClientClosed);
        }
        Flow::Closing
    }

    /// The transport received something that cannot be hub protocol text at all.
    pub fn protocol_error(&mut self, detail: &str) -> Flow {
        match self.phase {
            Phase::AwaitingHandshake(_) => self.refuse_handshake(handshake_error(detail)),
            Phase::Open => self.fail(detail.to_string()),
            Phase::Unanswered | Phase::Ended => Flow::Continue,
        }
    }

    fn receive_handshake(&mut self, received: &str) -> Flow {
        let request = match parse_request(received) {
            Ok(Some(request)) => request,
            Ok(None) if received.len() > MAX_HANDSHAKE_BYTES => {
                return self.refuse_handshake("The handshake request is too large.".to_string())
            }
            Ok(None) => {
                self.phase = Phase::AwaitingHandshake(received.to_string());
                return Flow::Continue;
            }
            Err(error) => return self.refuse_handshake(handshake_error(&error.to_string())),
        };
        let (request, rest) = request;
        let hostile = self.hub.hostile_handshake();
        match hostile {
            Some(HostileHandshake::CloseBeforeHandshake) => {
                self.hub
                    .log_handshake(&self.admission, HandshakeAnswer::None);
                return self.end(None, DisconnectReason::ClosedByFault);
            }
            Some(HostileHandshake::NeverAnswerHandshake) => {
                self.hub
                    .log_handshake(&self.admission, HandshakeAnswer::None);
                self.phase = Phase::Unanswered;
                return Flow::Continue;
            }
            Some(HostileHandshake::HandshakeError) => {
                return self.refuse_handshake(INJECTED_HANDSHAKE_ERROR.to_string())
            }
            _ => {}
        }
        let Some(protocol) = HubProtocol::from_name(&request.protocol) else {
            return self.refuse_handshake(format!(
                "The protocol '{}' is not supported.",
                request.protocol
            ));
        };
        // As ASP.NET Core: an event stream carries text only.
        if protocol.is_binary() && self.admission.transport == TransportKind::ServerSentEvents {
            return self.refuse_handshake(format!(
                "Cannot use the '{}' protocol on the current transport. The transport does not support '{}' transfer format.",
                request.protocol,
                protocol.transfer_format()
            ));
        }
        if !PROTOCOL_VERSIONS.contains(&request.version) {
            return self.refuse_handshake(format!(
                "The server does not support version {} of the '{}' protocol.",
                request.version, request.protocol
            ));
        }
        // As ASP.NET Core: stateful reconnect needs the negotiate flag, the WebSockets transport
        // and a version 2 handshake (the official client sends 1 when it did not negotiate it).
        if request.version >= 2
            && self.admission.stateful_negotiated
            && self.admission.transport == TransportKind::WebSockets
        {
            self.outbox.enable_replay();
            self.inbound = Some(Inbound {
                next_id: 1,
                ..Inbound::default()
            });
        }
        self.hub
            .log_handshake(&self.admission, HandshakeAnswer::Accepted);
        self.protocol = protocol;
        if protocol.is_binary() {
            // From the handshake answer on, what goes out is translated to MessagePack.
            self.outbox.use_binary();
        }
        // Queue the response before registering, so no published event can overtake it.
        self.outbox.send_handshake(encode_response(None));
        self.hub.register(&self.admission, self.outbox.clone());
        self.phase = Phase::Open;
        match hostile {
            Some(HostileHandshake::CloseAfterHandshake) => {
                return self.end(None, DisconnectReason::ClosedByFault)
            }
            Some(HostileHandshake::CloseWithReconnectAfterHandshake) => {
                let close = close_message(INJECTED_CLOSE_ERROR, true);
                return self.end(Some(close), DisconnectReason::ClosedByFault);
            }
            // Registered like any connection (listed, logged), but nothing more reaches it.
            Some(HostileHandshake::OneFrameThenSilent) => self.outbox.go_silent(),
            _ => {}
        }
        if rest.is_empty() {
            Flow::Continue
        } else {
            self.receive_messages(rest)
        }
    }

    fn refuse_handshake(&mut self, error: String) -> Flow {
        self.hub
            .log_handshake(&self.admission, HandshakeAnswer::Error);
        self.outbox.send_handshake(encode_response(Some(&error)));
        self.end(None, DisconnectReason::HandshakeFailed(error))
    }

    fn receive_messages(&mut self, text: &str) -> Flow {
        let messages = match parse_frame(text, DEFAULT_MAX_FRAME_BYTES) {
            Ok(messages) => messages,
            Err(error) => return self.fail(error.to_string()),
        };
        for message in messages {
            if let Some(inbound) = &mut self.inbound {
                match inbound.admit(&message) {
                    Admit::Process => {}
                    Admit::Skip => continue,
                    Admit::Fail(detail) => return self.fail(detail),
                }
            }
            if self.handle(message) == Flow::Closing {
                return Flow::Closing;
            }
        }
        self.acknowledge();
        Flow::Continue
    }

    /// Stateful reconnect: acknowledges what this frame brought, once per frame.
    fn acknowledge(&mut self) {
        if let Some(inbound) = &mut self.inbound {
            if inbound.latest > inbound.acknowledged {
                inbound.acknowledged = inbound.latest;
                let ack = HubMessage::Ack {
                    sequence_id: inbound.latest,
                };
                self.outbox.send(&Encoded::new(&ack));
            }
        }
    }

    fn handle(&mut self, message: HubMessage) -> Flow {
        let caller = self.admission.connection_id.clone();
        match message {
            HubMessage::Invocation {
                invocation_id,
                target,
                arguments,
                stream_ids,
            } => {
                let arguments = json_arguments(&arguments);
                self.hub
                    .log_invocation(&caller, invocation_id.as_deref(), &target, &arguments);
                match methods::invoke(&self.hub, &caller, &target, &arguments, &stream_ids) {
                    // Without an invocation id the caller used `send` and must get no answer.
                    Invoked::Completed(completion) => {
                        if let Some(invocation_id) = invocation_id {
                            self.complete(invocation_id, completion);
                        }
                    }
                    Invoked::Upload { stream_id } => {
                        let upload = Upload {
                            invocation_id,
                            target,
                            total: Total::Whole(0),
                        };
                        self.uploads.insert(stream_id, upload);
                    }
                }
            }
            HubMessage::StreamInvocation {
                invocation_id,
                target,
                arguments,
                stream_ids,
            } => {
                let arguments = json_arguments(&arguments);
                self.hub
                    .log_stream_invocation(&caller, &invocation_id, &target, &arguments);
                match methods::stream(&self.hub, &target, &arguments, &stream_ids) {
                    Ok(plan) => self.start_stream(invocation_id, plan),
                    Err(error) => self.complete(invocation_id, Completion::Error(error)),
                }
            }
            HubMessage::CancelInvocation { invocation_id } => {
                // A stream that already finished has dropped its receiver; nothing to stop.
                if let Some(cancel) = self.streams.remove(&invocation_id) {
                    let _ = cancel.send(());
                }
            }
            HubMessage::StreamItem {
                invocation_id,
                item,
            } => self.upload_item(&invocation_id, &json_value(&item)),
            HubMessage::Completion {
                invocation_id,
                completion,
            } => match self.uploads.remove(&invocation_id) {
                Some(upload) => self.finish_upload(upload, completion),
                // Otherwise it answers a server-to-client call; one nobody waits for (it timed
                // out, or never was) is ignored, as ASP.NET Core does.
                None => {
                    self.hub
                        .complete_client_call(&caller, &invocation_id, completion);
                }
            },
            HubMessage::Ack { sequence_id } => self.outbox.acknowledge(sequence_id),
            HubMessage::Close { .. } => return self.end(None, DisconnectReason::ClientClosed),
            // Receiving anything already restarted the client timeout, which is all a Ping is
            // for; it is logged so tests can see the client's keep-alive interval.
            HubMessage::Ping => self.hub.log_ping(&caller),
            // Sequence messages were handled by stateful reconnect's bookkeeping (and mean
            // nothing without it).
            HubMessage::Sequence { .. } => {}
        }
        Flow::Continue
    }

    fn start_stream(&mut self, invocation_id: String, plan: StreamPlan) {
        let (cancel, cancelled) = oneshot::channel();
        tokio::spawn(run_stream(
            self.outbox.clone(),
            invocation_id.clone(),
            plan,
            cancelled,
        ));
        // Reusing a running stream's id drops its sender, which stops it without a Completion.
        self.streams.insert(invocation_id, cancel);
    }

    fn upload_item(&mut self, stream_id: &str, item: &RawJson) {
        // Items for a stream nobody collects (unknown, or already failed) are ignored.
        let Some(upload) = self.uploads.get_mut(stream_id) else {
            return;
        };
        match serde_json::from_str::<Number>(item.as_str()) {
            Ok(number) => upload.total = upload.total.add(&number),
            Err(_) => {
                if let Some(upload) = self.uploads.remove(stream_id) {
                    let error = methods::upload_item_error(&upload.target);
                    if let Some(invocation_id) = upload.invocation_id {
                        self.complete(invocation_id, Completion::Error(error));
                    }
                }
            }
        }
    }

    fn finish_upload(&mut self, upload: Upload, end: Completion) {
        let Some(invocation_id) = upload.invocation_id else {
            return;
        };
        let completion = match end {
            Completion::Error(error) => {
                Completion::Error(methods::upload_failed(&upload.target, &error))
            }
            Completion::Void | Completion::Result(_) => Completion::Result(upload.total.to_json().into()),
        };
        self.complete(invocation_id, completion);
    }

    fn complete(&self, invocation_id: String, completion: Completion) {
        self.outbox.send(&Encoded::new(&HubMessage::Completion {
            invocation_id,
            completion,
        }));
    }

    /// Closes the connection for a protocol error, telling the client why, as ASP.NET Core does
    /// with detailed errors on.
    fn fail(&mut self, detail: String) -> Flow {
        let error = format!("Connection closed with an error. InvalidDataException: {detail}");
        self.end(
            Some(close_message(&error, false)),
            DisconnectReason::ProtocolError(detail),
        )
    }

    /// Queues the last thing the transport delivers before it ends, stops running streams, and
    /// unregisters the connection now with the reason only the session knows (the transport
    /// just sees its queue end).
    fn end(&mut self, close: Option<String>, reason: DisconnectReason) -> Flow {
        self.outbox.close(close);
        self.streams.clear();
        self.uploads.clear();
        if matches!(self.phase, Phase::Open) {
            self.hub.unregister(&self.admission.connection_id, reason);
        }
        self.phase = Phase::Ended;
        Flow::Closing
    }
}

/// Runs one server-to-client stream: its items, then a Completion, unless cancelled (a
/// CancelInvocation still gets its Completion; a session that ended gets nothing more).
async fn run_stream(
    outbox: Outbox,
    invocation_id: String,
    plan: StreamPlan,
    mut cancelled: oneshot::Receiver<()>,
) {
    let StreamPlan::Count { count, delay } = plan;
    for n in 0..count {
        tokio::select! {
            biased;
            why = &mut cancelled => {
                if why.is_ok() {
                    outbox.send(&completion(&invocation_id));
                }
                return;
            }
            () = pause(delay) => {}
        }
        if outbox.is_finished() {
            return;
        }
        outbox.send(&Encoded::new(&HubMessage::StreamItem {
            invocation_id: invocation_id.clone(),
            item: RawJson::from_value(&n).into(),
        }));
    }
    outbox.send(&completion(&invocation_id));
}

fn completion(invocation_id: &str) -> Encoded {
    Encoded::new(&HubMessage::Completion {
        invocation_id: invocation_id.to_string(),
        completion: Completion::Void,
    })
}

/// Waits `delay`, or just lets other tasks run when it is zero (so a cancel can get in).
async fn pause(delay: Duration) {
    if delay.is_zero() {
        tokio::task::yield_now().await;
    } else {
        tokio::time::sleep(delay).await;
    }
}

/// A payload as JSON: every payload is, since the MessagePack edge ([`crate::binary`])
/// translated what a MessagePack client sent.
fn json_value(payload: &Payload) -> RawJson {
    payload.as_json().cloned().unwrap_or_else(RawJson::null)
}

/// An argument list as JSON (see [`json_value`]).
fn json_arguments(payload: &Payload) -> RawJson {
    payload.as_json().cloned().unwrap_or_else(RawJson::empty_array)
}

fn handshake_error(detail: &str) -> String {
    format!(
        "An unexpected error occurred during connection handshake. InvalidDataException: {detail}"
    )
}

fn close_message(error: &str, allow_reconnect: bool) -> String {
    HubMessage::Close {
        error: Some(error.to_string()),
        allow_reconnect,
    }
    .encode()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn number(text: &str) -> Number {
        serde_json::from_str(text).unwrap()
    }

    #[test]
    fn totals_stay_whole_until_a_fraction_arrives() {
        let total = Total::Whole(0).add(&number("2")).add(&number("3"));
        assert_eq!(total, Total::Whole(5));
        assert_eq!(total.add(&number("0.5")), Total::Real(5.5));
        assert_eq!(
            Total::Whole(i64::MAX).add(&number("1")),
            Total::Real(i64::MAX as f64 + 1.0)
        );
    }

    #[test]
    fn replayed_messages_at_or_below_the_latest_id_are_skipped() {
        let mut inbound = Inbound {
            next_id: 1,
            ..Inbound::default()
        };
        let ping = HubMessage::Ping;
        let call = HubMessage::Invocation {
            invocation_id: None,
            target: "Echo".into(),
            arguments: RawJson::empty_array().into(),
            stream_ids: Vec::new(),
        };
        assert!(matches!(inbound.admit(&call), Admit::Process));
        assert!(matches!(inbound.admit(&call), Admit::Process));
        inbound.awaiting_sequence = true;
        assert!(
            matches!(inbound.admit(&call), Admit::Skip),
            "before Sequence"
        );
        assert!(matches!(inbound.admit(&ping), Admit::Process));
        assert!(matches!(
            inbound.admit(&HubMessage::Sequence { sequence_id: 2 }),
            Admit::Skip
        ));
        inbound.acknowledged = 2;
        assert!(matches!(inbound.admit(&call), Admit::Skip), "id 2 again");
        assert_eq!(
            inbound.acknowledged, 1,
            "the last duplicate is acknowledged again"
        );
        assert!(
            matches!(inbound.admit(&call), Admit::Process),
            "id 3 is new"
        );
        assert!(matches!(
            inbound.admit(&HubMessage::Sequence { sequence_id: 9 }),
            Admit::Fail(_)
        ));
    }
}
