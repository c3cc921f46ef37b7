//! Maximo → unified model, as tables: one [`FieldMap`] list per entity (unified field ← Maximo
//! attribute, how to read it) and one translation table per enum. The enum tables are read
//! backwards for writes (see `write.rs`).
//!
//! Attribute names are the lean JSON names of reference §3. Relation fields hold resource ids
//! of the related records, built from their keys (see [`super::client::rest_id`]): a work order's
//! `assetnum` + `siteid` become the asset's id.

use millwright_core::{
    model::{
        AssetStatus, IntervalUnit, LocationType, PurchaseOrderStatus, VendorStatus,
        WorkOrderPriority, WorkOrderStatus, WorkOrderType,
    },
    time::Timestamp,
    Entity,
};
use serde_json::{json, Map, Value};

use super::client::{id_of_href, rest_id};
pub use crate::mapping::{code_for, lookup, FieldMap};
use crate::{
    mapping::{self, f, json, text as as_text, Read, Source},
    ConnectorError, RemoteRecord,
};

// ---------------------------------------------------------------------------------------------
// Translation tables. The first row for a unified value is what a write sends.

/// Asset status (`ASSETSTATUS` domain, Maximo's defaults).
pub const ASSET_STATUS: &[(&str, AssetStatus)] = &[
    ("OPERATING", AssetStatus::Operational),
    ("ACTIVE", AssetStatus::Operational),
    // Running, with restrictions: still doing its job.
    ("LIMITEDUSE", AssetStatus::Operational),
    ("NOT READY", AssetStatus::Down),
    ("BROKEN", AssetStatus::Down),
    ("DECOMMISSIONED", AssetStatus::Decommissioned),
];

/// Work order status (`WOSTATUS` domain). `HOLD` is not a default status but a common
/// customer synonym; read, never written.
pub const WORK_ORDER_STATUS: &[(&str, WorkOrderStatus)] = &[
    ("WAPPR", WorkOrderStatus::Open),
    ("APPR", WorkOrderStatus::Open),
    ("WSCH", WorkOrderStatus::Open),
    ("WMATL", WorkOrderStatus::Open),
    ("WPCOND", WorkOrderStatus::Open),
    ("INPRG", WorkOrderStatus::InProgress),
    ("COMP", WorkOrderStatus::Completed),
    ("CLOSE", WorkOrderStatus::Completed),
    ("CAN", WorkOrderStatus::Cancelled),
    ("HOLD", WorkOrderStatus::OnHold),
];

/// Work type (`WORKTYPE`): corrective, preventive, emergency; capital projects and events are
/// `other`.
pub const WORK_TYPE: &[(&str, WorkOrderType)] = &[
    ("CM", WorkOrderType::Corrective),
    ("PM", WorkOrderType::Preventive),
    ("EM", WorkOrderType::Emergency),
    ("PDM", WorkOrderType::Predictive),
    ("INSP", WorkOrderType::Inspection),
];

/// `wopriority` → priority. Maximo priorities are bare numbers with site-defined meaning; the
/// widespread convention is 1 = most urgent.
pub const WORK_ORDER_PRIORITY: &[(i64, WorkOrderPriority)] = &[
    (1, WorkOrderPriority::Urgent),
    (2, WorkOrderPriority::High),
    (3, WorkOrderPriority::Medium),
    (4, WorkOrderPriority::Low),
];

/// Purchase order status (`POSTATUS`); receipt progress comes from `receipts` (see
/// [`purchase_order_status`]).
pub const PURCHASE_ORDER_STATUS: &[(&str, PurchaseOrderStatus)] = &[
    ("WAPPR", PurchaseOrderStatus::Submitted),
    ("PNDREV", PurchaseOrderStatus::Draft),
    ("REVISE", PurchaseOrderStatus::Draft),
    ("HOLD", PurchaseOrderStatus::Submitted),
    ("APPR", PurchaseOrderStatus::Approved),
    ("INPRG", PurchaseOrderStatus::Approved),
    ("CLOSE", PurchaseOrderStatus::Closed),
    ("CAN", PurchaseOrderStatus::Cancelled),
];

/// Location type: Maximo's operating locations are positions in a technical structure.
pub const LOCATION_TYPE: &[(&str, LocationType)] = &[
    ("OPERATING", LocationType::FunctionalLocation),
    ("STOREROOM", LocationType::Warehouse),
];

