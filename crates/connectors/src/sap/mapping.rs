//! S/4HANA → unified model, as tables: one [`FieldMap`] list per entity (unified field ← OData
//! property, how to read it) and one translation table per code. OData v2 values arrive as
//! `/Date(ms)/` / `/Date(ms+0000)/` (read into RFC 3339 UTC), decimals as strings (kept exact),
//! empty strings for "no value" (read as absent). The raw entity is always kept in
//! `remote_data`.

use millwright_core::{
    model::{
        AssetStatus, Decimal, LocationType, PurchaseOrderStatus, VendorStatus, WorkOrderPriority,
        WorkOrderStatus, WorkOrderType,
    },
    time::{self, Timestamp},
    Entity,
};
use serde_json::{json, Map, Value};

use super::client::entity_set;
pub use crate::mapping::{code_for, lookup, FieldMap};
use crate::{
    mapping::{self, decimal, f, json as to_json, text, Read, Source},
    ConnectorError, RemoteRecord,
};

// ---------------------------------------------------------------------------------------------
// Translation tables. The first row for a unified value is what a write sends.

/// Maintenance order types of the standard PM configuration. Systems configure their own
/// types; one not listed here is `other`.
pub const ORDER_TYPE: &[(&str, WorkOrderType)] = &[
    ("PM01", WorkOrderType::Corrective),
    ("PM02", WorkOrderType::Preventive),
    ("PM04", WorkOrderType::Inspection),
    ("PM03", WorkOrderType::Other),
    ("PM05", WorkOrderType::Emergency),
];

/// `MaintPriority` of priority type PM: 1 very high … 4 low.
pub const PRIORITY: &[(&str, WorkOrderPriority)] = &[
    ("1", WorkOrderPriority::Urgent),
    ("2", WorkOrderPriority::High),
    ("3", WorkOrderPriority::Medium),
    ("4", WorkOrderPriority::Low),
];

/// System statuses of a maintenance order (`SystemStatusText`, space-separated), most
/// decisive first: the first one present decides.
pub const ORDER_SYSTEM_STATUS: &[(&str, WorkOrderStatus)] = &[
    ("DLFL", WorkOrderStatus::Cancelled),
    ("CLSD", WorkOrderStatus::Completed),
    ("TECO", WorkOrderStatus::Completed),
    ("PCNF", WorkOrderStatus::InProgress),
    ("REL", WorkOrderStatus::Open),
    ("CRTD", WorkOrderStatus::Open),
];

/// User statuses that put a released order on hold (configured per status profile; `WAIT`
/// and `HOLD` are the usual ones).
pub const ORDER_HOLD_USER_STATUS: &[&str] = &["WAIT", "HOLD"];

/// `PurchasingProcessingStatus` (EKKO-PROCSTAT).
pub const PO_PROCESSING_STATUS: &[(&str, PurchaseOrderStatus)] = &[
    ("01", PurchaseOrderStatus::Draft),
    ("02", PurchaseOrderStatus::Submitted),
    ("03", PurchaseOrderStatus::Submitted),
    ("04", PurchaseOrderStatus::Submitted),
    ("05", PurchaseOrderStatus::Approved),
    ("08", PurchaseOrderStatus::Cancelled),
];

/// Cycle units of a maintenance plan → interval units.
pub const CYCLE_UNIT: &[(&str, &str)] = &[
    ("H", "hours"),
    ("HR", "hours"),
    ("D", "days"),
    ("DAY", "days"),
    ("TAG", "days"),
    ("WK", "weeks"),
    ("WCH", "weeks"),
    ("MON", "months"),
    ("MO", "months"),
    ("YR", "years"),
    ("JHR", "years"),
];

fn order_type(code: &str) -> Option<Value> {
    to_json(lookup(ORDER_TYPE, code).unwrap_or(WorkOrderType::Other))
}

