//! The SAP S/4HANA simulator: the OData v2 services of Plant Maintenance and Purchasing under
//! `/sap/opu/odata/sap/` (reference/connectors.md §4) over a seeded tenant, plus the shared
//! `/__sim/` control endpoints.
//!
//! | service | entity set | methods |
//! |---|---|---|
//! | `API_EQUIPMENT` | `Equipment` | GET |
//! | `API_FUNCTIONALLOCATION` | `FunctionalLocation` | GET |
//! | `API_MAINTENANCEORDER;v=0002` | `MaintenanceOrder` | GET, POST |
//! | `API_MAINTENANCEPLAN` | `MaintenancePlan` | GET |
//! | `API_PURCHASEORDER_PROCESS_SRV` | `A_PurchaseOrder` (+ `to_PurchaseOrderItem`) | GET, POST (deep insert) |
//! | `API_BUSINESS_PARTNER` | `A_Supplier` (+ `to_SupplierPurchasingOrg`) | GET |
//!
//! Each service also answers its service document (`…/<SERVICE>/`) and `$metadata`, which is
//! where clients fetch a CSRF token. Every call passes, outermost first: request counting, the
//! injected outage, Basic authentication with `sap-client` (401), the injected rate limit
//! (429), then the handler, which first checks the user's authorization for the service
//! (403, simulator-only `denied` list of `/__sim/credentials`, see `auth`).
//!
//! `API_MAINTENANCEPLAN`'s property names for the cycle and dates
//! (`MaintenancePlanCycleValue`/`Unit`, `LastCompletionDate`, `NextPlannedDate`,
//! `MaintenancePlanIsInactive`) are not in the reference and are UNVERIFIED.

mod auth;
mod data;
mod mutate;
mod odata;
mod routes;
mod store;
mod writes;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, RwLock};

use axum::middleware::from_fn_with_state;
use axum::routing::any;
use axum::Router;
use serde_json::Value;

use crate::clock::Clock;
use crate::control::{self, Backend, Control, MutateOp};
use crate::SimOptions;

use auth::Credentials;
use data::World;
use store::Db;

/// The communication user the simulator accepts until `/__sim/credentials` changes it.
pub const DEFAULT_USERNAME: &str = "SIMUSER";
/// Its password.
pub const DEFAULT_PASSWORD: &str = "sim-sap-pass";
/// The simulated system's client (`sap-client`).
pub const DEFAULT_CLIENT: &str = "100";
/// The system id, part of the logon realm and cookie names.
pub const SYSTEM_ID: &str = "S4H";

/// Largest page the server sends; a larger `$top` (or none) is answered page by page with
/// `d.__next`. The reference gives no number for S/4HANA: 1000 is UNVERIFIED, chosen to keep
/// a 100 000-record read at 100 requests.
pub const MAX_PAGE_SIZE: usize = 1000;

/// One simulated S/4HANA tenant.
pub(crate) struct Sap {
    world: World,
    clock: Clock,
    db: Mutex<Db>,
    credentials: RwLock<Credentials>,
    /// Session id → CSRF token, from `X-CSRF-Token: Fetch` calls.
    sessions: Mutex<HashMap<String, String>>,
    /// Draws session ids and tokens.
    tokens: Mutex<crate::rng::Rng>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A handler that panicked mid-request must not wedge the simulator.
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

impl Sap {
    fn new(opts: &SimOptions) -> Self {
        let clock = Clock::today();
        let world = World {
            seed: opts.seed,
            scale: opts.scale as u64,
            anchor: clock.anchor(),
        };
        Sap {
            db: Mutex::new(Db::new(&world)),
            world,
            clock,
            credentials: RwLock::new(Credentials {
                username: DEFAULT_USERNAME.to_owned(),
                password: DEFAULT_PASSWORD.to_owned(),
                client: DEFAULT_CLIENT.to_owned(),
                denied: Vec::new(),
            }),
            sessions: Mutex::new(HashMap::new()),
            tokens: Mutex::new(crate::rng::Rng::new(opts.seed ^ 0xc5_4f)),
        }
    }

    fn db(&self) -> MutexGuard<'_, Db> {
        lock(&self.db)
    }

    fn credentials(&self) -> Credentials {
        self.credentials
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

impl Backend for Sap {
    fn set_credentials(&self, body: &Value) -> Result<(), String> {
        let mut current = self.credentials.write().unwrap_or_else(|e| e.into_inner());
        *current = current.updated(body)?;
        // Sessions belong to the old logon.
        lock(&self.sessions).clear();
        Ok(())
    }

    fn mutate(&self, entity: &str, op: MutateOp, count: usize) -> Result<Vec<Value>, String> {
        let mut db = self.db();
        mutate::mutate(&self.world, &mut db, &self.clock, entity, op, count)
    }
}

/// The 429 of SAP API Management in front of S/4HANA Cloud: an OData error with `Retry-After`.
fn rate_limited(wait_seconds: u64) -> axum::response::Response {
    let mut response = odata::ODataError::new(
        axum::http::StatusCode::TOO_MANY_REQUESTS,
        "429",
        "Rate limit quota violation. Quota limit exceeded.",
    )
    .into_response("");
    response.headers_mut().insert(
        axum::http::header::RETRY_AFTER,
        axum::http::HeaderValue::from(wait_seconds),
    );
    response
}

/// The full simulator: the OData services behind their middleware, and `/__sim/`.
pub(crate) fn build(opts: &SimOptions) -> (Router, Arc<Control>) {
    let sap = Arc::new(Sap::new(opts));
    let control = Control::new(rate_limited);
    let api = Router::new()
        .route("/sap/opu/odata/sap/{*rest}", any(routes::handle))
        .with_state(sap.clone())
        .layer(from_fn_with_state(
            control.clone(),
            control::apply_rate_limit,
        ))
        .layer(from_fn_with_state(sap.clone(), auth::authenticate))
        .layer(from_fn_with_state(control.clone(), control::apply_outage))
        .layer(from_fn_with_state(control.clone(), control::count_requests));
    let router = api.merge(control::routes(control.clone(), sap));
    (router, control)
}
