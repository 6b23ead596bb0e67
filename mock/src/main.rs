//! The `hubwire-mock` binary: parses flags, binds 127.0.0.1, prints the URL, serves until told
//! to stop. Everything the server does is built by [`hubwire_mock::app`]; the flags are listed
//! in that crate's documentation and in `--help`.

use std::future::IntoFuture;
use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use hubwire_mock::{app, HubTimings, MockConfig};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

const USAGE: &str = "\
usage: hubwire-mock [--port N] [--www DIR] [--pkg DIR] [--keep-alive-ms N]
                    [--client-timeout-ms N] [--max-lifetime-secs N] [--exit-on-stdin-close]

  --port N                port on 127.0.0.1 (default 0: pick a free one)
  --www DIR               serve DIR at /
  --pkg DIR               serve DIR at /pkg/
  --keep-alive-ms N       server Ping interval (default 15000)
  --client-timeout-ms N   close connections silent this long (default 30000)
  --max-lifetime-secs N   exit after N seconds
  --exit-on-stdin-close   exit when stdin reaches end of file

The first line printed is the server's URL.";

/// The command line, parsed.
#[derive(Debug)]
struct Flags {
    port: u16,
    www_dir: Option<PathBuf>,
    pkg_dir: Option<PathBuf>,
    keep_alive: Duration,
    client_timeout: Duration,
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
        keep_alive: defaults.keep_alive,
        client_timeout: defaults.client_timeout,
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
            "--keep-alive-ms" => flags.keep_alive = Duration::from_millis(number(value()?)?),
            "--client-timeout-ms" => {
                flags.client_timeout = Duration::from_millis(number(value()?)?)
            }
            "--max-lifetime-secs" => {
                flags.max_lifetime = Some(Duration::from_secs(number(value()?)?))
            }
            "--exit-on-stdin-close" => flags.exit_on_stdin_close = true,
            other => return Err(FlagsError::Invalid(format!("unknown flag '{other}'"))),
        }
    }
    if flags.keep_alive.is_zero() || flags.client_timeout.is_zero() {
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
            println!("{USAGE}");
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
        timings: HubTimings {
            keep_alive: flags.keep_alive,
            client_timeout: flags.client_timeout,
        },
        www_dir: flags.www_dir,
        pkg_dir: flags.pkg_dir,
    };
    // Returning drops the runtime, which ends every connection task: the process never lingers
    // on an open WebSocket after it was told to stop.
    tokio::select! {
        served = axum::serve(listener, app(config)).into_future() => match served {
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
        "control:  {base}control/ (publish, drop, close, connections, log)"
    ));
    if let Some(dir) = &flags.www_dir {
        say(&format!("www:      {} at {base}", dir.display()));
    }
    if let Some(dir) = &flags.pkg_dir {
        say(&format!("pkg:      {} at {base}pkg/", dir.display()));
    }
    say(&format!(
        "timings:  keep-alive {} ms, client timeout {} ms",
        flags.keep_alive.as_millis(),
        flags.client_timeout.as_millis()
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
        ]) else {
            panic!("flags should parse");
        };
        assert_eq!(flags.port, 8080);
        assert_eq!(flags.keep_alive, Duration::from_millis(250));
        assert_eq!(flags.client_timeout, Duration::from_secs(30));
        assert!(flags.exit_on_stdin_close);
        assert_eq!(flags.max_lifetime, None);
    }

    #[test]
    fn bad_flags_are_reported() {
        for args in [
            &["--port"][..],
            &["--port", "x"],
            &["--nope"],
            &["--keep-alive-ms", "0"],
        ] {
            assert!(
                matches!(parse(args), Err(FlagsError::Invalid(_))),
                "{args:?}"
            );
        }
    }
}
