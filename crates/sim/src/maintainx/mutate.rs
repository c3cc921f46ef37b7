//! `/__sim/mutate` for MaintainX: what "someone changed N records in MaintainX" looks like.
//!
//! * `create` adds records drawn like seeded ones (same generators, the next ids), stamped now
//!   and in their initial state (work orders `OPEN`, purchase orders `DRAFT`, nothing received).
//! * `update` picks live records at random and moves them on the way people do: work orders
//!   and purchase orders advance through their workflow, assets go down or come back, stock is
//!   consumed or replenished, contact details change. `updatedAt` is set to now.
//! * `delete` removes live records: single GETs answer 404 and lists skip them.
//!
//! Entity names are the unified API's snake_case plurals (`inventory_items` are MaintainX
//! parts).

use serde_json::{json, Value};

use super::data::World;
use super::resource::Resource;
use super::store::Db;
use super::wire::*;
use crate::clock::{Ts, DAY_MS};
use crate::control::MutateOp;
use crate::names::{self, CITIES};
use crate::num::Num;
use crate::rng::Rng;

/// Per-entity behaviour of `create` and `update`.
pub(crate) trait Evolve: Resource {
    /// Turns a freshly generated record into one created just now.
    fn start(&mut self, now: Ts, rng: &mut Rng);
    /// Makes a realistic change (the caller stamps `updatedAt`).
    fn evolve(&mut self, now: Ts, rng: &mut Rng);
    fn stamp(&mut self, now: Ts);
}

/// Entity names `/__sim/mutate` accepts.
pub(crate) const ENTITIES: &[&str] = &[
    "work_orders",
    "assets",
    "locations",
    "inventory_items",
    "purchase_orders",
    "vendors",
    "users",
];

/// Applies `op` to `count` records of `entity`; returns the ids affected.
pub(crate) fn mutate(
    world: &World,
    db: &mut Db,
    clock: &crate::clock::Clock,
    entity: &str,
    op: MutateOp,
    count: usize,
) -> Result<Vec<Value>, String> {
    let ids = match entity {
        "work_orders" => run::<WorkOrder>(world, db, clock, op, count),
        "assets" => run::<Asset>(world, db, clock, op, count),
        "locations" => run::<Location>(world, db, clock, op, count),
        "inventory_items" => run::<Part>(world, db, clock, op, count),
        "purchase_orders" => run::<PurchaseOrder>(world, db, clock, op, count),
        "vendors" => run::<Vendor>(world, db, clock, op, count),
        "users" => run::<User>(world, db, clock, op, count),
        other => {
            return Err(format!(
                "unknown entity {other:?}; expected one of {}",
                ENTITIES.join(", ")
            ))
        }
    };
    Ok(ids.into_iter().map(|id| json!(id)).collect())
}

fn run<R: Evolve>(
    world: &World,
    db: &mut Db,
    clock: &crate::clock::Clock,
    op: MutateOp,
    count: usize,
) -> Vec<u64> {
    // The random stream is taken out so the table can be borrowed mutably alongside it.
    let mut rng = std::mem::replace(&mut db.rng, Rng::new(0));
    let ids = match op {
        MutateOp::Create => (0..count)
            .map(|_| {
                let table = R::table_mut(db);
                let index = table.index_of(table.next_id());
                let mut record = R::generate(world, index);
                record.start(clock.now(), &mut rng);
                table.insert_with(|_| record)
            })
            .collect(),
        MutateOp::Update => {
            let ids = R::table(db).sample_live(&mut rng, count);
            for id in &ids {
                let table = R::table_mut(db);
                if let Some(mut record) = table.get(*id, |i| R::generate(world, i)) {
                    let now = clock.now();
                    record.evolve(now, &mut rng);
                    record.stamp(now);
                    table.replace(*id, record);
                }
            }
            ids
        }
        MutateOp::Delete => {
            let ids = R::table(db).sample_live(&mut rng, count);
            for id in &ids {
                R::table_mut(db).delete(*id);
            }
            ids
        }
    };
    db.rng = rng;
    ids
}

impl Evolve for WorkOrder {
    fn start(&mut self, now: Ts, rng: &mut Rng) {
        self.status = WorkOrderStatus::Open;
        self.completed_at = None;
        self.due_date = Some(Ts(now.0 + rng.range(1, 15) * DAY_MS));
        self.extra_fields.remove("Downtime (hours)");
        self.created_at = now;
        self.updated_at = now;
    }

    fn evolve(&mut self, now: Ts, rng: &mut Rng) {
        use WorkOrderStatus::*;
        let next = match self.status {
            Open => InProgress,
            InProgress if rng.chance(75) => Done,
            InProgress => OnHold,
            OnHold => InProgress,
            // Reopened: the fix did not hold.
            Done => Open,
        };
        self.status = next;
        self.completed_at = (next == Done).then_some(now);
        if rng.chance(20) {
            self.priority = *rng.pick(&[Priority::Low, Priority::Medium, Priority::High]);
        }
    }

    fn stamp(&mut self, now: Ts) {
        self.updated_at = now;
    }
}

impl Evolve for Asset {
    fn start(&mut self, now: Ts, _: &mut Rng) {
        self.status = AssetStatus {
            status: AssetState::Online,
            downtime_type: None,
            description: None,
            started_at: now,
            custom_status: None,
        };
        self.created_at = now;
        self.updated_at = now;
    }

