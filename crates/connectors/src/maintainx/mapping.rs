//! MaintainX → unified model, as tables: one [`FieldMap`] list per entity (unified field ←
//! MaintainX field, how to read it) and one translation table per enum. The same tables answer
//! "where does this field come from" for the field-mappings endpoint, and the enum tables are read
//! backwards for writes (see `write.rs`).
//!
//! Field names come from reference/connectors.md §2. Where the reference marks a field unverified
//! or does not list it, the source column names the alternatives read (`a|b`: the first present)
//! and an unreadable value leaves the unified field empty rather than failing the record: the raw
//! object is always kept in `remote_data`.

use std::borrow::Cow;

use millwright_core::{
    model::{
        Address, AssetStatus, Decimal, PurchaseOrderStatus, WorkOrderPriority, WorkOrderStatus,
        WorkOrderType,
    },
    time::{self, Timestamp},
    Entity,
};
use serde_json::{Map, Value};

pub use crate::mapping::{code_for, lookup, FieldMap};
use crate::{
    mapping::{self, decimal as as_decimal, f, id_text, json, Read, Source},
    ConnectorError, RemoteRecord,
};

// ---------------------------------------------------------------------------------------------
// Translation tables. The first row for a unified value is what a write sends.

/// Work order status ([CODE]: `DONE` is the real completed status).
pub const WORK_ORDER_STATUS: &[(&str, WorkOrderStatus)] = &[
    ("OPEN", WorkOrderStatus::Open),
    ("IN_PROGRESS", WorkOrderStatus::InProgress),
    ("ON_HOLD", WorkOrderStatus::OnHold),
    ("DONE", WorkOrderStatus::Completed),
    // Unverified spellings some clients mention; read, never written.
    ("COMPLETED", WorkOrderStatus::Completed),
    ("CLOSED", WorkOrderStatus::Completed),
    ("CANCELED", WorkOrderStatus::Cancelled),
    ("CANCELLED", WorkOrderStatus::Cancelled),
];

/// Work order statuses a write may send: the verified four. MaintainX has no cancelled status
/// to set.
pub const WORK_ORDER_STATUS_WRITABLE: &[&str] = &["OPEN", "IN_PROGRESS", "ON_HOLD", "DONE"];

/// Work order priority (Pipedream's constants); MaintainX has nothing above `HIGH`.
pub const WORK_ORDER_PRIORITY: &[(&str, WorkOrderPriority)] = &[
    ("NONE", WorkOrderPriority::None),
    ("LOW", WorkOrderPriority::Low),
    ("MEDIUM", WorkOrderPriority::Medium),
    ("HIGH", WorkOrderPriority::High),
];

/// Work order type, from `type` or else from a category of the same name (tenants use the
/// default categories `Preventive`, `Inspection`, …); matched case-insensitively.
pub const WORK_ORDER_TYPE: &[(&str, WorkOrderType)] = &[
    ("REACTIVE", WorkOrderType::Corrective),
    ("CORRECTIVE", WorkOrderType::Corrective),
    ("PREVENTIVE", WorkOrderType::Preventive),
    ("PREDICTIVE", WorkOrderType::Predictive),
    ("INSPECTION", WorkOrderType::Inspection),
    ("EMERGENCY", WorkOrderType::Emergency),
    ("OTHER", WorkOrderType::Other),
];

/// Asset status (`expand=status`): `status` and, when offline, `downtimeType`. Rows are tried
/// in order; `None` matches any downtime type.
pub const ASSET_STATUS: &[(&str, Option<&str>, AssetStatus)] = &[
    ("ONLINE", None, AssetStatus::Operational),
    ("OFFLINE", Some("PLANNED"), AssetStatus::Maintenance),
    ("OFFLINE", None, AssetStatus::Down),
    ("DO_NOT_TRACK", None, AssetStatus::Unknown),
];

/// Purchase order status. `DRAFT` and `APPROVED` are seen in real payloads; the rest are the
/// states of MaintainX's purchase order workflow as its UI names them.
pub const PURCHASE_ORDER_STATUS: &[(&str, PurchaseOrderStatus)] = &[
    ("DRAFT", PurchaseOrderStatus::Draft),
    ("REQUESTED", PurchaseOrderStatus::Submitted),
    ("PENDING", PurchaseOrderStatus::Submitted),
    ("APPROVED", PurchaseOrderStatus::Approved),
    (
        "PARTIALLY_FULFILLED",
        PurchaseOrderStatus::PartiallyReceived,
    ),
    ("PARTIALLY_RECEIVED", PurchaseOrderStatus::PartiallyReceived),
    ("FULFILLED", PurchaseOrderStatus::Received),
    ("RECEIVED", PurchaseOrderStatus::Received),
    ("COMPLETED", PurchaseOrderStatus::Received),
    ("CLOSED", PurchaseOrderStatus::Closed),
    ("DECLINED", PurchaseOrderStatus::Cancelled),
    ("REJECTED", PurchaseOrderStatus::Cancelled),
    ("CANCELED", PurchaseOrderStatus::Cancelled),
    ("CANCELLED", PurchaseOrderStatus::Cancelled),
];

