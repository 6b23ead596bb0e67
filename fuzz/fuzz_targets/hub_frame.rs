//! Hub protocol frames (JSON, 0x1E-separated records): parsing never panics, and every message
//! it accepts survives its own encoding (encode, parse again: the same message).
#![no_main]

use hubwire::protocol::message::parse_frame;
use libfuzzer_sys::fuzz_target;

/// Small enough that the size limit itself is exercised by the fuzzer's longer inputs.
const MAX_FRAME_BYTES: usize = 4096;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let Ok(messages) = parse_frame(&text, MAX_FRAME_BYTES) else {
        return;
    };
    for message in messages {
        let encoded = message.encode();
        let again = parse_frame(&encoded, usize::MAX)
            .unwrap_or_else(|error| panic!("{encoded:?} (encoded {message:?}) does not parse: {error}"));
        assert_eq!(again, vec![message], "encoding changed the message: {encoded:?}");
    }
});
