//! The MaintainX simulator: MaintainX's public REST API (`/v1`, reference/connectors.md §2)
//! over a seeded tenant, plus the shared `/__sim/` control endpoints.
//!
//! Served:
//!
//! | path | methods |
//! |---|---|
//! | `/v1/organizations` | GET |
//! | `/v1/workorders` | GET, POST |
//! | `/v1/workorders/{id}` | GET, PATCH, DELETE |
//! | `/v1/workorders/{id}/status` | PATCH |
//! | `/v1/assets`, `/v1/locations`, `/v1/parts`, `/v1/users`, `/v1/vendors`, `/v1/purchaseorders` | GET |
//! | the same with `/{id}` | GET |
//!
//! Every `/v1` call passes, outermost first: request counting, the injected outage,
//! authentication (401), the injected rate limit (429), the role check of
//! `/__sim/credentials`' simulator-only `denied` list (403, see `auth`), then the handler.
//!
//! Where the reference marks the wire format UNVERIFIED, the simulator makes one consistent
//! choice, documented where it is made: error bodies `{"message"}` (`error`), list limits and
//! envelopes (`routes`), expansions (`expand`), field names and enum values (`wire`), write
//! answers and validation (`writes`), cursors (`cursor`), the organization header (`auth`).
//! Seeded data and its relations are described in `data`, `/__sim/mutate` in `mutate`.

mod auth;
mod cursor;
mod data;
mod error;
mod expand;
mod mutate;
mod resource;
mod routes;
mod store;
mod wire;
mod writes;

use std::sync::{Arc, Mutex, MutexGuard, RwLock};

use axum::middleware::from_fn_with_state;
use axum::Router;
use serde_json::Value;

use crate::clock::Clock;
use crate::control::{self, Backend, Control, MutateOp};
use crate::SimOptions;

use auth::Credentials;
use data::World;
use store::Db;

/// The API key the simulator accepts until `/__sim/credentials` changes it.
pub const DEFAULT_API_KEY: &str = "sim-maintainx-key";

/// The id of the simulated organization (`GET /v1/organizations`, `x-organization-id`).
pub const ORGANIZATION_ID: u64 = 15;

/// Largest `limit` a list accepts; larger values are answered with 400.
pub const MAX_PAGE_SIZE: usize = routes::MAX_LIMIT;

/// One simulated MaintainX tenant.
pub(crate) struct Maintainx {
    world: World,
    clock: Clock,
    db: Mutex<Db>,
    credentials: RwLock<Credentials>,
}

impl Maintainx {
    fn new(opts: &SimOptions) -> Self {
        let clock = Clock::today();
        let world = World::new(opts.seed, opts.scale as u64, clock.anchor());
        let db = Db::new(&world);
        Maintainx {
            world,
            clock,
            db: Mutex::new(db),
            credentials: RwLock::new(Credentials {
                api_key: DEFAULT_API_KEY.to_owned(),
                organization_id: ORGANIZATION_ID,
                denied: Vec::new(),
            }),
        }
    }

    fn db(&self) -> MutexGuard<'_, Db> {
        // A handler that panicked mid-request must not wedge the simulator.
        self.db.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn credentials(&self) -> Credentials {
        self.credentials
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    fn organization_id(&self) -> u64 {
        self.credentials().organization_id
    }
}

impl Backend for Maintainx {
    fn set_credentials(&self, body: &Value) -> Result<(), String> {
        let mut current = self.credentials.write().unwrap_or_else(|e| e.into_inner());
        *current = current.updated(body)?;
        Ok(())
    }

    fn mutate(&self, entity: &str, op: MutateOp, count: usize) -> Result<Vec<Value>, String> {
        let mut db = self.db();
        mutate::mutate(&self.world, &mut db, &self.clock, entity, op, count)
    }
}

/// The full simulator: `/v1` behind its middleware, and `/__sim/`.
pub(crate) fn build(opts: &SimOptions) -> (Router, Arc<Control>) {
    let mx = Arc::new(Maintainx::new(opts));
    let control = Control::new(error::rate_limited);
    let api = routes::router(mx.clone())
        .layer(from_fn_with_state(mx.clone(), auth::authorize))
        .layer(from_fn_with_state(
            control.clone(),
            control::apply_rate_limit,
        ))
        .layer(from_fn_with_state(mx.clone(), auth::authenticate))
        .layer(from_fn_with_state(control.clone(), control::apply_outage))
        .layer(from_fn_with_state(control.clone(), control::count_requests));
    let router = Router::new()
        .nest("/v1", api)
        .merge(control::routes(control.clone(), mx));
    (router, control)
}
