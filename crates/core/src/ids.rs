//! Prefixed, time-ordered identifiers (`con_01hx…`). The ULID part sorts by creation time, which
//! keyset pagination relies on.

/// The prefixes of every identifier Millwright issues.
pub mod prefix {
    pub const WORKSPACE: &str = "ws";
    pub const CONNECTION: &str = "con";
    pub const TOKEN: &str = "tok";
    pub const USER: &str = "usr";
    pub const REQUEST: &str = "req";
    pub const JOB: &str = "job";
    pub const EVENT: &str = "evt";
    pub const RECORD: &str = "rec";
    pub const LINK_SESSION: &str = "lks";
}

/// One monotonic generator per process: ids made within the same millisecond still sort in
/// creation order, which "newest first" lists rely on.
static GENERATOR: std::sync::Mutex<ulid::Generator> = std::sync::Mutex::new(ulid::Generator::new());

/// A new identifier `"{prefix}_{ulid}"`, with the ULID in lower case.
pub fn new_id(prefix: &str) -> String {
    let ulid = GENERATOR
        .lock()
        .ok()
        .and_then(|mut g| g.generate().ok())
        // The generator fails only if 2^80 ids are made in one millisecond; fall back to random.
        .unwrap_or_else(|| ulid::Ulid::from_datetime(std::time::SystemTime::now()));
    format!("{prefix}_{}", ulid.to_string().to_ascii_lowercase())
}

/// Whether `id` looks like an identifier with this prefix (tests check generated ids with it).
#[cfg(test)]
pub(crate) fn has_prefix(id: &str, prefix: &str) -> bool {
    id.len() == prefix.len() + 27
        && id.starts_with(prefix)
        && id.as_bytes()[prefix.len()] == b'_'
        && id[prefix.len() + 1..]
            .bytes()
            .all(|b| b.is_ascii_alphanumeric())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_carry_their_prefix_and_sort_by_time() {
        let a = new_id(prefix::CONNECTION);
        std::thread::sleep(std::time::Duration::from_millis(2));
        let b = new_id(prefix::CONNECTION);
        assert!(has_prefix(&a, "con"));
        assert!(!has_prefix(&a, "ws"));
        assert!(a < b);
        assert!(!has_prefix("con_short", "con"));
        let burst: Vec<String> = (0..1000).map(|_| new_id("x")).collect();
        assert!(
            burst.windows(2).all(|w| w[0] < w[1]),
            "monotonic within a millisecond"
        );
    }
}
