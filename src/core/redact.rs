//! Redaction: the one rule for text that leaves the core (errors, log lines, telemetry records,
//! state-change reasons) — no access token and no connection token in it, ever.
//!
//! Owns [`redact`], a pure function over text and the secrets the caller knows. Text from the
//! outside (a browser exception quoting a URL, a server's error body) passes through it where it
//! enters the core, so nothing downstream has to remember. It removes three things:
//! - every known secret, as given and percent-encoded (the way it appears inside a URL), when it
//!   is at least [`MIN_SECRET_CHARS`] long (a shorter "secret" would blank out ordinary words;
//!   the patterns below still catch it in a URL);
//! - the value of every `access_token=` query parameter, whatever its value;
//! - the value of an `id=` query parameter (the connection token), and the credentials after
//!   `Bearer `.
//!
//! Each removed value becomes [`REDACTED`], so the text still shows where a value was.

use crate::protocol::negotiate::encode_query_value;

/// What a removed secret is replaced with.
pub const REDACTED: &str = "…";

/// Secrets shorter than this are not searched for as plain substrings.
pub const MIN_SECRET_CHARS: usize = 4;

/// `text` with every secret in `secrets` and every token-carrying URL parameter removed.
pub fn redact(text: &str, secrets: &[&str]) -> String {
    let mut out = text.to_string();
    for secret in secrets {
        if secret.chars().count() < MIN_SECRET_CHARS {
            continue;
        }
        let encoded = encode_query_value(secret);
        // The encoded form first: it may contain the plain form's pieces.
        if encoded != *secret {
            out = replace_all(&out, &encoded);
        }
        out = replace_all(&out, secret);
    }
    out = redact_after(&out, "access_token=", false, is_query_value_end);
    out = redact_after(&out, "id=", true, is_query_value_end);
    redact_after(&out, "Bearer ", false, |c| c.is_whitespace() || c == '"' || c == '\'')
}

/// Where `needle` (not empty) first occurs in `hay`, in bytes. A byte search of valid UTF-8 in
/// valid UTF-8 only matches at char boundaries. Its own small loop: `str::find` and
/// `str::replace` with a `&str` pattern link std's two-way searcher (~1.3 KB of the module),
/// which nothing else in the core module needs.
fn find(hay: &str, needle: &str) -> Option<usize> {
    hay.as_bytes().windows(needle.len()).position(|window| window == needle.as_bytes())
}

/// `text` with every occurrence of `needle` (not empty), left to right and not overlapping,
/// replaced by [`REDACTED`], as `str::replace` does.
fn replace_all(text: &str, needle: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = find(rest, needle) {
        out.push_str(&rest[..at]);
        out.push_str(REDACTED);
        rest = &rest[at + needle.len()..];
    }
    out.push_str(rest);
    out
}

fn is_query_value_end(c: char) -> bool {
    matches!(c, '&' | '#' | '"' | '\'' | '<' | '>' | '`' | ')' | ']' | '}' | ',' | ';') || c.is_whitespace()
}

/// Replaces the value after every (ASCII case-insensitive) occurrence of `marker`, up to the
/// first char where `ends` holds. With `query_parameter`, only a marker right after `?` or `&`
/// counts (so `connectionId=` is not an `id=`).
fn redact_after(text: &str, marker: &str, query_parameter: bool, ends: impl Fn(char) -> bool) -> String {
    let lower = text.to_ascii_lowercase();
    let marker_lower = marker.to_ascii_lowercase();
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    let mut search = 0;
    while let Some(found) = find(&lower[search..], &marker_lower) {
        let at = search + found;
        let value_start = at + marker.len();
        search = value_start;
        if query_parameter && !matches!(text[..at].chars().next_back(), Some('?' | '&')) {
            continue;
        }
        let value_len = text[value_start..].find(&ends).unwrap_or(text.len() - value_start);
        if value_len == 0 || text[value_start..value_start + value_len] == *REDACTED {
            continue;
        }
        out.push_str(&text[copied..value_start]);
        out.push_str(REDACTED);
        copied = value_start + value_len;
        search = copied;
    }
    out.push_str(&text[copied..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn access_tokens_in_urls_are_removed_whatever_the_case() {
        assert_eq!(
            redact("failed: wss://h/hub?id=abc&access_token=eyJ.x.y#f", &[]),
            "failed: wss://h/hub?id=…&access_token=…#f"
        );
        assert_eq!(redact("ACCESS_TOKEN=s3cret and more", &[]), "ACCESS_TOKEN=… and more");
    }

    #[test]
    fn known_secrets_go_in_plain_and_encoded_form() {
        let text = "token a#b c seen, also a%23b%20c in a URL";
        assert_eq!(redact(text, &["a#b c"]), "token … seen, also … in a URL");
    }

    #[test]
    fn own_search_replaces_as_str_replace_does() {
        for (text, needle) in [("aaaa", "aa"), ("xabcabx", "abc"), ("é€é€", "€é"), ("ab", "abc"), ("", "a")] {
            assert_eq!(replace_all(text, needle), text.replace(needle, REDACTED), "{text} {needle}");
        }
    }

    #[test]
    fn only_a_query_id_is_a_connection_token() {
        assert_eq!(redact("connectionId=abc, ?id=xyz", &[]), "connectionId=abc, ?id=…");
    }

    #[test]
    fn bearer_credentials_and_short_secrets() {
        assert_eq!(redact("Authorization: Bearer abc.def", &["ab"]), "Authorization: Bearer …");
    }

    #[test]
    fn text_without_secrets_is_unchanged_and_non_ascii_is_safe() {
        let text = "Ünïcödé — nothing here; id=1 is not in a query";
        assert_eq!(redact(text, &["missing"]), text);
        assert_eq!(redact("é?id=ü&x", &[]), "é?id=…&x");
    }
}
