//! `POST /__sim/mutate` for SAP: creates, changes or deletes records the way day-to-day work
//! would (orders advance through their statuses, equipment is deactivated, suppliers blocked),
//! stamping `LastChangeDateTime` so incremental reads see the change.

use serde_json::{Map, Value};

use super::data::{key_of, World, SETS};
use super::odata::{date_time, date_time_offset};
use super::store::Db;
use crate::clock::{Clock, DAY_MS};
use crate::control::MutateOp;

/// Applies `op` to `count` records of `entity`; answers their keys.
pub(crate) fn mutate(
    world: &World,
    db: &mut Db,
    clock: &Clock,
    entity: &str,
    op: MutateOp,
    count: usize,
) -> Result<Vec<Value>, String> {
    let def = SETS.iter().find(|d| d.entity == entity).ok_or_else(|| {
        let known: Vec<&str> = SETS.iter().map(|d| d.entity).collect();
        format!(
            "unknown entity {entity:?}; expected one of {}",
            known.join(", ")
        )
    })?;
    let kind = def.kind;
    let mut keys = Vec::with_capacity(count);
    match op {
        MutateOp::Create => {
            for _ in 0..count {
                let index = db.set(kind).next_index();
                let mut record = world.generate(kind, index);
                let now = clock.now().0;
                stamp(&mut record, def.has_change_time, now);
                record.insert(
                    "CreationDate".into(),
                    Value::String(date_time(now - now.rem_euclid(DAY_MS))),
                );
                // Items of a created purchase order carry its number.
                if let Some(Value::Object(items)) = record.get_mut("to_PurchaseOrderItem") {
                    if let Some(Value::Array(items)) = items.get_mut("results") {
                        for item in items.iter_mut() {
                            item["PurchaseOrder"] = Value::String(key_of(def, index));
                        }
                    }
                }
                db.set_mut(kind).put(index, record);
                keys.push(Value::String(key_of(def, index)));
            }
        }
        MutateOp::Update => {
            let indexes = {
                let mut rng = db.rng.clone();
                let chosen = db.set(kind).sample(&mut rng, count);
                db.rng = rng;
                chosen
            };
            for index in indexes {
                let Some(mut record) = db.set(kind).get(world, kind, index) else {
                    continue;
                };
                change(&mut record);
                stamp(&mut record, def.has_change_time, clock.now().0);
                db.set_mut(kind).put(index, record);
                keys.push(Value::String(key_of(def, index)));
            }
        }
        MutateOp::Delete => {
            let indexes = {
                let mut rng = db.rng.clone();
                let chosen = db.set(kind).sample(&mut rng, count);
                db.rng = rng;
                chosen
            };
            for index in indexes {
                if db.set_mut(kind).delete(index) {
                    keys.push(Value::String(key_of(def, index)));
                }
            }
        }
    }
    Ok(keys)
}

fn stamp(record: &mut Map<String, Value>, has_change_time: bool, now: i64) {
    if has_change_time {
        record.insert(
            "LastChangeDateTime".into(),
            Value::String(date_time_offset(now)),
        );
    }
}

/// One plausible change per entity type.
fn change(record: &mut Map<String, Value>) {
    let flip = |record: &mut Map<String, Value>, key: &str| {
        let v = record.get(key).and_then(Value::as_bool).unwrap_or(false);
        record.insert(key.into(), Value::Bool(!v));
    };
    if let Some(status) = record.get("SystemStatusText").and_then(Value::as_str) {
        let next = if status.starts_with("CRTD") {
            "REL NMAT PRC SETC"
        } else if status.starts_with("REL PCNF") {
            "TECO PCNF NMAT PRC SETC"
        } else if status.starts_with("REL") {
            "REL PCNF NMAT PRC SETC"
        } else {
            "CLSD CNF NMAT PRC SETC"
        };
        record.insert("SystemStatusText".into(), Value::String(next.into()));
    } else if record.contains_key("EquipmentIsInactive") {
        flip(record, "EquipmentIsInactive");
    } else if record.contains_key("MaintenancePlanIsInactive") {
        flip(record, "MaintenancePlanIsInactive");
    } else if let Some(status) = record
        .get("PurchasingProcessingStatus")
        .and_then(Value::as_str)
    {
        let next = match status {
            "01" => "02",
            "02" | "03" => "05",
            other => other,
        };
        record.insert(
            "PurchasingProcessingStatus".into(),
            Value::String(next.into()),
        );
    } else if record.contains_key("PurchasingIsBlocked") {
        flip(record, "PurchasingIsBlocked");
    } else if let Some(name) = record.get("FunctionalLocationName").and_then(Value::as_str) {
        let renamed = match name.strip_suffix(" (rev.)") {
            Some(base) => base.to_owned(),
            None => format!("{name} (rev.)"),
        };
        record.insert("FunctionalLocationName".into(), Value::String(renamed));
    }
}
