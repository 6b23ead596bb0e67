//! One client's conversation with the hub, whatever transport carries it.
//!
//! Owns the protocol decisions for a connection: the handshake (JSON protocol version 1 only),
//! then reading hub messages, logging invocations, running hub methods and answering with
//! Completions, and closing with an error when the client breaks the protocol. It parses and
//! encodes through `hubwire::protocol` and sends only by queueing [`Outgoing`] items; it never
//! touches a socket or a clock, so every transport reuses it unchanged.

use hubwire::protocol::framing::DEFAULT_MAX_FRAME_BYTES;
use hubwire::protocol::handshake::{encode_response, parse_request};
use hubwire::protocol::message::parse_frame;
use hubwire::protocol::{Completion, HubMessage};
use tokio::sync::mpsc::UnboundedSender;

use crate::hub::{Admission, Hub};
use crate::log::DisconnectReason;
use crate::methods;
use crate::transport::Outgoing;

/// The only hub protocol spoken, and its version.
const PROTOCOL: &str = "json";
const PROTOCOL_VERSION: u32 = 1;

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
    /// A final item was queued; further input is ignored.
    Ended,
}

/// The protocol state of one connection.
pub struct Session {
    hub: Hub,
    admission: Admission,
    outgoing: UnboundedSender<Outgoing>,
    phase: Phase,
}

impl Session {
    /// A session for an admitted client whose transport delivers from `outgoing`'s queue.
    pub fn new(hub: Hub, admission: Admission, outgoing: UnboundedSender<Outgoing>) -> Self {
        Session {
            hub,
            admission,
            outgoing,
            phase: Phase::AwaitingHandshake(String::new()),
        }
    }

    /// Handles one piece of text from the client (a transport frame or request body).
    pub fn receive(&mut self, text: &str) -> Flow {
        match &mut self.phase {
            Phase::AwaitingHandshake(received) => {
                received.push_str(text);
                let received = std::mem::take(received);
                self.receive_handshake(&received)
            }
            Phase::Open => self.receive_messages(text),
            Phase::Ended => Flow::Continue,
        }
    }

    /// The client sent nothing for the whole client timeout.
    pub fn client_timed_out(&mut self) -> Flow {
        let close = match self.phase {
            // A client that never finished its handshake cannot read a Close message.
            Phase::AwaitingHandshake(_) => None,
            Phase::Open => Some(close_message(
                "Server closed the connection: no message from the client within the client timeout.",
                true,
            )),
            Phase::Ended => return Flow::Closing,
        };
        self.end(close, DisconnectReason::ClientTimeout)
    }

    /// The client closed its side of the transport.
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
            Phase::Ended => Flow::Continue,
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
        if request.protocol != PROTOCOL {
            return self.refuse_handshake(format!(
                "The protocol '{}' is not supported.",
                request.protocol
            ));
        }
        if request.version != PROTOCOL_VERSION {
            return self.refuse_handshake(format!(
                "The server does not support version {} of the '{}' protocol.",
                request.version, request.protocol
            ));
        }
        // Queue the response before registering, so no published event can overtake it.
        self.queue(Outgoing::Records(encode_response(None)));
        self.hub.register(&self.admission, self.outgoing.clone());
        self.phase = Phase::Open;
        if rest.is_empty() {
            Flow::Continue
        } else {
            self.receive_messages(rest)
        }
    }

    fn refuse_handshake(&mut self, error: String) -> Flow {
        self.queue(Outgoing::Records(encode_response(Some(&error))));
        self.end(None, DisconnectReason::HandshakeFailed(error))
    }

    fn receive_messages(&mut self, text: &str) -> Flow {
        let messages = match parse_frame(text, DEFAULT_MAX_FRAME_BYTES) {
            Ok(messages) => messages,
            Err(error) => return self.fail(error.to_string()),
        };
        for message in messages {
            if self.handle(message) == Flow::Closing {
                return Flow::Closing;
            }
        }
        Flow::Continue
    }

    fn handle(&mut self, message: HubMessage) -> Flow {
        let caller = self.admission.connection_id.as_str();
        match message {
            HubMessage::Invocation {
                invocation_id,
                target,
                arguments,
                stream_ids,
            } => {
                self.hub
                    .log_invocation(caller, invocation_id.as_deref(), &target, &arguments);
                let completion =
                    methods::invoke(&self.hub, caller, &target, &arguments, &stream_ids);
                // Without an invocation id the caller used `send` and must get no answer.
                if let Some(invocation_id) = invocation_id {
                    self.complete(invocation_id, completion);
                }
            }
            HubMessage::StreamInvocation {
                invocation_id,
                target,
                arguments,
                ..
            } => {
                self.hub
                    .log_stream_invocation(caller, &invocation_id, &target, &arguments);
                self.complete(invocation_id, methods::refuse_stream(&target));
            }
            HubMessage::Close { .. } => return self.end(None, DisconnectReason::ClientClosed),
            // Receiving anything already restarted the client timeout, which is all a Ping is
            // for. No method streams or awaits client results, so stream items, completions and
            // cancellations have nothing to act on; Ack and Sequence belong to stateful
            // reconnect, which negotiate never offers.
            HubMessage::Ping
            | HubMessage::StreamItem { .. }
            | HubMessage::Completion { .. }
            | HubMessage::CancelInvocation { .. }
            | HubMessage::Ack { .. }
            | HubMessage::Sequence { .. } => {}
        }
        Flow::Continue
    }

    fn complete(&self, invocation_id: String, completion: Completion) {
        self.queue(Outgoing::Records(
            HubMessage::Completion {
                invocation_id,
                completion,
            }
            .encode(),
        ));
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

    /// Queues the last thing the transport delivers before it ends, and unregisters the
    /// connection now with the reason only the session knows (the transport just sees its
    /// queue end).
    fn end(&mut self, close: Option<String>, reason: DisconnectReason) -> Flow {
        self.queue(Outgoing::Close(close));
        if matches!(self.phase, Phase::Open) {
            self.hub.unregister(&self.admission.connection_id, reason);
        }
        self.phase = Phase::Ended;
        Flow::Closing
    }

    fn queue(&self, item: Outgoing) {
        // Fails only when the transport has already stopped reading its queue; then nobody is
        // left to tell.
        let _ = self.outgoing.send(item);
    }
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
