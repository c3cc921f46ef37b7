//! Millwright's HTTP API: the management API (workspace key), the unified API (connection
//! token), operations endpoints, and the generated OpenAPI document. Handlers hold no business
//! rules: they validate, call the store and the connectors, and map errors once ([`error`]).

pub mod auth;
pub mod error;
pub mod extract;
pub mod field_mappings;
pub mod idempotency;
pub mod metrics;
pub mod pagination;
pub mod rate_limit;
pub mod redact;
pub mod request_context;
pub mod request_log;
pub mod routes;
pub mod state;
pub mod validate;
pub mod views;

use std::sync::Arc;

use axum::{middleware, routing::get, Json, Router};
pub use error::{ApiError, ApiResult};
pub use state::{ApiConfig, AppState};
use utoipa::{
    openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme},
    Modify, OpenApi,
};
use utoipa_axum::{router::OpenApiRouter, routes};
use utoipa_swagger_ui::SwaggerUi;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Millwright API",
        description = "One API over CMMS, EAM and ERP systems. Management endpoints take the workspace secret key (`mw_sk_…`); unified endpoints take a connection token (`mw_ct_…`) or the workspace key with `X-Connection-Id`. Every response carries `X-Request-Id`; errors are `{\"error\": {code, type, message, request_id, details?}}`.",
    ),
    modifiers(&BearerAuth),
    tags(
        (name = "connectors", description = "The catalog of systems"),
        (name = "connections", description = "Connect, manage and disconnect source systems"),
        (name = "credits", description = "The workspace's credit pool"),
        (name = "request logs", description = "Every API request, redacted"),
        (name = "unified", description = "The unified API of one connection"),
        (name = "events", description = "Every event, the polling fallback to webhooks"),
        (name = "webhooks", description = "Endpoints, secrets, deliveries and their attempts"),
        (name = "status", description = "Incidents, scheduled maintenances and the workspace's status page"),
        (name = "link", description = "Link sessions: the end-user connect flow and the public-token exchange"),
        (name = "workspace", description = "The workspace's name and Link branding"),
    )
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// Every `/api/v1` route with its OpenAPI description; routes and documentation come from the
/// same declarations, so the document cannot miss a route.
fn api_routes() -> OpenApiRouter<AppState> {
    use routes::*;
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(catalog::list))
        .routes(routes!(connections::create, connections::list))
        .routes(routes!(connections::get, connections::patch))
        .routes(routes!(connections::reauthorize))
        .routes(routes!(connections::issue_token))
        .routes(routes!(connections::disconnect))
        .routes(routes!(connections::delete_data))
        .routes(routes!(health::history))
        .routes(routes!(incidents::create, incidents::list))
        .routes(routes!(incidents::get, incidents::patch))
        .routes(routes!(
            incidents::create_maintenance,
            incidents::list_maintenances
        ))
        .routes(routes!(
            incidents::get_maintenance,
            incidents::patch_maintenance
        ))
        .routes(routes!(
            incidents::get_status_page,
            incidents::put_status_page
        ))
        .routes(routes!(credits::get))
        .routes(routes!(link_sessions::create, link_sessions::list))
        .routes(routes!(link_sessions::get))
        .routes(routes!(link_sessions::exchange))
        .routes(routes!(workspace::get, workspace::patch))
        .routes(routes!(request_logs::list))
        .routes(routes!(request_logs::get))
        .routes(routes!(unified::connection))
        .routes(routes!(sync::sync_status))
        .routes(routes!(sync::sync_now))
        .routes(routes!(sync::list_runs, sync::trigger_runs))
        .routes(routes!(sync::connection_sync_status))
        .routes(routes!(events::list))
        .routes(routes!(webhooks::create, webhooks::list))
        .routes(routes!(webhooks::get, webhooks::patch, webhooks::delete))
        .routes(routes!(webhooks::secret))
        .routes(routes!(webhooks::rotate_secret))
        .routes(routes!(webhooks::test))
        .routes(routes!(webhooks::recover))
        .routes(routes!(webhooks::list_deliveries))
        .routes(routes!(webhooks::retry_delivery))
        .routes(routes!(passthrough::passthrough))
        .routes(routes!(field_mappings_route::list))
        .routes(routes!(entities::list_assets, entities::create_asset))
        .routes(routes!(
            entities::get_asset,
            entities::update_asset,
            entities::delete_asset
        ))
        .routes(routes!(entities::list_locations, entities::create_location))
        .routes(routes!(
            entities::get_location,
            entities::update_location,
            entities::delete_location
        ))
        .routes(routes!(
            entities::list_work_orders,
            entities::create_work_order
        ))
        .routes(routes!(
            entities::get_work_order,
            entities::update_work_order,
            entities::delete_work_order
        ))
        .routes(routes!(
            entities::list_maintenance_schedules,
            entities::create_maintenance_schedule
        ))
        .routes(routes!(
            entities::get_maintenance_schedule,
            entities::update_maintenance_schedule,
            entities::delete_maintenance_schedule
        ))
        .routes(routes!(
            entities::list_inventory_items,
            entities::create_inventory_item
        ))
        .routes(routes!(
            entities::get_inventory_item,
            entities::update_inventory_item,
            entities::delete_inventory_item
        ))
        .routes(routes!(
            entities::list_purchase_orders,
            entities::create_purchase_order
        ))
        .routes(routes!(
            entities::get_purchase_order,
            entities::update_purchase_order,
            entities::delete_purchase_order
        ))
        .routes(routes!(entities::list_vendors, entities::create_vendor))
        .routes(routes!(
            entities::get_vendor,
            entities::update_vendor,
            entities::delete_vendor
        ))
        .routes(routes!(entities::list_users, entities::create_user))
        .routes(routes!(
            entities::get_user,
            entities::update_user,
            entities::delete_user
        ))
}

/// The OpenAPI 3.1 document of `/api/v1`.
pub fn openapi() -> utoipa::openapi::OpenApi {
    api_routes().split_for_parts().1
}

/// The whole HTTP application.
pub fn router(state: AppState) -> Router {
    let (api, openapi) = api_routes().split_for_parts();
    let openapi_json = Arc::new(openapi.clone());
    Router::new()
        .merge(api)
        .route("/healthz", get(routes::ops::healthz))
        .route("/readyz", get(routes::ops::readyz))
        .route("/metrics", get(metrics::render))
        .route(
            "/openapi.json",
            get(move || async move { Json(openapi_json.as_ref().clone()) }),
        )
        .merge(SwaggerUi::new("/docs").url("/docs/openapi.json", openapi))
        .fallback(|| async { ApiError::NotFound("no route for this path".into()) })
        .method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed })
        .layer(middleware::from_fn_with_state(
            state.clone(),
            request_context::middleware,
        ))
        .with_state(state)
}
