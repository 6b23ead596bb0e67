//! The `hubwire-mock` binary: parses flags, binds 127.0.0.1, prints the URL, serves until told
//! to stop. Everything the server does is built by [`hubwire_mock::app`]; the flags are listed
//! in that crate's documentation and in `--help`.

use std::future::IntoFuture;
use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use axum::http::HeaderValue;
use hubwire_mock::{app, new_token, DemoConfig, HubTimings, MockConfig};
use axum::serve::ListenerExt as _;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

const USAGE: &str = "\
usage: hubwire-mock [--port N] [--www DIR] [--pkg DIR] [--demo] [--auth-token TOKEN]
                    [--redirect] [--cors-origin ORIGIN]... [--keep-alive-ms N]
                    [--client-timeout-ms N] [--stateful-grace-ms N] [--poll-timeout-ms N]
                    [--max-lifetime-secs N] [--exit-on-stdin-close]

  --port N                port on 127.0.0.1 (default 0: pick a free one)
  --www DIR               serve DIR at /
  --pkg DIR               serve DIR at /pkg/
  --demo                  run the demo scenario (dispatch events, chat bot) every 2-3 s
  --auth-token TOKEN      auth mode: /hub requires 'Authorization: Bearer TOKEN' (or
                          access_token=TOKEN) on negotiate and every transport request
  --redirect              redirect mode: negotiate at /hub sends clients to /hub2 with a token
  --cors-origin ORIGIN    allow only this origin (with credentials); repeatable; default:
                          any origin
  --keep-alive-ms N       server Ping interval (default 15000)
  --client-timeout-ms N   close connections silent this long (default 30000)
  --stateful-grace-ms N   keep a stateful connection that lost its socket (default 15000)
  --poll-timeout-ms N     answer an idle long poll after this long (default 90000)
  --max-lifetime-secs N   exit after N seconds
  --exit-on-stdin-close   exit when stdin reaches end of file

The first line printed is the server's URL.";

/// The command line, parsed.
#[derive(Debug)]
struct Flags {
    port: u16,
    www_dir: Option<PathBuf>,
    pkg_dir: Option<PathBuf>,
    demo: bool,
    auth_token: Option<String>,
    redirect: bool,
    cors_origins: Vec<String>,
    timings: HubTimings,
    max_lifetime: Option<Duration>,
    exit_on_stdin_close: bool,
}

/// What `parse_flags` found instead of flags to run with.
enum FlagsError {
    HelpRequested,
    Invalid(String),
}

