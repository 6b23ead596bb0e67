//! Handshake request and response parsing never panics; a parsed request re-encodes to itself.
#![no_main]

use hubwire::protocol::handshake::{parse_request, parse_response};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = parse_response(&text);
    if let Ok(Some((request, _rest))) = parse_request(&text) {
        let encoded = request.encode();
        match parse_request(&encoded) {
            Ok(Some((again, rest))) => {
                assert_eq!(again, request, "re-encoding changed the request: {encoded:?}");
                assert!(rest.is_empty(), "an encoded request left {rest:?} over");
            }
            other => panic!("{encoded:?} does not parse back: {other:?}"),
        }
    }
});
