//! The mapping framework: what every connector's `mapping.rs` shares, so that a connector's
//! mapping is its tables plus the few converters its wire format needs.
//!
//! A connector describes each unified entity as a table of [`FieldMap`] rows (unified field ←
//! source field, how to read it) and implements [`Source`] once: where a source path points in
//! a raw record, how the system writes text, ids, times, decimals, …, and where a record keeps
//! its id and timestamps. [`to_record`] then turns a raw object into a [`RemoteRecord`],
//! [`read_fields`] applies a table to a nested object (purchase order lines), and [`lookup`] /
//! [`code_for`] read the enum translation tables both ways.
//!
//! An unreadable value leaves its unified field empty rather than failing the record (the raw
//! object is kept in `remote_data`); only a record without an id, or one whose fields the
//! unified model refuses, is an error.

mod fields;

use std::borrow::Cow;

use chrono::NaiveDate;
use millwright_core::{
    model::{Address, Decimal},
    time::{self, Timestamp},
    Entity,
};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::{ConnectorError, RemoteRecord};

/// One unified field and where it comes from.
#[derive(Clone, Copy)]
pub struct FieldMap {
    /// The unified field.
    pub field: &'static str,
    /// The source field: a name or path (what a path means is the [`Source`]'s to say), `a|b`
    /// for alternatives (the first present counts), or a short description for a computed
    /// field.
    pub source: &'static str,
    /// How the source value becomes the unified one.
    pub read: Read,
}

/// A table row: `field` ← `source`, read as `read`. Short, so that tables read as tables.
pub const fn f(field: &'static str, source: &'static str, read: Read) -> FieldMap {
    FieldMap {
        field,
        source,
        read,
    }
}

/// How a source value becomes a unified one. Each kind goes through the [`Source`]'s
/// converter of the same name, so `Time` means RFC 3339 to one system and `/Date(ms)/` to
/// another.
#[derive(Clone, Copy)]
pub enum Read {
    /// Text ([`Source::text`]).
    Text,
    /// A record id → its text ([`Source::id`]).
    Id,
    /// A list of ids ([`Source::ids`]).
    Ids,
    /// A timestamp → RFC 3339 UTC ([`Source::time`]).
    Time,
    /// A date, or the UTC date of a timestamp → `YYYY-MM-DD` ([`Source::date`]).
    Date,
    /// A number, kept exact ([`Source::decimal`]).
    Decimal,
    /// A boolean ([`Source::boolean`]).
    Bool,
    /// A boolean that means the opposite (`isDisabled` → `active`).
    NotBool,
    /// Seconds → hours with two decimals.
    HoursFromSeconds,
    /// An address ([`Source::address`]); the lookup asks for the related object.
    Address,
    /// A code ([`Source::code`]) through a translation table.
    Table(fn(&str) -> Option<Value>),
    /// Computed from the whole object; `source` only describes it.
    Custom(fn(&Map<String, Value>) -> Option<Value>),
}

/// What the framework needs to know about one source system: where a table's source names
/// point, how the system writes values (the defaults suit plain JSON), and where a record keeps
/// its id, timestamps and custom fields.
///
/// Implemented by a unit type per connector; every function is associated (no `self`), so the
/// framework's functions are generic over it and compile to direct calls.
pub trait Source {
    /// The field table of `entity`; empty for an entity the system does not have.
    fn fields(entity: Entity) -> &'static [FieldMap];

    /// The record's remote id, or why it has none (or why `entity` cannot be read at all).
    fn remote_id(entity: Entity, raw: &Map<String, Value>) -> Result<String, ConnectorError>;

    /// How messages name a record of `entity` (`MaintainX work_order`, `SAP MaintenanceOrder`).
    fn record_name(entity: Entity) -> String;

    /// When the source created the record, if it says.
    fn created_at(entity: Entity, raw: &Map<String, Value>) -> Option<Timestamp>;

    /// When the source last changed the record, if it says.
    fn updated_at(entity: Entity, raw: &Map<String, Value>) -> Option<Timestamp>;

    /// The record's custom fields; none unless the system has them.
    fn custom_fields(raw: &Map<String, Value>) -> Map<String, Value> {
        let _ = raw;
        Map::new()
    }

