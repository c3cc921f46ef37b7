//! Redaction and truncation for the request log: nothing secret is stored, nothing huge.

use axum::http::HeaderMap;
use serde_json::{Map, Value};

/// Bodies are kept up to this many bytes.
pub const MAX_LOGGED_BODY: usize = 64 * 1024;
pub const REDACTED: &str = "[REDACTED]";

/// JSON keys whose values are secrets wherever they appear.
const SECRET_KEYS: &[&str] = &[
    "password",
    "api_key",
    "apikey",
    "secret",
    "secret_key",
    "client_secret",
    "access_token",
    "refresh_token",
    "public_token",
    "link_token",
    "token",
    "authorization",
    "private_key",
];

/// Fields of a `credentials` object that are not secret and help debugging.
const VISIBLE_CREDENTIAL_FIELDS: &[&str] = &["base_url"];

const SECRET_HEADERS: &[&str] = &[
    "authorization",
    "proxy-authorization",
    "cookie",
    "set-cookie",
    "x-api-key",
    "apikey",
];

fn is_secret_key(k: &str) -> bool {
    let k = k.to_ascii_lowercase();
    SECRET_KEYS.contains(&k.as_str()) || k.ends_with("_secret") || k.ends_with("_password")
}

/// Redacts secret values in a JSON document, recursively.
pub fn json(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, v)| {
                    let red = if is_secret_key(k) && !v.is_null() {
                        Value::String(REDACTED.into())
                    } else if k == "credentials" {
                        credentials(v)
                    } else {
                        json(v)
                    };
                    (k.clone(), red)
                })
                .collect::<Map<_, _>>(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(json).collect()),
        // A Link URL carries its link token (`…/link/mw_lt_…`) under an innocent key (`url`).
        Value::String(s) if s.contains(millwright_core::secrets::LINK_TOKEN_PREFIX) => {
            Value::String(redact_link_tokens(s))
        }
        other => other.clone(),
    }
}

/// Replaces every `mw_lt_…` token in `s` with [`REDACTED`], keeping the text around it.
fn redact_link_tokens(s: &str) -> String {
    let prefix = millwright_core::secrets::LINK_TOKEN_PREFIX;
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(at) = rest.find(prefix) {
        out.push_str(&rest[..at]);
        out.push_str(REDACTED);
        let tail = &rest[at + prefix.len()..];
        let end = tail
            .find(|c: char| !c.is_ascii_alphanumeric())
            .unwrap_or(tail.len());
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}

fn credentials(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, v)| {
                    let keep = VISIBLE_CREDENTIAL_FIELDS.contains(&k.as_str()) || v.is_null();
                    (
                        k.clone(),
                        if keep {
                            v.clone()
                        } else {
                            Value::String(REDACTED.into())
                        },
                    )
                })
                .collect(),
        ),
        Value::Null => Value::Null,
        _ => Value::String(REDACTED.into()),
    }
}

/// Words whose absence proves a body has nothing to redact: every secret key above contains
/// one of them, and so does every credential Millwright issues.
const SENSITIVE: &[&str] = &[
    "password",
    "secret",
    "token",
    "api_key",
    "apikey",
    "authorization",
    "credentials",
    "private_key",
    "mw_sk_",
    "mw_ct_",
    "mw_lt_",
    "mw_pt_",
    "whsec_",
    // A JSON string may spell a key with \u escapes; such bodies always take the full path.
    "\\u",
];

fn sensitive() -> &'static aho_corasick::AhoCorasick {
    static AC: std::sync::OnceLock<aho_corasick::AhoCorasick> = std::sync::OnceLock::new();
    AC.get_or_init(|| {
        aho_corasick::AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .build(SENSITIVE)
            .expect("static patterns")
    })
}

/// A body as logged: JSON is redacted and re-serialised; anything else is kept as text
/// unless it looks like it carries a bearer credential. Truncated at [`MAX_LOGGED_BODY`].
pub fn body(bytes: &[u8]) -> String {
    // Most bodies carry no secret at all; a single scan proves it and spares a parse. Only the
    // start of a body is kept, and a lossy conversion never shortens text, so the scan and the
    // conversion look at that start only (a few bytes more than is kept, so that a longer body
    // is still marked truncated and a character cut at the end is decided as before). A key
    // precedes its value in JSON, so a secret whose key lies beyond the start is not kept
    // either. Large answers (a page of records) are thus not scanned whole on every request.
    let head = &bytes[..bytes.len().min(MAX_LOGGED_BODY + 4)];
    if !sensitive().is_match(head) {
        return truncate(String::from_utf8_lossy(head).into_owned());
    }
    let text = match serde_json::from_slice::<Value>(bytes) {
        Ok(v) => json(&v).to_string(),
        Err(_) => {
            let s = String::from_utf8_lossy(bytes);
            if s.contains("mw_sk_") || s.contains("mw_ct_") || s.contains("whsec_") {
                REDACTED.to_string()
            } else {
                s.into_owned()
            }
        }
    };
    truncate(text)
}

