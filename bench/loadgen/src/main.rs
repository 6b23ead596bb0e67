//! `hubwire-loadgen`: measures how much the `hubwire-mock` hub carries over WebSockets, on this
//! machine only (127.0.0.1).
//!
//! ```text
//! cargo run --release -p hubwire-loadgen -- --url http://127.0.0.1:PORT/ [--clients 1000] ...
//! ```
//!
//! Phases (the flags and their ceilings are in [`args`]): connect `--clients` clients (connect +
//! handshake time), broadcast rounds through `POST /control/burst` (deliveries per second to
//! every client), fan-out latency of single `POST /control/publish` calls (time until the last
//! client has it), then ramp up to `--hold` connections and hold them (how many stay open, and
//! the hub's own count). Every wait is bounded by `--time-limit-secs`; what was measured by then
//! is reported. The results are one JSON object on stdout (and in `--out FILE`); progress goes
//! to stderr. `scripts/bench.sh` runs it against a release build of the mock hub.
//!
//! Layout: `args` (flags), `client` (one simulated client and the shared tallies), `control`
//! (the hub's control calls), this file (the phases and the report). Test it with
//! `cargo test -p hubwire-loadgen`.

mod args;
mod client;
mod control;

use std::process::ExitCode;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tokio::sync::{watch, Semaphore};
use tokio::task::JoinSet;

use args::{ArgsError, Options};
use client::{Shared, FANOUT_TARGET};