    /// The value one alternative of a [`FieldMap::source`] (trimmed) names in `raw`: by
    /// default a top-level key. `object` says the read wants a related object (an address)
    /// rather than its id, for systems that send both.
    fn lookup<'a>(raw: &'a Map<String, Value>, path: &str, object: bool) -> Option<Cow<'a, Value>> {
        let _ = object;
        raw.get(path).map(Cow::Borrowed)
    }

    /// Whether a value found counts as there; if not, the next alternative is tried. By
    /// default anything but `null`.
    fn present(value: &Value) -> bool {
        !value.is_null()
    }

    /// Text: by default [`text`].
    fn text(value: &Value) -> Option<String> {
        text(value)
    }

    /// The code a translation table is searched for: by default the [`Source::text`], borrowed
    /// where it can be.
    fn code(value: &Value) -> Option<Cow<'_, str>> {
        match value {
            Value::String(s) => Some(s.trim()).filter(|s| !s.is_empty()).map(Cow::Borrowed),
            other => Self::text(other).map(Cow::Owned),
        }
    }

    /// A record id: by default [`id_text`].
    fn id(value: &Value) -> Option<String> {
        id_text(value)
    }

    /// A list of ids: by default each [`Source::id`] of an array, in order.
    fn ids(value: &Value) -> Option<Vec<String>> {
        Some(value.as_array()?.iter().filter_map(Self::id).collect())
    }

    /// A timestamp: by default [`time`] (RFC 3339).
    fn time(value: &Value) -> Option<Timestamp> {
        time(value)
    }

    /// A date: by default the UTC date of a [`Source::time`].
    fn date(value: &Value) -> Option<NaiveDate> {
        Self::time(value).map(|t| t.date_naive())
    }

    /// An exact number: by default [`decimal`].
    fn decimal(value: &Value) -> Option<Decimal> {
        decimal(value)
    }

    /// A boolean: by default a JSON boolean.
    fn boolean(value: &Value) -> Option<bool> {
        value.as_bool()
    }

    /// An address. By default none: a system whose tables read no [`Read::Address`] needs no
    /// address format.
    fn address(value: &Value) -> Option<Address> {
        let _ = value;
        None
    }
}

// ---------------------------------------------------------------------------------------------
// Reading records.

/// A raw object of `entity` as a [`RemoteRecord`]: its id, the unified fields per the entity's
/// table, timestamps and custom fields where the source keeps them, and the raw object itself
/// as `remote_data`.
pub fn to_record<S: Source>(
    entity: Entity,
    raw: Map<String, Value>,
) -> Result<RemoteRecord, ConnectorError> {
    let remote_id = S::remote_id(entity, &raw)?;
    let data = fields::entity_data::<S>(entity, S::fields(entity), &raw).map_err(|e| {
        ConnectorError::Upstream {
            status: 200,
            message: format!("{} {remote_id} did not map: {e}", S::record_name(entity)),
        }
    })?;
    Ok(RemoteRecord {
        remote_id,
        remote_created_at: S::created_at(entity, &raw),
        remote_updated_at: S::updated_at(entity, &raw),
        data,
        custom_fields: S::custom_fields(&raw),
        remote_data: Value::Object(raw),
    })
}

/// Applies a table to one object (a purchase order line, say): the unified fields that have a
/// value, as JSON.
pub fn read_fields<S: Source>(table: &[FieldMap], raw: &Map<String, Value>) -> Map<String, Value> {
    table
        .iter()
        .filter_map(|field| Some((field.field.to_string(), read::<S>(field, raw)?)))
        .collect()
}