fn parse_flags(args: impl IntoIterator<Item = String>) -> Result<Flags, FlagsError> {
    let defaults = HubTimings::default();
    let mut flags = Flags {
        port: 0,
        www_dir: None,
        pkg_dir: None,
        demo: false,
        auth_token: None,
        redirect: false,
        cors_origins: Vec::new(),
        timings: defaults,
        max_lifetime: None,
        exit_on_stdin_close: false,
    };
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        // Both `--flag value` and `--flag=value` are accepted.
        let (name, inline_value) = match arg.split_once('=') {
            Some((name, value)) => (name.to_string(), Some(value.to_string())),
            None => (arg, None),
        };
        let mut value = || {
            inline_value
                .clone()
                .or_else(|| args.next())
                .ok_or_else(|| FlagsError::Invalid(format!("{name} needs a value")))
        };
        let number = |text: String| {
            text.parse::<u64>()
                .map_err(|_| FlagsError::Invalid(format!("{name}: '{text}' is not a whole number")))
        };
        let millis = |text: String| number(text).map(Duration::from_millis);
        match name.as_str() {
            "--help" | "-h" => return Err(FlagsError::HelpRequested),
            "--port" => {
                let text = value()?;
                flags.port = text
                    .parse()
                    .map_err(|_| FlagsError::Invalid(format!("--port: '{text}' is not a port")))?;
            }
            "--www" => flags.www_dir = Some(PathBuf::from(value()?)),
            "--pkg" => flags.pkg_dir = Some(PathBuf::from(value()?)),
            "--demo" => flags.demo = true,
            "--auth-token" => {
                let token = value()?;
                if token.is_empty() {
                    return Err(FlagsError::Invalid("--auth-token: empty token".to_string()));
                }
                flags.auth_token = Some(token);
            }
            "--redirect" => flags.redirect = true,
            "--cors-origin" => {
                let origin = value()?;
                if HeaderValue::from_str(&origin).is_err() {
                    return Err(FlagsError::Invalid(format!(
                        "--cors-origin: '{origin}' is not a valid origin"
                    )));
                }
                flags.cors_origins.push(origin);
            }
            "--keep-alive-ms" => flags.timings.keep_alive = millis(value()?)?,
            "--client-timeout-ms" => flags.timings.client_timeout = millis(value()?)?,
            "--stateful-grace-ms" => flags.timings.stateful_grace = millis(value()?)?,
            "--poll-timeout-ms" => flags.timings.long_poll_timeout = millis(value()?)?,
            "--max-lifetime-secs" => {
                flags.max_lifetime = Some(Duration::from_secs(number(value()?)?))
            }
            "--exit-on-stdin-close" => flags.exit_on_stdin_close = true,
            other => return Err(FlagsError::Invalid(format!("unknown flag '{other}'"))),
        }
    }
    let timings = flags.timings;
    if [
        timings.keep_alive,
        timings.client_timeout,
        timings.stateful_grace,
        timings.long_poll_timeout,
    ]
    .iter()
    .any(Duration::is_zero)
    {
        return Err(FlagsError::Invalid(
            "intervals must be at least 1 ms".to_string(),
        ));
    }
    Ok(flags)
}

