//! The IBM Maximo simulator: Maximo Manage's JSON API (`/maximo/api/os/...`, reference §3) over
//! a seeded organization, plus the shared `/__sim/` control endpoints.
//!
//! Served:
//!
//! | path | methods |
//! |---|---|
//! | `/maximo/api/os/{os}` for `mxapiasset`, `mxapioperloc`, `mxapiwodetail`, `mxapipm`, `mxapiinventory`, `mxapipo`, `mxapivendor` | GET |
//! | `/maximo/api/os/mxapiwodetail` | POST (create: 201 + `Location`) |
//! | `/maximo/api/os/{os}/{restid}` | GET |
//! | `/maximo/api/os/mxapiwodetail/{restid}` | POST with `x-method-override: PATCH` |
//!
//! Every call passes, outermost first: request counting, the injected outage, authentication
//! (`apikey` header, or `?apikey=`; else 401 `BMXAA7901E`), the injected rate limit (429), then
//! the handler. `/__sim/credentials` takes `{"api_key": …}` and, simulator-only, `"denied":
//! ["mxapipo", …]`: object structures the key's user may not use, answered with 403
//! `BMXAA0024E` (what a security group without the application's READ/INSERT grant gets).
//!
//! Paging is Maximo's: every request runs its query again on the current records, and `pageno`
//! is an offset into that answer, so records changed between two pages shift the offsets (a
//! changed record moves to the end of a `changedate` order). Keyset paging — `oslc.where` on the
//! unique id (`workorderid>1200`), on `changedate="…"` ties, with a two-attribute
//! `oslc.orderBy` — is answered like any other filter, which is what makes it gap-free. Every
//! main object carries its numeric unique id (`assetuid`, `locationsid`, `workorderid`,
//! `pmuid`, `inventoryid`, `poid`, `companiesid`), equal to the table id here.
//!
//! Known simplifications: answers are always lean (`lean=0`'s `spi:` names are not simulated);
//! a supplied `wonum` on create is ignored (autokeyed, as by default); `oslc.where` supports
//! `and` only; `stablepaging` is ignored (the reference does not say what its cursor holds);
//! pages are at most 1000 records (`mxe.oslc.maxpagesize`), 1000 when `oslc.pageSize` is
//! absent.

mod data;
mod error;
mod os;
mod oslc;
mod routes;
mod writes;

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard, RwLock};

use axum::middleware::from_fn_with_state;
use axum::Router;
use serde_json::{Map, Value};

use crate::clock::Clock;
use crate::control::{self, Backend, Control, MutateOp};
use crate::rng::Rng;
use crate::table::Table;
use crate::SimOptions;

use data::{fields, mx_time, rowstamp, World};
use os::Os;
use oslc::Where;

/// The API key the simulator accepts until `/__sim/credentials` changes it.
pub const DEFAULT_API_KEY: &str = "sim-maximo-key";

/// The largest page served (`mxe.oslc.maxpagesize`); larger `oslc.pageSize` values are clamped.
pub const MAX_PAGE_SIZE: usize = 1000;

/// How many sorted projections ([`CachedRows`]) are remembered, so that paging through a
/// filtered, ordered collection generates its records once rather than once per page.
const CACHED_QUERIES: usize = 8;

/// The accepted key and what it may not touch.
#[derive(Clone, Debug)]
struct Access {
    api_key: String,
    denied: Vec<Os>,
}

/// Every live record of an object structure in one order, reduced to the attributes some
/// query needed; valid while `version` is current.
///
/// Keyed by order and attributes rather than by filter: keyset paging sends a new
/// `oslc.where` with every page (`workorderid>1200`, `changedate>="…"`), and re-generating
/// every record for each page would make a 100 000-record listing quadratic. The filter is
/// evaluated on these rows instead.
struct CachedRows {
    os: Os,
    order: String,
    attrs: Vec<String>,
    version: u64,
    rows: Arc<Vec<(u64, Map<String, Value>)>>,
}

/// Mutable state: one table per object structure (record index `i` has id `i + 1`).
struct Db {
    tables: Vec<Table<Value>>,
    /// Bumped by every write, invalidating cached queries.
    version: u64,
    cache: VecDeque<CachedRows>,
    /// Chooses and alters records for `/__sim/mutate`.
    rng: Rng,
}

/// One simulated Maximo organization.
pub(crate) struct Maximo {
    world: World,
    clock: Clock,
    db: Mutex<Db>,
    access: RwLock<Access>,
}