/// One table row applied to `raw`: the unified value as JSON, `None` when the source has none
/// or it does not read.
pub fn read<S: Source>(field: &FieldMap, raw: &Map<String, Value>) -> Option<Value> {
    if let Read::Custom(compute) = field.read {
        return compute(raw);
    }
    let object = matches!(field.read, Read::Address);
    let value = field
        .source
        .split('|')
        .find_map(|path| S::lookup(raw, path.trim(), object).filter(|v| S::present(v)))?;
    let value = value.as_ref();
    match field.read {
        Read::Text => S::text(value).map(Value::String),
        Read::Id => S::id(value).map(Value::String),
        Read::Ids => S::ids(value).map(|ids| ids.into_iter().map(Value::String).collect()),
        Read::Time => S::time(value).map(|t| Value::String(format_time(&t))),
        Read::Date => S::date(value).map(|d| Value::String(d.to_string())),
        Read::Decimal => S::decimal(value).map(|d| Value::String(d.into_string())),
        Read::Bool => S::boolean(value).map(Value::Bool),
        Read::NotBool => S::boolean(value).map(|b| Value::Bool(!b)),
        Read::HoursFromSeconds => {
            if let Some(seconds) = value.as_i64() {
                return Some(Value::String(hours_from_seconds(seconds)));
            }
            let seconds = S::decimal(value)?.to_scaled(0)?;
            Decimal::ratio(seconds, 3600, 2).map(|d| Value::String(d.into_string()))
        }
        Read::Address => S::address(value).and_then(json),
        Read::Table(translate) => translate(&S::code(value)?),
        // Returned above.
        Read::Custom(_) => None,
    }
}

/// Where each unified field of `entity` comes from, for [`crate::Connector::field_mappings`]:
/// the rows of its table and, for purchase orders, the rows of `lines` as `line_items.<field>`.
pub fn field_mappings<S: Source>(
    entity: Entity,
    lines: &[FieldMap],
) -> Vec<(&'static str, &'static str)> {
    let mut rows: Vec<_> = S::fields(entity)
        .iter()
        .map(|f| (f.field, f.source))
        .collect();
    if entity == Entity::PurchaseOrders {
        rows.extend(
            lines
                .iter()
                .map(|f| (crate::line_item_field(f.field), f.source)),
        );
    }
    rows
}

// ---------------------------------------------------------------------------------------------
// Translation tables: `(source code, unified value)` rows; the first row for a unified value is
// what a write sends.

/// The unified value of a source code: case-insensitive, surrounding blanks ignored.
pub fn lookup<T: Copy>(table: &[(&str, T)], code: &str) -> Option<T> {
    let code = code.trim();
    table
        .iter()
        .find(|(c, _)| c.eq_ignore_ascii_case(code))
        .map(|(_, v)| *v)
}

/// The source code a write sends for a unified value: its first row.
pub fn code_for<C: Copy, T: Copy + PartialEq>(table: &[(C, T)], value: T) -> Option<C> {
    table.iter().find(|(_, v)| *v == value).map(|(c, _)| *c)
}

/// A unified value (an enum, an address) as JSON.
pub fn json<T: Serialize>(value: T) -> Option<Value> {
    serde_json::to_value(value).ok()
}

/// What [`time::format`] writes (RFC 3339, UTC as `Z`, 0, 3, 6 or 9 fraction digits as the
/// instant needs), written digit by digit: chrono's general formatter costs more than all the
/// rest of a work order's mapping. Years outside 0–9999 and leap seconds, which chrono writes
/// its own way, go through [`time::format`].
pub fn format_time(t: &Timestamp) -> String {
    use chrono::{Datelike, Timelike};
    let (date, clock) = (t.date_naive(), t.time());
    let (year, nanos) = (date.year(), clock.nanosecond());
    if !(0..=9999).contains(&year) || nanos >= 1_000_000_000 {
        return time::format(t);
    }
    let mut text = *b"0000-00-00T00:00:00.000000000Z";
    put_digits(&mut text[0..4], year as u32);
    put_digits(&mut text[5..7], date.month());
    put_digits(&mut text[8..10], date.day());
    put_digits(&mut text[11..13], clock.hour());
    put_digits(&mut text[14..16], clock.minute());
    put_digits(&mut text[17..19], clock.second());
    let end = match nanos {
        0 => 19,
        n if n % 1_000_000 == 0 => put_digits(&mut text[20..23], n / 1_000_000) + 20,
        n if n % 1_000 == 0 => put_digits(&mut text[20..26], n / 1_000) + 20,
        n => put_digits(&mut text[20..29], n) + 20,
    };
    text[end] = b'Z';
    // Only ASCII was written; the fallback is never taken.
    std::str::from_utf8(&text[..=end]).map_or_else(|_| time::format(t), str::to_owned)
}

