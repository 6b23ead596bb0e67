//! The few control calls the load generator makes (`/health`, `/control/burst`,
//! `/control/publish`): one HTTP/1.1 request per TCP connection to the hub on 127.0.0.1.
//!
//! Owns only request writing and answer reading; a full HTTP client would be more code to
//! build than the three JSON calls it is needed for. Answers must carry a `Content-Length`
//! (axum's JSON answers do).

use std::net::SocketAddr;
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::timeout;

/// How long one control call may take.
const CALL_TIMEOUT: Duration = Duration::from_secs(60);

/// `GET path` on the hub; the parsed JSON answer of a 2xx status.
pub async fn get(hub: SocketAddr, path: &str) -> Result<Value, String> {
    call(hub, "GET", path, None).await
}

/// `POST path` with a JSON body; the parsed JSON answer of a 2xx status.
pub async fn post(hub: SocketAddr, path: &str, body: &Value) -> Result<Value, String> {
    call(hub, "POST", path, Some(body.to_string())).await
}

async fn call(
    hub: SocketAddr,
    method: &str,
    path: &str,
    body: Option<String>,
) -> Result<Value, String> {
    let exchange = async {
        let mut stream = TcpStream::connect(hub).await.map_err(|e| e.to_string())?;
        let body = body.unwrap_or_default();
        let request = format!(
            "{method} {path} HTTP/1.1\r\nHost: {hub}\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        stream
            .write_all(request.as_bytes())
            .await
            .map_err(|e| e.to_string())?;
        let mut answer = Vec::new();
        stream
            .read_to_end(&mut answer)
            .await
            .map_err(|e| e.to_string())?;
        Ok::<_, String>(answer)
    };
    let answer = timeout(CALL_TIMEOUT, exchange).await.map_err(|_| {
        format!(
            "{method} {path}: no answer within {} s",
            CALL_TIMEOUT.as_secs()
        )
    })??;
    let (status, body) = parse_answer(&answer).map_err(|e| format!("{method} {path}: {e}"))?;
    if !(200..300).contains(&status) {
        return Err(format!("{method} {path}: HTTP {status}: {body}"));
    }
    serde_json::from_str(body)
        .map_err(|e| format!("{method} {path}: answer is not JSON ({e}): {body}"))
}

/// The status code and body of a raw HTTP/1.1 answer.
fn parse_answer(answer: &[u8]) -> Result<(u16, &str), String> {
    let text = std::str::from_utf8(answer).map_err(|_| "answer is not UTF-8".to_string())?;
    let (head, body) = text
        .split_once("\r\n\r\n")
        .ok_or_else(|| "answer has no end of headers".to_string())?;
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| format!("bad status line: {}", head.lines().next().unwrap_or("")))?;
    Ok((status, body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_splits_into_status_and_body() {
        let raw = b"HTTP/1.1 200 OK\r\ncontent-length: 11\r\n\r\n{\"sent\":10}";
        assert_eq!(parse_answer(raw), Ok((200, "{\"sent\":10}")));
    }

    #[test]
    fn a_truncated_answer_is_an_error() {
        assert!(parse_answer(b"HTTP/1.1 200 OK\r\ncontent-length: 2").is_err());
        assert!(parse_answer(b"garbage\r\n\r\n").is_err());
    }
}
