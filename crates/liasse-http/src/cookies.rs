//! Cookies: the session cookie's name under the configuration, `Set-Cookie` values, reading a
//! cookie, and comparing secrets in constant time.

use axum::http::{HeaderMap, HeaderValue, header};
use liasse_app::App;
use subtle::ConstantTimeEq;

/// The session cookie; `__Host-` makes browsers require Secure, Path=/ and no Domain.
pub const SESSION_COOKIE: &str = "__Host-liasse";
/// Its name when `secure_cookies = false` (browsers refuse `__Host-` without Secure).
pub const PLAIN_SESSION_COOKIE: &str = "liasse";

/// The session cookie's name under the configuration.
pub fn session_cookie(app: &App) -> &'static str {
    if app.config.secure_cookies() {
        SESSION_COOKIE
    } else {
        PLAIN_SESSION_COOKIE
    }
}

/// A `Set-Cookie` value: always HttpOnly on Path=/; `Secure` unless `secure_cookies = false`.
/// `max_age` 0 deletes the cookie.
pub fn set_cookie(
    app: &App,
    name: &str,
    value: &str,
    same_site: &str,
    max_age: u32,
) -> HeaderValue {
    let secure = if app.config.secure_cookies() {
        "; Secure"
    } else {
        ""
    };
    HeaderValue::from_str(&format!(
        "{name}={value}; Path=/{secure}; HttpOnly; SameSite={same_site}; Max-Age={max_age}"
    ))
    // Names and values are ours (random tokens): this cannot fail; a cookie that deletes
    // nothing is the harmless fallback.
    .unwrap_or(HeaderValue::from_static(
        "liasse-invalid=; Path=/; Max-Age=0",
    ))
}
/// A cookie's value from the request headers.
pub fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

/// Compares secrets (CSRF tokens) without leaking where they differ; an empty secret never
/// matches.
pub fn ct_eq(a: &str, b: &str) -> bool {
    !a.is_empty() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::ct_eq;

    #[test]
    fn compares_whole_secrets() {
        assert!(ct_eq("csrf_abc", "csrf_abc"));
        assert!(!ct_eq("csrf_abc", "csrf_abd"));
        assert!(!ct_eq("csrf_ab", "csrf_abc"));
        assert!(!ct_eq("", ""));
    }
}