fn work_order_status(code: &str) -> Option<Value> {
    json(lookup(WORK_ORDER_STATUS, code)?)
}

fn work_order_priority(code: &str) -> Option<Value> {
    json(lookup(WORK_ORDER_PRIORITY, code)?)
}

fn purchase_order_status(code: &str) -> Option<Value> {
    json(lookup(PURCHASE_ORDER_STATUS, code)?)
}

// ---------------------------------------------------------------------------------------------
// Field tables, one per entity.

/// Work orders (`GET /workorders`). `actual_hours` has no MaintainX field (time is logged
/// separately as time entries), so it stays empty.
#[rustfmt::skip]
pub const WORK_ORDER: &[FieldMap] = &[
    f("number",             "sequentialId",     Read::Text),
    f("title",              "title",            Read::Text),
    f("description",        "description",      Read::Text),
    f("type",               "type|categories",  Read::Custom(work_order_type)),
    f("status",             "status",           Read::Table(work_order_status)),
    f("remote_status",      "status",           Read::Text),
    f("priority",           "priority",         Read::Table(work_order_priority)),
    f("asset_id",           "assetId",          Read::Id),
    f("location_id",        "locationId",       Read::Id),
    f("assignee_ids",       "assigneeIds",      Read::Ids),
    f("due_at",             "dueDate",          Read::Time),
    f("scheduled_start_at", "startDate",        Read::Time),
    f("completed_at",       "completedAt",      Read::Time),
    f("estimated_hours",    "estimatedTime",    Read::HoursFromSeconds),
];

/// Assets (`GET /assets?expand=status&expand=asset_types`).
#[rustfmt::skip]
pub const ASSET: &[FieldMap] = &[
    f("name",            "name",                                   Read::Text),
    f("asset_number",    "barcode|assetTag",                       Read::Text),
    f("description",     "description",                            Read::Text),
    f("status",          "status.status + status.downtimeType",    Read::Custom(asset_status)),
    f("remote_status",   "status.customStatus.label|status.status", Read::Text),
    f("category",        "assetTypes[0]",                          Read::Custom(asset_category)),
    f("manufacturer",    "manufacturer",                           Read::Text),
    f("model",           "model",                                  Read::Text),
    f("serial_number",   "serialNumber",                           Read::Text),
    f("criticality",     "criticality",                            Read::Text),
    f("location_id",     "locationId",                             Read::Id),
    f("parent_asset_id", "parentId",                               Read::Id),
    f("installed_at",    "installationDate|installedAt",           Read::Time),
];

/// Locations (`GET /locations`). MaintainX locations have no type.
#[rustfmt::skip]
pub const LOCATION: &[FieldMap] = &[
    f("name",               "name",     Read::Text),
    f("code",               "barcode",  Read::Text),
    f("parent_location_id", "parentId", Read::Id),
    f("address",            "address",  Read::Address),
];

/// Parts (`GET /parts`) as inventory items. A part's storeroom `area` (aisle, shelf, bin) is
/// not a location record, so it stays in `remote_data`.
#[rustfmt::skip]
pub const INVENTORY_ITEM: &[FieldMap] = &[
    f("part_number",      "partNumber|barcode",          Read::Text),
    f("name",             "name",                        Read::Text),
    f("description",      "description",                 Read::Text),
    f("unit_of_measure",  "unit|unitOfMeasure",          Read::Text),
    f("quantity_on_hand", "availableQuantity|quantity",  Read::Decimal),
    f("minimum_quantity", "minimumQuantity|minQuantity", Read::Decimal),
    f("unit_cost",        "unitCost",                    Read::Decimal),
    f("currency",         "currency",                    Read::Text),
    f("location_id",      "locationId",                  Read::Id),
    f("vendor_ids",       "vendorIds",                   Read::Ids),
];