/// PM `frequnit`.
pub const FREQUENCY_UNIT: &[(&str, IntervalUnit)] = &[
    ("DAYS", IntervalUnit::Days),
    ("WEEKS", IntervalUnit::Weeks),
    ("MONTHS", IntervalUnit::Months),
    ("YEARS", IntervalUnit::Years),
];

fn asset_status(code: &str) -> Option<Value> {
    json(lookup(ASSET_STATUS, code).unwrap_or(AssetStatus::Unknown))
}

fn work_order_status(code: &str) -> Option<Value> {
    json(lookup(WORK_ORDER_STATUS, code)?)
}

fn work_type(code: &str) -> Option<Value> {
    json(lookup(WORK_TYPE, code).unwrap_or(WorkOrderType::Other))
}

fn location_type(code: &str) -> Option<Value> {
    json(lookup(LOCATION_TYPE, code).unwrap_or(LocationType::Other))
}

// ---------------------------------------------------------------------------------------------
// Field tables.

/// Assets (`mxapiasset`). Maximo assets have no model attribute.
#[rustfmt::skip]
pub const ASSET: &[FieldMap] = &[
    f("name",            "description",                 Read::Text),
    f("asset_number",    "assetnum",                    Read::Text),
    f("description",     "description_longdescription", Read::Text),
    f("status",          "status",                      Read::Table(asset_status)),
    f("remote_status",   "status",                      Read::Text),
    f("category",        "assettype",                   Read::Text),
    f("manufacturer",    "manufacturer",                Read::Text),
    f("serial_number",   "serialnum",                   Read::Text),
    f("criticality",     "priority",                    Read::Text),
    f("location_id",     "location + siteid",           Read::Custom(location_ref)),
    f("parent_asset_id", "parent + siteid",             Read::Custom(parent_asset_ref)),
    f("installed_at",    "installdate",                 Read::Time),
];

/// Operating locations (`mxapioperloc`); the address is the first `serviceaddress`.
#[rustfmt::skip]
pub const LOCATION: &[FieldMap] = &[
    f("name",               "description",       Read::Text),
    f("code",               "location",          Read::Text),
    f("type",               "type",              Read::Table(location_type)),
    f("parent_location_id", "parent + siteid",   Read::Custom(parent_location_ref)),
    f("address",            "serviceaddress[0]", Read::Custom(service_address)),
];

/// Work orders (`mxapiwodetail`). Assignments live in child objects (`assignment`) not
/// read here, so `assignee_ids` stays empty.
#[rustfmt::skip]
pub const WORK_ORDER: &[FieldMap] = &[
    f("number",             "wonum",                       Read::Text),
    f("title",              "description",                 Read::Text),
    f("description",        "description_longdescription", Read::Text),
    f("type",               "worktype",                    Read::Table(work_type)),
    f("status",             "status",                      Read::Table(work_order_status)),
    f("remote_status",      "status",                      Read::Text),
    f("priority",           "wopriority",                  Read::Custom(work_order_priority)),
    f("asset_id",           "assetnum + siteid",           Read::Custom(asset_ref)),
    f("location_id",        "location + siteid",           Read::Custom(location_ref)),
    f("due_at",             "targcompdate",                Read::Time),
    f("scheduled_start_at", "schedstart|targstartdate",    Read::Time),
    f("completed_at",       "actfinish",                   Read::Time),
    f("estimated_hours",    "estdur",                      Read::Decimal),
    f("actual_hours",       "actlabhrs",                   Read::Decimal),
];

/// PM masters (`mxapipm`) as maintenance schedules.
#[rustfmt::skip]
pub const MAINTENANCE_SCHEDULE: &[FieldMap] = &[
    f("name",              "description",          Read::Text),
    f("asset_id",          "assetnum + siteid",    Read::Custom(asset_ref)),
    f("location_id",       "location + siteid",    Read::Custom(location_ref)),
    f("interval",          "frequency + frequnit", Read::Custom(interval)),
    f("next_due_at",       "nextdate",             Read::Time),
    f("last_completed_at", "lastcompdate",         Read::Time),
    f("active",            "status = ACTIVE",      Read::Custom(pm_active)),
];

