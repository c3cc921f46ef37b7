//! What the generic list and single-record handlers need to know about each MaintainX
//! resource: its path, its envelope keys, its expansions and filters, and where its records live.

use serde::Serialize;

use super::data::World;
use super::error::ApiError;
use super::expand::{AssetView, Expand, Expansion, WithExtraFields, WorkOrderView};
use super::store::{Db, Lookup};
use super::wire::*;
use crate::query::Query;
use crate::table::Table;

/// A predicate over records, from a list request's filter parameters.
pub(crate) type Filter<R> = Box<dyn Fn(&R) -> bool + Send>;

/// A MaintainX resource served under `/v1/{PATH}`.
pub(crate) trait Resource: Clone + Send + Sync + 'static {
    /// Path segment (`workorders`).
    const PATH: &'static str;
    /// Key of the array in a list response (`workOrders`).
    const LIST_KEY: &'static str;
    /// Key of the object in a single-record response (`workOrder`).
    const ONE_KEY: &'static str;
    /// Name in messages (`Work order`).
    const NOUN: &'static str;
    /// The `expand` values this resource accepts.
    const EXPANSIONS: &'static [Expansion];

    fn id(&self) -> u64;
    fn table(db: &Db) -> &Table<Self>;
    fn table_mut(db: &mut Db) -> &mut Table<Self>;
    /// Seeded record `index`.
    fn generate(world: &World, index: u64) -> Self;
    /// The record as sent, with the requested expansions.
    fn view<'a>(&'a self, expand: Expand, lookup: &'a Lookup<'a>) -> impl Serialize + 'a;

    /// Filters from the query; none by default (unknown parameters are ignored, as most REST
    /// APIs do).
    fn filter(_query: &Query) -> Result<Filter<Self>, ApiError> {
        Ok(Box::new(|_| true))
    }
}

/// Parses an optional numeric id filter parameter.
fn id_param(query: &Query, name: &str) -> Result<Option<u64>, ApiError> {
    query
        .get(name)
        .map(|v| {
            v.parse::<u64>()
                .map_err(|_| ApiError::bad_request(format!("{name} must be a number")))
        })
        .transpose()
}

impl Resource for WorkOrder {
    const PATH: &'static str = "workorders";
    const LIST_KEY: &'static str = "workOrders";
    const ONE_KEY: &'static str = "workOrder";
    const NOUN: &'static str = "Work order";
    const EXPANSIONS: &'static [Expansion] = &[
        Expansion::Assignees,
        Expansion::Asset,
        Expansion::Location,
        Expansion::ExtraFields,
    ];

    fn id(&self) -> u64 {
        self.id
    }
    fn table(db: &Db) -> &Table<Self> {
        &db.work_orders
    }
    fn table_mut(db: &mut Db) -> &mut Table<Self> {
        &mut db.work_orders
    }
    fn generate(world: &World, index: u64) -> Self {
        world.work_order(index)
    }
    fn view<'a>(&'a self, expand: Expand, lookup: &'a Lookup<'a>) -> impl Serialize + 'a {
        WorkOrderView::new(self, expand, lookup)
    }

    /// `locationId` is a filter real clients use [CODE]; `assetId` is its natural sibling
    /// (UNVERIFIED).
    fn filter(query: &Query) -> Result<Filter<Self>, ApiError> {
        let location = id_param(query, "locationId")?;
        let asset = id_param(query, "assetId")?;
        Ok(Box::new(move |wo: &WorkOrder| {
            location.is_none_or(|l| wo.location_id == Some(l))
                && asset.is_none_or(|a| wo.asset_id == Some(a))
        }))
    }
}

impl Resource for Asset {
    const PATH: &'static str = "assets";
    const LIST_KEY: &'static str = "assets";
    const ONE_KEY: &'static str = "asset";
    const NOUN: &'static str = "Asset";
    const EXPANSIONS: &'static [Expansion] = &[
        Expansion::Status,
        Expansion::AssetTypes,
        Expansion::Location,
        Expansion::ExtraFields,
    ];

    fn id(&self) -> u64 {
        self.id
    }
    fn table(db: &Db) -> &Table<Self> {
        &db.assets
    }
    fn table_mut(db: &mut Db) -> &mut Table<Self> {
        &mut db.assets
    }
    fn generate(world: &World, index: u64) -> Self {
        world.asset(index)
    }
    fn view<'a>(&'a self, expand: Expand, lookup: &'a Lookup<'a>) -> impl Serialize + 'a {
        AssetView::new(self, expand, lookup)
    }
}

/// Resources whose only expansion is `extra_fields`.
macro_rules! plain_resource {
    ($ty:ty, $path:literal, $list:literal, $one:literal, $noun:literal, $field:ident, $gen:ident) => {
        impl Resource for $ty {
            const PATH: &'static str = $path;
            const LIST_KEY: &'static str = $list;
            const ONE_KEY: &'static str = $one;
            const NOUN: &'static str = $noun;
            const EXPANSIONS: &'static [Expansion] = &[Expansion::ExtraFields];

            fn id(&self) -> u64 {
                self.id
            }
            fn table(db: &Db) -> &Table<Self> {
                &db.$field
            }
            fn table_mut(db: &mut Db) -> &mut Table<Self> {
                &mut db.$field
            }
            fn generate(world: &World, index: u64) -> Self {
                world.$gen(index)
            }
            fn view<'a>(&'a self, expand: Expand, _: &'a Lookup<'a>) -> impl Serialize + 'a {
                WithExtraFields::new(self, &self.extra_fields, expand)
            }
        }
    };
}

plain_resource!(
    Location,
    "locations",
    "locations",
    "location",
    "Location",
    locations,
    location
);
plain_resource!(Part, "parts", "parts", "part", "Part", parts, part);
plain_resource!(Vendor, "vendors", "vendors", "vendor", "Vendor", vendors, vendor);
plain_resource!(
    PurchaseOrder,
    "purchaseorders",
    "purchaseOrders",
    "purchaseOrder",
    "Purchase order",
    purchase_orders,
    purchase_order
);

/// Users have no custom fields and no expansions.
impl Resource for User {
    const PATH: &'static str = "users";
    const LIST_KEY: &'static str = "users";
    const ONE_KEY: &'static str = "user";
    const NOUN: &'static str = "User";
    const EXPANSIONS: &'static [Expansion] = &[];

    fn id(&self) -> u64 {
        self.id
    }
    fn table(db: &Db) -> &Table<Self> {
        &db.users
    }
    fn table_mut(db: &mut Db) -> &mut Table<Self> {
        &mut db.users
    }
    fn generate(world: &World, index: u64) -> Self {
        world.user(index)
    }
    fn view<'a>(&'a self, _: Expand, _: &'a Lookup<'a>) -> impl Serialize + 'a {
        self
    }
}
