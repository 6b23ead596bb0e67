//! The `hubwire-mock` binary: flags, the URL line, and stopping by itself.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn spawn(args: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_hubwire-mock"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("the mock binary starts")
}

fn first_line(child: &mut Child) -> String {
    let stdout = child.stdout.take().expect("stdout is piped");
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("read the first line");
    line.trim_end().to_string()
}

/// Waits for the child to exit by itself within `limit`; kills it and fails otherwise.
fn assert_exits_within(child: &mut Child, limit: Duration) {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if child.try_wait().expect("poll the child").is_some() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    panic!("the mock did not exit within {limit:?}");
}

#[tokio::test]
async fn the_first_line_is_a_loopback_url_that_serves_the_hub() {
    let mut child = spawn(&[
        "--port",
        "0",
        "--max-lifetime-secs",
        "30",
        "--exit-on-stdin-close",
    ]);
    let url = first_line(&mut child);
    assert!(
        url.starts_with("http://127.0.0.1:") && url.ends_with('/'),
        "{url}"
    );
    let response = reqwest::Client::builder()
        .no_proxy()
        .build()
        .unwrap()
        .post(format!("{url}hub/negotiate?negotiateVersion=1"))
        .send()
        .await
        .expect("the printed URL serves");
    assert_eq!(response.status(), 200);
    drop(child.stdin.take());
    assert_exits_within(&mut child, Duration::from_secs(5));
}

#[test]
fn it_exits_when_stdin_closes() {
    let mut child = spawn(&[
        "--port",
        "0",
        "--max-lifetime-secs",
        "30",
        "--exit-on-stdin-close",
    ]);
    first_line(&mut child);
    drop(child.stdin.take());
    assert_exits_within(&mut child, Duration::from_secs(5));
}

#[test]
fn it_exits_after_its_max_lifetime() {
    let mut child = spawn(&["--port", "0", "--max-lifetime-secs", "1"]);
    first_line(&mut child);
    assert_exits_within(&mut child, Duration::from_secs(5));
}

#[test]
fn an_unknown_flag_is_refused_with_usage() {
    let output = Command::new(env!("CARGO_BIN_EXE_hubwire-mock"))
        .arg("--bogus")
        .stdin(Stdio::null())
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("unknown flag '--bogus'"));
}
