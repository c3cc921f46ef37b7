//! Per-connection field mappings, applied when records are read: extra source fields into
//! `custom_fields`, or a unified field read from another source field. Stored on the connection
//! as `{"<entity>": {"custom_fields": {"<name>": "<source path>"}, "fields": {"<unified field>":
//! "<source path>"}}}`; a source path is dotted (`extraFields.Criticality`) into the record's
//! raw source data. They take effect on the next read, with no resync.

use millwright_core::Entity;
use serde_json::{Map, Value};

use crate::{error::FieldError, validate::Problems};

/// Looks up a dotted path in the raw source record.
fn lookup<'a>(raw: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(raw, |v, key| match v {
        Value::Object(m) => m.get(key),
        Value::Array(a) => key.parse::<usize>().ok().and_then(|i| a.get(i)),
        _ => None,
    })
}

/// Applies the mappings of `entity` to one record's fields.
pub fn apply(mappings: &Value, entity: Entity, raw: &Value, data: &mut Value, custom: &mut Value) {
    let Some(m) = mappings.get(entity.as_str()) else {
        return;
    };
    if let (Some(Value::Object(extra)), Value::Object(c)) = (m.get("custom_fields"), &mut *custom) {
        for (name, path) in extra {
            if let Some(path) = path.as_str() {
                c.insert(
                    name.clone(),
                    lookup(raw, path).cloned().unwrap_or(Value::Null),
                );
            }
        }
    }
    if let (Some(Value::Object(remaps)), Value::Object(d)) = (m.get("fields"), &mut *data) {
        for (field, path) in remaps {
            if let Some(path) = path.as_str() {
                d.insert(
                    field.clone(),
                    lookup(raw, path).cloned().unwrap_or(Value::Null),
                );
            }
        }
    }
}

/// Validates a `field_mappings` object from `PATCH /connections/{id}`.
pub fn validate(p: &mut Problems, v: &Value, readable: &[Entity]) -> Value {
    let Some(obj) = v.as_object() else {
        p.add("field_mappings", "must be an object keyed by entity");
        return Value::Object(Map::new());
    };
    for (entity, spec) in obj {
        let field = format!("field_mappings.{entity}");
        match Entity::parse(entity) {
            Some(e) if readable.contains(&e) => {}
            _ => {
                p.0.push(FieldError::new(
                    &field,
                    "is not an entity this connection reads",
                ));
                continue;
            }
        }
        let Some(spec) = spec.as_object() else {
            p.add(&field, "must be an object with custom_fields and/or fields");
            continue;
        };
        for (k, inner) in spec {
            let here = format!("{field}.{k}");
            if k != "custom_fields" && k != "fields" {
                p.add(&here, "must be custom_fields or fields");
                continue;
            }
            let Some(inner) = inner.as_object() else {
                p.add(&here, "must map names to source field paths");
                continue;
            };
            for (name, path) in inner {
                if name.is_empty() || path.as_str().is_none_or(|s| s.is_empty()) {
                    p.add(
                        format!("{here}.{name}"),
                        "must be a non-empty source field path",
                    );
                }
                if k == "fields"
                    && ["id", "remote_id", "created_at", "updated_at", "deleted_at"]
                        .contains(&name.as_str())
                {
                    p.add(format!("{here}.{name}"), "cannot be remapped");
                }
            }
        }
    }
    v.clone()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn mappings_fill_custom_fields_and_remap() {
        let raw = json!({"extraFields": {"Criticality": "A", "Serial": "SN-9"}, "barcode": "B1"});
        let mappings = json!({"assets": {"custom_fields": {"crit": "extraFields.Criticality", "missing": "nope"},
                                         "fields": {"serial_number": "extraFields.Serial"}}});
        let mut data = json!({"name": "Pump", "serial_number": null});
        let mut custom = json!({});
        apply(&mappings, Entity::Assets, &raw, &mut data, &mut custom);
        assert_eq!(custom, json!({"crit": "A", "missing": null}));
        assert_eq!(data["serial_number"], "SN-9");
        let mut other = json!({"title": "x"});
        apply(
            &mappings,
            Entity::WorkOrders,
            &raw,
            &mut other,
            &mut json!({}),
        );
        assert_eq!(other, json!({"title": "x"}));
    }

    #[test]
    fn validation_names_bad_entries() {
        let mut p = Problems::default();
        validate(
            &mut p,
            &json!({"assets": {"fields": {"id": "x"}}, "nonsense": {}}),
            &[Entity::Assets],
        );
        let fields: Vec<_> = p.0.iter().map(|f| f.field.as_str()).collect();
        assert!(fields.contains(&"field_mappings.assets.fields.id"));
        assert!(fields.contains(&"field_mappings.nonsense"));
    }
}
