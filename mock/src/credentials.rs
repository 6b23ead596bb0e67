//! The access token a client presents, read from an HTTP request.
//!
//! Owns only the parsing of `Authorization: Bearer <token>`. Whether a token is required or
//! valid is not decided here: the mock accepts everyone and records what it was shown, so tests
//! can check that a client sent its token.

use axum::http::{header::AUTHORIZATION, HeaderMap};

/// The token of an `Authorization: Bearer <token>` header, if the request has one.
pub fn bearer_token(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then(|| token.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(AUTHORIZATION, value.parse().unwrap());
        headers
    }

    #[test]
    fn bearer_tokens_are_read_and_other_schemes_ignored() {
        assert_eq!(
            bearer_token(&headers("Bearer abc.def")),
            Some("abc.def".into())
        );
        assert_eq!(bearer_token(&headers("bearer  xyz ")), Some("xyz".into()));
        assert_eq!(bearer_token(&headers("Basic dXNlcg==")), None);
        assert_eq!(bearer_token(&headers("Bearer ")), None);
        assert_eq!(bearer_token(&HeaderMap::new()), None);
    }
}