/// Purchase orders (`GET /purchaseorders`). MaintainX has no separate order date; the day the
/// purchase order was created stands for it.
#[rustfmt::skip]
pub const PURCHASE_ORDER: &[FieldMap] = &[
    f("number",        "overrideNumber|sequentialId",  Read::Text),
    f("status",        "status",                       Read::Table(purchase_order_status)),
    f("remote_status", "status",                       Read::Text),
    f("vendor_id",     "vendorId",                     Read::Id),
    f("order_date",    "createdAt",                    Read::Date),
    f("required_date", "dueDate",                      Read::Date),
    f("delivery_date", "receivedAt|fulfilledAt",       Read::Date),
    f("currency",      "currency",                     Read::Text),
    f("total_amount",  "totalCost|total, else Σ lines", Read::Custom(purchase_order_total)),
    f("payment_terms", "paymentTerms",                 Read::Text),
    f("ship_to",       "shippingAddress",              Read::Address),
    f("bill_to",       "billingAddress",               Read::Address),
    f("line_items",    "items[]",                      Read::Custom(purchase_order_lines)),
];

/// Purchase order lines (`items[]` of a purchase order), numbered from 1 in order.
#[rustfmt::skip]
pub const PURCHASE_ORDER_LINE: &[FieldMap] = &[
    f("item_id",           "partId",                     Read::Id),
    f("product_code",      "partNumber",                 Read::Text),
    f("description",       "name",                       Read::Text),
    f("quantity",          "quantityOrdered",            Read::Decimal),
    f("unit_of_measure",   "unit",                       Read::Text),
    f("unit_price",        "unitCost",                   Read::Decimal),
    f("total",             "quantityOrdered × unitCost", Read::Custom(line_total)),
    f("received_quantity", "quantityReceived",           Read::Decimal),
];

/// Vendors (`GET /vendors`).
#[rustfmt::skip]
pub const VENDOR: &[FieldMap] = &[
    f("name",          "name",              Read::Text),
    f("code",          "vendorNumber|code", Read::Text),
    f("email",         "email",             Read::Text),
    f("phone",         "phoneNumber|phone", Read::Text),
    f("tax_id",        "taxId",             Read::Text),
    f("currency",      "currency",          Read::Text),
    f("payment_terms", "paymentTerms",      Read::Text),
    f("address",       "address",           Read::Address),
];

/// Users (`GET /users`). `active` is read from `isDisabled` where a tenant sends it
/// (unverified); otherwise it stays empty.
#[rustfmt::skip]
pub const USER: &[FieldMap] = &[
    f("name",   "firstName + lastName", Read::Custom(user_name)),
    f("email",  "email",                Read::Text),
    f("role",   "role",                 Read::Text),
    f("active", "isDisabled",           Read::NotBool),
];

/// The field table of `entity`; empty for an entity MaintainX does not have.
pub fn fields(entity: Entity) -> &'static [FieldMap] {
    match entity {
        Entity::WorkOrders => WORK_ORDER,
        Entity::Assets => ASSET,
        Entity::Locations => LOCATION,
        Entity::InventoryItems => INVENTORY_ITEM,
        Entity::PurchaseOrders => PURCHASE_ORDER,
        Entity::Vendors => VENDOR,
        Entity::Users => USER,
        Entity::MaintenanceSchedules => &[],
    }
}

// ---------------------------------------------------------------------------------------------
// The reader.

/// MaintainX's JSON as the mapping framework reads it: sources are dotted paths into nested
/// objects, text may come as a `{"name": …}` object, dates as timestamps or bare dates,
/// addresses as one string or an object.
pub struct Wire;

impl Source for Wire {
    fn fields(entity: Entity) -> &'static [FieldMap] {
        fields(entity)
    }

    fn remote_id(entity: Entity, raw: &Map<String, Value>) -> Result<String, ConnectorError> {
        raw.get("id")
            .and_then(id_text)
            .ok_or_else(|| ConnectorError::Upstream {
                status: 200,
                message: format!("a MaintainX {} record has no id", entity.event_name()),
            })
    }

    fn record_name(entity: Entity) -> String {
        format!("MaintainX {}", entity.event_name())
    }

    fn created_at(_: Entity, raw: &Map<String, Value>) -> Option<Timestamp> {
        raw.get("createdAt").and_then(mapping::time)
    }

    fn updated_at(_: Entity, raw: &Map<String, Value>) -> Option<Timestamp> {
        raw.get("updatedAt").and_then(mapping::time)
    }

    /// `extraFields`, keyed by label.
    fn custom_fields(raw: &Map<String, Value>) -> Map<String, Value> {
        match raw.get("extraFields") {
            Some(Value::Object(extra)) => extra.clone(),
            _ => Map::new(),
        }
    }

    /// `a.b.c` in nested objects.
    fn lookup<'a>(raw: &'a Map<String, Value>, path: &str, _: bool) -> Option<Cow<'a, Value>> {
        let mut parts = path.split('.');
        let mut current = raw.get(parts.next()?)?;
        for part in parts {
            current = current.as_object()?.get(part)?;
        }
        Some(Cow::Borrowed(current))
    }

    fn text(value: &Value) -> Option<String> {
        as_text(value)
    }

    /// A timestamp's UTC date, or a bare `YYYY-MM-DD` (with anything after it).
    fn date(value: &Value) -> Option<chrono::NaiveDate> {
        let text = value.as_str()?;
        if let Some(t) = time::parse(text) {
            return Some(t.date_naive());
        }
        chrono::NaiveDate::parse_from_str(text.get(..10)?, "%Y-%m-%d").ok()
    }

    fn address(value: &Value) -> Option<Address> {
        as_address(value)
    }
}