/// Inventory balances (`mxapiinventory`): one item in one storeroom.
#[rustfmt::skip]
pub const INVENTORY_ITEM: &[FieldMap] = &[
    f("part_number",      "itemnum",           Read::Text),
    f("name",             "description",       Read::Text),
    f("unit_of_measure",  "issueunit",         Read::Text),
    f("quantity_on_hand", "curbaltotal",       Read::Decimal),
    f("minimum_quantity", "minlevel",          Read::Decimal),
    f("unit_cost",        "avgcost|stdcost",   Read::Decimal),
    f("location_id",      "location + siteid", Read::Custom(location_ref)),
    f("vendor_ids",       "vendor + orgid",    Read::Custom(vendor_refs)),
];

/// Purchase orders (`mxapipo`) with their `poline` children. Ship-to and bill-to are address
/// codes in Maximo, not addresses, so they stay in `remote_data`.
#[rustfmt::skip]
pub const PURCHASE_ORDER: &[FieldMap] = &[
    f("number",        "ponum",              Read::Text),
    f("status",        "status + receipts",  Read::Custom(purchase_order_status)),
    f("remote_status", "status",             Read::Text),
    f("vendor_id",     "vendor + orgid",     Read::Custom(vendor_ref)),
    f("order_date",    "orderdate",          Read::Date),
    f("required_date", "requireddate",       Read::Date),
    f("currency",      "currencycode",       Read::Text),
    f("total_amount",  "totalcost",          Read::Decimal),
    f("payment_terms", "paymentterms",       Read::Text),
    f("line_items",    "poline[]",           Read::Custom(purchase_order_lines)),
];

/// Purchase order lines (`poline[]`).
#[rustfmt::skip]
pub const PURCHASE_ORDER_LINE: &[FieldMap] = &[
    f("product_code",      "itemnum",         Read::Text),
    f("description",       "description",     Read::Text),
    f("quantity",          "orderqty",        Read::Decimal),
    f("unit_of_measure",   "orderunit",       Read::Text),
    f("unit_price",        "unitcost",        Read::Decimal),
    f("total",             "linecost",        Read::Decimal),
    f("delivery_date",     "vendeliverydate", Read::Date),
    f("received_quantity", "receivedqty",     Read::Decimal),
];

/// Companies (`mxapivendor`) as vendors; the e-mail is the first contact's.
#[rustfmt::skip]
pub const VENDOR: &[FieldMap] = &[
    f("name",          "name",                    Read::Text),
    f("code",          "company",                 Read::Text),
    f("email",         "compcontact[0].email",    Read::Custom(vendor_email)),
    f("phone",         "phone",                   Read::Text),
    f("currency",      "currencycode",            Read::Text),
    f("payment_terms", "paymentterms",            Read::Text),
    f("address",       "address1..4 + country",   Read::Custom(vendor_address)),
    f("status",        "disabled",                Read::Custom(vendor_status)),
];

/// The field table of `entity`; empty for an entity Maximo does not serve here.
pub fn fields(entity: Entity) -> &'static [FieldMap] {
    match entity {
        Entity::Assets => ASSET,
        Entity::Locations => LOCATION,
        Entity::WorkOrders => WORK_ORDER,
        Entity::MaintenanceSchedules => MAINTENANCE_SCHEDULE,
        Entity::InventoryItems => INVENTORY_ITEM,
        Entity::PurchaseOrders => PURCHASE_ORDER,
        Entity::Vendors => VENDOR,
        Entity::Users => &[],
    }
}

/// When the record was created, where Maximo says.
fn created_attribute(entity: Entity) -> Option<&'static str> {
    match entity {
        Entity::WorkOrders => Some("reportdate"),
        _ => None,
    }
}

// ---------------------------------------------------------------------------------------------
// The reader.

/// Maximo's lean JSON as the mapping framework reads it: plain attribute names, RFC 3339
/// times; the remote id is the resource id at the end of the member's `href`.
pub struct Wire;

