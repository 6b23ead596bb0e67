//! The JSON hub protocol: every message type parsed and serialized, and bad input rejected with
//! an error value (never a panic).

use hubwire::protocol::framing::DEFAULT_MAX_FRAME_BYTES;
use hubwire::protocol::message::{parse_frame, parse_record};
use hubwire::protocol::{Completion, HubMessage, ProtocolError, RawJson};

fn raw(text: &str) -> RawJson {
    RawJson::parse(text).unwrap()
}

/// One example of every message type, paired with its wire form.
fn every_message_type() -> Vec<(HubMessage, &'static str)> {
    vec![
        (
            HubMessage::Invocation {
                invocation_id: Some("1".into()),
                target: "Echo".into(),
                arguments: raw("[\"hi\",{\"a\":1}]").into(),
                stream_ids: vec![],
            },
            r#"{"type":1,"invocationId":"1","target":"Echo","arguments":["hi",{"a":1}]}"#,
        ),
        (
            HubMessage::Invocation {
                invocation_id: None,
                target: "Notify".into(),
                arguments: raw("[]").into(),
                stream_ids: vec!["7".into()],
            },
            r#"{"type":1,"target":"Notify","arguments":[],"streamIds":["7"]}"#,
        ),
        (
            HubMessage::StreamItem { invocation_id: "2".into(), item: raw("42").into() },
            r#"{"type":2,"invocationId":"2","item":42}"#,
        ),
        (
            HubMessage::Completion { invocation_id: "3".into(), completion: Completion::Void },
            r#"{"type":3,"invocationId":"3"}"#,
        ),
        (
            HubMessage::Completion {
                invocation_id: "3".into(),
                completion: Completion::Result(raw("{\"ok\":true}").into()),
            },
            r#"{"type":3,"invocationId":"3","result":{"ok":true}}"#,
        ),
        (
            HubMessage::Completion {
                invocation_id: "3".into(),
                completion: Completion::Error("boom \"quoted\"".into()),
            },
            r#"{"type":3,"invocationId":"3","error":"boom \"quoted\""}"#,
        ),
        (
            HubMessage::StreamInvocation {
                invocation_id: "4".into(),
                target: "Count".into(),
                arguments: raw("[10]").into(),
                stream_ids: vec![],
            },
            r#"{"type":4,"invocationId":"4","target":"Count","arguments":[10]}"#,
        ),
        (HubMessage::CancelInvocation { invocation_id: "4".into() }, r#"{"type":5,"invocationId":"4"}"#),
        (HubMessage::Ping, r#"{"type":6}"#),
        (HubMessage::Close { error: None, allow_reconnect: false }, r#"{"type":7}"#),
        (
            HubMessage::Close { error: Some("bye".into()), allow_reconnect: true },
            r#"{"type":7,"error":"bye","allowReconnect":true}"#,
        ),
        (HubMessage::Ack { sequence_id: 1394 }, r#"{"type":8,"sequenceId":1394}"#),
        (HubMessage::Sequence { sequence_id: 1 }, r#"{"type":9,"sequenceId":1}"#),
    ]
}

#[test]
fn every_message_type_serializes_to_its_wire_form() {
    for (message, wire) in every_message_type() {
        assert_eq!(message.encode(), format!("{wire}\u{1e}"), "{message:?}");
    }
}

#[test]
fn every_message_type_parses_from_its_wire_form() {
    for (message, wire) in every_message_type() {
        assert_eq!(parse_record(wire), Ok(Some(message)), "{wire}");
    }
}

#[test]
fn several_messages_in_one_frame_parse_in_order() {
    let frame = "{\"type\":6}\u{1e}{\"type\":3,\"invocationId\":\"1\",\"result\":2}\u{1e}";
    assert_eq!(
        parse_frame(frame, DEFAULT_MAX_FRAME_BYTES).unwrap(),
        vec![
            HubMessage::Ping,
            HubMessage::Completion { invocation_id: "1".into(), completion: Completion::Result(raw("2").into()) },
        ]
    );
}

#[test]
fn headers_and_unknown_properties_are_tolerated() {
    let wire = r#"{"type":1,"headers":{"a":"b"},"target":"T","arguments":[],"extra":[1,2]}"#;
    assert!(matches!(parse_record(wire), Ok(Some(HubMessage::Invocation { .. }))));
}

#[test]
fn unknown_message_types_are_ignored() {
    let frame = "{\"type\":99,\"whatever\":1}\u{1e}{\"type\":6}\u{1e}";
    assert_eq!(parse_frame(frame, DEFAULT_MAX_FRAME_BYTES).unwrap(), vec![HubMessage::Ping]);
}

#[test]
fn null_result_is_a_result_of_null() {
    // `"result": null` and an absent result both mean "no value" to the app; they must not fail.
    assert!(matches!(
        parse_record(r#"{"type":3,"invocationId":"1","result":null}"#),
        Ok(Some(HubMessage::Completion { .. }))
    ));
}

#[test]
fn close_with_null_allow_reconnect_means_false() {
    assert_eq!(
        parse_record(r#"{"type":7,"error":null,"allowReconnect":null}"#),
        Ok(Some(HubMessage::Close { error: None, allow_reconnect: false }))
    );
}

/// Bad records and the error each must produce.
#[test]
fn bad_records_are_errors_not_panics() {
    let missing = |message, field| ProtocolError::MissingField { message, field };
    let invalid = |message, field, expected| ProtocolError::InvalidField { message, field, expected };
    let cases: Vec<(&str, ProtocolError)> = vec![
        (r#"{"target":"x"}"#, missing("hub", "type")),
        (r#"{"type":"1"}"#, invalid("hub", "type", "an integer")),
        (r#"{"type":-1}"#, invalid("hub", "type", "an integer")),
        (r#"{"type":1.5}"#, invalid("hub", "type", "an integer")),
        (r#"{"type":1,"arguments":[]}"#, missing("Invocation", "target")),
        (r#"{"type":1,"target":5,"arguments":[]}"#, invalid("Invocation", "target", "a string")),
        (r#"{"type":1,"target":"x"}"#, missing("Invocation", "arguments")),
        (r#"{"type":1,"target":"x","arguments":{}}"#, invalid("Invocation", "arguments", "an array")),
        (r#"{"type":1,"target":"x","arguments":[],"invocationId":7}"#, invalid("Invocation", "invocationId", "a string")),
        (r#"{"type":1,"target":"x","arguments":[],"streamIds":"a"}"#, invalid("Invocation", "streamIds", "an array of strings")),
        (r#"{"type":2,"item":1}"#, missing("StreamItem", "invocationId")),
        (r#"{"type":3}"#, missing("Completion", "invocationId")),
        (r#"{"type":3,"invocationId":"1","error":{}}"#, invalid("Completion", "error", "a string")),
        (r#"{"type":4,"target":"x","arguments":[]}"#, missing("StreamInvocation", "invocationId")),
        (r#"{"type":5}"#, missing("CancelInvocation", "invocationId")),
        (r#"{"type":7,"allowReconnect":"yes"}"#, invalid("Close", "allowReconnect", "a boolean")),
        (r#"{"type":8}"#, missing("Ack", "sequenceId")),
        (r#"{"type":9,"sequenceId":-4}"#, invalid("Sequence", "sequenceId", "a non-negative integer")),
    ];
    for (wire, expected) in cases {
        assert_eq!(parse_record(wire), Err(expected), "{wire}");
    }
}

#[test]
fn malformed_json_is_an_error() {
    for wire in ["", "{", "nope", "[1,2]", "42", "\"s\"", "{\"type\":1,}", "{\"type\":6}{\"type\":6}"] {
        assert!(
            matches!(parse_record(wire), Err(ProtocolError::MalformedJson(_))),
            "{wire:?} gave {:?}",
            parse_record(wire)
        );
    }
}

#[test]
fn completion_with_both_result_and_error_is_an_error() {
    assert!(parse_record(r#"{"type":3,"invocationId":"1","result":1,"error":"e"}"#).is_err());
}

#[test]
fn truncated_frames_are_errors() {
    let full = "{\"type\":3,\"invocationId\":\"1\",\"result\":\"abc\"}\u{1e}";
    // Every cut of a valid frame short of its end must fail cleanly.
    for cut in 1..full.len() - 1 {
        if full.is_char_boundary(cut) {
            assert!(parse_frame(&full[..cut], DEFAULT_MAX_FRAME_BYTES).is_err(), "cut at {cut}");
        }
    }
}

#[test]
fn a_huge_frame_is_rejected() {
    let frame = format!("{{\"type\":1,\"target\":\"x\",\"arguments\":[\"{}\"]}}\u{1e}", "a".repeat(2048));
    assert_eq!(
        parse_frame(&frame, 1024),
        Err(ProtocolError::TooLarge { size: frame.len(), limit: 1024 })
    );
}

#[test]
fn deeply_nested_arguments_neither_overflow_the_stack_nor_get_rebuilt() {
    // The envelope parser keeps payloads as raw text, so nesting depth costs no recursion here;
    // a native caller that asks for a value tree gets `null` past serde_json's depth limit.
    let arguments = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let wire = format!("{{\"type\":1,\"target\":\"x\",\"arguments\":{arguments}}}");
    let Ok(Some(HubMessage::Invocation { arguments: parsed, .. })) = parse_record(&wire) else {
        panic!("the envelope should parse");
    };
    assert_eq!(parsed.as_json().unwrap().as_str(), arguments);
    assert_eq!(parsed.as_json().unwrap().to_value(), serde_json::Value::Null);
}

#[test]
fn raw_json_rejects_invalid_text() {
    assert!(RawJson::parse("{\"a\":").is_err());
    assert_eq!(RawJson::parse("[1]").unwrap().as_str(), "[1]");
}

#[test]
fn strings_with_separators_and_unicode_survive_a_round_trip() {
    let message = HubMessage::Invocation {
        invocation_id: Some("1".into()),
        target: "Send\u{1e}Weird".into(),
        arguments: RawJson::from_value(&serde_json::json!(["snow ☃ \u{1e} end"])).into(),
        stream_ids: vec![],
    };
    let frame = message.encode();
    assert_eq!(parse_frame(&frame, DEFAULT_MAX_FRAME_BYTES).unwrap(), vec![message]);
}

#[test]
fn a_null_result_is_a_result_and_an_absent_one_is_void() {
    let parse = |text: &str| parse_record(text).unwrap().unwrap();
    assert_eq!(
        parse(r#"{"type":3,"invocationId":"1","result":null}"#),
        HubMessage::Completion { invocation_id: "1".into(), completion: Completion::Result(RawJson::null().into()) }
    );
    assert_eq!(
        parse(r#"{"type":3,"invocationId":"1"}"#),
        HubMessage::Completion { invocation_id: "1".into(), completion: Completion::Void }
    );
    assert_eq!(
        parse(r#"{"type":3,"invocationId":"1","error":"e","result":null}"#),
        HubMessage::Completion { invocation_id: "1".into(), completion: Completion::Error("e".into()) }
    );
}
