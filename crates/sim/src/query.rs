//! Query strings with repeatable parameters.
//!
//! Vendor APIs repeat parameters (`expand=asset&expand=location`), which axum's `Query`
//! extractor cannot represent, and list responses must echo the query back in `nextPageUrl`.
//! This keeps the pairs in order, decoded, and can write them out again.

/// The decoded `key=value` pairs of a query string, in order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Query {
    pairs: Vec<(String, String)>,
}

impl Query {
    /// Parses a raw query string (without the `?`); `+` is a space, `%XX` a byte.
    pub(crate) fn parse(raw: Option<&str>) -> Self {
        let pairs = raw
            .unwrap_or("")
            .split('&')
            .filter(|part| !part.is_empty())
            .map(|part| {
                let (key, value) = part.split_once('=').unwrap_or((part, ""));
                (decode(key), decode(value))
            })
            .collect();
        Query { pairs }
    }

    /// The first value of `key`.
    pub(crate) fn get(&self, key: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Every value of `key`, in order.
    pub(crate) fn all<'a>(&'a self, key: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.pairs
            .iter()
            .filter(move |(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The query with `key` set to `value` first and every other pair after it, encoded.
    pub(crate) fn encode_with_first(&self, key: &str, value: &str) -> String {
        let mut out = format!("{}={}", encode(key), encode(value));
        for (k, v) in self.pairs.iter().filter(|(k, _)| k != key) {
            out.push('&');
            out.push_str(&encode(k));
            out.push('=');
            out.push_str(&encode(v));
        }
        out
    }
}

fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                    (Some(h), Some(l)) => {
                        out.push(h << 4 | l);
                        i += 2;
                    }
                    // A stray `%` stays literal, as browsers and most servers treat it.
                    _ => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Percent-encodes everything but RFC 3986 unreserved characters.
pub(crate) fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_keys_and_decoding() {
        let q = Query::parse(Some("expand=asset&expand=location&title=Pump+3%2Fseal&x"));
        assert_eq!(q.all("expand").collect::<Vec<_>>(), ["asset", "location"]);
        assert_eq!(q.get("title"), Some("Pump 3/seal"));
        assert_eq!(q.get("x"), Some(""));
        assert_eq!(q.get("missing"), None);
    }

    #[test]
    fn stray_percent_is_literal() {
        assert_eq!(Query::parse(Some("a=100%")).get("a"), Some("100%"));
        assert_eq!(Query::parse(Some("a=%zz")).get("a"), Some("%zz"));
    }

    #[test]
    fn re_encoding_puts_the_new_key_first() {
        let q = Query::parse(Some("limit=10&cursor=old&expand=asset"));
        assert_eq!(
            q.encode_with_first("cursor", "a/b"),
            "cursor=a%2Fb&limit=10&expand=asset"
        );
    }
}
