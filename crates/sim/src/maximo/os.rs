//! The object structures served, their business keys and the resource ids minted from them.
//!
//! A member's `href` ends in `_` + base64 of its key values joined with `/`, `=` padding
//! written as `-` (reference §3: `_QkVERk9SRC8xMDAw` = base64("BEDFORD/1000")). The key order is
//! the object's own (`SITEID/WONUM` for work orders, `ASSETNUM/SITEID` for assets).

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde_json::Value;

use super::data::{
    World, ASSETNUM_BASE, COMPANY_BASE, ITEMNUM_BASE, ORGID, PMNUM_BASE, PONUM_BASE, WONUM_BASE,
};

/// One object structure (`/maximo/api/os/{name}`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Os {
    Asset,
    Location,
    WorkOrder,
    Pm,
    Inventory,
    PurchaseOrder,
    Vendor,
}

impl Os {
    pub(crate) const ALL: [Os; 7] = [
        Os::Asset,
        Os::Location,
        Os::WorkOrder,
        Os::Pm,
        Os::Inventory,
        Os::PurchaseOrder,
        Os::Vendor,
    ];

    /// The object structure's name in URLs (lower case; Maximo matches case-insensitively).
    pub(crate) fn name(self) -> &'static str {
        match self {
            Os::Asset => "mxapiasset",
            Os::Location => "mxapioperloc",
            Os::WorkOrder => "mxapiwodetail",
            Os::Pm => "mxapipm",
            Os::Inventory => "mxapiinventory",
            Os::PurchaseOrder => "mxapipo",
            Os::Vendor => "mxapivendor",
        }
    }

    pub(crate) fn from_name(name: &str) -> Option<Os> {
        Os::ALL
            .into_iter()
            .find(|os| os.name().eq_ignore_ascii_case(name))
    }

    /// The unified entity name `/__sim/mutate` uses for it.
    pub(crate) fn entity(self) -> &'static str {
        match self {
            Os::Asset => "assets",
            Os::Location => "locations",
            Os::WorkOrder => "work_orders",
            Os::Pm => "maintenance_schedules",
            Os::Inventory => "inventory_items",
            Os::PurchaseOrder => "purchase_orders",
            Os::Vendor => "vendors",
        }
    }

    pub(crate) fn from_entity(entity: &str) -> Option<Os> {
        Os::ALL.into_iter().find(|os| os.entity() == entity)
    }

    /// The main object's name in Maximo messages (`WORKORDER`).
    pub(crate) fn object(self) -> &'static str {
        match self {
            Os::Asset => "ASSET",
            Os::Location => "LOCATIONS",
            Os::WorkOrder => "WORKORDER",
            Os::Pm => "PM",
            Os::Inventory => "INVENTORY",
            Os::PurchaseOrder => "PO",
            Os::Vendor => "COMPANIES",
        }
    }

    /// The key attributes, in id order.
    pub(crate) fn keys(self) -> &'static [&'static str] {
        match self {
            Os::Asset => &["assetnum", "siteid"],
            Os::Location => &["location", "siteid"],
            Os::WorkOrder => &["siteid", "wonum"],
            Os::Pm => &["pmnum", "siteid"],
            Os::Inventory => &["itemnum", "itemsetid", "siteid", "location"],
            Os::PurchaseOrder => &["ponum", "revisionnum", "siteid"],
            Os::Vendor => &["company", "orgid"],
        }
    }

    /// Generates seeded record `i`.
    pub(crate) fn generate(self, world: &World, i: u64) -> Value {
        match self {
            Os::Asset => world.asset(i),
            Os::Location => world.location(i),
            Os::WorkOrder => world.work_order(i),
            Os::Pm => world.pm(i),
            Os::Inventory => world.inventory(i),
            Os::PurchaseOrder => world.purchase_order(i),
            Os::Vendor => world.vendor(i),
        }
    }

    /// The record index key values name, if they have the shape this simulator mints (the
    /// caller still compares the record's own id, so a wrong site is not found).
    pub(crate) fn index_of(self, world: &World, keys: &[&str]) -> Option<u64> {
        let number = |text: &str, base: u64| text.parse::<u64>().ok()?.checked_sub(base);
        match (self, keys) {
            (Os::Asset, [assetnum, _]) => number(assetnum, ASSETNUM_BASE),
            (Os::Location, [location, siteid]) => {
                world.location_index(location, world.site_index(siteid)?)
            }
            (Os::WorkOrder, [_, wonum]) => number(wonum, WONUM_BASE),
            (Os::Pm, [pmnum, _]) => number(pmnum.strip_prefix("PM")?, PMNUM_BASE),
            (Os::Inventory, [itemnum, ..]) => number(itemnum, ITEMNUM_BASE),
            (Os::PurchaseOrder, [ponum, ..]) => number(ponum, PONUM_BASE),
            (Os::Vendor, [company, orgid]) if *orgid == ORGID => {
                let digits = company.trim_start_matches(|c: char| !c.is_ascii_digit());
                number(digits, COMPANY_BASE)
            }
            _ => None,
        }
    }

    /// The resource id (`_QkVERk9SRC8xMDAw`) of a record.
    pub(crate) fn rest_id(self, record: &Value) -> String {
        let joined = self
            .keys()
            .iter()
            .map(|k| match record.get(*k) {
                Some(Value::String(s)) => s.clone(),
                Some(Value::Number(n)) => n.to_string(),
                _ => String::new(),
            })
            .collect::<Vec<_>>()
            .join("/");
        format!("_{}", STANDARD.encode(joined).replace('=', "-"))
    }
}

/// The key values a resource id encodes, if it is one.
pub(crate) fn decode_rest_id(id: &str) -> Option<Vec<String>> {
    let encoded = id.strip_prefix('_')?.replace('-', "=");
    let bytes = STANDARD.decode(encoded).ok()?;
    let text = String::from_utf8(bytes).ok()?;
    Some(text.split('/').map(str::to_owned).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ids_follow_the_reference_examples() {
        let wo = json!({"siteid": "BEDFORD", "wonum": "1000"});
        assert_eq!(Os::WorkOrder.rest_id(&wo), "_QkVERk9SRC8xMDAw");
        let asset = json!({"assetnum": "11430", "siteid": "BEDFORD"});
        assert_eq!(Os::Asset.rest_id(&asset), "_MTE0MzAvQkVERk9SRA--");
        assert_eq!(
            decode_rest_id("_MTE0MzAvQkVERk9SRA--").unwrap(),
            ["11430", "BEDFORD"]
        );
        assert_eq!(decode_rest_id("nope"), None);
    }

    #[test]
    fn names_and_entities_are_distinct() {
        for os in Os::ALL {
            assert_eq!(Os::from_name(&os.name().to_uppercase()), Some(os));
            assert_eq!(Os::from_entity(os.entity()), Some(os));
        }
    }
}