impl Source for Wire {
    fn fields(entity: Entity) -> &'static [FieldMap] {
        fields(entity)
    }

    fn remote_id(entity: Entity, raw: &Map<String, Value>) -> Result<String, ConnectorError> {
        raw.get("href")
            .and_then(Value::as_str)
            .and_then(id_of_href)
            .ok_or_else(|| ConnectorError::Upstream {
                status: 200,
                message: format!("a Maximo {} record has no href", entity.event_name()),
            })
    }

    fn record_name(entity: Entity) -> String {
        format!("Maximo {}", entity.event_name())
    }

    fn created_at(entity: Entity, raw: &Map<String, Value>) -> Option<Timestamp> {
        created_attribute(entity)
            .and_then(|a| raw.get(a))
            .and_then(mapping::time)
    }

    /// `changedate`.
    fn updated_at(_: Entity, raw: &Map<String, Value>) -> Option<Timestamp> {
        raw.get("changedate").and_then(mapping::time)
    }
}

/// A Maximo member as a [`RemoteRecord`]: remote id from its `href`, unified fields per the
/// entity's table, `changedate` as the update time, the raw object as `remote_data`.
pub fn to_record(entity: Entity, raw: Map<String, Value>) -> Result<RemoteRecord, ConnectorError> {
    mapping::to_record::<Wire>(entity, raw)
}

fn read_fields(table: &[FieldMap], raw: &Map<String, Value>) -> Map<String, Value> {
    mapping::read_fields::<Wire>(table, raw)
}

fn text(raw: &Map<String, Value>, key: &str) -> Option<String> {
    raw.get(key).and_then(as_text)
}

// ---------------------------------------------------------------------------------------------
// Relations: resource ids from keys.

fn keyed(raw: &Map<String, Value>, attribute: &str, scope: &str) -> Option<Value> {
    let value = text(raw, attribute)?;
    let scope = text(raw, scope)?;
    Some(Value::String(rest_id(&[&value, &scope])))
}

fn asset_ref(raw: &Map<String, Value>) -> Option<Value> {
    keyed(raw, "assetnum", "siteid")
}

fn parent_asset_ref(raw: &Map<String, Value>) -> Option<Value> {
    keyed(raw, "parent", "siteid")
}

fn location_ref(raw: &Map<String, Value>) -> Option<Value> {
    keyed(raw, "location", "siteid")
}

fn parent_location_ref(raw: &Map<String, Value>) -> Option<Value> {
    keyed(raw, "parent", "siteid")
}

fn vendor_ref(raw: &Map<String, Value>) -> Option<Value> {
    keyed(raw, "vendor", "orgid")
}

fn vendor_refs(raw: &Map<String, Value>) -> Option<Value> {
    Some(Value::Array(vendor_ref(raw).into_iter().collect()))
}

// ---------------------------------------------------------------------------------------------
// Computed fields.

fn work_order_priority(raw: &Map<String, Value>) -> Option<Value> {
    let priority = raw.get("wopriority").and_then(|v| match v {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    })?;
    let unified = WORK_ORDER_PRIORITY
        .iter()
        .find(|(p, _)| *p == priority)
        .map(|(_, u)| *u)
        // Numbers past 4 are less urgent still; 0 and below are not used.
        .unwrap_or(if priority > 4 {
            WorkOrderPriority::Low
        } else {
            WorkOrderPriority::None
        });
    json(unified)
}

fn interval(raw: &Map<String, Value>) -> Option<Value> {
    let value = raw.get("frequency").and_then(Value::as_u64)?;
    let unit = text(raw, "frequnit")?;
    let unit = lookup(FREQUENCY_UNIT, &unit).unwrap_or(IntervalUnit::Other);
    Some(json!({"value": value, "unit": unit}))
}

fn pm_active(raw: &Map<String, Value>) -> Option<Value> {
    Some(Value::Bool(
        text(raw, "status")?.eq_ignore_ascii_case("ACTIVE"),
    ))
}

fn service_address(raw: &Map<String, Value>) -> Option<Value> {
    let address = raw
        .get("serviceaddress")?
        .as_array()?
        .first()?
        .as_object()?;
    let part = |k: &str| address.get(k).and_then(as_text);
    let value = json!({
        "line1": part("addressline1"),
        "line2": part("addressline2"),
        "city": part("city"),
        "region": part("regiondistrict").or_else(|| part("stateprovince")),
        "postal_code": part("postalcode"),
        "country": part("country"),
    });
    non_empty_address(value)
}

fn vendor_address(raw: &Map<String, Value>) -> Option<Value> {
    // Companies keep the address in numbered lines: street, city, state, postal code.
    let value = json!({
        "line1": text(raw, "address1"),
        "city": text(raw, "address2"),
        "region": text(raw, "address3"),
        "postal_code": text(raw, "address4"),
        "country": text(raw, "country"),
    });
    non_empty_address(value)
}