fn truncate(mut s: String) -> String {
    if s.len() > MAX_LOGGED_BODY {
        let mut cut = MAX_LOGGED_BODY;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        s.truncate(cut);
        s.push_str("…[truncated]");
    }
    s
}

/// Request headers as a JSON object, secret ones redacted.
pub fn headers(h: &HeaderMap) -> Value {
    let mut m = Map::new();
    for (name, value) in h {
        let n = name.as_str();
        let v = if SECRET_HEADERS.contains(&n) {
            REDACTED.to_string()
        } else {
            String::from_utf8_lossy(value.as_bytes()).into_owned()
        };
        m.insert(n.to_string(), Value::String(v));
    }
    Value::Object(m)
}

/// A path with query string, secret-looking query parameters redacted.
pub fn path(p: &str) -> String {
    let Some((path, query)) = p.split_once('?') else {
        return p.to_string();
    };
    let q: Vec<String> = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((k, _)) if is_secret_key(k) => format!("{k}={REDACTED}"),
            _ => pair.to_string(),
        })
        .collect();
    format!("{path}?{}", q.join("&"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn link_urls_lose_their_token() {
        let token = millwright_core::secrets::new_link_token();
        let body =
            json!({"id": "lks_1", "link_token": token, "url": format!("http://h/link/{token}")});
        let logged = super::body(body.to_string().as_bytes());
        assert!(!logged.contains(&token), "{logged}");
        assert!(logged.contains("http://h/link/[REDACTED]"), "{logged}");
    }

    #[test]
    fn secrets_are_redacted_everywhere() {
        let v = json!({
            "name": "Plant 4",
            "credentials": {"base_url": "https://x.example", "api_key": "k-123", "username": "bob"},
            "nested": [{"password": "p"}, {"access_token": "mw_ct_abc"}],
            "webhook_secret": "whsec_x"
        });
        let s = json(&v).to_string();
        for secret in ["k-123", "bob", "\"p\"", "mw_ct_abc", "whsec_x"] {
            assert!(!s.contains(secret), "{secret} leaked in {s}");
        }
        assert!(s.contains("https://x.example"));
        assert!(s.contains("Plant 4"));
    }

    #[test]
    fn non_json_bodies_with_tokens_are_dropped_and_long_ones_truncated() {
        assert_eq!(body(b"token=mw_ct_abcdef"), REDACTED);
        let long = "a".repeat(MAX_LOGGED_BODY + 10);
        let out = body(long.as_bytes());
        assert!(out.len() < MAX_LOGGED_BODY + 20);
        assert!(out.ends_with("[truncated]"));
    }

    #[test]
    fn bodies_without_sensitive_words_are_kept_verbatim() {
        let plain = br#"{"name":"Plant 4","status":"active"}"#;
        assert_eq!(body(plain), String::from_utf8_lossy(plain));
        let upper = br#"{"API_KEY":"k-1"}"#;
        assert!(!body(upper).contains("k-1"), "case-insensitive detection");
        let nested = br#"{"a":{"Client_Secret":"s-1"}}"#;
        assert!(!body(nested).contains("s-1"));
    }

    #[test]
    fn headers_and_query_strings() {
        let mut h = HeaderMap::new();
        h.insert("authorization", "Bearer mw_sk_x".parse().unwrap());
        h.insert("user-agent", "curl".parse().unwrap());
        let v = headers(&h);
        assert_eq!(v["authorization"], REDACTED);
        assert_eq!(v["user-agent"], "curl");
        assert_eq!(
            path("/a?public_token=abc&x=1"),
            "/a?public_token=[REDACTED]&x=1"
        );
    }

    #[test]
    fn long_bodies_are_cut_as_if_converted_whole() {
        let plain = |b: &[u8]| truncate(String::from_utf8_lossy(b).into_owned());
        for len in [
            MAX_LOGGED_BODY - 1,
            MAX_LOGGED_BODY,
            MAX_LOGGED_BODY + 1,
            MAX_LOGGED_BODY + 3,
            MAX_LOGGED_BODY + 100,
        ] {
            for fill in ["a", "é", "日本", "\u{1F527}"] {
                let mut b = fill.repeat(len / fill.len() + 1).into_bytes();
                b.truncate(len);
                assert_eq!(body(&b), plain(&b), "{len} {fill}");
            }
        }
        // A secret in the kept start is still redacted; one beyond it is not kept at all.
        let mut early = br#"{"access_token":"mw_ct_abc","pad":""#.to_vec();
        early.extend(std::iter::repeat_n(b'x', MAX_LOGGED_BODY));
        early.extend(br#""}"#);
        let logged = body(&early);
        assert!(
            !logged.contains("mw_ct_abc") && logged.contains(REDACTED),
            "{}",
            &logged[..40]
        );
        let mut late = br#"{"pad":""#.to_vec();
        late.extend(std::iter::repeat_n(b'x', MAX_LOGGED_BODY));
        late.extend(br#"","token":"mw_ct_abc"}"#);
        let logged = body(&late);
        assert!(!logged.contains("mw_ct_abc") && logged.ends_with("[truncated]"));
    }
}
