//! One simulated SignalR client: a WebSocket to `/hub` (negotiation skipped), the JSON protocol
//! handshake, then counting what arrives until told to stop.
//!
//! Owns the wire side of a client and the shared [`Tally`]s the clients add to. A client reads
//! only the envelope it needs (`"type":1` and the target) and parses no payload: the load
//! generator measures the hub, so its clients stay as cheap as a client can be. It sends a
//! Ping every [`PING_EVERY`] so the hub's client timeout never closes an idle one.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use tokio::sync::{watch, Notify};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;

/// The record separator that ends every SignalR JSON record.
const RS: char = '\u{1e}';
/// How often an otherwise idle client sends a Ping (the hub's client timeout is 30 s).
const PING_EVERY: Duration = Duration::from_secs(10);
/// How long a connect plus handshake may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
/// The target of the single publishes the fan-out measurement times.
pub const FANOUT_TARGET: &str = "BenchTick";

/// A shared counter that a waiter can wait on until it reaches a target.
#[derive(Default)]
pub struct Tally {
    count: AtomicU64,
    target: AtomicU64,
    reached: Notify,
}

impl Tally {
    /// Adds `n`, waking the waiter when the target is reached.
    pub fn add(&self, n: u64) {
        let now = self.count.fetch_add(n, Ordering::SeqCst) + n;
        let target = self.target.load(Ordering::SeqCst);
        if target > 0 && now >= target {
            self.reached.notify_one();
        }
    }

    /// The count so far.
    pub fn get(&self) -> u64 {
        self.count.load(Ordering::SeqCst)
    }

    /// Waits until the count reaches `target` or `deadline` passes; whether it was reached.
    pub async fn wait_for(&self, target: u64, deadline: Instant) -> bool {
        self.target.store(target, Ordering::SeqCst);
        loop {
            if self.get() >= target {
                return true;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            // A stale wake-up only leads to one more check.
            let _ = tokio::time::timeout(
                left.min(Duration::from_millis(200)),
                self.reached.notified(),
            )
            .await;
        }
    }
}

/// What all clients share: message tallies and how many sockets are open.
#[derive(Default)]
pub struct Shared {
    /// Invocations received (any target but the fan-out one).
    pub invocations: Tally,
    /// Fan-out invocations received.
    pub fanout: Tally,
    /// Clients whose handshake completed and whose socket is still open.
    pub open: AtomicUsize,
    /// Clients whose socket ended before they were told to stop.
    pub lost: AtomicUsize,
}

/// Why a client could not connect.
#[derive(Debug)]
pub enum ConnectError {
    /// The WebSocket upgrade failed or took too long.
    Upgrade(String),
    /// The hub's handshake answer was missing or carried an error.
    Handshake(String),
}

impl std::fmt::Display for ConnectError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ConnectError::Upgrade(e) => write!(f, "upgrade: {e}"),
            ConnectError::Handshake(e) => write!(f, "handshake: {e}"),
        }
    }
}

