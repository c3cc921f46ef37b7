//! One record's fields, whichever entity it is.

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use super::{
    Asset, EntityModel, InventoryItem, Location, MaintenanceSchedule, PurchaseOrder, Relation,
    User, Vendor, WorkOrder,
};
use crate::Entity;

/// The unified fields of one record of any entity.
///
/// Its own serde form is tagged, `{"entity": "work_orders", "data": {…}}`, so it reads back
/// without knowing the entity beforehand (every entity struct would accept any object).
/// [`EntityData::to_json`] gives the flat fields as they appear in API records.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "entity", content = "data", rename_all = "snake_case")]
pub enum EntityData {
    /// An asset.
    Assets(Asset),
    /// A location.
    Locations(Location),
    /// A work order.
    WorkOrders(WorkOrder),
    /// A maintenance schedule.
    MaintenanceSchedules(MaintenanceSchedule),
    /// An inventory item.
    InventoryItems(InventoryItem),
    /// A purchase order.
    PurchaseOrders(PurchaseOrder),
    /// A vendor.
    Vendors(Vendor),
    /// A user.
    Users(User),
}

impl EntityData {
    /// Which entity this record belongs to.
    pub fn entity(&self) -> Entity {
        match self {
            EntityData::Assets(_) => Entity::Assets,
            EntityData::Locations(_) => Entity::Locations,
            EntityData::WorkOrders(_) => Entity::WorkOrders,
            EntityData::MaintenanceSchedules(_) => Entity::MaintenanceSchedules,
            EntityData::InventoryItems(_) => Entity::InventoryItems,
            EntityData::PurchaseOrders(_) => Entity::PurchaseOrders,
            EntityData::Vendors(_) => Entity::Vendors,
            EntityData::Users(_) => Entity::Users,
        }
    }

    /// The record's `display_name`: name, title or number, per entity.
    pub fn display_name(&self) -> Option<String> {
        match self {
            EntityData::Assets(x) => x.display_name(),
            EntityData::Locations(x) => x.display_name(),
            EntityData::WorkOrders(x) => x.display_name(),
            EntityData::MaintenanceSchedules(x) => x.display_name(),
            EntityData::InventoryItems(x) => x.display_name(),
            EntityData::PurchaseOrders(x) => x.display_name(),
            EntityData::Vendors(x) => x.display_name(),
            EntityData::Users(x) => x.display_name(),
        }
    }

    /// The relation fields of this record's entity.
    pub fn relations(&self) -> &'static [Relation] {
        super::relations(self.entity())
    }

    /// The flat fields, as in an API record (`{"title": …, "status": …}`), every field present.
    pub fn to_json(&self) -> Value {
        let value = match self {
            EntityData::Assets(x) => serde_json::to_value(x),
            EntityData::Locations(x) => serde_json::to_value(x),
            EntityData::WorkOrders(x) => serde_json::to_value(x),
            EntityData::MaintenanceSchedules(x) => serde_json::to_value(x),
            EntityData::InventoryItems(x) => serde_json::to_value(x),
            EntityData::PurchaseOrders(x) => serde_json::to_value(x),
            EntityData::Vendors(x) => serde_json::to_value(x),
            EntityData::Users(x) => serde_json::to_value(x),
        };
        // The structs hold only strings, numbers, booleans, lists and string-keyed objects,
        // which always serialize.
        value.expect("unified entity structs always serialize to JSON")
    }

    /// Reads flat fields (the form of [`EntityData::to_json`]) as a record of `entity`.
    pub fn from_json(entity: Entity, value: Value) -> Result<EntityData, serde_json::Error> {
        EntityData::from_fields(entity, value)
    }

    /// Reads flat fields from any deserializer as a record of `entity`: what
    /// [`EntityData::from_json`] does, for a source of fields that need not be built as a JSON
    /// object first (connectors feed their mapped fields straight in).
    pub fn from_fields<'de, D: Deserializer<'de>>(
        entity: Entity,
        fields: D,
    ) -> Result<EntityData, D::Error> {
        Ok(match entity {
            Entity::Assets => EntityData::Assets(Asset::deserialize(fields)?),
            Entity::Locations => EntityData::Locations(Location::deserialize(fields)?),
            Entity::WorkOrders => EntityData::WorkOrders(WorkOrder::deserialize(fields)?),
            Entity::MaintenanceSchedules => {
                EntityData::MaintenanceSchedules(MaintenanceSchedule::deserialize(fields)?)
            }
            Entity::InventoryItems => {
                EntityData::InventoryItems(InventoryItem::deserialize(fields)?)
            }
            Entity::PurchaseOrders => {
                EntityData::PurchaseOrders(PurchaseOrder::deserialize(fields)?)
            }
            Entity::Vendors => EntityData::Vendors(Vendor::deserialize(fields)?),
            Entity::Users => EntityData::Users(User::deserialize(fields)?),
        })
    }

    /// An empty record of `entity`: every field absent, every list empty.
    pub fn empty(entity: Entity) -> EntityData {
        match entity {
            Entity::Assets => EntityData::Assets(Asset::default()),
            Entity::Locations => EntityData::Locations(Location::default()),
            Entity::WorkOrders => EntityData::WorkOrders(WorkOrder::default()),
            Entity::MaintenanceSchedules => {
                EntityData::MaintenanceSchedules(MaintenanceSchedule::default())
            }
            Entity::InventoryItems => EntityData::InventoryItems(InventoryItem::default()),
            Entity::PurchaseOrders => EntityData::PurchaseOrders(PurchaseOrder::default()),
            Entity::Vendors => EntityData::Vendors(Vendor::default()),
            Entity::Users => EntityData::Users(User::default()),
        }
    }

    /// This record with every relation id replaced by `map(target, id)`; see
    /// [`super::rewrite_relations`] for what `None` does.
    pub fn map_relations(&self, map: impl FnMut(Entity, &str) -> Option<String>) -> EntityData {
        let entity = self.entity();
        let mut json = self.to_json();
        super::rewrite_relations(entity, &mut json, map);
        // Only id strings changed (or became null / left a list), which every relation field
        // accepts.
        EntityData::from_json(entity, json).expect("relation rewrite keeps the record's shape")
    }
}