/// Writes `value` into `digits`, zero-padded to its length; answers that length.
fn put_digits(digits: &mut [u8], mut value: u32) -> usize {
    for digit in digits.iter_mut().rev() {
        *digit = b'0' + (value % 10) as u8;
        value /= 10;
    }
    digits.len()
}

/// Whole seconds → hours with two decimals, rounded half away from zero: the text of
/// `Decimal::ratio(seconds, 3600, 2)`, written directly (that general path formats its
/// result three times over).
fn hours_from_seconds(seconds: i64) -> String {
    let hundredths = i128::from(seconds) * 100;
    let (quotient, remainder) = (hundredths / 3600, hundredths % 3600);
    let rounded = if remainder.unsigned_abs() * 2 >= 3600 {
        quotient + hundredths.signum()
    } else {
        quotient
    };
    let sign = if rounded < 0 { "-" } else { "" };
    let units = rounded.unsigned_abs();
    format!("{sign}{}.{:02}", units / 100, units % 100)
}

// ---------------------------------------------------------------------------------------------
// Plain JSON converters: the [`Source`] defaults, for connectors' computed fields too.

/// A non-blank string, trimmed, or a number's text.
pub fn text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// An RFC 3339 string.
pub fn time(value: &Value) -> Option<Timestamp> {
    time::parse(value.as_str()?)
}

/// A JSON number or a numeric string, kept exact.
pub fn decimal(value: &Value) -> Option<Decimal> {
    match value {
        Value::Number(n) => Decimal::from_json_number(n),
        Value::String(s) => Decimal::from_number_text(s),
        _ => None,
    }
}

