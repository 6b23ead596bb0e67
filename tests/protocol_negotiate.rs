//! Negotiate and handshake wire rules.

use hubwire::protocol::negotiate::{
    append_query, connect_url, encode_query_value, negotiate_url, parse_response, websocket_url,
    AvailableTransport, ConnectionDetails, NegotiateResponse,
};
use hubwire::protocol::ProtocolError;

#[test]
fn negotiate_url_appends_path_and_version() {
    let cases = [
        ("http://h/hub", "http://h/hub/negotiate?negotiateVersion=1"),
        ("http://h/hub/", "http://h/hub/negotiate?negotiateVersion=1"),
        ("https://h:8080/a/hub?tenant=7&x=y", "https://h:8080/a/hub/negotiate?tenant=7&x=y&negotiateVersion=1"),
        ("http://h/hub?negotiateVersion=0", "http://h/hub/negotiate?negotiateVersion=0"),
        ("http://h/hub?", "http://h/hub/negotiate?negotiateVersion=1"),
        ("http://h/hub#frag", "http://h/hub/negotiate?negotiateVersion=1"),
    ];
    for (hub, expected) in cases {
        assert_eq!(negotiate_url(hub, false).unwrap(), expected, "{hub}");
    }
}

#[test]
fn negotiate_url_asks_for_stateful_reconnect_when_enabled() {
    assert_eq!(
        negotiate_url("http://h/hub", true).unwrap(),
        "http://h/hub/negotiate?negotiateVersion=1&useStatefulReconnect=true"
    );
}

#[test]
fn relative_or_non_http_urls_are_rejected() {
    for url in ["/hub", "ws://h/hub", "hub", ""] {
        assert!(matches!(negotiate_url(url, false), Err(ProtocolError::InvalidUrl(_))), "{url}");
    }
}

#[test]
fn v1_response_uses_the_connection_token() {
    let body = r#"{"connectionId":"abc","connectionToken":"tok","negotiateVersion":1,
        "availableTransports":[{"transport":"WebSockets","transferFormats":["Text","Binary"]},
        {"transport":"LongPolling","transferFormats":["Text"]}]}"#;
    assert_eq!(
        parse_response(body).unwrap(),
        NegotiateResponse::Connect(ConnectionDetails {
            connection_id: "abc".into(),
            connection_token: "tok".into(),
            negotiate_version: 1,
            available_transports: vec![
                AvailableTransport { transport: "WebSockets".into(), transfer_formats: vec!["Text".into(), "Binary".into()] },
                AvailableTransport { transport: "LongPolling".into(), transfer_formats: vec!["Text".into()] },
            ],
            use_stateful_reconnect: false,
        })
    );
}

#[test]
fn v0_response_uses_the_connection_id_as_token() {
    let body = r#"{"connectionId":"abc","availableTransports":[]}"#;
    let NegotiateResponse::Connect(details) = parse_response(body).unwrap() else { panic!("not a connect") };
    assert_eq!(details.connection_token, "abc");
    assert_eq!(details.negotiate_version, 0);
}

#[test]
fn redirect_carries_url_and_token() {
    assert_eq!(
        parse_response(r#"{"url":"https://x.service.signalr.net/client/?hub=h","accessToken":"jwt"}"#).unwrap(),
        NegotiateResponse::Redirect {
            url: "https://x.service.signalr.net/client/?hub=h".into(),
            access_token: Some("jwt".into())
        }
    );
}

#[test]
fn error_and_classic_signalr_and_garbage_are_errors() {
    assert_eq!(
        parse_response(r#"{"error":"This connection is not allowed."}"#),
        Err(ProtocolError::NegotiateRejected("This connection is not allowed.".into()))
    );
    assert_eq!(
        parse_response(r#"{"Url":"/signalr","ConnectionToken":"X","ConnectionId":"Y","ProtocolVersion":"1.5"}"#),
        Err(ProtocolError::ClassicAspNetSignalR)
    );
    assert!(matches!(parse_response("<html>"), Err(ProtocolError::MalformedJson(_))));
    assert!(matches!(parse_response(r#"{"connectionId":5}"#), Err(ProtocolError::MalformedJson(_))));
    assert_eq!(
        parse_response(r#"{"negotiateVersion":1,"connectionId":"a"}"#),
        Err(ProtocolError::MissingField { message: "negotiate response", field: "connectionToken" })
    );
}

#[test]
fn connect_and_websocket_urls() {
    assert_eq!(connect_url("http://h/hub", "t"), "http://h/hub?id=t");
    assert_eq!(connect_url("http://h/hub?a=1", "t"), "http://h/hub?a=1&id=t");
    assert_eq!(websocket_url("http://h/hub?id=t").unwrap(), "ws://h/hub?id=t");
    assert_eq!(websocket_url("HTTPS://h/hub").unwrap(), "wss://h/hub");
}

#[test]
fn the_connection_token_is_encoded_and_fragments_are_dropped() {
    // A token the server chose may hold anything; it must stay one query value.
    assert_eq!(connect_url("http://h/hub", "a#b&c d"), "http://h/hub?id=a%23b%26c%20d");
    assert_eq!(connect_url("http://h/hub#frag", "t"), "http://h/hub?id=t");
    assert_eq!(connect_url("http://h/hub?a=1#frag", "t"), "http://h/hub?a=1&id=t");
    assert_eq!(
        append_query("http://h/hub?id=t#x", "access_token", "s"),
        "http://h/hub?id=t&access_token=s"
    );
    assert_eq!(websocket_url("https://h/hub?id=t#x").unwrap(), "wss://h/hub?id=t");
}

#[test]
fn query_values_are_encoded_like_encode_uri_component() {
    assert_eq!(encode_query_value("a b+c/d?é=&"), "a%20b%2Bc%2Fd%3F%C3%A9%3D%26");
    assert_eq!(encode_query_value("Az09-_.!~*'()"), "Az09-_.!~*'()");
}
