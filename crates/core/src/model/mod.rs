//! The unified model: the eight entities every connector maps its source system to, with the
//! same fields, types and enums whichever system is behind (contract §5).
//!
//! Conventions, shared by every entity:
//! - Every field is optional (sources vary); lists (`assignee_ids`, `vendor_ids`, `line_items`)
//!   are empty instead. Missing fields deserialize as empty, so stored records written before a
//!   field was added still read.
//! - Enums are snake_case with exactly the contract's values. A `remote_status` next to `status`
//!   keeps the source's own word, so nothing is lost when the translation is coarse.
//! - Money and quantities are [`Decimal`] strings; timestamps RFC 3339 UTC; dates `YYYY-MM-DD`.
//!
//! **Relation fields hold remote ids.** `asset_id`, `location_id`, `parent_asset_id`,
//! `parent_location_id`, `vendor_id`, `assignee_ids`, `vendor_ids` and a line item's `item_id`
//! are, as a connector produces them, the *source system's* ids of the related records. The sync
//! layer rewrites them to Millwright record ids before storing; which fields point at which
//! entity is data, [`EntityModel::relations`], walked by [`rewrite_relations`], so no entity needs
//! rewrite code of its own. Writes go the other way: a connector receives unified input whose
//! relation fields already hold remote ids again.

mod address;
mod asset;
mod decimal;
mod entity_data;
mod input;
mod interval;
mod inventory_item;
mod location;
mod maintenance_schedule;
mod purchase_order;
mod relation;
mod user;
mod vendor;
mod work_order;

pub use address::Address;
pub use asset::{Asset, AssetStatus};
pub use decimal::{Decimal, DecimalError};
pub use entity_data::EntityData;
pub use input::{parse_input, FieldError, Input};
pub use interval::{Interval, IntervalUnit};
pub use inventory_item::InventoryItem;
pub use location::{Location, LocationType};
pub use maintenance_schedule::MaintenanceSchedule;
pub use purchase_order::{PurchaseOrder, PurchaseOrderLineItem, PurchaseOrderStatus};
pub use relation::{relations, rewrite_relations, Relation};
pub use user::User;
pub use vendor::{Vendor, VendorStatus};
pub use work_order::{WorkOrder, WorkOrderPriority, WorkOrderStatus, WorkOrderType};

use crate::Entity;

/// What every unified entity struct answers about itself.
pub trait EntityModel {
    /// The entity this struct is the shape of.
    const ENTITY: Entity;

    /// The relation fields: `(field, target entity)`. A field holds one id or a list of ids; a
    /// dotted field (`line_items.item_id`) steps into each element of a list of objects.
    fn relations() -> &'static [Relation];

    /// The record's `display_name`: its name, title or number, whichever the entity has.
    fn display_name(&self) -> Option<String>;
}

/// Serializes `value`, compares with `json` field by field, and reads it back.
#[cfg(test)]
pub(crate) fn assert_round_trip<T>(value: &T, json: serde_json::Value)
where
    T: serde::Serialize + serde::de::DeserializeOwned + PartialEq + std::fmt::Debug,
{
    assert_eq!(serde_json::to_value(value).unwrap(), json);
    assert_eq!(&serde_json::from_value::<T>(json).unwrap(), value);
}
