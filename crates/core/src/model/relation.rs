//! Relation fields as data, and the one walk that rewrites their ids.

use serde_json::Value;

use super::{
    Asset, EntityModel, InventoryItem, Location, MaintenanceSchedule, PurchaseOrder, User, Vendor,
    WorkOrder,
};
use crate::Entity;

/// `(field, target entity)`: the field holds ids of records of the target entity. See
/// [`EntityModel::relations`] for the field syntax.
pub type Relation = (&'static str, Entity);

/// The relation fields of an entity.
pub fn relations(entity: Entity) -> &'static [Relation] {
    match entity {
        Entity::Assets => Asset::relations(),
        Entity::Locations => Location::relations(),
        Entity::WorkOrders => WorkOrder::relations(),
        Entity::MaintenanceSchedules => MaintenanceSchedule::relations(),
        Entity::InventoryItems => InventoryItem::relations(),
        Entity::PurchaseOrders => PurchaseOrder::relations(),
        Entity::Vendors => Vendor::relations(),
        Entity::Users => User::relations(),
    }
}

/// Replaces every id in `entity`'s relation fields of `data` (a record's JSON, as
/// [`super::EntityData::to_json`] gives it) with `map(target entity, id)`.
///
/// `map` answering `None` means "no such record": a single id becomes `null` and the id is
/// dropped from a list, so a rewritten record never mixes Millwright ids with remote ones.
/// Fields that are absent or `null` are left alone.
pub fn rewrite_relations(
    entity: Entity,
    data: &mut Value,
    mut map: impl FnMut(Entity, &str) -> Option<String>,
) {
    for (field, target) in relations(entity) {
        let path: Vec<&str> = field.split('.').collect();
        rewrite_path(data, &path, *target, &mut map);
    }
}

fn rewrite_path(
    value: &mut Value,
    path: &[&str],
    target: Entity,
    map: &mut dyn FnMut(Entity, &str) -> Option<String>,
) {
    match path.split_first() {
        None => rewrite_ids(value, target, map),
        // A list of objects: the rest of the path applies to each element.
        Some(_) if value.is_array() => {
            for item in value.as_array_mut().into_iter().flatten() {
                rewrite_path(item, path, target, map);
            }
        }
        Some((head, rest)) => {
            if let Some(child) = value
                .as_object_mut()
                .and_then(|fields| fields.get_mut(*head))
            {
                rewrite_path(child, rest, target, map);
            }
        }
    }
}

/// At the end of a path: one id, or a list of ids.
fn rewrite_ids(
    value: &mut Value,
    target: Entity,
    map: &mut dyn FnMut(Entity, &str) -> Option<String>,
) {
    match value {
        Value::String(id) => {
            let new = map(target, id);
            *value = new.map_or(Value::Null, Value::String);
        }
        Value::Array(ids) => {
            let old = std::mem::take(ids);
            ids.extend(old.into_iter().filter_map(|id| {
                id.as_str()
                    .and_then(|id| map(target, id))
                    .map(Value::String)
            }));
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_entity_declares_its_relations() {
        assert_eq!(relations(Entity::Vendors), &[]);
        assert!(relations(Entity::WorkOrders).contains(&("assignee_ids", Entity::Users)));
        assert!(relations(Entity::PurchaseOrders)
            .contains(&("line_items.item_id", Entity::InventoryItems)));
        assert!(relations(Entity::Locations).contains(&("parent_location_id", Entity::Locations)));
    }

    #[test]
    fn rewrites_single_ids_lists_and_nested_lines() {
        let mut wo = json!({"title": "Seal", "asset_id": "8901", "location_id": null, "assignee_ids": ["1", "2", "9"]});
        rewrite_relations(Entity::WorkOrders, &mut wo, |target, id| {
            match (target, id) {
                (Entity::Assets, "8901") => Some("rec_asset".into()),
                (Entity::Users, "1") => Some("rec_u1".into()),
                (Entity::Users, "2") => Some("rec_u2".into()),
                _ => None,
            }
        });
        assert_eq!(
            wo,
            json!({"title": "Seal", "asset_id": "rec_asset", "location_id": null, "assignee_ids": ["rec_u1", "rec_u2"]})
        );

        let mut po = json!({"vendor_id": "77", "line_items": [{"item_id": "5", "quantity": "2"}, {"item_id": null}, {"description": "freight"}]});
        let mut seen = Vec::new();
        rewrite_relations(Entity::PurchaseOrders, &mut po, |target, id| {
            seen.push((target, id.to_string()));
            Some(format!("rec_{id}"))
        });
        assert_eq!(
            po,
            json!({"vendor_id": "rec_77", "line_items": [{"item_id": "rec_5", "quantity": "2"}, {"item_id": null}, {"description": "freight"}]})
        );
        assert_eq!(
            seen,
            vec![
                (Entity::Vendors, "77".into()),
                (Entity::InventoryItems, "5".into())
            ]
        );
    }

    #[test]
    fn unknown_targets_become_null() {
        let mut asset = json!({"location_id": "1", "parent_asset_id": "2"});
        rewrite_relations(Entity::Assets, &mut asset, |_, _| None);
        assert_eq!(asset, json!({"location_id": null, "parent_asset_id": null}));
    }
}
