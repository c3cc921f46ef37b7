//! Which events an endpoint takes: pure rules shared by the store's fan-out and the API.

/// Whether an endpoint with these filters takes an event of `event_type` from `connection_id`.
/// `event_types` holds exact types or prefixes ending in `.*` (`work_order.*`); empty takes every
/// type. `connection_ids` empty takes every connection; otherwise the event must come from one
/// of them (events of no connection, such as `webhook.endpoint.disabled`, pass only when it is
/// empty).
pub fn matches(
    event_types: &[String],
    connection_ids: &[String],
    event_type: &str,
    connection_id: Option<&str>,
) -> bool {
    let type_ok = event_types.is_empty()
        || event_types.iter().any(|t| match t.strip_suffix('*') {
            Some(prefix) if prefix.ends_with('.') => event_type.starts_with(prefix),
            _ => t == event_type,
        });
    let connection_ok = connection_ids.is_empty()
        || connection_id.is_some_and(|c| connection_ids.iter().any(|x| x == c));
    type_ok && connection_ok
}

/// Whether `t` is a valid `event_types` entry: an exact type or a `prefix.*`.
pub fn valid_type_filter(t: &str) -> bool {
    let body = t.strip_suffix(".*").unwrap_or(t);
    !body.is_empty()
        && body.split('.').all(|part| {
            !part.is_empty() && part.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(x: &[&str]) -> Vec<String> {
        x.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn types_and_connections() {
        assert!(matches(&[], &[], "work_order.updated", Some("con_1")));
        assert!(matches(
            &v(&["work_order.*"]),
            &[],
            "work_order.updated",
            None
        ));
        assert!(!matches(
            &v(&["work_order.*"]),
            &[],
            "work_orders.updated",
            None
        ));
        assert!(matches(
            &v(&["sync.completed"]),
            &[],
            "sync.completed",
            None
        ));
        assert!(!matches(&v(&["sync.completed"]), &[], "sync.failed", None));
        assert!(matches(&[], &v(&["con_1"]), "x.y", Some("con_1")));
        assert!(!matches(&[], &v(&["con_1"]), "x.y", Some("con_2")));
        assert!(!matches(&[], &v(&["con_1"]), "x.y", None));
        assert!(valid_type_filter("work_order.*"));
        assert!(valid_type_filter("connection.requires_reauthorization"));
        assert!(!valid_type_filter("*"));
        assert!(!valid_type_filter("Work.Order"));
        assert!(!valid_type_filter("a..b"));
    }
}