impl Maximo {
    fn new(opts: &SimOptions) -> Self {
        let clock = Clock::today();
        let world = World::new(opts.seed, opts.scale as u64, clock.anchor());
        let tables = Os::ALL
            .iter()
            .map(|_| Table::new(1, opts.scale as u64))
            .collect();
        Maximo {
            db: Mutex::new(Db {
                tables,
                version: 0,
                cache: VecDeque::new(),
                rng: Rng::new(opts.seed ^ 0x6d61_7869_6d6f),
            }),
            world,
            clock,
            access: RwLock::new(Access {
                api_key: DEFAULT_API_KEY.to_owned(),
                denied: Vec::new(),
            }),
        }
    }

    fn db(&self) -> MutexGuard<'_, Db> {
        // A handler that panicked mid-request must not wedge the simulator.
        self.db.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn access(&self) -> Access {
        self.access
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Record `id` of `os`, if live.
    fn get(&self, db: &Db, os: Os, id: u64) -> Option<Value> {
        db.tables[os as usize].get(id, |i| os.generate(&self.world, i))
    }

    /// The table id of the record a resource id names, if it exists.
    fn find(&self, db: &Db, os: Os, rest_id: &str) -> Option<(u64, Value)> {
        let keys = os::decode_rest_id(rest_id)?;
        let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
        let id = os.index_of(&self.world, &keys)? + 1;
        let record = self.get(db, os, id)?;
        (os.rest_id(&record) == rest_id).then_some((id, record))
    }

    /// The ids of the records matching `filter`, in `order` (id order when empty, and among
    /// records the order ties). Evaluated on the current records at every call, as Maximo
    /// runs the query again for every page: `pageno` offsets shift when records change.
    fn query(&self, db: &mut Db, os: Os, filter: &str, order: &str) -> Result<Vec<u64>, String> {
        let condition = Where::parse(filter)?;
        let by = oslc::parse_order(order);
        let table = &db.tables[os as usize];
        if condition.is_empty() && by.is_empty() {
            // The common unfiltered listing needs no record generated.
            return Ok((1..table.next_id())
                .filter(|id| table.contains(*id))
                .collect());
        }
        let mut attrs: Vec<String> = by
            .iter()
            .map(|(k, _)| k.clone())
            .chain(condition.attributes().map(str::to_owned))
            .collect();
        attrs.sort();
        attrs.dedup();
        let rows = self.sorted_rows(db, os, order, attrs);
        Ok(rows
            .iter()
            .filter(|(_, row)| condition.matches(row))
            .map(|(id, _)| *id)
            .collect())
    }

    /// Every live record of `os` sorted by `order`, reduced to `attrs` (from the cache when
    /// nothing was written since).
    fn sorted_rows(
        &self,
        db: &mut Db,
        os: Os,
        order: &str,
        attrs: Vec<String>,
    ) -> Arc<Vec<(u64, Map<String, Value>)>> {
        let version = db.version;
        if let Some(hit) = db
            .cache
            .iter()
            .find(|c| c.os == os && c.order == order && c.attrs == attrs && c.version == version)
        {
            return hit.rows.clone();
        }
        let by = oslc::parse_order(order);
        let table = &db.tables[os as usize];
        let mut rows: Vec<(u64, Map<String, Value>)> = (1..table.next_id())
            .filter_map(|id| {
                let record = self.get(db, os, id)?;
                let record = record.as_object()?;
                // Keep only what the query reads: 100 000 whole records would not fit
                // comfortably in memory.
                let row = attrs
                    .iter()
                    .filter_map(|k| Some((k.clone(), record.get(k)?.clone())))
                    .collect();
                Some((id, row))
            })
            .collect();
        rows.sort_by(|a, b| oslc::order(&a.1, &b.1, &by).then(a.0.cmp(&b.0)));
        let rows = Arc::new(rows);
        if db.cache.len() == CACHED_QUERIES {
            db.cache.pop_front();
        }
        db.cache.push_back(CachedRows {
            os,
            order: order.to_owned(),
            attrs,
            version,
            rows: rows.clone(),
        });
        rows
    }

    /// Stores a changed record and invalidates cached queries.
    fn replace(&self, db: &mut Db, os: Os, id: u64, record: Value) {
        db.tables[os as usize].replace(id, record);
        db.version += 1;
    }
}

impl Backend for Maximo {
    fn set_credentials(&self, body: &Value) -> Result<(), String> {
        let api_key = body
            .get("api_key")
            .and_then(Value::as_str)
            .filter(|k| !k.trim().is_empty())
            .ok_or("api_key (a non-empty string) is required")?;
        let denied = match body.get("denied") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(names)) => names
                .iter()
                .map(|n| {
                    n.as_str()
                        .and_then(Os::from_name)
                        .ok_or_else(|| format!("denied: unknown object structure {n}"))
                })
                .collect::<Result<_, _>>()?,
            Some(_) => return Err("denied must be a list of object structure names".into()),
        };
        *self.access.write().unwrap_or_else(|e| e.into_inner()) = Access {
            api_key: api_key.to_owned(),
            denied,
        };
        Ok(())
    }

    fn mutate(&self, entity: &str, op: MutateOp, count: usize) -> Result<Vec<Value>, String> {
        let os = Os::from_entity(entity).ok_or_else(|| {
            let known: Vec<_> = Os::ALL.iter().map(|o| o.entity()).collect();
            format!("unknown entity {entity:?}; expected one of {known:?}")
        })?;
        let mut db = self.db();
        let db = &mut *db;
        let mut ids = Vec::new();
        match op {
            MutateOp::Create => {
                for _ in 0..count {
                    let now = self.clock.now();
                    let world = &self.world;
                    let id = db.tables[os as usize].insert_with(|id| {
                        let mut record = os.generate(world, id - 1);
                        stamp(&mut record, now);
                        if os == Os::WorkOrder {
                            let f = fields(&mut record);
                            f.insert("status".into(), "WAPPR".into());
                            f.insert("status_description".into(), "Waiting on Approval".into());
                            f.insert("reportdate".into(), mx_time(now).into());
                            f.insert("statusdate".into(), mx_time(now).into());
                            for gone in ["actstart", "actfinish", "actlabhrs"] {
                                f.remove(gone);
                            }
                        }
                        record
                    });
                    let record = self.get(db, os, id).unwrap_or_default();
                    ids.push(Value::String(os.rest_id(&record)));
                }
                db.version += 1;
            }
            MutateOp::Update => {
                let chosen = db.tables[os as usize].sample_live(&mut db.rng, count);
                for id in chosen {
                    let Some(mut record) = self.get(db, os, id) else {
                        continue;
                    };
                    let revision = db.rng.below(1000);
                    touch(&mut record, revision);
                    stamp(&mut record, self.clock.now());
                    ids.push(Value::String(os.rest_id(&record)));
                    self.replace(db, os, id, record);
                }
            }
            MutateOp::Delete => {
                let chosen = db.tables[os as usize].sample_live(&mut db.rng, count);
                for id in chosen {
                    if let Some(record) = self.get(db, os, id) {
                        ids.push(Value::String(os.rest_id(&record)));
                    }
                    db.tables[os as usize].delete(id);
                }
                db.version += 1;
            }
        }
        Ok(ids)
    }
}

