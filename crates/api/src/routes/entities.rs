//! The routes of each unified entity, with their OpenAPI description; the work is in
//! [`super::records`] (reads) and [`super::writes`] (writes).

use axum::{
    body::Bytes,
    extract::{Path, State},
    http::{HeaderMap, Uri},
    response::Response,
};
use millwright_core::Entity;

use super::{records, writes};
use crate::{
    auth::ConnectionAuth, extract::ApiQuery, pagination::List, state::AppState, ApiResult,
};

macro_rules! entity_routes {
    ($list:ident, $get:ident, $create:ident, $update:ident, $delete:ident, $entity:expr, $path:literal, $schema:ty, $tag:literal) => {
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
        ) -> ApiResult<Response> {
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
        ) -> ApiResult<Response> {
            records::get(state, auth, $entity, id, query).await
        }

        #[utoipa::path(
            post, path = concat!("/api/v1/", $path), tag = "unified",
            description = concat!("Creates one of the ", $tag, " in the source system, synchronously, and answers it as a read would. Relation fields take Millwright ids. Needs the `write` scope; honours `Idempotency-Key` for 24 h."),
            request_body = $schema,
            params(("Idempotency-Key" = Option<String>, Header, description = "Replays the first answer for 24 h; reused with another request: 409 IDEMPOTENCY_CONFLICT")),
            responses(
                (status = 201, description = "The created record", body = $schema),
                (status = 403, description = "INSUFFICIENT_SCOPE or UPSTREAM_PERMISSION_DENIED", body = crate::error::ErrorBody),
                (status = 409, description = "CONNECTION_DISCONNECTED or IDEMPOTENCY_CONFLICT", body = crate::error::ErrorBody),
                (status = 422, description = "VALIDATION_FAILED (naming the field, or with the source's message) or OPERATION_NOT_SUPPORTED", body = crate::error::ErrorBody),
                (status = 503, description = "UPSTREAM_UNREACHABLE", body = crate::error::ErrorBody),
            ),
            security(("bearer" = []))
        )]
        pub async fn $create(
            state: State<AppState>,
            auth: ConnectionAuth,
            uri: Uri,
            headers: HeaderMap,
            body: Bytes,
        ) -> Response {
            writes::create(state, auth, $entity, uri, headers, body).await
        }

        #[utoipa::path(
            patch, path = concat!("/api/v1/", $path, "/{id}"), tag = "unified",
            description = "Changes the fields the body names (`null` clears) in the source system, synchronously, and answers the record as a read would. Needs the `write` scope; honours `Idempotency-Key`.",
            request_body = $schema,
            params(
                ("id" = String, Path, description = "The record's Millwright id (`rec_…`)"),
                ("Idempotency-Key" = Option<String>, Header, description = "Replays the first answer for 24 h"),
            ),
            responses(
                (status = 200, description = "The updated record", body = $schema),
                (status = 404, body = crate::error::ErrorBody),
                (status = 409, description = "CONNECTION_DISCONNECTED or IDEMPOTENCY_CONFLICT", body = crate::error::ErrorBody),
                (status = 422, description = "VALIDATION_FAILED or OPERATION_NOT_SUPPORTED", body = crate::error::ErrorBody),
            ),
            security(("bearer" = []))
        )]
        pub async fn $update(
            state: State<AppState>,
            auth: ConnectionAuth,
            Path(id): Path<String>,
            uri: Uri,
            headers: HeaderMap,
            body: Bytes,
        ) -> Response {
            writes::update(state, auth, $entity, id, uri, headers, body).await
        }

        #[utoipa::path(
            delete, path = concat!("/api/v1/", $path, "/{id}"), tag = "unified",
            description = "Deletes the record in the source system and answers it tombstoned (`deleted_at` set); emits the `.deleted` event. Needs the `write` scope; honours `Idempotency-Key`.",
            params(
                ("id" = String, Path, description = "The record's Millwright id (`rec_…`)"),
                ("Idempotency-Key" = Option<String>, Header, description = "Replays the first answer for 24 h"),
            ),
            responses(
                (status = 200, description = "The deleted record", body = $schema),
                (status = 404, body = crate::error::ErrorBody),
                (status = 409, description = "CONNECTION_DISCONNECTED or IDEMPOTENCY_CONFLICT", body = crate::error::ErrorBody),
                (status = 422, description = "OPERATION_NOT_SUPPORTED", body = crate::error::ErrorBody),
            ),
            security(("bearer" = []))
        )]
        pub async fn $delete(
            state: State<AppState>,
            auth: ConnectionAuth,
            Path(id): Path<String>,
            uri: Uri,
            headers: HeaderMap,
        ) -> Response {
            writes::delete(state, auth, $entity, id, uri, headers).await
        }
    };
}

use millwright_core::model::{
    Asset, InventoryItem, Location, MaintenanceSchedule, PurchaseOrder, User, Vendor, WorkOrder,
};

entity_routes!(
    list_assets,
    get_asset,
    create_asset,
    update_asset,
    delete_asset,
    Entity::Assets,
    "assets",
    Asset,
    "assets"
);
entity_routes!(
    list_locations,
    get_location,
    create_location,
    update_location,
    delete_location,
    Entity::Locations,
    "locations",
    Location,
    "locations"
);
entity_routes!(
    list_work_orders,
    get_work_order,
    create_work_order,
    update_work_order,
    delete_work_order,
    Entity::WorkOrders,
    "work-orders",
    WorkOrder,
    "work orders"
);
entity_routes!(
    list_maintenance_schedules,
    get_maintenance_schedule,
    create_maintenance_schedule,
    update_maintenance_schedule,
    delete_maintenance_schedule,
    Entity::MaintenanceSchedules,
    "maintenance-schedules",
    MaintenanceSchedule,
    "maintenance schedules"
);
entity_routes!(
    list_inventory_items,
    get_inventory_item,
    create_inventory_item,
    update_inventory_item,
    delete_inventory_item,
    Entity::InventoryItems,
    "inventory-items",
    InventoryItem,
    "inventory items"
);
entity_routes!(
    list_purchase_orders,
    get_purchase_order,
    create_purchase_order,
    update_purchase_order,
    delete_purchase_order,
    Entity::PurchaseOrders,
    "purchase-orders",
    PurchaseOrder,
    "purchase orders"
);
entity_routes!(
    list_vendors,
    get_vendor,
    create_vendor,
    update_vendor,
    delete_vendor,
    Entity::Vendors,
    "vendors",
    Vendor,
    "vendors"
);
entity_routes!(
    list_users,
    get_user,
    create_user,
    update_user,
    delete_user,
    Entity::Users,
    "users",
    User,
    "users"
);