macro_rules! from_entity_struct {
    ($($variant:ident($ty:ty)),* $(,)?) => {
        $(impl From<$ty> for EntityData {
            fn from(value: $ty) -> Self {
                EntityData::$variant(value)
            }
        })*
    };
}

from_entity_struct!(
    Assets(Asset),
    Locations(Location),
    WorkOrders(WorkOrder),
    MaintenanceSchedules(MaintenanceSchedule),
    InventoryItems(InventoryItem),
    PurchaseOrders(PurchaseOrder),
    Vendors(Vendor),
    Users(User),
);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Decimal, PurchaseOrderLineItem, WorkOrderStatus};
    use serde_json::json;
    use utoipa::PartialSchema;

    #[test]
    fn every_entity_round_trips_tagged_and_flat() {
        for entity in Entity::ALL {
            let record = EntityData::empty(entity);
            assert_eq!(record.entity(), entity);
            let tagged = serde_json::to_value(&record).unwrap();
            assert_eq!(tagged["entity"], entity.as_str());
            assert_eq!(
                serde_json::from_value::<EntityData>(tagged).unwrap(),
                record
            );
            assert_eq!(
                EntityData::from_json(entity, record.to_json()).unwrap(),
                record
            );
            assert_eq!(record.display_name(), None);
        }
    }

    #[test]
    fn display_names_and_flat_json() {
        let wo = EntityData::from(WorkOrder {
            title: Some("Seal".into()),
            status: Some(WorkOrderStatus::Open),
            ..Default::default()
        });
        assert_eq!(wo.display_name().as_deref(), Some("Seal"));
        assert_eq!(wo.to_json()["status"], "open");
        assert_eq!(wo.to_json()["assignee_ids"], json!([]));
        let po = EntityData::PurchaseOrders(PurchaseOrder {
            number: Some("PO-9".into()),
            ..Default::default()
        });
        assert_eq!(po.display_name().as_deref(), Some("PO-9"));
        assert!(EntityData::from_json(Entity::WorkOrders, json!({"status": "done"})).is_err());
    }

    #[test]
    fn relation_ids_are_rewritten_from_the_table() {
        let po = EntityData::PurchaseOrders(PurchaseOrder {
            vendor_id: Some("77".into()),
            line_items: vec![PurchaseOrderLineItem {
                item_id: Some("5".into()),
                quantity: Some(Decimal::from(2)),
                ..Default::default()
            }],
            ..Default::default()
        });
        let EntityData::PurchaseOrders(mapped) =
            po.map_relations(|entity, id| Some(format!("{}:{id}", entity.as_str())))
        else {
            panic!("entity changed");
        };
        assert_eq!(mapped.vendor_id.as_deref(), Some("vendors:77"));
        assert_eq!(
            mapped.line_items[0].item_id.as_deref(),
            Some("inventory_items:5")
        );
        assert_eq!(mapped.line_items[0].quantity, Some(Decimal::from(2)));
        assert_eq!(po.relations(), PurchaseOrder::relations());
    }

    #[test]
    fn json_schemas_describe_the_wire_form() {
        let schema = serde_json::to_value(WorkOrder::schema()).unwrap();
        let props = &schema["properties"];
        assert!(props.get("type").is_some(), "{schema}");
        assert_eq!(props["due_at"]["format"], "date-time", "{schema}");
        assert!(
            props["due_at"]["type"].to_string().contains("string"),
            "{schema}"
        );
        let decimal = serde_json::to_value(Decimal::schema()).unwrap();
        assert_eq!(decimal["type"], "string");
        assert_eq!(decimal["pattern"], r"^-?\d+(\.\d+)?$");
        let po = serde_json::to_value(PurchaseOrder::schema()).unwrap();
        assert_eq!(po["properties"]["order_date"]["format"], "date", "{po}");
    }
}