#[tokio::main]
async fn main() -> ExitCode {
    let flags = match parse_flags(std::env::args().skip(1)) {
        Ok(flags) => flags,
        Err(FlagsError::HelpRequested) => {
            say(USAGE);
            return ExitCode::SUCCESS;
        }
        Err(FlagsError::Invalid(problem)) => {
            eprintln!("hubwire-mock: {problem}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let listener = match TcpListener::bind((Ipv4Addr::LOCALHOST, flags.port)).await {
        Ok(listener) => listener,
        Err(error) => {
            eprintln!(
                "hubwire-mock: cannot bind 127.0.0.1:{}: {error}",
                flags.port
            );
            return ExitCode::FAILURE;
        }
    };
    let address = match listener.local_addr() {
        Ok(address) => address,
        Err(error) => {
            eprintln!("hubwire-mock: cannot read the bound address: {error}");
            return ExitCode::FAILURE;
        }
    };
    announce(address, &flags);

    let stop = stop_signal(flags.max_lifetime, flags.exit_on_stdin_close);
    let config = MockConfig {
        timings: flags.timings,
        www_dir: flags.www_dir,
        pkg_dir: flags.pkg_dir,
        demo: flags.demo.then(DemoConfig::default),
        auth_token: flags.auth_token,
        redirect_token: flags.redirect.then(new_token),
        cors_origins: flags.cors_origins,
    };
    // Returning drops the runtime, which ends every connection task: the process never lingers
    // on an open WebSocket after it was told to stop.
    tokio::select! {
        served = axum::serve(listener.tap_io(hubwire_mock::send_without_delay), app(config)).into_future() => match served {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => {
                eprintln!("hubwire-mock: server failed: {error}");
                ExitCode::FAILURE
            }
        },
        why = stop => {
            say(&format!("stopping: {why}"));
            ExitCode::SUCCESS
        }
    }
}

/// Prints the URL first (and flushes it: a parent process waits for exactly that line), then
/// notes for people.
fn announce(address: SocketAddr, flags: &Flags) {
    let base = format!("http://{address}/");
    say(&base);
    say(&format!(
        "hub:      {base}hub (negotiate at {base}hub/negotiate)"
    ));
    say(&format!(
        "control:  {base}control/ (publish, drop, close, connections, log, faults, ...)"
    ));
    if let Some(token) = &flags.auth_token {
        say(&format!(
            "auth:     /hub requires the bearer token '{token}'"
        ));
    }
    if flags.redirect {
        say(&format!(
            "redirect: {base}hub/negotiate sends clients to {base}hub2"
        ));
    }
    if !flags.cors_origins.is_empty() {
        say(&format!("cors:     only {}", flags.cors_origins.join(", ")));
    }
    if let Some(dir) = &flags.www_dir {
        say(&format!("www:      {} at {base}", dir.display()));
    }
    if let Some(dir) = &flags.pkg_dir {
        say(&format!("pkg:      {} at {base}pkg/", dir.display()));
    }
    if flags.demo {
        say("demo:     scenario on (dispatch:<region>, contractor:<id>, workflow:wf-demo)");
    }
    say(&format!(
        "timings:  keep-alive {} ms, client timeout {} ms",
        flags.timings.keep_alive.as_millis(),
        flags.timings.client_timeout.as_millis()
    ));
}

/// Writes one line to stdout and flushes it. Errors are ignored on purpose: a parent that stopped
/// reading (closed the pipe) must not make the server panic, as `println!` would.
fn say(line: &str) {
    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(stdout, "{line}");
    let _ = stdout.flush();
}

/// Resolves with the reason the server should stop: its lifetime ran out, stdin closed, or
/// Ctrl-C. Without either flag only Ctrl-C (or a kill) stops it.
async fn stop_signal(max_lifetime: Option<Duration>, exit_on_stdin_close: bool) -> String {
    let lifetime = async {
        match max_lifetime {
            Some(lifetime) => tokio::time::sleep(lifetime).await,
            None => std::future::pending().await,
        }
    };
    let stdin_closed = async {
        if !exit_on_stdin_close {
            return std::future::pending().await;
        }
        let (closed, on_closed) = oneshot::channel();
        // A plain thread, not tokio's stdin: a blocking read in tokio's pool would keep the
        // runtime from shutting down. The thread is simply abandoned when the process exits.
        std::thread::spawn(move || {
            let mut stdin = std::io::stdin();
            let mut buffer = [0u8; 1024];
            while matches!(stdin.read(&mut buffer), Ok(n) if n > 0) {}
            let _ = closed.send(());
        });
        let _ = on_closed.await;
    };
    tokio::select! {
        () = lifetime => "max lifetime reached".to_string(),
        () = stdin_closed => "stdin closed".to_string(),
        _ = tokio::signal::ctrl_c() => "interrupted".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Flags, FlagsError> {
        parse_flags(args.iter().map(|arg| arg.to_string()))
    }

    #[test]
    fn flags_take_separate_or_inline_values() {
        let Ok(flags) = parse(&[
            "--port",
            "8080",
            "--keep-alive-ms=250",
            "--exit-on-stdin-close",
            "--demo",
            "--cors-origin",
            "http://localhost:3000",
            "--cors-origin=http://localhost:5173",
        ]) else {
            panic!("flags should parse");
        };
        assert_eq!(flags.port, 8080);
        assert_eq!(flags.timings.keep_alive, Duration::from_millis(250));
        assert_eq!(flags.timings.client_timeout, Duration::from_secs(30));
        assert!(flags.exit_on_stdin_close);
        assert!(flags.demo);
        assert_eq!(
            flags.cors_origins,
            ["http://localhost:3000", "http://localhost:5173"]
        );
        assert_eq!(flags.max_lifetime, None);
    }

    #[test]
    fn bad_flags_are_reported() {
        for args in [
            &["--port"][..],
            &["--port", "x"],
            &["--nope"],
            &["--keep-alive-ms", "0"],
            &["--cors-origin", "bad\norigin"],
            &["--auth-token", ""],
        ] {
            assert!(
                matches!(parse(args), Err(FlagsError::Invalid(_))),
                "{args:?}"
            );
        }
    }
}
