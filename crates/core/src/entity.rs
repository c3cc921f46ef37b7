//! The eight unified entities and the three ways the contract names them.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Entity {
    Assets,
    Locations,
    WorkOrders,
    MaintenanceSchedules,
    InventoryItems,
    PurchaseOrders,
    Vendors,
    Users,
}

impl Entity {
    pub const ALL: [Entity; 8] = [
        Entity::Assets,
        Entity::Locations,
        Entity::WorkOrders,
        Entity::MaintenanceSchedules,
        Entity::InventoryItems,
        Entity::PurchaseOrders,
        Entity::Vendors,
        Entity::Users,
    ];

    /// snake_case plural, as in JSON bodies: `work_orders`.
    pub fn as_str(self) -> &'static str {
        match self {
            Entity::Assets => "assets",
            Entity::Locations => "locations",
            Entity::WorkOrders => "work_orders",
            Entity::MaintenanceSchedules => "maintenance_schedules",
            Entity::InventoryItems => "inventory_items",
            Entity::PurchaseOrders => "purchase_orders",
            Entity::Vendors => "vendors",
            Entity::Users => "users",
        }
    }

    /// kebab-case plural, as in URL paths: `work-orders`.
    pub fn path(self) -> &'static str {
        match self {
            Entity::Assets => "assets",
            Entity::Locations => "locations",
            Entity::WorkOrders => "work-orders",
            Entity::MaintenanceSchedules => "maintenance-schedules",
            Entity::InventoryItems => "inventory-items",
            Entity::PurchaseOrders => "purchase-orders",
            Entity::Vendors => "vendors",
            Entity::Users => "users",
        }
    }

    /// snake_case singular, as in event types: `work_order` (→ `work_order.updated`).
    pub fn event_name(self) -> &'static str {
        match self {
            Entity::Assets => "asset",
            Entity::Locations => "location",
            Entity::WorkOrders => "work_order",
            Entity::MaintenanceSchedules => "maintenance_schedule",
            Entity::InventoryItems => "inventory_item",
            Entity::PurchaseOrders => "purchase_order",
            Entity::Vendors => "vendor",
            Entity::Users => "user",
        }
    }

    pub fn parse(s: &str) -> Option<Entity> {
        Entity::ALL.into_iter().find(|e| e.as_str() == s)
    }

    pub fn from_path(s: &str) -> Option<Entity> {
        Entity::ALL.into_iter().find(|e| e.path() == s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for e in Entity::ALL {
            assert_eq!(Entity::parse(e.as_str()), Some(e));
            assert_eq!(Entity::from_path(e.path()), Some(e));
            assert_eq!(serde_json::to_value(e).unwrap(), e.as_str());
        }
        assert_eq!(Entity::WorkOrders.event_name(), "work_order");
    }
}