fn main() -> ExitCode {
    let options = match args::parse(std::env::args().skip(1)) {
        Ok(options) => options,
        Err(ArgsError::Help) => {
            println!("{}", args::USAGE);
            return ExitCode::SUCCESS;
        }
        Err(ArgsError::Invalid(message)) => {
            eprintln!("hubwire-loadgen: {message}\n\n{}", args::USAGE);
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("hubwire-loadgen: cannot start the runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    let report = runtime.block_on(run(&options));
    let text = report.to_string();
    println!("{text}");
    if let Some(path) = &options.out {
        if let Err(error) = std::fs::write(path, format!("{text}\n")) {
            eprintln!("hubwire-loadgen: cannot write {}: {error}", path.display());
            return ExitCode::FAILURE;
        }
    }
    // Timed-out phases are reported in the JSON, not as a failure: the numbers are still useful.
    ExitCode::SUCCESS
}

fn progress(message: &str) {
    eprintln!("[loadgen] {message}");
}

/// Runs every phase and returns the report.
async fn run(options: &Options) -> Value {
    let started = Instant::now();
    let deadline = started + options.time_limit;
    let shared = Arc::new(Shared::default());
    let (stop, stop_rx) = watch::channel(false);
    let mut report = json!({
        "hub": options.hub.to_string(),
        "clients": options.clients,
        "limits": {
            "timeLimitSecs": options.time_limit.as_secs(),
            "burst": options.burst,
            "rounds": options.rounds,
            "fanoutSamples": options.fanout_samples,
            "hold": options.hold,
            "holdSecs": options.hold_for.as_secs(),
            "payloadBytes": options.payload_bytes,
        },
        "timedOut": false,
    });

    // 1. The broadcast audience.
    progress(&format!("connecting {} clients", options.clients));
    let first = open_clients(options, options.clients, &shared, &stop_rx, deadline).await;
    report["connect"] = first.to_json();
    let audience = shared.open.load(Ordering::SeqCst);
    progress(&format!(
        "{audience} connected in {:.0} ms ({} failed)",
        first.ramp.as_secs_f64() * 1000.0,
        first.failures
    ));

    // 2. Broadcast rounds.
    let mut rounds = Vec::new();
    for round in 0..options.rounds {
        if audience == 0 || Instant::now() >= deadline {
            break;
        }
        let expected = shared.invocations.get() + u64::from(options.burst) * audience as u64;
        let mut body = json!({ "target": "JobAssigned", "count": options.burst });
        if let Some(bytes) = options.payload_bytes {
            body["payloadBytes"] = json!(bytes);
        }
        let t0 = Instant::now();
        let answer = control::post(options.hub, "/control/burst", &body).await;
        let reached = shared.invocations.wait_for(expected, deadline).await;
        let elapsed = t0.elapsed().as_secs_f64();
        match answer {
            Err(error) => {
                rounds.push(json!({ "round": round, "error": error }));
                break;
            }
            Ok(answer) => {
                let deliveries = u64::from(options.burst) * audience as u64;
                let entry = json!({
                    "round": round,
                    "complete": reached,
                    "elapsedMs": elapsed * 1000.0,
                    "hubQueueMs": answer["elapsedMs"],
                    "deliveries": deliveries,
                    "deliveriesPerSec": deliveries as f64 / elapsed,
                    "broadcastsPerSec": f64::from(options.burst) / elapsed,
                });
                progress(&format!(
                    "broadcast round {round}: {deliveries} deliveries in {:.0} ms ({:.0}/s){}",
                    elapsed * 1000.0,
                    deliveries as f64 / elapsed,
                    if reached { "" } else { ", INCOMPLETE" }
                ));
                rounds.push(entry);
                if !reached {
                    break;
                }
            }
        }
    }
    let complete: Vec<&Value> = rounds.iter().filter(|r| r["complete"] == true).collect();
    report["broadcast"] = json!({
        "audience": audience,
        "burst": options.burst,
        "rounds": rounds,
        "medianDeliveriesPerSec": median(complete.iter().filter_map(|r| r["deliveriesPerSec"].as_f64())),
        "medianBroadcastsPerSec": median(complete.iter().filter_map(|r| r["broadcastsPerSec"].as_f64())),
    });

    // 3. Fan-out latency: one publish, timed until the last client has it.
    let mut fanout_ms = Vec::new();
    for sample in 0..options.fanout_samples {
        if audience == 0 || Instant::now() >= deadline {
            break;
        }
        let expected = shared.fanout.get() + audience as u64;
        let body = json!({ "target": FANOUT_TARGET, "arguments": [sample] });
        let t0 = Instant::now();
        if let Err(error) = control::post(options.hub, "/control/publish", &body).await {
            report["fanoutError"] = json!(error);
            break;
        }
        if !shared.fanout.wait_for(expected, deadline).await {
            break;
        }
        fanout_ms.push(t0.elapsed().as_secs_f64() * 1000.0);
    }
    report["fanout"] = json!({
        "samples": fanout_ms.len(),
        "p50Ms": percentile(&fanout_ms, 50.0),
        "p99Ms": percentile(&fanout_ms, 99.0),
        "maxMs": fanout_ms.iter().cloned().fold(None, |m: Option<f64>, v| Some(m.map_or(v, |m| m.max(v)))),
    });
    progress(&format!(
        "fan-out to {audience}: p50 {:?} ms",
        report["fanout"]["p50Ms"]
    ));

    // 4. Connections held.
    let more = options.hold.saturating_sub(options.clients);
    progress(&format!("ramping up to {} connections", options.hold));
    let ramp = open_clients(options, more, &shared, &stop_rx, deadline).await;
    let opened = shared.open.load(Ordering::SeqCst);
    let hold_for = options
        .hold_for
        .min(deadline.saturating_duration_since(Instant::now()));
    tokio::time::sleep(hold_for).await;
    let held = shared.open.load(Ordering::SeqCst);
    let hub_count = control::get(options.hub, "/health")
        .await
        .map(|health| health["connections"].clone())
        .unwrap_or(Value::Null);
    report["hold"] = json!({
        "target": options.hold,
        "opened": opened,
        "held": held,
        "heldForSecs": hold_for.as_secs_f64(),
        "hubReported": hub_count,
        "lost": shared.lost.load(Ordering::SeqCst),
        "ramp": ramp.to_json(),
    });
    progress(&format!(
        "held {held} of {} for {:.1} s; hub reports {hub_count}",
        options.hold,
        hold_for.as_secs_f64()
    ));

    // Close every client and give them a moment to go.
    let _ = stop.send(true);
    let closing = Instant::now();
    while shared.open.load(Ordering::SeqCst) > 0 && closing.elapsed() < Duration::from_secs(10) {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    report["timedOut"] = json!(Instant::now() >= deadline);
    report["elapsedMs"] = json!(started.elapsed().as_secs_f64() * 1000.0);
    report
}

/// What opening a batch of clients measured.
struct Opened {
    connect_ms: Vec<f64>,
    failures: usize,
    first_error: Option<String>,
    ramp: Duration,
}

impl Opened {
    fn to_json(&self) -> Value {
        json!({
            "opened": self.connect_ms.len(),
            "failed": self.failures,
            "firstError": self.first_error,
            "rampMs": self.ramp.as_secs_f64() * 1000.0,
            "p50Ms": percentile(&self.connect_ms, 50.0),
            "p99Ms": percentile(&self.connect_ms, 99.0),
        })
    }
}

/// Opens `count` clients, at most `--connect-concurrency` at a time, stopping at the deadline.
async fn open_clients(
    options: &Options,
    count: usize,
    shared: &Arc<Shared>,
    stop: &watch::Receiver<bool>,
    deadline: Instant,
) -> Opened {
    let started = Instant::now();
    let gate = Arc::new(Semaphore::new(options.connect_concurrency));
    let mut tasks = JoinSet::new();
    for _ in 0..count {
        let Ok(permit) = gate.clone().acquire_owned().await else {
            break;
        };
        if Instant::now() >= deadline {
            break;
        }
        let (hub, shared, stop) = (options.hub, shared.clone(), stop.clone());
        tasks.spawn(async move {
            let result = client::connect(hub, shared, stop).await;
            drop(permit);
            result
        });
    }
    let mut opened = Opened {
        connect_ms: Vec::new(),
        failures: 0,
        first_error: None,
        ramp: Duration::ZERO,
    };
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok(Ok(took)) => opened.connect_ms.push(took.as_secs_f64() * 1000.0),
            Ok(Err(error)) => {
                opened.failures += 1;
                opened.first_error.get_or_insert_with(|| error.to_string());
            }
            Err(error) => {
                opened.failures += 1;
                opened.first_error.get_or_insert_with(|| error.to_string());
            }
        }
    }
    opened.ramp = started.elapsed();
    opened
}

/// The `p`th percentile (nearest rank) of `values`; `null` when there are none.
fn percentile(values: &[f64], p: f64) -> Value {
    if values.is_empty() {
        return Value::Null;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    json!(sorted[rank.clamp(1, sorted.len()) - 1])
}

/// The median of `values`; `null` when there are none.
fn median(values: impl Iterator<Item = f64>) -> Value {
    percentile(&values.collect::<Vec<_>>(), 50.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_use_the_nearest_rank() {
        let values: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&values, 50.0), json!(50.0));
        assert_eq!(percentile(&values, 99.0), json!(99.0));
        assert_eq!(percentile(&[7.0], 99.0), json!(7.0));
        assert_eq!(percentile(&[], 50.0), Value::Null);
    }
}
