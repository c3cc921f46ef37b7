//! The simulated MaintainX tenant's mutable state: one [`Table`] per entity over the seeded
//! [`World`], and the random stream that drives `/__sim/mutate`.

use super::data::*;
use super::wire::{Asset, Location, Part, PurchaseOrder, User, Vendor, WorkOrder};
use crate::rng::Rng;
use crate::table::Table;

/// Every entity's records.
#[derive(Debug)]
pub(crate) struct Db {
    pub(crate) work_orders: Table<WorkOrder>,
    pub(crate) assets: Table<Asset>,
    pub(crate) locations: Table<Location>,
    pub(crate) parts: Table<Part>,
    pub(crate) users: Table<User>,
    pub(crate) vendors: Table<Vendor>,
    pub(crate) purchase_orders: Table<PurchaseOrder>,
    /// Chooses and alters records for `/__sim/mutate`; seeded, so a test replaying the same
    /// calls against the same seed touches the same records.
    pub(crate) rng: Rng,
}

impl Db {
    pub(crate) fn new(world: &World) -> Self {
        let n = world.scale;
        Db {
            work_orders: Table::new(WORK_ORDER_FIRST_ID, n),
            assets: Table::new(ASSET_FIRST_ID, n),
            locations: Table::new(LOCATION_FIRST_ID, n),
            parts: Table::new(PART_FIRST_ID, n),
            users: Table::new(USER_FIRST_ID, n),
            vendors: Table::new(VENDOR_FIRST_ID, n),
            purchase_orders: Table::new(PURCHASE_ORDER_FIRST_ID, n),
            rng: Rng::new(world.seed ^ 0x6d75_7461_7465),
        }
    }
}

/// Read access to related records while rendering or validating.
pub(crate) struct Lookup<'a> {
    pub(crate) world: &'a World,
    pub(crate) db: &'a Db,
}

impl Lookup<'_> {
    pub(crate) fn asset(&self, id: u64) -> Option<Asset> {
        self.db.assets.get(id, |i| self.world.asset(i))
    }

    pub(crate) fn location(&self, id: u64) -> Option<Location> {
        self.db.locations.get(id, |i| self.world.location(i))
    }

    pub(crate) fn user(&self, id: u64) -> Option<User> {
        self.db.users.get(id, |i| self.world.user(i))
    }

    /// The live user with this e-mail address (case-insensitive), by scanning: e-mail lookups
    /// are rare (work-order assignees given by address), and users are generated on demand.
    pub(crate) fn user_by_email(&self, email: &str) -> Option<User> {
        let (found, _) = self.db.users.page(
            0,
            1,
            |i| self.world.user(i),
            |u| u.email.eq_ignore_ascii_case(email),
        );
        found.into_iter().next()
    }
}