fn priority(code: &str) -> Option<Value> {
    to_json(lookup(PRIORITY, code)?)
}

// ---------------------------------------------------------------------------------------------
// Field tables.

/// Equipment (`API_EQUIPMENT/Equipment`). Status comes from the equipment's flags (deletion,
/// inactive), which is what the API exposes of the system status.
#[rustfmt::skip]
pub const ASSET: &[FieldMap] = &[
    f("name",            "EquipmentName",                            Read::Text),
    f("asset_number",    "InventoryNumber|Equipment",                Read::Text),
    f("description",     "SizeOrDimensionText",                      Read::Text),
    f("status",          "EquipmentIsMarkedForDeletion, EquipmentIsInactive", Read::Custom(asset_status)),
    f("remote_status",   "DLFL/INAC/INST/AVLB from the flags",       Read::Custom(asset_remote_status)),
    f("category",        "TechnicalObjectType|EquipmentCategory",    Read::Text),
    f("manufacturer",    "AssetManufacturerName",                    Read::Text),
    f("model",           "ManufacturerPartTypeName|ManufacturerPartNmbr", Read::Text),
    f("serial_number",   "ManufacturerSerialNumber|SerialNumber",    Read::Text),
    f("criticality",     "ABCIndicator",                             Read::Text),
    f("location_id",     "FunctionalLocation",                       Read::Text),
    f("parent_asset_id", "SuperordinateEquipment",                   Read::Text),
    f("installed_at",    "OperationStartDate",                       Read::Time),
];

/// Functional locations (`API_FUNCTIONALLOCATION/FunctionalLocation`).
#[rustfmt::skip]
pub const LOCATION: &[FieldMap] = &[
    f("name",               "FunctionalLocationName",                     Read::Text),
    f("code",               "FunctionalLocationLabelName|FunctionalLocation", Read::Text),
    f("type",               "always functional_location",                 Read::Custom(functional_location)),
    f("parent_location_id", "SuperiorFunctionalLocation",                 Read::Text),
];

/// Maintenance orders (`API_MAINTENANCEORDER;v=0002/MaintenanceOrder`). Assignees, hours and
/// completion time live in operations and confirmations, which are not read.
#[rustfmt::skip]
pub const WORK_ORDER: &[FieldMap] = &[
    f("number",             "MaintenanceOrder",           Read::Text),
    f("title",              "MaintenanceOrderDesc",       Read::Text),
    f("type",               "MaintenanceOrderType",       Read::Table(order_type)),
    f("status",             "SystemStatusText + UserStatusText", Read::Custom(order_status)),
    f("remote_status",      "SystemStatusText",           Read::Text),
    f("priority",           "MaintPriority",              Read::Table(priority)),
    f("asset_id",           "Equipment",                  Read::Text),
    f("location_id",        "FunctionalLocation",         Read::Text),
    f("scheduled_start_at", "MaintOrdBasicStartDateTime", Read::Time),
    f("due_at",             "MaintOrdBasicEndDateTime",   Read::Time),
];

/// Maintenance plans (`API_MAINTENANCEPLAN/MaintenancePlan`; property names UNVERIFIED, see
/// the simulator).
#[rustfmt::skip]
pub const MAINTENANCE_SCHEDULE: &[FieldMap] = &[
    f("name",              "MaintenancePlanDesc",          Read::Text),
    f("asset_id",          "Equipment",                    Read::Text),
    f("location_id",       "FunctionalLocation",           Read::Text),
    f("interval",          "MaintenancePlanCycleValue + MaintenancePlanCycleUnit", Read::Custom(plan_interval)),
    f("next_due_at",       "NextPlannedDate",              Read::Time),
    f("last_completed_at", "LastCompletionDate",           Read::Time),
    f("active",            "not MaintenancePlanIsInactive", Read::Custom(plan_active)),
];

