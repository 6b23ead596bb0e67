//! Negotiate responses and the URL helpers never panic on any input, and the connect URL built
//! from any hub URL and token carries the token as one encoded query value and no fragment.
#![no_main]

use hubwire::protocol::negotiate::{
    append_query, connect_url, encode_query_value, negotiate_url, parse_response, websocket_url,
    without_fragment,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = parse_response(&text);
    // The first line is a hub URL, the rest a connection token.
    let (url, token) = text.split_once('\n').unwrap_or((&text, "token"));
    let _ = negotiate_url(url, true);
    let _ = negotiate_url(url, false);
    let _ = websocket_url(url);
    let _ = append_query(url, "name", token);
    let connect = connect_url(url, token);
    let expected_tail = format!("id={}", encode_query_value(token));
    assert!(connect.ends_with(&expected_tail), "{connect:?} does not end with {expected_tail:?}");
    assert!(!connect.contains('#'), "{connect:?} keeps a fragment");
    assert_eq!(without_fragment(&connect), connect);
});
