//! Settings are bounded: zero, negative, NaN and absurd intervals are a typed error before any
//! attempt, and nothing loops without time passing (zero-delay retries, synchronous failures).

mod util;

use std::time::Duration;

use hubwire::core::hub::{HubConfig, HubConnection};
use hubwire::core::limits::{duration_from_millis, ConfigError, MAX_TIMER};
use hubwire::core::retry::DelaySchedule;
use hubwire::core::session::{HubSession, SessionOutput};
use hubwire::core::{HubError, Instant};
use util::session::{reconnect, SessionDriver};
use util::{Handler, HUB_URL};

type Setter = fn(&mut HubConfig);

/// Every interval and timeout with the option name its error carries.
const DURATIONS: [(&str, Setter, Setter); 6] = [
    ("keepAliveIntervalInMilliseconds", |c| c.keep_alive_interval = Duration::ZERO, |c| c.keep_alive_interval = MAX_TIMER + Duration::from_millis(1)),
    ("serverTimeoutInMilliseconds", |c| c.server_timeout = Duration::ZERO, |c| c.server_timeout = MAX_TIMER * 2),
    ("handshakeTimeoutInMilliseconds", |c| c.handshake_timeout = Duration::ZERO, |c| c.handshake_timeout = Duration::MAX),
    ("timeout", |c| c.request_timeout = Duration::ZERO, |c| c.request_timeout = Duration::from_secs(u64::MAX / 4)),
    ("pollTimeoutInMilliseconds", |c| c.poll_timeout = Duration::ZERO, |c| c.poll_timeout = MAX_TIMER * 3),
    ("stableConnectionThresholdInMilliseconds", |c| c.stable_connection_threshold = Duration::ZERO, |c| c.stable_connection_threshold = MAX_TIMER * 4),
];

#[test]
fn the_defaults_are_valid() {
    assert_eq!(HubConfig::new(HUB_URL).validate(), Ok(()));
}

#[test]
fn a_zero_interval_or_timeout_is_an_error_naming_the_option() {
    for (name, zero, _) in DURATIONS {
        let mut config = HubConfig::new(HUB_URL);
        zero(&mut config);
        let error = config.validate().unwrap_err();
        assert_eq!(error, ConfigError::Zero { setting: name });
        assert_eq!(error.to_string(), format!("'{name}' must be greater than 0 milliseconds."));
    }
}

#[test]
fn an_interval_longer_than_a_timer_can_wait_is_an_error() {
    for (name, _, too_long) in DURATIONS {
        let mut config = HubConfig::new(HUB_URL);
        too_long(&mut config);
        assert!(
            matches!(config.validate(), Err(ConfigError::TooLong { setting, .. }) if setting == name),
            "{name}: {:?}",
            config.validate()
        );
    }
}

#[test]
fn zero_sizes_are_errors() {
    let mut config = HubConfig::new(HUB_URL);
    config.max_frame_bytes = 0;
    assert_eq!(config.validate(), Err(ConfigError::ZeroSize { setting: "maxFrameBytes" }));
    let mut config = HubConfig::new(HUB_URL);
    config.replay_buffer_bytes = 0;
    assert_eq!(config.validate(), Err(ConfigError::ZeroSize { setting: "statefulReconnect.bufferSize" }));
}

#[test]
fn the_apps_numbers_are_checked_as_milliseconds() {
    let name = "keepAliveIntervalInMilliseconds";
    for bad in [f64::NAN, -1.0, -0.5, f64::INFINITY, f64::NEG_INFINITY] {
        assert!(matches!(duration_from_millis(name, bad), Err(ConfigError::NotADuration { .. })), "{bad}");
    }
    assert_eq!(duration_from_millis(name, 0.0), Err(ConfigError::Zero { setting: name }));
    assert!(matches!(duration_from_millis(name, 1e300), Err(ConfigError::TooLong { .. })));
    assert!(matches!(duration_from_millis(name, 2_147_483_648.0), Err(ConfigError::TooLong { .. })));
    assert_eq!(duration_from_millis(name, 0.5), Ok(Duration::from_millis(1)), "a fraction rounds up, never to 0");
    assert_eq!(duration_from_millis(name, 15_000.0), Ok(Duration::from_secs(15)));
    assert_eq!(duration_from_millis(name, 2_147_483_647.0), Ok(MAX_TIMER));
    let message = duration_from_millis(name, f64::NAN).unwrap_err().to_string();
    assert_eq!(message, "'keepAliveIntervalInMilliseconds' must be a finite, non-negative number of milliseconds (got NaN).");
}

#[test]
fn a_zero_keep_alive_fails_start_instead_of_looping() {
    let mut config = HubConfig::new(HUB_URL);
    config.keep_alive_interval = Duration::ZERO;
    let mut conn: HubConnection<Handler> = HubConnection::new(config.clone());
    assert_eq!(
        conn.start(Instant::from_millis(0)),
        Err(HubError::InvalidSetting(ConfigError::Zero { setting: "keepAliveIntervalInMilliseconds" }))
    );
    assert!(conn.poll_output().is_none(), "no attempt was made");
    let mut session: HubSession<Handler> = HubSession::new(config, None);
    assert!(matches!(session.start(Instant::from_millis(0)), Err(HubError::InvalidSetting(_))));
    assert!(session.poll_output().is_none());
    assert_eq!(session.state().name(), "Disconnected");
}

#[test]
fn the_smallest_keep_alive_pings_once_per_millisecond_at_most() {
    let mut config = HubConfig::new(HUB_URL);
    config.keep_alive_interval = Duration::from_millis(1);
    let mut d = util::Driver::new(config);
    d.connect();
    let before = d.sent.len();
    d.advance(Duration::from_millis(10));
    let pings = d.sent.len() - before;
    assert!((1..=10).contains(&pings), "{pings} pings in 10 ms");
}