/// Purchase orders (`A_PurchaseOrder` with `$expand=to_PurchaseOrderItem`).
#[rustfmt::skip]
pub const PURCHASE_ORDER: &[FieldMap] = &[
    f("number",        "PurchaseOrder",              Read::Text),
    f("status",        "PurchasingProcessingStatus, deletion code, items delivered/invoiced", Read::Custom(po_status)),
    f("remote_status", "PurchasingProcessingStatus", Read::Text),
    f("vendor_id",     "Supplier",                   Read::Text),
    f("order_date",    "PurchaseOrderDate",          Read::Date),
    f("currency",      "DocumentCurrency",           Read::Text),
    f("total_amount",  "Σ items OrderQuantity × NetPriceAmount / NetPriceQuantity", Read::Custom(po_total)),
    f("payment_terms", "PaymentTerms",               Read::Text),
    f("line_items",    "to_PurchaseOrderItem.results[]", Read::Custom(po_lines)),
];

/// Purchase order items. Materials are not read as inventory items, so `item_id` stays empty
/// and the material number is the product code.
#[rustfmt::skip]
pub const PURCHASE_ORDER_LINE: &[FieldMap] = &[
    f("line_number",     "PurchaseOrderItem",         Read::Custom(line_number)),
    f("product_code",    "Material",                  Read::Text),
    f("description",     "PurchaseOrderItemText",     Read::Text),
    f("quantity",        "OrderQuantity",             Read::Decimal),
    f("unit_of_measure", "PurchaseOrderQuantityUnit", Read::Text),
    f("unit_price",      "NetPriceAmount / NetPriceQuantity", Read::Custom(unit_price)),
    f("total",           "OrderQuantity × NetPriceAmount / NetPriceQuantity", Read::Custom(line_total)),
];

/// Suppliers (`API_BUSINESS_PARTNER/A_Supplier` with `$expand=to_SupplierPurchasingOrg`).
/// Address, e-mail and phone belong to the business partner's addresses, not read here.
#[rustfmt::skip]
pub const VENDOR: &[FieldMap] = &[
    f("name",          "SupplierName|SupplierFullName",                  Read::Text),
    f("code",          "Supplier",                                       Read::Text),
    f("tax_id",        "VATRegistration|TaxNumber1",                     Read::Text),
    f("currency",      "to_SupplierPurchasingOrg[0].PurchaseOrderCurrency", Read::Custom(vendor_currency)),
    f("payment_terms", "to_SupplierPurchasingOrg[0].PaymentTerms",       Read::Custom(vendor_terms)),
    f("status",        "PurchasingIsBlocked, PostingIsBlocked, DeletionIndicator", Read::Custom(vendor_status)),
];

/// The field table of `entity`; empty for an entity S/4HANA does not have here.
pub fn fields(entity: Entity) -> &'static [FieldMap] {
    match entity {
        Entity::Assets => ASSET,
        Entity::Locations => LOCATION,
        Entity::WorkOrders => WORK_ORDER,
        Entity::MaintenanceSchedules => MAINTENANCE_SCHEDULE,
        Entity::PurchaseOrders => PURCHASE_ORDER,
        Entity::Vendors => VENDOR,
        Entity::InventoryItems | Entity::Users => &[],
    }
}

// ---------------------------------------------------------------------------------------------
// The reader.

/// OData v2 JSON as the mapping framework reads it: plain property names, `""` for "no value"
/// (an alternative that is blank lets the next one speak), `/Date(ms)/` times; the remote id is
/// the entity set's key.
pub struct Wire;

