//! One pair of routes per unified entity, with its OpenAPI description; the work is in
//! [`super::records`].

use axum::{
    extract::{Path, State},
    Json,
};
use millwright_core::Entity;
use serde_json::Value;

use super::records;
use crate::{
    auth::ConnectionAuth, extract::ApiQuery, pagination::List, state::AppState, ApiResult,
};

macro_rules! entity_routes {
    ($list:ident, $get:ident, $entity:expr, $path:literal, $schema:ty, $tag:literal) => {
        #[utoipa::path(
            get, path = concat!("/api/v1/", $path), tag = "unified",
            description = concat!("Lists ", $tag, " from the synced store, ordered by (updated_at, id). Filters: see the entity's fields; `modified_after`, `modified_before`, `include_deleted`, `include=remote_data`, `cursor`, `page_size` (1–1000, default 100)."),
            responses(
                (status = 200, description = "A page of records: the common record fields plus the entity's own", body = List<$schema>),
                (status = 400, description = "INVALID_REQUEST: unknown filter, bad value or cursor", body = crate::error::ErrorBody),
                (status = 401, description = "REAUTHORIZATION_REQUIRED and token errors", body = crate::error::ErrorBody),
            ),
            security(("bearer" = []))
        )]
        pub async fn $list(
            state: State<AppState>,
            auth: ConnectionAuth,
            query: ApiQuery<Vec<(String, String)>>,
        ) -> ApiResult<Json<List<Value>>> {
            records::list(state, auth, $entity, query).await
        }

        #[utoipa::path(
            get, path = concat!("/api/v1/", $path, "/{id}"), tag = "unified",
            params(("id" = String, Path, description = "The record's Millwright id (`rec_…`)")),
            responses(
                (status = 200, description = "The record", body = $schema),
                (status = 404, body = crate::error::ErrorBody),
            ),
            security(("bearer" = []))
        )]
        pub async fn $get(
            state: State<AppState>,
            auth: ConnectionAuth,
            id: Path<String>,
            query: ApiQuery<Vec<(String, String)>>,
        ) -> ApiResult<Json<Value>> {
            records::get(state, auth, $entity, id, query).await
        }
    };
}

use millwright_core::model::{
    Asset, InventoryItem, Location, MaintenanceSchedule, PurchaseOrder, User, Vendor, WorkOrder,
};

entity_routes!(
    list_assets,
    get_asset,
    Entity::Assets,
    "assets",
    Asset,
    "assets"
);
entity_routes!(
    list_locations,
    get_location,
    Entity::Locations,
    "locations",
    Location,
    "locations"
);
entity_routes!(
    list_work_orders,
    get_work_order,
    Entity::WorkOrders,
    "work-orders",
    WorkOrder,
    "work orders"
);
entity_routes!(
    list_maintenance_schedules,
    get_maintenance_schedule,
    Entity::MaintenanceSchedules,
    "maintenance-schedules",
    MaintenanceSchedule,
    "maintenance schedules"
);
entity_routes!(
    list_inventory_items,
    get_inventory_item,
    Entity::InventoryItems,
    "inventory-items",
    InventoryItem,
    "inventory items"
);
entity_routes!(
    list_purchase_orders,
    get_purchase_order,
    Entity::PurchaseOrders,
    "purchase-orders",
    PurchaseOrder,
    "purchase orders"
);
entity_routes!(
    list_vendors,
    get_vendor,
    Entity::Vendors,
    "vendors",
    Vendor,
    "vendors"
);
entity_routes!(list_users, get_user, Entity::Users, "users", User, "users");
