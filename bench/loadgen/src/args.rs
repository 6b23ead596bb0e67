//! The command line of `hubwire-loadgen`: what to measure, how much, and for how long at most.
//!
//! Owns the flags, their defaults and their limits. Every count and duration has a ceiling, and
//! the hub must be on 127.0.0.1: the load generator is a benchmark of the mock hub on the same
//! machine, never a tool to point at someone else's server.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

/// The usage text, printed for `--help` and after a bad flag.
pub const USAGE: &str = "\
usage: hubwire-loadgen --url http://127.0.0.1:PORT/ [--clients N] [--hold N] [--hold-secs N]
                       [--burst N] [--rounds N] [--fanout-samples N] [--payload-bytes N]
                       [--connect-concurrency N] [--time-limit-secs N] [--out FILE]

Measures a hubwire-mock hub over WebSockets (JSON protocol, negotiation skipped):
  1. opens --clients connections and measures their connect + handshake time;
  2. broadcast: --rounds times, asks the hub (POST /control/burst) to send --burst invocations
     to every connection and times until every client has all of them;
  3. fan-out latency: --fanout-samples single publishes, each timed until every client has it;
  4. connections held: opens more connections up to --hold, keeps them --hold-secs, and counts
     how many are still open (and what the hub's /health reports).

  --url URL                the hub's base URL; only http://127.0.0.1:PORT/ is accepted
  --clients N              broadcast audience (default 1000, at most 20000)
  --hold N                 connections to ramp up to and hold (default 5000, at most 20000;
                           not less than --clients)
  --hold-secs N            how long to hold them (default 5, at most 120)
  --burst N                invocations per broadcast round (default 200, at most 100000)
  --rounds N               broadcast rounds (default 3, at most 20)
  --fanout-samples N       single publishes timed to the last client (default 20, at most 1000)
  --payload-bytes N        pad each burst invocation's argument to N bytes of JSON (at most 65536)
  --connect-concurrency N  connects in flight at once (default 100, at most 1000)
  --time-limit-secs N      stop waiting and report what was measured after N s (default 180,
                           at most 600)
  --out FILE               also write the JSON results to FILE (they always go to stdout)";

/// What to run, parsed from the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// The hub's address (always on 127.0.0.1).
    pub hub: SocketAddr,
    /// Connections that receive the broadcasts.
    pub clients: usize,
    /// Connections to ramp up to and hold at the end.
    pub hold: usize,
    /// How long to hold them.
    pub hold_for: Duration,
    /// Invocations per broadcast round.
    pub burst: u32,
    /// Broadcast rounds.
    pub rounds: usize,
    /// Single publishes timed to the last client.
    pub fanout_samples: usize,
    /// Padding of each burst invocation's argument, in bytes of JSON.
    pub payload_bytes: Option<usize>,
    /// Connects in flight at once.
    pub connect_concurrency: usize,
    /// The whole run's time budget.
    pub time_limit: Duration,
    /// Where to write the results besides stdout.
    pub out: Option<PathBuf>,
}

/// Why the command line could not be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ArgsError {
    /// `--help` was asked for.
    Help,
    /// A flag is unknown, lacks its value, or its value is out of range; the message says which.
    Invalid(String),
}

/// Parses the arguments after the program name.
pub fn parse(args: impl IntoIterator<Item = String>) -> Result<Options, ArgsError> {
    let mut hub = None;
    let mut options = Options {
        hub: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
        clients: 1000,
        hold: 5000,
        hold_for: Duration::from_secs(5),
        burst: 200,
        rounds: 3,
        fanout_samples: 20,
        payload_bytes: None,
        connect_concurrency: 100,
        time_limit: Duration::from_secs(180),
        out: None,
    };
    let mut hold_given = false;
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let (name, inline) = match arg.split_once('=') {
            Some((name, value)) => (name.to_string(), Some(value.to_string())),
            None => (arg, None),
        };
        if name == "--help" || name == "-h" {
            return Err(ArgsError::Help);
        }
        let mut value = || {
            inline
                .clone()
                .or_else(|| args.next())
                .ok_or_else(|| ArgsError::Invalid(format!("{name} needs a value")))
        };
        match name.as_str() {
            "--url" => hub = Some(loopback_url(&value()?)?),
            "--clients" => options.clients = number(&name, &value()?, 1, 20_000)?,
            "--hold" => {
                options.hold = number(&name, &value()?, 1, 20_000)?;
                hold_given = true;
            }
            "--hold-secs" => {
                options.hold_for = Duration::from_secs(number(&name, &value()?, 0, 120)?)
            }
            "--burst" => options.burst = number(&name, &value()?, 1, 100_000)?,
            "--rounds" => options.rounds = number(&name, &value()?, 1, 20)?,
            "--fanout-samples" => options.fanout_samples = number(&name, &value()?, 0, 1000)?,
            "--payload-bytes" => options.payload_bytes = Some(number(&name, &value()?, 0, 65_536)?),
            "--connect-concurrency" => {
                options.connect_concurrency = number(&name, &value()?, 1, 1000)?
            }
            "--time-limit-secs" => {
                options.time_limit = Duration::from_secs(number(&name, &value()?, 1, 600)?)
            }
            "--out" => options.out = Some(PathBuf::from(value()?)),
            _ => return Err(ArgsError::Invalid(format!("unknown flag {name}"))),
        }
    }
    options.hub = hub.ok_or_else(|| ArgsError::Invalid("--url is required".to_string()))?;
    if options.hold < options.clients {
        if hold_given {
            return Err(ArgsError::Invalid(format!(
                "--hold ({}) must not be less than --clients ({})",
                options.hold, options.clients
            )));
        }
        options.hold = options.clients;
    }
    Ok(options)
}