/// A MaintainX object as a [`RemoteRecord`]: unified fields per the entity's table, `extraFields`
/// as custom fields, `createdAt`/`updatedAt`, the raw object as `remote_data`.
pub fn to_record(entity: Entity, raw: Map<String, Value>) -> Result<RemoteRecord, ConnectorError> {
    mapping::to_record::<Wire>(entity, raw)
}

/// Applies a field table to one object.
fn read_fields(table: &[FieldMap], raw: &Map<String, Value>) -> Map<String, Value> {
    mapping::read_fields::<Wire>(table, raw)
}

/// Text, or the `name` of a `{"name": …}` object where a name is expected (e.g. an expanded
/// manufacturer).
fn as_text(value: &Value) -> Option<String> {
    match value {
        Value::Object(o) => o.get("name").and_then(as_text),
        other => mapping::text(other),
    }
}

/// A MaintainX address: one free-text string, or an object with `street`, `city`, `state`,
/// `postalCode`, `country` (the purchase order shape) or close variants.
fn as_address(value: &Value) -> Option<Address> {
    let address = match value {
        Value::String(s) if !s.trim().is_empty() => Address {
            line1: Some(s.trim().to_string()),
            ..Address::default()
        },
        Value::Object(o) => {
            let part = |keys: &[&str]| keys.iter().find_map(|k| o.get(*k).and_then(as_text));
            Address {
                line1: part(&["street", "line1", "address", "addressLine1", "street1"]),
                line2: part(&["line2", "addressLine2", "street2"]),
                city: part(&["city"]),
                region: part(&["state", "region", "province"]),
                postal_code: part(&["postalCode", "zip", "zipCode", "postcode"]),
                country: part(&["country", "countryCode"]),
            }
        }
        _ => return None,
    };
    (!address.is_empty()).then_some(address)
}

// ---------------------------------------------------------------------------------------------
// Computed fields.

fn work_order_type(raw: &Map<String, Value>) -> Option<Value> {
    if let Some(code) = raw.get("type").and_then(as_text) {
        // A type MaintainX has that the table does not know is still a type: `other`.
        return json(lookup(WORK_ORDER_TYPE, &code).unwrap_or(WorkOrderType::Other));
    }
    let categories = raw.get("categories")?.as_array()?;
    let found = categories
        .iter()
        .filter_map(as_text)
        .find_map(|c| lookup(WORK_ORDER_TYPE, &c))?;
    json(found)
}

fn asset_status(raw: &Map<String, Value>) -> Option<Value> {
    // Without `expand=status` some answers carry the bare code.
    let (code, downtime) = match raw.get("status")? {
        Value::Object(status) => (
            status.get("status").and_then(as_text)?,
            status.get("downtimeType").and_then(as_text),
        ),
        other => (as_text(other)?, None),
    };
    let status = ASSET_STATUS
        .iter()
        .find(|(c, d, _)| {
            c.eq_ignore_ascii_case(&code)
                && d.is_none_or(|d| {
                    downtime
                        .as_deref()
                        .is_some_and(|x| x.eq_ignore_ascii_case(d))
                })
        })
        .map_or(AssetStatus::Unknown, |(_, _, s)| *s);
    json(status)
}

fn asset_category(raw: &Map<String, Value>) -> Option<Value> {
    let first = raw
        .get("assetTypes")?
        .as_array()?
        .iter()
        .find_map(as_text)?;
    Some(Value::String(first))
}

fn user_name(raw: &Map<String, Value>) -> Option<Value> {
    let part = |k: &str| raw.get(k).and_then(as_text);
    let joined = [part("firstName"), part("lastName")]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    if joined.is_empty() {
        part("name").map(Value::String)
    } else {
        Some(Value::String(joined))
    }
}

fn purchase_order_lines(raw: &Map<String, Value>) -> Option<Value> {
    let items = raw.get("items")?.as_array()?;
    let lines = items
        .iter()
        .filter_map(Value::as_object)
        .enumerate()
        .map(|(index, item)| {
            let mut line = read_fields(PURCHASE_ORDER_LINE, item);
            line.insert("line_number".into(), Value::from(index as u64 + 1));
            Value::Object(line)
        })
        .collect();
    Some(Value::Array(lines))
}