impl Source for Wire {
    fn fields(entity: Entity) -> &'static [FieldMap] {
        fields(entity)
    }

    fn remote_id(entity: Entity, raw: &Map<String, Value>) -> Result<String, ConnectorError> {
        let set =
            entity_set(entity).ok_or_else(|| ConnectorError::not_supported(entity, "read"))?;
        raw.get(set.key)
            .and_then(text)
            .ok_or_else(|| ConnectorError::Upstream {
                status: 200,
                message: format!("an SAP {} entity has no {}", set.set, set.key),
            })
    }

    fn record_name(entity: Entity) -> String {
        let set = entity_set(entity).map_or("entity", |s| s.set);
        format!("SAP {set}")
    }

    /// `CreationDate`.
    fn created_at(_: Entity, raw: &Map<String, Value>) -> Option<Timestamp> {
        raw.get("CreationDate").and_then(odata_time)
    }

    /// `LastChangeDateTime`.
    fn updated_at(_: Entity, raw: &Map<String, Value>) -> Option<Timestamp> {
        raw.get("LastChangeDateTime").and_then(odata_time)
    }

    /// Whatever [`text`] reads, and booleans: what is not blank.
    fn present(value: &Value) -> bool {
        match value {
            Value::String(s) => !s.trim().is_empty(),
            Value::Number(_) | Value::Bool(_) => true,
            _ => false,
        }
    }

    fn time(value: &Value) -> Option<Timestamp> {
        odata_time(value)
    }
}

/// An OData entity as a [`RemoteRecord`]: its key as `remote_id`, `CreationDate` and
/// `LastChangeDateTime` as the remote timestamps, the unified fields per the entity's table.
pub fn to_record(entity: Entity, raw: Map<String, Value>) -> Result<RemoteRecord, ConnectorError> {
    mapping::to_record::<Wire>(entity, raw)
}

fn read_fields(table: &[FieldMap], raw: &Map<String, Value>) -> Map<String, Value> {
    mapping::read_fields::<Wire>(table, raw)
}

/// `/Date(ms)/`, `/Date(ms+0000)/` or `/Date(ms-0130)/` (the offset only says how to display
/// the UTC instant), or an ISO 8601 string some gateways send instead.
pub fn odata_time(value: &Value) -> Option<Timestamp> {
    let s = value.as_str()?.trim();
    if let Some(inner) = s.strip_prefix("/Date(").and_then(|r| r.strip_suffix(")/")) {
        let end = inner
            .get(1..)?
            .find(['+', '-'])
            .map_or(inner.len(), |p| p + 1);
        let ms: i64 = inner[..end].parse().ok()?;
        return chrono::DateTime::from_timestamp_millis(ms);
    }
    time::parse(s)
}

fn flag(raw: &Map<String, Value>, key: &str) -> bool {
    raw.get(key).and_then(Value::as_bool).unwrap_or(false)
}

// ---------------------------------------------------------------------------------------------
// Computed fields.

fn asset_status(raw: &Map<String, Value>) -> Option<Value> {
    let status = if flag(raw, "EquipmentIsMarkedForDeletion") {
        AssetStatus::Decommissioned
    } else if flag(raw, "EquipmentIsInactive") {
        AssetStatus::Down
    } else {
        AssetStatus::Operational
    };
    to_json(status)
}

/// The system status abbreviations the flags stand for.
fn asset_remote_status(raw: &Map<String, Value>) -> Option<Value> {
    let status = if flag(raw, "EquipmentIsMarkedForDeletion") {
        "DLFL"
    } else if flag(raw, "EquipmentIsInactive") {
        "INAC"
    } else if flag(raw, "EquipmentIsInstalled") {
        "INST"
    } else {
        "AVLB"
    };
    Some(Value::String(status.into()))
}

fn functional_location(_: &Map<String, Value>) -> Option<Value> {
    to_json(LocationType::FunctionalLocation)
}

fn order_status(raw: &Map<String, Value>) -> Option<Value> {
    let system = raw.get("SystemStatusText").and_then(text)?;
    let words: Vec<&str> = system.split_whitespace().collect();
    let mut status = ORDER_SYSTEM_STATUS
        .iter()
        .find(|(code, _)| words.contains(code))
        .map(|(_, s)| *s)?;
    let user = raw.get("UserStatusText").and_then(text).unwrap_or_default();
    let on_hold = user
        .split_whitespace()
        .any(|u| ORDER_HOLD_USER_STATUS.contains(&u));
    if on_hold && matches!(status, WorkOrderStatus::Open | WorkOrderStatus::InProgress) {
        status = WorkOrderStatus::OnHold;
    }
    to_json(status)
}