/// Sets `changedate` and `_rowstamp` after a change (inventory has no `changedate`, as in
/// Maximo's `mxapiinventory`, so only its row stamp moves).
fn stamp(record: &mut Value, now: crate::clock::Ts) {
    let f = fields(record);
    if f.contains_key("changedate") {
        f.insert("changedate".into(), mx_time(now).into());
        f.insert("changeby".into(), "MXINTADM".into());
    }
    f.insert("_rowstamp".into(), rowstamp(now).into());
}

/// A visible change for `/__sim/mutate update`: a revised description (or name) and, for
/// inventory, a new balance.
fn touch(record: &mut Value, revision: u64) {
    let f = fields(record);
    let key = if f.contains_key("description") {
        "description"
    } else {
        "name"
    };
    if let Some(Value::String(text)) = f.get(key) {
        let base = text.split(" (rev ").next().unwrap_or(text).to_owned();
        f.insert(key.into(), format!("{base} (rev {revision})").into());
    }
    if let Some(balance) = f.get("curbaltotal").and_then(Value::as_i64) {
        let next = (balance + 1 + (revision % 5) as i64) % 60;
        f.insert("curbaltotal".into(), next.into());
        f.insert("avblbalance".into(), next.into());
    }
}

/// The full simulator: `/maximo` behind its middleware, and `/__sim/`.
pub(crate) fn build(opts: &SimOptions) -> (Router, Arc<Control>) {
    let mx = Arc::new(Maximo::new(opts));
    let control = Control::new(error::rate_limited);
    let api = routes::router(mx.clone())
        .layer(from_fn_with_state(
            control.clone(),
            control::apply_rate_limit,
        ))
        .layer(from_fn_with_state(mx.clone(), routes::authenticate))
        .layer(from_fn_with_state(control.clone(), control::apply_outage))
        .layer(from_fn_with_state(control.clone(), control::count_requests));
    let router = Router::new()
        .nest("/maximo", api)
        .merge(control::routes(control.clone(), mx));
    (router, control)
}
