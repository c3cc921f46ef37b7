//! Creates: a maintenance order, and a purchase order with its items in one request (deep
//! insert through `to_PurchaseOrderItem`). Business checks answer SAP's 400 error body with a
//! message-class code; the codes are illustrative (UNVERIFIED), the shape is the reference's.

use serde_json::{json, Map, Value};

use super::data::{self, def, Kind, PLANT};
use super::odata::{date_time, date_time_offset, parse_date, parse_iso, ODataError};
use super::Sap;

type Record = Map<String, Value>;

/// A string property (numbers accepted as their text).
fn text(body: &Record, key: &str) -> Option<String> {
    match body.get(key)? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn invalid(code: &str, message: String, target: &str) -> ODataError {
    ODataError::bad_property(code, message, target)
}

/// Refuses properties the entity type does not have, as Gateway's JSON parser does.
fn known(body: &Record, allowed: &[&str], type_name: &str) -> Result<(), ODataError> {
    match body
        .keys()
        .find(|k| !allowed.contains(&k.as_str()) && *k != "__metadata")
    {
        Some(k) => Err(invalid(
            "/IWBEP/CM_MGW_RT/004",
            format!("Property '{k}' is invalid for entity type '{type_name}'"),
            k,
        )),
        None => Ok(()),
    }
}

/// A date-time property given as `/Date(ms)/` or ISO 8601.
fn time(body: &Record, key: &str) -> Result<Option<i64>, ODataError> {
    let Some(raw) = text(body, key) else {
        return Ok(None);
    };
    parse_date(&raw)
        .or_else(|| parse_iso(&raw))
        .map(Some)
        .ok_or_else(|| {
            invalid(
                "/IWBEP/CM_MGW_RT/006",
                format!("Invalid value '{raw}' for property '{key}'"),
                key,
            )
        })
}

/// An `Edm.Decimal` property: a string (or number) with at most `scale` decimals.
fn decimal(body: &Record, key: &str, scale: usize) -> Result<Option<String>, ODataError> {
    let Some(raw) = text(body, key) else {
        return Ok(None);
    };
    let (whole, frac) = raw.split_once('.').unwrap_or((&raw, ""));
    let ok = !whole.is_empty()
        && whole
            .trim_start_matches('-')
            .chars()
            .all(|c| c.is_ascii_digit())
        && frac.chars().all(|c| c.is_ascii_digit())
        && frac.len() <= scale;
    if !ok {
        return Err(invalid(
            "/IWBEP/CM_MGW_RT/006",
            format!("Invalid value '{raw}' for property '{key}'"),
            key,
        ));
    }
    Ok(Some(raw))
}

const ORDER_FIELDS: &[&str] = &[
    "MaintenanceOrderType",
    "MaintenanceOrderDesc",
    "MaintPriority",
    "MaintenancePlanningPlant",
    "MaintenancePlant",
    "MainWorkCenter",
    "MainWorkCenterPlant",
    "Equipment",
    "FunctionalLocation",
    "MaintOrdBasicStartDateTime",
    "MaintOrdBasicEndDateTime",
    "MaintenanceActivityType",
    "CostCenter",
    "MaintenanceNotification",
];

const ORDER_TYPES: &[&str] = &["PM01", "PM02", "PM03", "PM04"];

/// `POST …/MaintenanceOrder`.
pub(crate) fn maintenance_order(sap: &Sap, body: Record) -> Result<Record, ODataError> {
    let order_def = def(Kind::MaintenanceOrder);
    known(&body, ORDER_FIELDS, order_def.type_name)?;
    let order_type = text(&body, "MaintenanceOrderType").ok_or_else(|| {
        invalid(
            "IWO_BAPI2/102",
            "Enter an order type".into(),
            "MaintenanceOrderType",
        )
    })?;
    if !ORDER_TYPES.contains(&order_type.as_str()) {
        return Err(invalid(
            "IW/026",
            format!("Order type {order_type} is not defined"),
            "MaintenanceOrderType",
        ));
    }
    let desc = text(&body, "MaintenanceOrderDesc").unwrap_or_default();
    if desc.chars().count() > 40 {
        return Err(invalid(
            "IWO_BAPI2/105",
            "Short text is longer than 40 characters".into(),
            "MaintenanceOrderDesc",
        ));
    }
    let priority = text(&body, "MaintPriority").unwrap_or_default();
    if !matches!(priority.as_str(), "" | "1" | "2" | "3" | "4") {
        return Err(invalid(
            "IW/057",
            format!("Priority {priority} is not defined for priority type PM"),
            "MaintPriority",
        ));
    }
    let start = time(&body, "MaintOrdBasicStartDateTime")?;
    let end = time(&body, "MaintOrdBasicEndDateTime")?;
    if let (Some(s), Some(e)) = (start, end) {
        if e < s {
            return Err(invalid(
                "IW/012",
                "Basic finish date is before basic start date".into(),
                "MaintOrdBasicEndDateTime",
            ));
        }
    }
    let mut db = sap.db();
    let equipment = match text(&body, "Equipment") {
        Some(number) => {
            let eq_def = def(Kind::Equipment);
            let record = data::index_of(eq_def, &number)
                .and_then(|i| db.set(Kind::Equipment).get(&sap.world, Kind::Equipment, i))
                .ok_or_else(|| {
                    invalid(
                        "ITOB/016",
                        format!("Equipment {number} does not exist"),
                        "Equipment",
                    )
                })?;
            Some(record)
        }
        None => None,
    };
    let location = match text(&body, "FunctionalLocation") {
        Some(code) => {
            let fl_def = def(Kind::FunctionalLocation);
            data::index_of(fl_def, &code)
                .filter(|i| db.set(Kind::FunctionalLocation).contains(*i))
                .ok_or_else(|| {
                    invalid(
                        "ITOB/002",
                        format!("Functional location {code} does not exist"),
                        "FunctionalLocation",
                    )
                })?;
            Some(code)
        }
        None => equipment
            .as_ref()
            .and_then(|e| text(e, "FunctionalLocation")),
    };
    let plant =
        match text(&body, "MaintenancePlanningPlant") {
            Some(p) if p != PLANT => {
                return Err(invalid(
                    "IWO_BAPI2/016",
                    format!("Planning plant {p} is not defined"),
                    "MaintenancePlanningPlant",
                ))
            }
            Some(p) => p,
            // Gateway derives the plant from the reference object; without one there is none.
            None if equipment.is_some() || location.is_some() => PLANT.to_owned(),
            None => return Err(invalid(
                "IWO_BAPI2/016",
                "Enter a planning plant or a reference object (equipment or functional location)"
                    .into(),
                "MaintenancePlanningPlant",
            )),
        };
    let now = sap.clock.now().0;
    let set = db.set_mut(Kind::MaintenanceOrder);
    let index = set.next_index();
    let number = data::key_of(order_def, index);
    let equipment_number = equipment
        .as_ref()
        .and_then(|e| text(e, "Equipment"))
        .unwrap_or_default();
    let start = start.unwrap_or(now);
    let record = json!({
        "MaintenanceOrder": number,
        "MaintenanceOrderType": order_type,
        "MaintenanceOrderDesc": desc,
        "MaintPriority": priority,
        "MaintPriorityType": "PM",
        "MaintenancePlanningPlant": plant,
        "MaintenancePlant": text(&body, "MaintenancePlant").unwrap_or_else(|| plant.clone()),
        "MaintenancePlannerGroup": "",
        "MainWorkCenter": text(&body, "MainWorkCenter").unwrap_or_else(|| "MECH-01".into()),
        "MainWorkCenterPlant": text(&body, "MainWorkCenterPlant").unwrap_or_else(|| plant.clone()),
        "Equipment": equipment_number,
        "EquipmentName": equipment.as_ref().and_then(|e| text(e, "EquipmentName")).unwrap_or_default(),
        "FunctionalLocation": location.unwrap_or_default(),
        "TechnicalObject": equipment_number,
        "MaintenanceNotification": text(&body, "MaintenanceNotification").unwrap_or_default(),
        "MaintenancePlan": "",
        "MaintenanceActivityType": text(&body, "MaintenanceActivityType").unwrap_or_default(),
        "MaintOrdBasicStartDateTime": date_time_offset(start),
        "MaintOrdBasicEndDateTime": date_time_offset(end.unwrap_or(start)),
        "MaintOrdProcessPhaseCode": "01",
        "SystemStatusText": "CRTD NMAT PRC SETC",
        "UserStatusText": "",
        "CompanyCode": PLANT,
        "CostCenter": text(&body, "CostCenter").unwrap_or_default(),
        "BusinessArea": "",
        "CreationDate": date_time(now - now.rem_euclid(crate::clock::DAY_MS)),
        "LastChangeDateTime": date_time_offset(now),
    });
    let Value::Object(record) = record else {
        unreachable!("json! object")
    };
    set.put(index, record.clone());
    Ok(record)
}

const PO_FIELDS: &[&str] = &[
    "PurchaseOrderType",
    "CompanyCode",
    "PurchasingOrganization",
    "PurchasingGroup",
    "Supplier",
    "PurchaseOrderDate",
    "DocumentCurrency",
    "PaymentTerms",
    "IncotermsClassification",
    "Language",
    "to_PurchaseOrderItem",
];

const ITEM_FIELDS: &[&str] = &[
    "PurchaseOrderItem",
    "PurchaseOrderItemText",
    "PurchaseOrderItemCategory",
    "Material",
    "MaterialGroup",
    "Plant",
    "StorageLocation",
    "OrderQuantity",
    "PurchaseOrderQuantityUnit",
    "NetPriceAmount",
    "NetPriceQuantity",
    "DocumentCurrency",
    "AccountAssignmentCategory",
];

/// `POST …/A_PurchaseOrder` with `to_PurchaseOrderItem` (deep insert).
pub(crate) fn purchase_order(sap: &Sap, body: Record) -> Result<Record, ODataError> {
    let po_def = def(Kind::PurchaseOrder);
    known(&body, PO_FIELDS, po_def.type_name)?;
    let supplier_number = text(&body, "Supplier")
        .ok_or_else(|| invalid("06/040", "Enter a supplier".into(), "Supplier"))?;
    for (field, allowed) in [
        ("CompanyCode", PLANT),
        ("PurchasingOrganization", PLANT),
        ("PurchaseOrderType", "NB"),
    ] {
        if let Some(v) = text(&body, field).filter(|v| v != allowed) {
            return Err(invalid(
                "ME/045",
                format!("{field} {v} is not defined"),
                field,
            ));
        }
    }
    // OData v2 deep insert: `{"results": [...]}`, though many clients send a bare array.
    let items = match body.get("to_PurchaseOrderItem") {
        Some(Value::Object(o)) => o.get("results").and_then(Value::as_array).cloned(),
        Some(Value::Array(a)) => Some(a.clone()),
        _ => None,
    }
    .unwrap_or_default();
    if items.is_empty() {
        return Err(invalid(
            "ME/083",
            "No items in purchase order; enter at least one item".into(),
            "to_PurchaseOrderItem",
        ));
    }
    let mut db = sap.db();
    let sup_def = def(Kind::Supplier);
    let supplier = data::index_of(sup_def, &supplier_number)
        .and_then(|i| db.set(Kind::Supplier).get(&sap.world, Kind::Supplier, i))
        .ok_or_else(|| {
            invalid(
                "06/016",
                format!("Supplier {supplier_number} does not exist"),
                "Supplier",
            )
        })?;
    if supplier.get("PurchasingIsBlocked") == Some(&Value::Bool(true)) {
        return Err(invalid(
            "06/042",
            format!("Supplier {supplier_number} is blocked for purchasing"),
            "Supplier",
        ));
    }
    let org = supplier
        .get("to_SupplierPurchasingOrg")
        .and_then(|o| o.get("results"))
        .and_then(|r| r.get(0))
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let currency = text(&body, "DocumentCurrency")
        .or_else(|| text(&org, "PurchaseOrderCurrency"))
        .unwrap_or_else(|| "EUR".into());
    let now = sap.clock.now().0;
    let today = now - now.rem_euclid(crate::clock::DAY_MS);
    let set = db.set_mut(Kind::PurchaseOrder);
    let index = set.next_index();
    let number = data::key_of(po_def, index);
    let mut lines = Vec::with_capacity(items.len());
    for (n, item) in items.iter().enumerate() {
        let target = |f: &str| format!("to_PurchaseOrderItem/{n}/{f}");
        let Value::Object(item) = item else {
            return Err(invalid(
                "/IWBEP/CM_MGW_RT/006",
                "An item must be an object".into(),
                &target(""),
            ));
        };
        known(item, ITEM_FIELDS, data::PO_ITEM_TYPE)?;
        let text_or_material =
            text(item, "PurchaseOrderItemText").or_else(|| text(item, "Material"));
        if text_or_material.is_none() {
            return Err(invalid(
                "ME/062",
                format!("Item {}: enter a material or a short text", (n + 1) * 10),
                &target("Material"),
            ));
        }
        let quantity = decimal(item, "OrderQuantity", 3)?
            .filter(|q| !q.trim_start_matches(['0', '.']).is_empty());
        let Some(quantity) = quantity.filter(|q| !q.starts_with('-')) else {
            return Err(invalid(
                "ME/064",
                format!("Item {}: enter a quantity greater than zero", (n + 1) * 10),
                &target("OrderQuantity"),
            ));
        };
        let Some(price) = decimal(item, "NetPriceAmount", 2)?.filter(|p| !p.starts_with('-'))
        else {
            return Err(invalid(
                "06/218",
                format!("Item {}: enter a net price", (n + 1) * 10),
                &target("NetPriceAmount"),
            ));
        };
        lines.push(json!({
            "PurchaseOrder": number,
            "PurchaseOrderItem": text(item, "PurchaseOrderItem").unwrap_or_else(|| ((n + 1) * 10).to_string()),
            "PurchaseOrderItemText": text(item, "PurchaseOrderItemText").unwrap_or_default(),
            "PurchaseOrderItemCategory": text(item, "PurchaseOrderItemCategory").unwrap_or_else(|| "0".into()),
            "Material": text(item, "Material").unwrap_or_default(),
            "MaterialGroup": text(item, "MaterialGroup").unwrap_or_else(|| "L001".into()),
            "Plant": text(item, "Plant").unwrap_or_else(|| PLANT.into()),
            "StorageLocation": text(item, "StorageLocation").unwrap_or_default(),
            "OrderQuantity": quantity,
            "PurchaseOrderQuantityUnit": text(item, "PurchaseOrderQuantityUnit").unwrap_or_else(|| "EA".into()),
            "NetPriceAmount": price,
            "NetPriceQuantity": decimal(item, "NetPriceQuantity", 3)?.unwrap_or_else(|| "1".into()),
            "DocumentCurrency": currency,
            "AccountAssignmentCategory": text(item, "AccountAssignmentCategory").unwrap_or_default(),
            "IsCompletelyDelivered": false,
            "IsFinallyInvoiced": false,
            "PurchaseRequisition": "",
            "PurchasingDocumentDeletionCode": "",
        }));
    }
    let order_date = time(&body, "PurchaseOrderDate")?.unwrap_or(today);
    let record = json!({
        "PurchaseOrder": number,
        "CompanyCode": PLANT,
        "PurchaseOrderType": "NB",
        "PurchasingDocumentDeletionCode": "",
        "PurchasingProcessingStatus": "02",
        "CreatedByUser": sap.credentials().username.to_ascii_uppercase(),
        "CreationDate": date_time(today),
        "LastChangeDateTime": date_time_offset(now),
        "Supplier": supplier_number,
        "PurchasingOrganization": PLANT,
        "PurchasingGroup": text(&body, "PurchasingGroup").unwrap_or_else(|| "001".into()),
        "PurchaseOrderDate": date_time(order_date - order_date.rem_euclid(crate::clock::DAY_MS)),
        "DocumentCurrency": currency,
        "PaymentTerms": text(&body, "PaymentTerms").or_else(|| text(&org, "PaymentTerms")).unwrap_or_default(),
        "IncotermsClassification": text(&body, "IncotermsClassification").unwrap_or_default(),
        "Language": text(&body, "Language").unwrap_or_else(|| "EN".into()),
        "to_PurchaseOrderItem": {"results": lines},
    });
    let Value::Object(record) = record else {
        unreachable!("json! object")
    };
    set.put(index, record.clone());
    Ok(record)
}