/// `http://127.0.0.1:PORT` with an optional trailing `/`: the hub's address. Anything else
/// (another host, a path, https) is refused.
fn loopback_url(text: &str) -> Result<SocketAddr, ArgsError> {
    let refuse = || {
        ArgsError::Invalid(format!(
            "--url must be http://127.0.0.1:PORT/ (the load generator only targets this machine), got '{text}'"
        ))
    };
    let rest = text.strip_prefix("http://127.0.0.1:").ok_or_else(refuse)?;
    let port = rest.strip_suffix('/').unwrap_or(rest);
    let port: u16 = port.parse().map_err(|_| refuse())?;
    if port == 0 {
        return Err(refuse());
    }
    Ok(SocketAddr::from((Ipv4Addr::LOCALHOST, port)))
}

/// A whole number from `min` to `max`.
fn number<T>(name: &str, text: &str, min: T, max: T) -> Result<T, ArgsError>
where
    T: std::str::FromStr + PartialOrd + std::fmt::Display + Copy,
{
    match text.parse::<T>() {
        Ok(n) if n >= min && n <= max => Ok(n),
        _ => Err(ArgsError::Invalid(format!(
            "{name} must be a whole number from {min} to {max}, got '{text}'"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_line(line: &str) -> Result<Options, ArgsError> {
        parse(line.split_whitespace().map(str::to_string))
    }

    #[test]
    fn defaults_need_only_the_url() {
        let options = parse_line("--url http://127.0.0.1:5173/").unwrap();
        assert_eq!(options.hub, SocketAddr::from((Ipv4Addr::LOCALHOST, 5173)));
        assert_eq!(
            (options.clients, options.hold, options.burst, options.rounds),
            (1000, 5000, 200, 3)
        );
        assert_eq!(options.time_limit, Duration::from_secs(180));
    }

    #[test]
    fn flags_take_separate_or_inline_values() {
        let options = parse_line(
            "--url=http://127.0.0.1:9000 --clients 50 --hold=60 --burst 10 --out r.json",
        )
        .unwrap();
        assert_eq!((options.clients, options.hold, options.burst), (50, 60, 10));
        assert_eq!(options.out, Some(PathBuf::from("r.json")));
    }

    #[test]
    fn only_loopback_hubs_are_accepted() {
        for url in [
            "http://localhost:80/",
            "http://10.0.0.1:80/",
            "https://127.0.0.1:443/",
            "http://127.0.0.1:80/hub",
            "http://127.0.0.1:0/",
            "http://127.0.0.1.example.com:80/",
        ] {
            assert!(
                matches!(
                    parse_line(&format!("--url {url}")),
                    Err(ArgsError::Invalid(_))
                ),
                "{url}"
            );
        }
    }

    #[test]
    fn counts_beyond_their_ceiling_are_refused() {
        for flags in [
            "--clients 20001",
            "--burst 0",
            "--rounds 21",
            "--time-limit-secs 601",
            "--hold-secs x",
        ] {
            let line = format!("--url http://127.0.0.1:1/ {flags}");
            assert!(
                matches!(parse_line(&line), Err(ArgsError::Invalid(_))),
                "{flags}"
            );
        }
    }

    #[test]
    fn hold_follows_clients_unless_given_lower() {
        assert_eq!(
            parse_line("--url http://127.0.0.1:1/ --clients 8000")
                .unwrap()
                .hold,
            8000
        );
        assert!(parse_line("--url http://127.0.0.1:1/ --clients 100 --hold 50").is_err());
    }

    #[test]
    fn unknown_flags_missing_values_and_help_are_reported() {
        assert!(matches!(
            parse_line("--url http://127.0.0.1:1/ --nope 1"),
            Err(ArgsError::Invalid(_))
        ));
        assert!(matches!(parse_line("--url"), Err(ArgsError::Invalid(_))));
        assert!(matches!(parse_line(""), Err(ArgsError::Invalid(_))));
        assert_eq!(parse_line("--help"), Err(ArgsError::Help));
    }
}