/// Outputs of one call, drained; panics past `limit` (a spin would never end).
fn drain_bounded(d: &mut SessionDriver, limit: usize) -> usize {
    let mut count = 0;
    while let Some(output) = d.session.poll_output() {
        count += 1;
        assert!(count <= limit, "more than {limit} outputs from one pump");
        if let SessionOutput::Event(event) = output {
            d.events.push(event);
        }
    }
    count
}

#[test]
fn a_zero_delay_policy_with_a_start_that_fails_synchronously_does_not_spin() {
    // An ftp URL fails inside start() itself, in the same pump, every time.
    let mut config = HubConfig::new("ftp://example.com/hub");
    config.allowed_transports = 1;
    let policy = DelaySchedule::from_millis(&[0]).keep_trying(true);
    let mut d = SessionDriver::with_config(config, reconnect(policy, true));
    d.session.start(d.now).unwrap();
    drain_bounded(&mut d, 100);
    assert_eq!(d.state(), "Connecting", "still trying, as the policy says");
    // The next attempt waits on the timer, a millisecond ahead: time must pass.
    let next = d.session.poll_timeout().expect("a retry is scheduled");
    assert!(next > d.now, "the next attempt is not due at the same instant");
    let mut pumps = 0;
    while d.now < Instant::from_millis(50) {
        let Some(at) = d.session.poll_timeout() else { break };
        assert!(at > d.now, "every timer is in the future");
        d.now = at;
        d.session.handle_timeout(d.now);
        drain_bounded(&mut d, 100);
        pumps += 1;
    }
    assert!(pumps <= 100, "at most two attempts per virtual millisecond: {pumps}");
    d.session.stop(d.now);
    drain_bounded(&mut d, 100);
    assert_eq!(d.state(), "Disconnected");
}

#[test]
fn a_zero_delay_policy_after_a_loss_retries_at_once_then_waits_for_time_to_pass() {
    let policy = DelaySchedule::from_millis(&[0]).keep_trying(true);
    let mut d = SessionDriver::new(reconnect(policy, false));
    d.start();
    d.accept_link();
    d.advance(Duration::from_secs(10));
    d.negotiate_times.clear();
    d.drop_link();
    // The immediate retry went out at once.
    assert_eq!(d.negotiate_times.len(), 1);
    for _ in 0..20 {
        d.refuse_negotiate();
    }
    d.advance(Duration::from_millis(5));
    assert!(d.negotiate_times.len() <= 30, "{:?}", d.negotiate_times);
    assert_eq!(d.state(), "Reconnecting");
}

#[test]
fn subscription_plain_and_dedupe_settings_are_bounded_too() {
    use hubwire::core::dedupe::DedupeWindow;
    use hubwire::core::plain_link::PlainConfig;
    use hubwire::core::subscription::{FlagSource, PollConfig, SubscriptionConfig};
    assert_eq!(SubscriptionConfig::default().validate(), Ok(()));
    let zero_poll = SubscriptionConfig {
        poll: Some(PollConfig { interval: Duration::ZERO, ..PollConfig::default() }),
        ..SubscriptionConfig::default()
    };
    assert_eq!(zero_poll.validate(), Err(ConfigError::Zero { setting: "poll.intervalMs" }));
    let zero_refresh = SubscriptionConfig { flag: FlagSource::Read { every: Some(Duration::ZERO) }, ..SubscriptionConfig::default() };
    assert_eq!(zero_refresh.validate(), Err(ConfigError::Zero { setting: "flag.refreshMs" }));
    let immediate_fallback = SubscriptionConfig { fallback_after: Duration::ZERO, ..SubscriptionConfig::default() };
    assert_eq!(immediate_fallback.validate(), Ok(()), "falling back at once is a valid choice");
    let no_age = DedupeWindow { max_age: Some(Duration::ZERO), ..DedupeWindow::default() };
    assert_eq!(no_age.validate(), Err(ConfigError::Zero { setting: "dedupe.window.ms" }));
    assert_eq!(PlainConfig::new("wss://h/feed").validate(), Ok(()));
    let mut plain = PlainConfig::new("wss://h/feed");
    plain.open_timeout = Duration::ZERO;
    assert_eq!(plain.validate(), Err(ConfigError::Zero { setting: "openTimeoutMs" }));
}

#[test]
fn retry_delays_may_be_zero_but_not_negative_nan_or_absurd() {
    use hubwire::core::retry::delay_from_millis;
    assert_eq!(delay_from_millis(0.0), Ok(Duration::ZERO));
    assert_eq!(delay_from_millis(2_000.0), Ok(Duration::from_secs(2)));
    for bad in [-1.0, f64::NAN, f64::INFINITY] {
        assert!(matches!(delay_from_millis(bad), Err(ConfigError::NotADuration { .. })), "{bad}");
    }
    assert!(matches!(delay_from_millis(1e12), Err(ConfigError::TooLong { .. })));
}

/// A policy that answers an absurd delay.
struct Forever;

impl hubwire::core::retry::RetryPolicy for Forever {
    fn next_retry_delay(&mut self, _: &hubwire::core::retry::RetryContext) -> Option<Duration> {
        Some(Duration::from_secs(u64::MAX / 2))
    }
}

#[test]
fn an_absurd_policy_delay_is_capped_at_the_longest_timer() {
    let mut d = SessionDriver::new(reconnect(Forever, false));
    d.start();
    d.accept_link();
    d.establish();
    let lost_at = d.now;
    d.drop_link();
    assert_eq!(d.session.poll_timeout(), Some(lost_at + MAX_TIMER));
}