/// Connects one client and starts its receive loop; resolves once the handshake is done (with
/// the time it took) and leaves the client running until `stop` turns true.
pub async fn connect(
    hub: SocketAddr,
    shared: Arc<Shared>,
    stop: watch::Receiver<bool>,
) -> Result<Duration, ConnectError> {
    let started = Instant::now();
    let url = format!("ws://{hub}/hub");
    // Small buffers: thousands of clients share one process.
    let config = WebSocketConfig::default()
        .read_buffer_size(16 * 1024)
        .write_buffer_size(0);
    let opened = tokio::time::timeout(
        CONNECT_TIMEOUT,
        tokio_tungstenite::connect_async_with_config(url, Some(config), true),
    )
    .await
    .map_err(|_| ConnectError::Upgrade("timed out".to_string()))?;
    let (mut socket, _) = opened.map_err(|e| ConnectError::Upgrade(e.to_string()))?;
    socket
        .send(Message::text(format!(
            "{{\"protocol\":\"json\",\"version\":1}}{RS}"
        )))
        .await
        .map_err(|e| ConnectError::Handshake(e.to_string()))?;
    let answer = tokio::time::timeout(CONNECT_TIMEOUT, socket.next())
        .await
        .map_err(|_| ConnectError::Handshake("no answer".to_string()))?;
    let rest = match answer {
        Some(Ok(Message::Text(text))) => {
            let text = text.as_str();
            let (first, rest) = text.split_once(RS).unwrap_or((text, ""));
            if first != "{}" {
                return Err(ConnectError::Handshake(format!("refused: {first}")));
            }
            rest.to_string()
        }
        other => return Err(ConnectError::Handshake(format!("unexpected {other:?}"))),
    };
    let took = started.elapsed();
    shared.open.fetch_add(1, Ordering::SeqCst);
    count_records(&rest, &shared);
    tokio::spawn(run(socket, shared, stop));
    Ok(took)
}

async fn run<S>(
    mut socket: tokio_tungstenite::WebSocketStream<S>,
    shared: Arc<Shared>,
    mut stop: watch::Receiver<bool>,
) where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let mut ping = tokio::time::interval(PING_EVERY);
    ping.tick().await;
    let lost = loop {
        tokio::select! {
            next = socket.next() => match next {
                Some(Ok(Message::Text(text))) => count_records(text.as_str(), &shared),
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break true,
                Some(Ok(_)) => {}
            },
            _ = ping.tick() => {
                if socket.send(Message::text(format!("{{\"type\":6}}{RS}"))).await.is_err() {
                    break true;
                }
            }
            changed = stop.changed() => {
                if changed.is_err() || *stop.borrow() {
                    let _ = socket.close(None).await;
                    break false;
                }
            }
        }
    };
    shared.open.fetch_sub(1, Ordering::SeqCst);
    if lost {
        shared.lost.fetch_add(1, Ordering::SeqCst);
    }
}

/// Counts the Invocations in a frame's text into the shared tallies.
fn count_records(text: &str, shared: &Shared) {
    let (invocations, fanout) = classify(text);
    if invocations > 0 {
        shared.invocations.add(invocations);
    }
    if fanout > 0 {
        shared.fanout.add(fanout);
    }
}

/// (other invocations, fan-out invocations) among the records of `text`.
fn classify(text: &str) -> (u64, u64) {
    let mut counts = (0, 0);
    for record in text
        .split(RS)
        .filter(|record| record.starts_with("{\"type\":1,"))
    {
        if record.contains(FANOUT_TARGET) {
            counts.1 += 1;
        } else {
            counts.0 += 1;
        }
    }
    counts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invocations_are_counted_by_kind_and_other_records_ignored() {
        let frame = "{\"type\":1,\"target\":\"JobAssigned\",\"arguments\":[{}]}\u{1e}\
                     {\"type\":6}\u{1e}\
                     {\"type\":1,\"target\":\"BenchTick\",\"arguments\":[3]}\u{1e}\
                     {\"type\":1,\"target\":\"JobAssigned\",\"arguments\":[{}]}\u{1e}";
        assert_eq!(classify(frame), (2, 1));
        assert_eq!(
            classify("{\"type\":3,\"invocationId\":\"1\"}\u{1e}"),
            (0, 0)
        );
    }

    #[tokio::test]
    async fn a_tally_wakes_its_waiter_at_the_target() {
        let tally = Arc::new(Tally::default());
        let adder = tally.clone();
        tokio::spawn(async move {
            for _ in 0..10 {
                adder.add(1);
                tokio::task::yield_now().await;
            }
        });
        assert!(
            tally
                .wait_for(10, Instant::now() + Duration::from_secs(5))
                .await
        );
        assert!(
            !tally
                .wait_for(11, Instant::now() + Duration::from_millis(50))
                .await
        );
    }
}