    fn evolve(&mut self, now: Ts, rng: &mut Rng) {
        self.status = match self.status.status {
            AssetState::Offline => AssetStatus {
                status: AssetState::Online,
                downtime_type: None,
                description: None,
                started_at: now,
                custom_status: None,
            },
            AssetState::Online => AssetStatus {
                status: AssetState::Offline,
                downtime_type: Some(DowntimeType::Unplanned),
                description: Some(
                    (*rng.pick(&[
                        "Tripped on overload",
                        "Leak found during rounds",
                        "Abnormal vibration, stopped for inspection",
                    ]))
                    .to_owned(),
                ),
                started_at: now,
                custom_status: rng.chance(50).then(|| CustomStatus {
                    label: "Under Repair".to_owned(),
                }),
            },
        };
    }

    fn stamp(&mut self, now: Ts) {
        self.updated_at = now;
    }
}

impl Evolve for Location {
    fn start(&mut self, now: Ts, _: &mut Rng) {
        self.created_at = now;
        self.updated_at = now;
    }

    fn evolve(&mut self, _: Ts, rng: &mut Rng) {
        let note = rng.pick(&[
            "Access by badge only.",
            "Hearing protection required.",
            "Hot work permit required.",
            "Forklift traffic: stay in marked walkways.",
        ]);
        let base = self
            .description
            .as_deref()
            .and_then(|d| d.split(" Note: ").next())
            .unwrap_or("")
            .to_owned();
        self.description = Some(format!("{base} Note: {note}").trim().to_owned());
    }

    fn stamp(&mut self, now: Ts) {
        self.updated_at = now;
    }
}

impl Evolve for Part {
    fn start(&mut self, now: Ts, _: &mut Rng) {
        self.created_at = now;
        self.updated_at = now;
    }

    fn evolve(&mut self, _: Ts, rng: &mut Rng) {
        let on_hand = self.available_quantity.0;
        // Below minimum gets replenished; otherwise parts are issued to work orders.
        let next = if on_hand <= self.minimum_quantity.0 {
            on_hand + rng.range(5, 30) as f64
        } else {
            (on_hand - rng.range(1, 5) as f64).max(0.0)
        };
        self.available_quantity = Num(next);
    }

    fn stamp(&mut self, now: Ts) {
        self.updated_at = now;
    }
}

impl Evolve for Vendor {
    fn start(&mut self, now: Ts, _: &mut Rng) {
        self.created_at = now;
        self.updated_at = now;
    }

    fn evolve(&mut self, _: Ts, rng: &mut Rng) {
        let city = rng.pick(CITIES);
        self.phone_number = Some(names::phone(rng, city));
        if let Some(domain) = self
            .email
            .as_deref()
            .and_then(|e| e.split_once('@'))
            .map(|(_, d)| d.to_owned())
        {
            let mailbox = rng.pick(&["orders", "sales", "ar", "purchasing"]);
            self.email = Some(format!("{mailbox}@{domain}"));
        }
    }

    fn stamp(&mut self, now: Ts) {
        self.updated_at = now;
    }
}

impl Evolve for User {
    fn start(&mut self, now: Ts, _: &mut Rng) {
        self.created_at = now;
        self.updated_at = now;
    }

    fn evolve(&mut self, _: Ts, rng: &mut Rng) {
        if rng.chance(50) {
            let city = rng.pick(CITIES);
            self.phone_number = Some(names::phone(rng, city));
        } else {
            self.role = match self.role {
                Role::LimitedTechnician | Role::Requester => Role::Technician,
                Role::Technician => Role::Admin,
                Role::Admin | Role::ViewOnly => Role::Technician,
            };
        }
    }

    fn stamp(&mut self, now: Ts) {
        self.updated_at = now;
    }
}

impl Evolve for PurchaseOrder {
    fn start(&mut self, now: Ts, rng: &mut Rng) {
        self.status = PurchaseOrderStatus::Draft;
        for item in &mut self.items {
            item.quantity_received = Num(0.0);
        }
        self.due_date = Some(Ts(now.0 + rng.range(7, 46) * DAY_MS));
        self.created_at = now;
        self.updated_at = now;
    }

    fn evolve(&mut self, _: Ts, rng: &mut Rng) {
        use PurchaseOrderStatus::*;
        let next = match self.status {
            Draft => Requested,
            Requested if rng.chance(90) => Approved,
            Requested => Declined,
            // A single unit cannot arrive in part.
            Approved if self.items.iter().map(|i| i.quantity_ordered.0).sum::<f64>() <= 1.0 => {
                Completed
            }
            Approved => PartiallyFulfilled,
            PartiallyFulfilled => Completed,
            // Closed orders only get their note amended.
            done @ (Completed | Canceled | Declined) => done,
        };
        match next {
            PartiallyFulfilled => {
                // Half of the first line arrived (or, for a one-unit line, all of it while the
                // other lines are still outstanding).
                if let Some(first) = self.items.first_mut() {
                    let ordered = first.quantity_ordered.0;
                    first.quantity_received = Num((ordered / 2.0).floor().max(1.0).min(ordered));
                }
            }
            Completed => {
                for item in &mut self.items {
                    item.quantity_received = item.quantity_ordered;
                }
            }
            _ => {}
        }
        if next == self.status {
            self.note = Some("Invoice matched and filed.".to_owned());
        }
        self.status = next;
    }

    fn stamp(&mut self, now: Ts) {
        self.updated_at = now;
    }
}
