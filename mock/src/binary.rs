//! The MessagePack edge: a connection that spoke `messagepack` in its handshake has its binary
//! data turned into the JSON records the rest of the hub works with on the way in, and its
//! JSON records into MessagePack messages on the way out.
//!
//! Owns that translation and nothing else: sessions, methods, faults and stateful replay keep
//! working on JSON text as for every connection. Payloads go through the reversible tagged JSON
//! text of [`hubwire::protocol::msgpack`] (map entries keep their order) (binary data as `{"$binary": base64}`, extension
//! values such as timestamps as `{"$ext": type, "$data": base64}`), so what a client sends comes
//! back exactly when a method echoes it. A record that is no hub message (the handshake answer,
//! or the garbage of a hostile fault) goes out as its bytes unchanged.

use hubwire::protocol::framing::split_records;
use hubwire::protocol::message::parse_record;
use hubwire::protocol::msgpack::{self, from_tagged_json_text, to_tagged_json_text};
use hubwire::protocol::{Completion, HubMessage, Payload, ProtocolError, RawJson};

fn map_payloads(
    message: HubMessage,
    convert: &impl Fn(&Payload) -> Result<Payload, ProtocolError>,
) -> Result<HubMessage, ProtocolError> {
    Ok(match message {
        HubMessage::Invocation { invocation_id, target, arguments, stream_ids } => {
            HubMessage::Invocation { invocation_id, target, arguments: convert(&arguments)?, stream_ids }
        }
        HubMessage::StreamInvocation { invocation_id, target, arguments, stream_ids } => {
            HubMessage::StreamInvocation { invocation_id, target, arguments: convert(&arguments)?, stream_ids }
        }
        HubMessage::StreamItem { invocation_id, item } => HubMessage::StreamItem { invocation_id, item: convert(&item)? },
        HubMessage::Completion { invocation_id, completion: Completion::Result(result) } => {
            HubMessage::Completion { invocation_id, completion: Completion::Result(convert(&result)?) }
        }
        other => other,
    })
}

fn payload_to_json(payload: &Payload) -> Result<Payload, ProtocolError> {
    match payload {
        Payload::MessagePack(bytes) => Ok(RawJson::parse(to_tagged_json_text(bytes)?)?.into()),
        Payload::Json(_) => Ok(payload.clone()),
    }
}

fn payload_to_msgpack(payload: &Payload) -> Result<Payload, ProtocolError> {
    match payload {
        Payload::Json(json) => Ok(from_tagged_json_text(json.as_str())?.into()),
        Payload::MessagePack(_) => Ok(payload.clone()),
    }
}

/// A binary frame from the client as JSON records (an error for bad MessagePack).
pub fn frame_to_records(frame: &[u8], max_bytes: usize) -> Result<String, ProtocolError> {
    let mut records = String::new();
    for message in msgpack::parse_frame(frame, max_bytes)? {
        records.push_str(&map_payloads(message, &payload_to_json)?.encode());
    }
    Ok(records)
}

/// JSON records for the client as one binary frame of MessagePack messages.
pub fn records_to_frame(records: &str) -> Vec<u8> {
    let Ok(parts) = split_records(records, usize::MAX) else {
        // Not whole records (a hostile fault's cut-off text): sent as it is.
        return records.as_bytes().to_vec();
    };
    let mut frame = Vec::with_capacity(records.len());
    for record in parts {
        match parse_record(record).ok().flatten().map(|message| map_payloads(message, &payload_to_msgpack)) {
            Some(Ok(message)) => frame.extend(msgpack::encode(&message)),
            _ => {
                frame.extend_from_slice(record.as_bytes());
                frame.push(0x1e);
            }
        }
    }
    frame
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_cross_both_ways_with_binary_and_timestamps_intact() {
        // [1, {}, "7", "echo", [bin(1,2), timestamp 32-bit]]
        let body = [0x95, 0x01, 0x80, 0xa1, b'7', 0xa4, b'e', b'c', b'h', b'o', 0x92, 0xc4, 0x02, 1, 2, 0xd6, 0xff, 0, 0, 0, 9];
        let frame = msgpack::write_message(&body);
        let records = frame_to_records(&frame, 1 << 20).unwrap();
        assert!(records.contains(r#""$binary":"AQI=""#), "{records}");
        assert_eq!(records_to_frame(&records), frame);
    }

    #[test]
    fn the_handshake_answer_goes_out_as_its_text() {
        let mut expected = b"{}\x1e".to_vec();
        expected.extend(msgpack::encode(&HubMessage::Ping));
        assert_eq!(records_to_frame("{}\u{1e}{\"type\":6}\u{1e}"), expected);
    }

    #[test]
    fn bad_messagepack_is_an_error() {
        assert!(frame_to_records(&[0x05, 0x91], 1 << 20).is_err());
    }
}
