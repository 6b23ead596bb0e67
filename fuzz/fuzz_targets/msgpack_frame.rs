//! MessagePack hub protocol frames (VarInt-prefixed arrays): parsing never panics and never
//! allocates what a length claims, every message it accepts survives its own encoding (encode,
//! parse again: the same message), and every payload it kept is one complete value that the
//! JSON conversion reads without panicking.
#![no_main]

use hubwire::protocol::msgpack::{encode, parse_frame, to_json};
use hubwire::protocol::{Completion, HubMessage, Payload, RawMessagePack};
use libfuzzer_sys::fuzz_target;

/// Small enough that the size limit itself is exercised by the fuzzer's longer inputs.
const MAX_FRAME_BYTES: usize = 4096;

fn payloads(message: &HubMessage) -> Vec<&Payload> {
    match message {
        HubMessage::Invocation { arguments, .. } | HubMessage::StreamInvocation { arguments, .. } => vec![arguments],
        HubMessage::StreamItem { item, .. } => vec![item],
        HubMessage::Completion { completion: Completion::Result(result), .. } => vec![result],
        _ => vec![],
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(messages) = parse_frame(data, MAX_FRAME_BYTES) else {
        return;
    };
    for message in messages {
        for payload in payloads(&message) {
            let bytes = payload.as_msgpack().expect("a MessagePack frame yields MessagePack payloads");
            let checked = RawMessagePack::parse(bytes.as_bytes().to_vec()).expect("a kept payload is one whole value");
            let _ = to_json(&checked);
            if let Ok(json) = hubwire::protocol::msgpack::to_tagged_json(&checked) {
                let again = hubwire::protocol::msgpack::from_tagged_json(&json);
                hubwire::protocol::msgpack::check_one_value(again.as_bytes()).expect("the tagged JSON view converts back to one value");
            }
            if let Ok(text) = hubwire::protocol::msgpack::to_tagged_json_text(&checked) {
                hubwire::protocol::msgpack::from_tagged_json_text(&text)
                    .unwrap_or_else(|error| panic!("the tagged JSON text {text:?} does not convert back: {error}"));
            }
        }
        let encoded = encode(&message);
        let again = parse_frame(&encoded, usize::MAX)
            .unwrap_or_else(|error| panic!("{encoded:02x?} (encoded {message:?}) does not parse: {error}"));
        assert_eq!(again, vec![message], "encoding changed the message: {encoded:02x?}");
    }
});