/// An id sent as a number or a non-empty string.
pub fn id_text(value: &Value) -> Option<String> {
    match value {
        Value::Number(n) => Some(n.to_string()),
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use millwright_core::model::{EntityData, WorkOrder, WorkOrderPriority, WorkOrderStatus};
    use serde_json::json;

    /// Plain JSON with dotted sources read as top-level keys: the defaults.
    struct Plain;

    fn priority(code: &str) -> Option<Value> {
        json(lookup(PRIORITY, code)?)
    }

    fn title_and_number(raw: &Map<String, Value>) -> Option<Value> {
        Some(Value::String(format!(
            "{} {}",
            text(raw.get("n")?)?,
            text(raw.get("t")?)?
        )))
    }

    const PRIORITY: &[(&str, WorkOrderPriority)] = &[
        ("HI", WorkOrderPriority::High),
        ("HIGH", WorkOrderPriority::High),
        ("LO", WorkOrderPriority::Low),
    ];

    #[rustfmt::skip]
    const WORK_ORDER: &[FieldMap] = &[
        f("number",          "n",      Read::Text),
        f("title",           "t|n",    Read::Text),
        f("description",     "n + t",  Read::Custom(title_and_number)),
        f("priority",        "p",      Read::Table(priority)),
        f("asset_id",        "a",      Read::Id),
        f("assignee_ids",    "u",      Read::Ids),
        f("due_at",          "d",      Read::Time),
        f("estimated_hours", "s",      Read::HoursFromSeconds),
        f("actual_hours",    "h",      Read::Decimal),
    ];

    impl Source for Plain {
        fn fields(entity: Entity) -> &'static [FieldMap] {
            match entity {
                Entity::WorkOrders => WORK_ORDER,
                _ => &[],
            }
        }

        fn remote_id(_: Entity, raw: &Map<String, Value>) -> Result<String, ConnectorError> {
            raw.get("id")
                .and_then(id_text)
                .ok_or_else(|| ConnectorError::Upstream {
                    status: 200,
                    message: "no id".into(),
                })
        }

        fn record_name(entity: Entity) -> String {
            format!("Plain {}", entity.event_name())
        }

        fn created_at(_: Entity, raw: &Map<String, Value>) -> Option<Timestamp> {
            raw.get("c").and_then(time)
        }

        fn updated_at(_: Entity, _: &Map<String, Value>) -> Option<Timestamp> {
            None
        }
    }

    fn object(value: Value) -> Map<String, Value> {
        value.as_object().unwrap().clone()
    }

    #[test]
    fn a_table_maps_a_record_field_by_field() {
        let raw = json!({"id": 7, "n": 1042, "t": "  Seal  ", "p": " hi ", "a": "A-1",
                         "u": [3, "x", null, ""], "d": "2026-03-21T17:00:00.000+01:00",
                         "s": 5400, "h": "1.5E1", "c": "2026-01-01T00:00:00Z"});
        let record = to_record::<Plain>(Entity::WorkOrders, object(raw.clone())).unwrap();
        assert_eq!(record.remote_id, "7");
        assert_eq!(
            record.remote_created_at,
            time::parse("2026-01-01T00:00:00Z")
        );
        assert_eq!(record.remote_data, raw);
        assert!(record.custom_fields.is_empty());
        assert_eq!(
            record.data,
            EntityData::WorkOrders(WorkOrder {
                number: Some("1042".into()),
                title: Some("Seal".into()),
                description: Some("1042 Seal".into()),
                priority: Some(WorkOrderPriority::High),
                asset_id: Some("A-1".into()),
                assignee_ids: vec!["3".into(), "x".into()],
                due_at: time::parse("2026-03-21T16:00:00Z"),
                estimated_hours: Decimal::parse("1.50").ok(),
                actual_hours: Decimal::parse("15").ok(),
                ..WorkOrder::default()
            })
        );
        // The typed record reads exactly what the table's JSON form says.
        let fields = read_fields::<Plain>(WORK_ORDER, &object(raw));
        assert_eq!(
            EntityData::from_json(Entity::WorkOrders, Value::Object(fields)).unwrap(),
            record.data
        );
    }

    #[test]
    fn alternatives_and_unreadable_values() {
        let raw = object(
            json!({"id": "w", "t": null, "n": "N", "p": "??", "d": "yesterday",
                                "s": "x", "u": "not a list"}),
        );
        let EntityData::WorkOrders(wo) = to_record::<Plain>(Entity::WorkOrders, raw).unwrap().data
        else {
            unreachable!()
        };
        assert_eq!(wo.title.as_deref(), Some("N"), "null falls through to `n`");
        assert_eq!(wo.priority, None);
        assert_eq!(wo.due_at, None);
        assert_eq!(wo.estimated_hours, None);
        assert!(wo.assignee_ids.is_empty());
        assert_eq!(wo.description, None, "a computed field without its inputs");
    }

    #[test]
    fn refusals_name_the_record() {
        let missing = to_record::<Plain>(Entity::WorkOrders, object(json!({"n": 1})));
        assert!(
            matches!(missing, Err(ConnectorError::Upstream { message, .. }) if message == "no id")
        );

        fn bad_status(_: &str) -> Option<Value> {
            Some(json!("done"))
        }
        struct Bad;
        impl Source for Bad {
            fn fields(_: Entity) -> &'static [FieldMap] {
                const TABLE: &[FieldMap] = &[f("status", "s", Read::Table(bad_status))];
                TABLE
            }
            fn remote_id(e: Entity, raw: &Map<String, Value>) -> Result<String, ConnectorError> {
                Plain::remote_id(e, raw)
            }
            fn record_name(entity: Entity) -> String {
                Plain::record_name(entity)
            }
            fn created_at(_: Entity, _: &Map<String, Value>) -> Option<Timestamp> {
                None
            }
            fn updated_at(_: Entity, _: &Map<String, Value>) -> Option<Timestamp> {
                None
            }
        }
        let raw = object(json!({"id": 1, "s": "x"}));
        let err = to_record::<Bad>(Entity::WorkOrders, raw.clone()).unwrap_err();
        let expected = EntityData::from_json(
            Entity::WorkOrders,
            Value::Object(read_fields::<Bad>(Bad::fields(Entity::WorkOrders), &raw)),
        )
        .unwrap_err();
        let ConnectorError::Upstream { message, .. } = err else {
            panic!("{err:?}")
        };
        assert_eq!(
            message,
            format!("Plain work_order 1 did not map: {expected}")
        );
        assert!(message.contains("unknown variant `done`"), "{message}");
    }

    #[test]
    fn translation_tables_both_ways() {
        assert_eq!(lookup(PRIORITY, " high "), Some(WorkOrderPriority::High));
        assert_eq!(lookup(PRIORITY, "urgent"), None);
        assert_eq!(code_for(PRIORITY, WorkOrderPriority::High), Some("HI"));
        assert_eq!(
            code_for(&[(1, WorkOrderStatus::Open)], WorkOrderStatus::Open),
            Some(1)
        );
        assert_eq!(code_for(PRIORITY, WorkOrderPriority::Urgent), None);
    }

    #[test]
    fn no_table_names_a_field_twice() {
        // A JSON object of the fields would keep the later of two rows; the typed read refuses
        // the record instead. Neither is wanted: one row per unified field.
        use crate::{maintainx, maximo, sap, tryton};
        let mut tables: Vec<&[FieldMap]> = vec![
            maintainx::mapping::PURCHASE_ORDER_LINE,
            maximo::mapping::PURCHASE_ORDER_LINE,
            sap::mapping::PURCHASE_ORDER_LINE,
            tryton::mapping::PURCHASE_LINE.table,
        ];
        for entity in Entity::ALL {
            tables.push(maintainx::mapping::Wire::fields(entity));
            tables.push(maximo::mapping::Wire::fields(entity));
            tables.push(sap::mapping::Wire::fields(entity));
            tables.push(tryton::mapping::Wire::fields(entity));
        }
        for table in tables {
            for (i, row) in table.iter().enumerate() {
                assert!(
                    table[i + 1..].iter().all(|other| other.field != row.field),
                    "{} twice",
                    row.field
                );
            }
        }
    }

    #[test]
    fn times_are_written_as_core_writes_them() {
        use chrono::{DateTime, Duration};
        let base = time::parse("2026-03-21T17:00:00Z").unwrap();
        let mut instants = vec![
            base,
            time::parse("0001-01-01T00:00:00Z").unwrap(),
            time::parse("9999-12-31T23:59:59.999999Z").unwrap(),
            DateTime::from_timestamp_millis(-62_200_000_000_000).unwrap(),
            DateTime::from_timestamp_millis(300_000_000_000_000).unwrap(),
            // A leap second.
            DateTime::from_timestamp(1_000_000_019, 1_500_000_000).unwrap(),
        ];
        for step in [1, 7, 1_000, 1_001, 1_000_000, 120_000_000, 999_999_999] {
            instants.push(base + Duration::nanoseconds(step));
            instants.push(base - Duration::nanoseconds(step) + Duration::days(40_000));
        }
        for t in instants {
            assert_eq!(format_time(&t), time::format(&t), "{t:?}");
        }
    }

    #[test]
    fn whole_seconds_become_hours_as_decimal_ratio_has_them() {
        let mut seconds: Vec<i64> = (-7300..7300).step_by(3).collect();
        seconds.extend([
            0,
            17,
            18,
            19,
            -17,
            -18,
            -19,
            5400,
            1_000,
            i64::MAX,
            i64::MIN,
        ]);
        for s in seconds {
            let expected = Decimal::ratio(i128::from(s), 3600, 2).map(Decimal::into_string);
            assert_eq!(Some(hours_from_seconds(s)), expected, "{s} s");
        }
    }

    #[test]
    fn plain_converters() {
        assert_eq!(text(&json!("  x ")).as_deref(), Some("x"));
        assert_eq!(text(&json!(" ")), None);
        assert_eq!(text(&json!(2.5)).as_deref(), Some("2.5"));
        assert_eq!(text(&json!(true)), None);
        assert_eq!(id_text(&json!(12)).as_deref(), Some("12"));
        assert_eq!(id_text(&json!("")), None);
        assert_eq!(
            decimal(&json!("1e2")).map(Decimal::into_string).as_deref(),
            Some("100")
        );
        assert_eq!(decimal(&json!(null)), None);
        assert_eq!(Plain::code(&json!(" a ")).as_deref(), Some("a"));
        assert_eq!(Plain::code(&json!(3)).as_deref(), Some("3"));
        assert_eq!(
            Plain::date(&json!("2026-03-21T23:30:00-01:00")),
            NaiveDate::from_ymd_opt(2026, 3, 22)
        );
    }
}
