//! Plain-socket `{ type, payload }` messages: parsing never panics, and an accepted message
//! survives its own encoding.
#![no_main]

use hubwire::protocol::plain::{encode_message, parse_message};
use libfuzzer_sys::fuzz_target;

const MAX_MESSAGE_BYTES: usize = 4096;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(message) = parse_message(&text, MAX_MESSAGE_BYTES) {
        let encoded = encode_message(&message);
        let again = parse_message(&encoded, usize::MAX)
            .unwrap_or_else(|error| panic!("{encoded:?} does not parse back: {error}"));
        assert_eq!(again, message, "encoding changed the message: {encoded:?}");
    }
});
