//! Tryton's JSON type encoding (reference/connectors.md §1.2): values JSON cannot hold travel as
//! objects tagged `__class__` — `Decimal`, `date`, `datetime` (naive, UTC), `bytes`, … — and
//! SQLite-backed servers send stored booleans as `1`/`0`. This module reads those into unified
//! values and writes unified values back, so nothing else handles the encoding.

use chrono::{NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use millwright_core::{model::Decimal, time::Timestamp};
use serde_json::{json, Value};

/// The `__class__` tag of an encoded value, if it is one.
fn class(value: &Value) -> Option<&str> {
    value.get("__class__").and_then(Value::as_str)
}

fn int(value: &Value, key: &str) -> Option<u32> {
    value.get(key)?.as_u64()?.try_into().ok()
}

/// A `Numeric` (`{"__class__":"Decimal","decimal":"12.5000"}`) or a `Float` (a JSON number) as a
/// decimal string, exactly as sent.
pub fn decimal(value: &Value) -> Option<Decimal> {
    match value {
        Value::Number(n) => Decimal::from_json_number(n),
        Value::String(s) => Decimal::from_number_text(s),
        Value::Object(_) if class(value) == Some("Decimal") => {
            Decimal::from_number_text(value.get("decimal")?.as_str()?)
        }
        _ => None,
    }
}

/// A `date`.
pub fn date(value: &Value) -> Option<NaiveDate> {
    match class(value)? {
        "date" | "datetime" => NaiveDate::from_ymd_opt(
            value.get("year")?.as_i64()?.try_into().ok()?,
            int(value, "month")?,
            int(value, "day")?,
        ),
        _ => None,
    }
}

/// A `datetime`: Tryton stores and sends naive UTC. A `date` reads as its midnight UTC.
pub fn timestamp(value: &Value) -> Option<Timestamp> {
    let day = date(value)?;
    let time = match class(value)? {
        "datetime" => NaiveTime::from_hms_micro_opt(
            int(value, "hour")?,
            int(value, "minute")?,
            int(value, "second")?,
            int(value, "microsecond").unwrap_or(0),
        )?,
        _ => NaiveTime::MIN,
    };
    Some(Utc.from_utc_datetime(&NaiveDateTime::new(day, time)))
}

/// A boolean: `true`/`false`, or SQLite's stored `1`/`0`.
pub fn boolean(value: &Value) -> Option<bool> {
    match value {
        Value::Bool(b) => Some(*b),
        Value::Number(n) => n.as_i64().map(|i| i != 0),
        _ => None,
    }
}

/// A record id (many2one value or `id`): a positive integer.
pub fn id(value: &Value) -> Option<i64> {
    value.as_i64().filter(|i| *i > 0)
}

/// Text: a non-blank string, trimmed.
pub fn text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        _ => None,
    }
}

/// `Decimal` in Tryton's encoding, so no amount passes through a float.
pub fn encode_decimal(value: &Decimal) -> Value {
    json!({"__class__": "Decimal", "decimal": value.as_str()})
}

/// `date` in Tryton's encoding.
pub fn encode_date(value: NaiveDate) -> Value {
    use chrono::Datelike;
    json!({"__class__": "date", "year": value.year(), "month": value.month(), "day": value.day()})
}

/// `datetime` in Tryton's encoding (naive UTC).
pub fn encode_timestamp(value: &Timestamp) -> Value {
    use chrono::{Datelike, Timelike};
    json!({
        "__class__": "datetime",
        "year": value.year(), "month": value.month(), "day": value.day(),
        "hour": value.hour(), "minute": value.minute(), "second": value.second(),
        "microsecond": value.timestamp_subsec_micros(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_every_encoding_the_server_sends() {
        let d = json!({"__class__": "Decimal", "decimal": "12.5000"});
        assert_eq!(decimal(&d).unwrap().as_str(), "12.5000");
        assert_eq!(decimal(&json!(10.0)).unwrap().as_str(), "10");
        assert_eq!(decimal(&json!(2.5)).unwrap().as_str(), "2.5");
        assert_eq!(decimal(&json!(null)), None);
        assert_eq!(decimal(&json!({"__class__": "date"})), None);

        let dt = json!({"__class__": "datetime", "year": 2026, "month": 11, "day": 27,
            "hour": 13, "minute": 1, "second": 7, "microsecond": 364308});
        assert_eq!(
            millwright_core::time::format(&timestamp(&dt).unwrap()),
            "2026-11-27T13:01:07.364308Z"
        );
        let day = json!({"__class__": "date", "year": 2026, "month": 1, "day": 15});
        assert_eq!(date(&day), NaiveDate::from_ymd_opt(2026, 1, 15));
        assert_eq!(
            millwright_core::time::format(&timestamp(&day).unwrap()),
            "2026-01-15T00:00:00Z"
        );
        assert_eq!(date(&json!("2026-01-15")), None);

        assert_eq!(boolean(&json!(1)), Some(true));
        assert_eq!(boolean(&json!(0)), Some(false));
        assert_eq!(boolean(&json!(true)), Some(true));
        assert_eq!(boolean(&json!(null)), None);
        assert_eq!(id(&json!(7)), Some(7));
        assert_eq!(id(&json!(null)), None);
        assert_eq!(text(&json!("  x ")).as_deref(), Some("x"));
        assert_eq!(text(&json!("")), None);
    }

    #[test]
    fn encodes_round_trip() {
        let amount = Decimal::parse("145.00").unwrap();
        assert_eq!(decimal(&encode_decimal(&amount)), Some(amount));
        let day = NaiveDate::from_ymd_opt(2026, 11, 27).unwrap();
        assert_eq!(date(&encode_date(day)), Some(day));
        let t = millwright_core::time::parse("2026-11-27T13:01:07.5Z").unwrap();
        assert_eq!(timestamp(&encode_timestamp(&t)), Some(t));
    }
}