fn plan_interval(raw: &Map<String, Value>) -> Option<Value> {
    let value: u32 = raw
        .get("MaintenancePlanCycleValue")
        .and_then(text)?
        .split('.')
        .next()?
        .parse()
        .ok()?;
    let unit = raw.get("MaintenancePlanCycleUnit").and_then(text)?;
    let unit = lookup(CYCLE_UNIT, &unit).unwrap_or("other");
    Some(json!({"value": value, "unit": unit}))
}

fn plan_active(raw: &Map<String, Value>) -> Option<Value> {
    let inactive = raw.get("MaintenancePlanIsInactive")?.as_bool()?;
    Some(Value::Bool(!inactive))
}

fn items(raw: &Map<String, Value>) -> Vec<&Map<String, Value>> {
    raw.get("to_PurchaseOrderItem")
        .and_then(|n| n.get("results"))
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_object).collect())
        .unwrap_or_default()
}

fn po_status(raw: &Map<String, Value>) -> Option<Value> {
    if raw
        .get("PurchasingDocumentDeletionCode")
        .and_then(text)
        .is_some()
    {
        return to_json(PurchaseOrderStatus::Cancelled);
    }
    let code = raw.get("PurchasingProcessingStatus").and_then(text)?;
    let mut status = lookup(PO_PROCESSING_STATUS, &code)?;
    let lines = items(raw);
    if status == PurchaseOrderStatus::Approved && !lines.is_empty() {
        let delivered = lines
            .iter()
            .filter(|i| flag(i, "IsCompletelyDelivered"))
            .count();
        let invoiced = lines.iter().all(|i| flag(i, "IsFinallyInvoiced"));
        status = if delivered == lines.len() && invoiced {
            PurchaseOrderStatus::Closed
        } else if delivered == lines.len() {
            PurchaseOrderStatus::Received
        } else if delivered > 0 {
            PurchaseOrderStatus::PartiallyReceived
        } else {
            status
        };
    }
    to_json(status)
}

/// Net price of one unit: `NetPriceAmount` is per `NetPriceQuantity` units.
fn unit_price_of(item: &Map<String, Value>) -> Option<Decimal> {
    let price = decimal(item.get("NetPriceAmount")?)?;
    let per = item
        .get("NetPriceQuantity")
        .and_then(decimal)
        .and_then(|d| d.to_scaled(3))
        .filter(|p| *p > 0)
        .unwrap_or(1000);
    if per == 1000 {
        return Some(price);
    }
    let scale = price.scale().max(2) + 3;
    Decimal::ratio(
        price.to_scaled(scale)? * 1000,
        per * 10i128.pow(scale),
        scale,
    )
}

fn line_total_of(item: &Map<String, Value>) -> Option<Decimal> {
    let quantity = decimal(item.get("OrderQuantity")?)?;
    let price = decimal(item.get("NetPriceAmount")?)?;
    let per = item
        .get("NetPriceQuantity")
        .and_then(decimal)
        .unwrap_or_else(|| Decimal::from_i64(1));
    let gross = quantity.checked_mul(&price)?;
    if per.to_scaled(3) == Some(1000) {
        return Some(gross);
    }
    let scale = price.scale().max(2);
    let numerator = gross.to_scaled(scale + 3)?;
    let denominator = per.to_scaled(3)?;
    Decimal::ratio(numerator, denominator * 10i128.pow(scale), scale)
}

fn unit_price(item: &Map<String, Value>) -> Option<Value> {
    unit_price_of(item).map(|d| Value::String(d.into_string()))
}