fn non_empty_address(value: Value) -> Option<Value> {
    value
        .as_object()?
        .values()
        .any(|v| !v.is_null())
        .then_some(value)
}

fn vendor_email(raw: &Map<String, Value>) -> Option<Value> {
    raw.get("compcontact")?
        .as_array()?
        .iter()
        .find_map(|c| c.get("email").and_then(as_text))
        .map(Value::String)
}

fn vendor_status(raw: &Map<String, Value>) -> Option<Value> {
    let disabled = raw.get("disabled")?.as_bool()?;
    json(if disabled {
        VendorStatus::Inactive
    } else {
        VendorStatus::Active
    })
}

/// `status` through [`PURCHASE_ORDER_STATUS`], refined by `receipts` for approved orders:
/// `PARTIAL` → partially received, `COMPLETE` → received.
fn purchase_order_status(raw: &Map<String, Value>) -> Option<Value> {
    let status = lookup(PURCHASE_ORDER_STATUS, &text(raw, "status")?)?;
    let refined = match (status, text(raw, "receipts").as_deref()) {
        (PurchaseOrderStatus::Approved, Some("PARTIAL")) => PurchaseOrderStatus::PartiallyReceived,
        (PurchaseOrderStatus::Approved, Some("COMPLETE")) => PurchaseOrderStatus::Received,
        (other, _) => other,
    };
    json(refined)
}

fn purchase_order_lines(raw: &Map<String, Value>) -> Option<Value> {
    let lines = raw.get("poline")?.as_array()?;
    let site = text(raw, "siteid");
    let lines = lines
        .iter()
        .filter_map(Value::as_object)
        .map(|line| {
            let mut out = read_fields(PURCHASE_ORDER_LINE, line);
            if let Some(n) = line.get("polinenum").and_then(Value::as_u64) {
                out.insert("line_number".into(), Value::from(n));
            }
            // The inventory record the line replenishes: item × storeroom at the line's site.
            let item = (
                text(line, "itemnum"),
                text(line, "itemsetid"),
                text(line, "tositeid").or_else(|| site.clone()),
                text(line, "storeloc"),
            );
            if let (Some(item), Some(set), Some(site), Some(store)) = item {
                out.insert(
                    "item_id".into(),
                    Value::String(rest_id(&[&item, &set, &site, &store])),
                );
            }
            Value::Object(out)
        })
        .collect();
    Some(Value::Array(lines))
}

#[cfg(test)]
mod tests {
    use super::*;
    use millwright_core::model::{EntityData, PurchaseOrderLineItem};

    #[test]
    fn every_table_field_is_a_unified_field() {
        for entity in Entity::ALL {
            let known = EntityData::empty(entity).to_json();
            for field in fields(entity) {
                assert!(
                    known.get(field.field).is_some(),
                    "{}.{}",
                    entity.as_str(),
                    field.field
                );
            }
        }
        let line = serde_json::to_value(PurchaseOrderLineItem::default()).unwrap();
        for field in PURCHASE_ORDER_LINE {
            assert!(
                line.get(field.field).is_some(),
                "line_items.{}",
                field.field
            );
        }
    }

    #[test]
    fn status_and_priority_tables() {
        assert_eq!(
            lookup(WORK_ORDER_STATUS, "wmatl"),
            Some(WorkOrderStatus::Open)
        );
        assert_eq!(
            lookup(WORK_ORDER_STATUS, "CLOSE"),
            Some(WorkOrderStatus::Completed)
        );
        assert_eq!(
            code_for(WORK_ORDER_STATUS, WorkOrderStatus::Completed),
            Some("COMP")
        );
        let raw = |v: Value| v.as_object().unwrap().clone();
        assert_eq!(
            work_order_priority(&raw(json!({"wopriority": 7}))),
            json(WorkOrderPriority::Low)
        );
        assert_eq!(
            purchase_order_status(&raw(json!({"status": "APPR", "receipts": "PARTIAL"}))),
            json(PurchaseOrderStatus::PartiallyReceived)
        );
        assert_eq!(asset_status("IMPORTED"), json(AssetStatus::Unknown));
    }
}