/// The line's own total if it has one, else quantity × unit price, exactly.
fn line_total(item: &Map<String, Value>) -> Option<Value> {
    let total = ["totalCost", "total"]
        .iter()
        .find_map(|k| item.get(*k).and_then(as_decimal))
        .or_else(|| {
            let quantity = item.get("quantityOrdered").and_then(as_decimal)?;
            let price = item.get("unitCost").and_then(as_decimal)?;
            quantity.checked_mul(&price)
        })?;
    Some(Value::String(total.into_string()))
}

/// The order's stated total, else the sum of its line totals when every line has one (taxes
/// and shipping, which MaintainX may add, are then not included: prefer the stated total).
fn purchase_order_total(raw: &Map<String, Value>) -> Option<Value> {
    if let Some(total) = ["totalCost", "total"]
        .iter()
        .find_map(|k| raw.get(*k).and_then(as_decimal))
    {
        return Some(Value::String(total.into_string()));
    }
    let items = raw.get("items")?.as_array()?;
    let mut sum: Option<Decimal> = None;
    for item in items {
        let total = Decimal::parse(line_total(item.as_object()?)?.as_str()?).ok()?;
        sum = Some(match sum {
            Some(s) => s.checked_add(&total)?,
            None => total,
        });
    }
    sum.map(|s| Value::String(s.into_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use millwright_core::model::{
        Asset, EntityData, InventoryItem, Location, PurchaseOrder, PurchaseOrderLineItem, User,
        Vendor, WorkOrder,
    };
    use serde_json::json;

    fn record(entity: Entity, raw: Value) -> RemoteRecord {
        to_record(entity, raw.as_object().unwrap().clone()).unwrap()
    }

    fn dec(s: &str) -> Option<Decimal> {
        Some(Decimal::parse(s).unwrap())
    }

    fn ts(s: &str) -> Option<Timestamp> {
        time::parse(s)
    }

    /// A work order as MaintainX's API returns it (fields from real client code).
    fn work_order_json() -> Value {
        json!({
            "id": 12345, "sequentialId": 1042, "title": "Pump 3 seal leak",
            "description": "Mechanical seal weeping at the gland", "status": "IN_PROGRESS",
            "priority": "HIGH", "type": "REACTIVE", "categories": ["Mechanical"],
            "dueDate": "2026-03-21T17:00:00.000Z", "startDate": "2026-03-21T08:00:00.000Z",
            "estimatedTime": 5400, "assigneeIds": [11, 12], "assetId": 8901, "locationId": 2345,
            "completedAt": null, "createdAt": "2026-03-20T09:15:00.000Z", "updatedAt": "2026-03-20T10:00:00.000Z",
            "extraFields": {"Cost center": "CC-12", "Failure code": "SEAL-LEAK"},
            "externalData": {"erpRef": "PO-42"},
            "procedure": {"title": "Seal replacement", "fields": []}
        })
    }

    #[test]
    fn work_order_maps_every_field_maintainx_has() {
        let raw = work_order_json();
        let r = record(Entity::WorkOrders, raw.clone());
        assert_eq!(r.remote_id, "12345");
        assert_eq!(r.remote_created_at, ts("2026-03-20T09:15:00Z"));
        assert_eq!(r.remote_updated_at, ts("2026-03-20T10:00:00Z"));
        assert_eq!(r.remote_data, raw);
        assert_eq!(
            r.custom_fields,
            *json!({"Cost center": "CC-12", "Failure code": "SEAL-LEAK"})
                .as_object()
                .unwrap()
        );
        assert_eq!(
            r.data,
            EntityData::WorkOrders(WorkOrder {
                number: Some("1042".into()),
                title: Some("Pump 3 seal leak".into()),
                description: Some("Mechanical seal weeping at the gland".into()),
                r#type: Some(WorkOrderType::Corrective),
                status: Some(WorkOrderStatus::InProgress),
                remote_status: Some("IN_PROGRESS".into()),
                priority: Some(WorkOrderPriority::High),
                asset_id: Some("8901".into()),
                location_id: Some("2345".into()),
                assignee_ids: vec!["11".into(), "12".into()],
                due_at: ts("2026-03-21T17:00:00Z"),
                scheduled_start_at: ts("2026-03-21T08:00:00Z"),
                completed_at: None,
                estimated_hours: dec("1.50"),
                actual_hours: None,
            })
        );
    }

    #[test]
    fn work_order_status_priority_and_type_tables() {
        let status = |code: &str| {
            let r = record(Entity::WorkOrders, json!({"id": 1, "status": code}));
            let EntityData::WorkOrders(wo) = r.data else {
                unreachable!()
            };
            (wo.status, wo.remote_status)
        };
        assert_eq!(status("OPEN").0, Some(WorkOrderStatus::Open));
        assert_eq!(status("ON_HOLD").0, Some(WorkOrderStatus::OnHold));
        assert_eq!(
            status("DONE"),
            (Some(WorkOrderStatus::Completed), Some("DONE".into()))
        );
        // An unknown status keeps its word and leaves the unified one empty.
        assert_eq!(
            status("AWAITING_PARTS"),
            (None, Some("AWAITING_PARTS".into()))
        );
        assert_eq!(
            lookup(WORK_ORDER_PRIORITY, "low"),
            Some(WorkOrderPriority::Low)
        );
        assert_eq!(
            code_for(WORK_ORDER_STATUS, WorkOrderStatus::Completed),
            Some("DONE")
        );
        assert_eq!(
            code_for(WORK_ORDER_PRIORITY, WorkOrderPriority::Urgent),
            None
        );

        let wo_type = |raw: Value| {
            let EntityData::WorkOrders(wo) = record(Entity::WorkOrders, raw).data else {
                unreachable!()
            };
            wo.r#type
        };
        assert_eq!(
            wo_type(json!({"id": 1, "type": "PREVENTIVE"})),
            Some(WorkOrderType::Preventive)
        );
        assert_eq!(
            wo_type(json!({"id": 1, "type": "CALIBRATION"})),
            Some(WorkOrderType::Other)
        );
        assert_eq!(
            wo_type(json!({"id": 1, "categories": ["Electrical", "Inspection"]})),
            Some(WorkOrderType::Inspection)
        );
        assert_eq!(
            wo_type(json!({"id": 1, "categories": ["Electrical"]})),
            None
        );
        assert_eq!(wo_type(json!({"id": 1})), None);
    }

    #[test]
    fn estimated_time_is_rounded_to_hundredths_of_hours() {
        let hours = |seconds: Value| {
            let EntityData::WorkOrders(wo) = record(
                Entity::WorkOrders,
                json!({"id": 1, "estimatedTime": seconds}),
            )
            .data
            else {
                unreachable!()
            };
            wo.estimated_hours.map(|d| d.into_string())
        };
        assert_eq!(hours(json!(3600)), Some("1.00".into()));
        assert_eq!(hours(json!(1000)), Some("0.28".into()));
        assert_eq!(hours(json!(0)), Some("0.00".into()));
        assert_eq!(hours(json!("nope")), None);
    }

    #[test]
    fn asset_maps_status_with_downtime_type() {
        let raw = json!({
            "id": 8901, "name": "Cooling Water Pump P-1047", "barcode": "P-1047",
            "description": "Grundfos CR 32-2, 15 kW", "locationId": 2345, "parentId": 8800,
            "manufacturer": "Grundfos", "model": "CR 32-2", "serialNumber": "GF-88231",
            "criticality": "HIGH", "installationDate": "2019-06-01T00:00:00.000Z",
            "assetTypes": ["Pump"],
            "status": {"status": "OFFLINE", "downtimeType": "PLANNED", "description": "Seal change",
                       "startedAt": "2026-03-21T08:00:00.000Z"},
            "extraFields": {"Area": "Utilities"},
            "createdAt": "2024-01-01T00:00:00.000Z", "updatedAt": "2026-03-21T08:00:00.000Z"
        });
        let r = record(Entity::Assets, raw);
        assert_eq!(
            r.data,
            EntityData::Assets(Asset {
                name: Some("Cooling Water Pump P-1047".into()),
                asset_number: Some("P-1047".into()),
                description: Some("Grundfos CR 32-2, 15 kW".into()),
                status: Some(AssetStatus::Maintenance),
                remote_status: Some("OFFLINE".into()),
                category: Some("Pump".into()),
                manufacturer: Some("Grundfos".into()),
                model: Some("CR 32-2".into()),
                serial_number: Some("GF-88231".into()),
                criticality: Some("HIGH".into()),
                location_id: Some("2345".into()),
                parent_asset_id: Some("8800".into()),
                installed_at: ts("2019-06-01T00:00:00Z"),
            })
        );
        assert_eq!(r.custom_fields["Area"], "Utilities");

        let status = |status: Value| {
            let EntityData::Assets(a) =
                record(Entity::Assets, json!({"id": 1, "status": status})).data
            else {
                unreachable!()
            };
            a.status
        };
        assert_eq!(
            status(json!({"status": "ONLINE"})),
            Some(AssetStatus::Operational)
        );
        assert_eq!(
            status(json!({"status": "OFFLINE", "downtimeType": "UNPLANNED"})),
            Some(AssetStatus::Down)
        );
        assert_eq!(
            status(json!({"status": "OFFLINE"})),
            Some(AssetStatus::Down)
        );
        assert_eq!(
            status(json!({"status": "DO_NOT_TRACK"})),
            Some(AssetStatus::Unknown)
        );
        assert_eq!(
            status(json!({"status": "SOMETHING_NEW"})),
            Some(AssetStatus::Unknown)
        );
        assert_eq!(status(json!("ONLINE")), Some(AssetStatus::Operational));
        assert_eq!(status(Value::Null), None);
        let custom = record(
            Entity::Assets,
            json!({"id": 1, "status": {"status": "OFFLINE", "customStatus": {"label": "Waiting for parts"}},
                   "assetTypes": [{"id": 3, "name": "Compressor"}]}),
        );
        let EntityData::Assets(a) = custom.data else {
            unreachable!()
        };
        assert_eq!(a.remote_status.as_deref(), Some("Waiting for parts"));
        assert_eq!(a.category.as_deref(), Some("Compressor"));
    }

    #[test]
    fn location_reads_string_and_object_addresses() {
        let r = record(
            Entity::Locations,
            json!({"id": 2345, "name": "Utilities Building", "parentId": 2300, "barcode": "UTIL",
                   "address": "1 Mill Road, Leeds LS1 4AP", "description": "Boiler house"}),
        );
        assert_eq!(
            r.data,
            EntityData::Locations(Location {
                name: Some("Utilities Building".into()),
                code: Some("UTIL".into()),
                r#type: None,
                parent_location_id: Some("2300".into()),
                address: Some(Address {
                    line1: Some("1 Mill Road, Leeds LS1 4AP".into()),
                    ..Address::default()
                }),
            })
        );
        let r = record(
            Entity::Locations,
            json!({"id": 1, "address": {"street": "1 Mill Road", "city": "Leeds", "state": "WYK", "postalCode": "LS1", "country": "GB"}}),
        );
        let EntityData::Locations(l) = r.data else {
            unreachable!()
        };
        assert_eq!(l.address.unwrap().region.as_deref(), Some("WYK"));
        let r = record(Entity::Locations, json!({"id": 1, "address": ""}));
        let EntityData::Locations(l) = r.data else {
            unreachable!()
        };
        assert_eq!(l.address, None);
    }

    #[test]
    fn part_maps_to_inventory_item_with_exact_numbers() {
        let r = record(
            Entity::InventoryItems,
            json!({"id": 501, "name": "Mechanical seal kit", "partNumber": "GF-96455086",
                   "description": "For CR 32 pumps", "unit": "EA", "availableQuantity": 4,
                   "minimumQuantity": 2, "unitCost": 189.9, "currency": "USD", "locationId": 30,
                   "vendorIds": [77, 78], "updatedAt": "2026-03-01T00:00:00Z"}),
        );
        assert_eq!(
            r.data,
            EntityData::InventoryItems(InventoryItem {
                part_number: Some("GF-96455086".into()),
                name: Some("Mechanical seal kit".into()),
                description: Some("For CR 32 pumps".into()),
                unit_of_measure: Some("EA".into()),
                quantity_on_hand: dec("4"),
                minimum_quantity: dec("2"),
                unit_cost: dec("189.9"),
                currency: Some("USD".into()),
                location_id: Some("30".into()),
                vendor_ids: vec!["77".into(), "78".into()],
            })
        );
        assert_eq!(
            r.data.display_name().as_deref(),
            Some("Mechanical seal kit")
        );
    }

    #[test]
    fn purchase_order_maps_lines_addresses_and_totals() {
        // The shape a real Coupa ↔ MaintainX sync reads.
        let r = record(
            Entity::PurchaseOrders,
            json!({
                "id": 9001, "overrideNumber": "PO-2026-0042", "status": "APPROVED",
                "dueDate": "2026-04-01T00:00:00.000Z", "note": "Urgent seals", "vendorId": 77,
                "currency": "USD",
                "shippingAddress": {"street": "1 Mill Road", "city": "Leeds", "state": "West Yorkshire",
                                    "postalCode": "LS1 4AP", "country": "GB"},
                "billingAddress": {"street": "PO Box 9", "city": "Leeds", "country": "GB"},
                "items": [
                    {"partId": 501, "name": "Mechanical seal kit", "quantityOrdered": 2, "unitCost": 189.9,
                     "quantityReceived": 1, "partExtraFields": {}},
                    {"name": "Freight", "quantityOrdered": 1, "unitCost": "35.00"}
                ],
                "extraFields": {"Coupa ID": "C-1"},
                "createdAt": "2026-03-20T09:15:00.000Z", "updatedAt": "2026-03-21T00:00:00.000Z"
            }),
        );
        let EntityData::PurchaseOrders(po) = r.data else {
            unreachable!()
        };
        assert_eq!(
            po,
            PurchaseOrder {
                number: Some("PO-2026-0042".into()),
                status: Some(PurchaseOrderStatus::Approved),
                remote_status: Some("APPROVED".into()),
                vendor_id: Some("77".into()),
                order_date: chrono::NaiveDate::from_ymd_opt(2026, 3, 20),
                required_date: chrono::NaiveDate::from_ymd_opt(2026, 4, 1),
                delivery_date: None,
                currency: Some("USD".into()),
                total_amount: dec("414.80"),
                payment_terms: None,
                ship_to: Some(Address {
                    line1: Some("1 Mill Road".into()),
                    line2: None,
                    city: Some("Leeds".into()),
                    region: Some("West Yorkshire".into()),
                    postal_code: Some("LS1 4AP".into()),
                    country: Some("GB".into()),
                }),
                bill_to: Some(Address {
                    line1: Some("PO Box 9".into()),
                    city: Some("Leeds".into()),
                    country: Some("GB".into()),
                    ..Address::default()
                }),
                line_items: vec![
                    PurchaseOrderLineItem {
                        line_number: Some(1),
                        item_id: Some("501".into()),
                        description: Some("Mechanical seal kit".into()),
                        quantity: dec("2"),
                        unit_price: dec("189.9"),
                        total: dec("379.8"),
                        received_quantity: dec("1"),
                        ..PurchaseOrderLineItem::default()
                    },
                    PurchaseOrderLineItem {
                        line_number: Some(2),
                        description: Some("Freight".into()),
                        quantity: dec("1"),
                        unit_price: dec("35.00"),
                        total: dec("35.00"),
                        ..PurchaseOrderLineItem::default()
                    },
                ],
            }
        );
        assert_eq!(r.custom_fields["Coupa ID"], "C-1");
        let stated = record(
            Entity::PurchaseOrders,
            json!({"id": 1, "totalCost": 100.5, "items": [{"quantityOrdered": 1, "unitCost": 1}]}),
        );
        let EntityData::PurchaseOrders(po) = stated.data else {
            unreachable!()
        };
        assert_eq!(po.total_amount, dec("100.5"));
        for (code, status) in [
            ("DRAFT", PurchaseOrderStatus::Draft),
            (
                "PARTIALLY_FULFILLED",
                PurchaseOrderStatus::PartiallyReceived,
            ),
            ("CANCELED", PurchaseOrderStatus::Cancelled),
        ] {
            assert_eq!(lookup(PURCHASE_ORDER_STATUS, code), Some(status));
        }
    }

    #[test]
    fn vendor_and_user() {
        let r = record(
            Entity::Vendors,
            json!({"id": 77, "name": "Acme Bearings", "email": "orders@acme.example", "phoneNumber": "+1 555 0100",
                   "address": {"street": "9 Dock St", "city": "Hull", "country": "GB"}}),
        );
        let EntityData::Vendors(v) = r.data else {
            unreachable!()
        };
        assert_eq!(
            v,
            Vendor {
                name: Some("Acme Bearings".into()),
                email: Some("orders@acme.example".into()),
                phone: Some("+1 555 0100".into()),
                address: Some(Address {
                    line1: Some("9 Dock St".into()),
                    city: Some("Hull".into()),
                    country: Some("GB".into()),
                    ..Address::default()
                }),
                ..Vendor::default()
            }
        );
        let r = record(
            Entity::Users,
            json!({"id": 11, "firstName": "Dana", "lastName": "Reyes", "email": "dana@plant.example", "role": "TECHNICIAN", "isDisabled": false}),
        );
        assert_eq!(
            r.data,
            EntityData::Users(User {
                name: Some("Dana Reyes".into()),
                email: Some("dana@plant.example".into()),
                role: Some("TECHNICIAN".into()),
                active: Some(true),
            })
        );
        let r = record(Entity::Users, json!({"id": 12, "firstName": "Sam"}));
        assert_eq!(r.data.display_name().as_deref(), Some("Sam"));
    }

    #[test]
    fn records_without_an_id_are_refused() {
        let err = to_record(
            Entity::Users,
            json!({"firstName": "x"}).as_object().unwrap().clone(),
        )
        .unwrap_err();
        assert!(matches!(err, ConnectorError::Upstream { .. }));
    }

    #[test]
    fn every_table_field_is_a_unified_field() {
        for entity in Entity::ALL {
            let known = EntityData::empty(entity).to_json();
            for field in fields(entity) {
                assert!(
                    known.get(field.field).is_some(),
                    "{}.{} is not a unified field",
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
}