fn line_total(item: &Map<String, Value>) -> Option<Value> {
    line_total_of(item).map(|d| Value::String(d.into_string()))
}

fn line_number(item: &Map<String, Value>) -> Option<Value> {
    let n: u32 = item.get("PurchaseOrderItem").and_then(text)?.parse().ok()?;
    Some(Value::from(n))
}

fn po_lines(raw: &Map<String, Value>) -> Option<Value> {
    let lines: Vec<Value> = items(raw)
        .into_iter()
        .map(|item| Value::Object(read_fields(PURCHASE_ORDER_LINE, item)))
        .collect();
    Some(Value::Array(lines))
}

fn po_total(raw: &Map<String, Value>) -> Option<Value> {
    let lines = items(raw);
    if lines.is_empty() {
        return None;
    }
    let mut total = Decimal::from_i64(0);
    for item in lines {
        total = total.checked_add(&line_total_of(item)?)?;
    }
    Some(Value::String(total.into_string()))
}

fn purchasing_org(raw: &Map<String, Value>) -> Option<&Map<String, Value>> {
    raw.get("to_SupplierPurchasingOrg")?
        .get("results")?
        .as_array()?
        .first()?
        .as_object()
}

fn vendor_currency(raw: &Map<String, Value>) -> Option<Value> {
    purchasing_org(raw)?
        .get("PurchaseOrderCurrency")
        .and_then(text)
        .map(Value::String)
}

fn vendor_terms(raw: &Map<String, Value>) -> Option<Value> {
    purchasing_org(raw)?
        .get("PaymentTerms")
        .and_then(text)
        .map(Value::String)
}

fn vendor_status(raw: &Map<String, Value>) -> Option<Value> {
    let blocked = [
        "PurchasingIsBlocked",
        "PostingIsBlocked",
        "DeletionIndicator",
    ]
    .iter()
    .any(|k| flag(raw, k));
    to_json(if blocked {
        VendorStatus::Inactive
    } else {
        VendorStatus::Active
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn odata_dates() {
        let t = odata_time(&json!("/Date(1492098664000+0000)/")).unwrap();
        assert_eq!(time::format(&t), "2017-04-13T15:51:04Z");
        let d = odata_time(&json!("/Date(1492041600000)/")).unwrap();
        assert_eq!(d.date_naive().to_string(), "2017-04-13");
        assert!(odata_time(&json!("")).is_none());
        assert_eq!(odata_time(&json!("/Date(-1000)/")).unwrap().timestamp(), -1);
    }

    #[test]
    fn prices_per_quantity() {
        let item =
            json!({"OrderQuantity": "3", "NetPriceAmount": "250.00", "NetPriceQuantity": "100"});
        let item = item.as_object().unwrap();
        assert_eq!(unit_price_of(item).unwrap().as_str(), "2.50000");
        assert_eq!(line_total_of(item).unwrap().as_str(), "7.50");
        let simple =
            json!({"OrderQuantity": "4", "NetPriceAmount": "12.75", "NetPriceQuantity": "1"});
        assert_eq!(
            line_total_of(simple.as_object().unwrap()).unwrap().as_str(),
            "51.00"
        );
    }

    #[test]
    fn order_statuses() {
        let s = |sys: &str, user: &str| {
            order_status(
                json!({"SystemStatusText": sys, "UserStatusText": user})
                    .as_object()
                    .unwrap(),
            )
        };
        assert_eq!(s("REL PCNF NMAT", ""), Some(json!("in_progress")));
        assert_eq!(s("REL NMAT", "WAIT"), Some(json!("on_hold")));
        assert_eq!(s("TECO CNF", ""), Some(json!("completed")));
        assert_eq!(s("CRTD DLFL", ""), Some(json!("cancelled")));
        assert_eq!(s("CRTD", ""), Some(json!("open")));
    }
}
