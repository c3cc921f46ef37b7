//! Stored records: their stable ids and the JSON shape every read and event shows.
//!
//! A record's Millwright id is derived from (connection, entity, remote id), so it is stable
//! across syncs and resyncs, and a relation field (`asset_id`) can be rewritten from the
//! source's id to Millwright's without looking anything up.

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::{time, time::Timestamp, Entity};

pub const RECORD_PREFIX: &str = "rec";
const CROCKFORD: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";

/// The stable Millwright id of a source record: `rec_` + 26 base32 characters of
/// SHA-256(connection id, entity, remote id).
pub fn record_id(connection_id: &str, entity: Entity, remote_id: &str) -> String {
    let mut h = Sha256::new();
    for part in [connection_id, entity.as_str(), remote_id] {
        h.update((part.len() as u64).to_be_bytes());
        h.update(part.as_bytes());
    }
    let digest = h.finalize();
    // 130 bits of the digest in 26 Crockford base32 characters.
    let mut bits: u128 = u128::from_be_bytes(digest[..16].try_into().expect("16 bytes"));
    let mut out = [0u8; 26];
    for slot in out.iter_mut().rev() {
        *slot = CROCKFORD[(bits & 31) as usize];
        bits >>= 5;
    }
    format!(
        "{RECORD_PREFIX}_{}",
        std::str::from_utf8(&out).expect("ascii")
    )
}

/// Hash of what a record says (unified fields, custom fields, remote timestamps): equal hashes
/// mean nothing changed, so no write and no event. Keys are sorted by serde_json's map, so the
/// hash does not depend on field order.
pub fn content_hash(
    data: &Value,
    custom_fields: &Value,
    remote_updated_at: Option<&Timestamp>,
) -> String {
    let mut h = Sha256::new();
    h.update(serde_json::to_vec(data).unwrap_or_default());
    h.update([0]);
    h.update(serde_json::to_vec(custom_fields).unwrap_or_default());
    h.update([0]);
    if let Some(t) = remote_updated_at {
        h.update(time::format(t).as_bytes());
    }
    hex::encode(&h.finalize()[..16])
}

/// What a stored record holds, for building its public JSON.
pub struct RecordParts<'a> {
    pub id: &'a str,
    pub remote_id: &'a str,
    /// The unified fields (relations already rewritten to Millwright ids).
    pub data: &'a Value,
    pub custom_fields: &'a Value,
    pub display_name: Option<&'a str>,
    pub remote_created_at: Option<Timestamp>,
    pub remote_updated_at: Option<Timestamp>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub deleted_at: Option<Timestamp>,
    /// `Some` only with `include=remote_data`.
    pub remote_data: Option<&'a Value>,
}

fn ts(t: Option<Timestamp>) -> Value {
    t.map(|t| Value::String(time::format(&t)))
        .unwrap_or(Value::Null)
}

/// The record as the unified API and events show it: the common fields of contract §5 and the
/// entity's own fields side by side.
pub fn record_json(p: &RecordParts<'_>) -> Value {
    let mut m = Map::new();
    m.insert("id".into(), Value::String(p.id.into()));
    m.insert("remote_id".into(), Value::String(p.remote_id.into()));
    m.insert(
        "display_name".into(),
        p.display_name
            .map(|s| Value::String(s.into()))
            .unwrap_or(Value::Null),
    );
    if let Value::Object(fields) = p.data {
        for (k, v) in fields {
            m.insert(k.clone(), v.clone());
        }
    }
    m.insert("remote_created_at".into(), ts(p.remote_created_at));
    m.insert("remote_updated_at".into(), ts(p.remote_updated_at));
    m.insert("created_at".into(), ts(Some(p.created_at)));
    m.insert("updated_at".into(), ts(Some(p.updated_at)));
    m.insert("deleted_at".into(), ts(p.deleted_at));
    m.insert(
        "custom_fields".into(),
        match p.custom_fields {
            Value::Object(_) => p.custom_fields.clone(),
            _ => Value::Object(Map::new()),
        },
    );
    if let Some(raw) = p.remote_data {
        m.insert("remote_data".into(), raw.clone());
    }
    Value::Object(m)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ids_are_stable_distinct_and_well_formed() {
        let a = record_id("con_1", Entity::WorkOrders, "42");
        assert_eq!(a, record_id("con_1", Entity::WorkOrders, "42"));
        assert_ne!(a, record_id("con_2", Entity::WorkOrders, "42"));
        assert_ne!(a, record_id("con_1", Entity::Assets, "42"));
        assert_ne!(a, record_id("con_1", Entity::WorkOrders, "421"));
        // Length-prefixing keeps ("ab","c") apart from ("a","bc").
        assert_ne!(
            record_id("con_1", Entity::Assets, "ab"),
            record_id("con_1a", Entity::Assets, "b")
        );
        assert!(crate::ids::has_prefix(&a, RECORD_PREFIX), "{a}");
    }

    #[test]
    fn content_hash_ignores_key_order_and_sees_changes() {
        let a = content_hash(&json!({"a": 1, "b": 2}), &json!({}), None);
        let b = content_hash(&json!({"b": 2, "a": 1}), &json!({}), None);
        assert_eq!(a, b);
        assert_ne!(a, content_hash(&json!({"a": 1, "b": 3}), &json!({}), None));
        assert_ne!(
            a,
            content_hash(&json!({"a": 1, "b": 2}), &json!({"x": "1"}), None)
        );
    }

    #[test]
    fn record_json_has_the_common_fields() {
        let now = time::now();
        let v = record_json(&RecordParts {
            id: "rec_x",
            remote_id: "7",
            data: &json!({"title": "Fix pump", "status": "open"}),
            custom_fields: &json!({"Shift": "B"}),
            display_name: Some("Fix pump"),
            remote_created_at: None,
            remote_updated_at: Some(now),
            created_at: now,
            updated_at: now,
            deleted_at: None,
            remote_data: None,
        });
        for k in [
            "id",
            "remote_id",
            "display_name",
            "remote_created_at",
            "remote_updated_at",
            "created_at",
            "updated_at",
            "deleted_at",
            "custom_fields",
            "title",
            "status",
        ] {
            assert!(v.get(k).is_some(), "{k}");
        }
        assert!(v.get("remote_data").is_none());
        assert_eq!(v["custom_fields"]["Shift"], "B");
    }
}
