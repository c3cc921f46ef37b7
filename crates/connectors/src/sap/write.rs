//! Unified-model create bodies → OData create bodies, checked in full before anything is sent:
//! a maintenance order, and a purchase order with its items (deep insert, one request).

use millwright_core::model::{
    parse_input, Decimal, FieldError, PurchaseOrder, WorkOrder, WorkOrderType,
};
use serde_json::{json, Map, Value};

use super::mapping::{code_for, ORDER_TYPE, PRIORITY};
use crate::ConnectorError;

/// `/Date(ms)/`, how OData v2 JSON writes date-times.
fn odata_date(t: &millwright_core::time::Timestamp) -> Value {
    Value::String(format!("/Date({})/", t.timestamp_millis()))
}

fn field_error(field: &str, message: &str) -> ConnectorError {
    ConnectorError::Invalid {
        field: field.to_string(),
        message: message.to_string(),
    }
}

fn invalid(e: FieldError) -> ConnectorError {
    ConnectorError::Invalid {
        field: e.field,
        message: e.message,
    }
}

/// Unified fields a maintenance order create may set; the rest (`number`, `status`, …) are
/// SAP's to set, and assignees, hours and descriptions live in operations and long texts.
const WORK_ORDER_FIELDS: &[&str] = &[
    "title",
    "type",
    "priority",
    "asset_id",
    "location_id",
    "scheduled_start_at",
    "due_at",
];

/// `POST …/MaintenanceOrder` body for a unified work order.
pub fn maintenance_order(input: &Value) -> Result<Value, ConnectorError> {
    let input = parse_input::<WorkOrder>(input).map_err(invalid)?;
    if let Some(field) = input
        .fields
        .iter()
        .find(|f| !WORK_ORDER_FIELDS.contains(&f.as_str()))
    {
        return Err(field_error(
            field,
            "cannot be set on an SAP maintenance order by this connector",
        ));
    }
    let data = input.data;
    let title = data
        .title
        .filter(|t| !t.trim().is_empty())
        .ok_or_else(|| field_error("title", "is required"))?;
    if title.chars().count() > 40 {
        return Err(field_error(
            "title",
            "SAP order short texts hold at most 40 characters",
        ));
    }
    let order_type = match data.r#type {
        None => "PM01",
        Some(t) => code_for(ORDER_TYPE, t)
            .filter(|_| t != WorkOrderType::Other)
            .ok_or_else(|| {
                field_error(
                    "type",
                    "SAP order types here are corrective (PM01), preventive (PM02), inspection (PM04) and emergency (PM05)",
                )
            })?,
    };
    let mut body = Map::new();
    body.insert("MaintenanceOrderType".into(), json!(order_type));
    body.insert("MaintenanceOrderDesc".into(), json!(title));
    if let Some(p) = data.priority {
        let code = code_for(PRIORITY, p).ok_or_else(|| {
            field_error("priority", "SAP priorities are low, medium, high or urgent")
        })?;
        body.insert("MaintPriority".into(), json!(code));
    }
    if let Some(asset) = data.asset_id {
        body.insert("Equipment".into(), json!(asset));
    }
    if let Some(location) = data.location_id {
        body.insert("FunctionalLocation".into(), json!(location));
    }
    if let Some(start) = &data.scheduled_start_at {
        body.insert("MaintOrdBasicStartDateTime".into(), odata_date(start));
    }
    if let Some(due) = &data.due_at {
        body.insert("MaintOrdBasicEndDateTime".into(), odata_date(due));
    }
    Ok(Value::Object(body))
}

const PURCHASE_ORDER_FIELDS: &[&str] = &[
    "vendor_id",
    "order_date",
    "currency",
    "payment_terms",
    "line_items",
];

/// `POST …/A_PurchaseOrder` body with `to_PurchaseOrderItem` for a unified purchase order.
/// Company code, purchasing organization and group are not unified fields: they may be given
/// in `custom_fields` under their SAP names, otherwise SAP's defaults for the user apply.
pub fn purchase_order(input: &Value) -> Result<Value, ConnectorError> {
    let parsed = parse_input::<PurchaseOrder>(input).map_err(invalid)?;
    if let Some(field) = parsed
        .fields
        .iter()
        .find(|f| !PURCHASE_ORDER_FIELDS.contains(&f.as_str()))
    {
        return Err(field_error(
            field,
            "cannot be set on an SAP purchase order by this connector",
        ));
    }
    let data = parsed.data;
    let supplier = data
        .vendor_id
        .filter(|v| !v.trim().is_empty())
        .ok_or_else(|| field_error("vendor_id", "is required"))?;
    if data.line_items.is_empty() {
        return Err(field_error("line_items", "at least one line is required"));
    }
    let mut body = Map::new();
    body.insert("Supplier".into(), json!(supplier));
    if let Some(d) = data.order_date {
        let ms = d
            .and_hms_opt(0, 0, 0)
            .map(|t| t.and_utc().timestamp_millis());
        if let Some(ms) = ms {
            body.insert("PurchaseOrderDate".into(), json!(format!("/Date({ms})/")));
        }
    }
    if let Some(c) = data.currency {
        body.insert("DocumentCurrency".into(), json!(c));
    }
    if let Some(t) = data.payment_terms {
        body.insert("PaymentTerms".into(), json!(t));
    }
    for key in [
        "CompanyCode",
        "PurchasingOrganization",
        "PurchasingGroup",
        "PurchaseOrderType",
    ] {
        if let Some(Value::String(v)) = parsed.custom_fields.as_ref().and_then(|c| c.get(key)) {
            body.insert(key.into(), json!(v));
        }
    }
    let mut items = Vec::with_capacity(data.line_items.len());
    for (n, line) in data.line_items.iter().enumerate() {
        let at = |f: &str| format!("line_items[{n}].{f}");
        if line.description.is_none() && line.product_code.is_none() {
            return Err(field_error(
                &at("description"),
                "a description or a product_code is required",
            ));
        }
        let quantity = line
            .quantity
            .as_ref()
            .filter(|q| q.to_scaled(3).is_some_and(|v| v > 0))
            .ok_or_else(|| field_error(&at("quantity"), "must be greater than zero"))?;
        let price = line
            .unit_price
            .as_ref()
            .ok_or_else(|| field_error(&at("unit_price"), "is required"))?;
        if line.received_quantity.is_some()
            || line.delivery_date.is_some()
            || line.item_id.is_some()
        {
            return Err(field_error(
                &at("item_id"),
                "item_id, delivery_date and received_quantity cannot be set on SAP purchase order items by this connector",
            ));
        }
        let mut item = Map::new();
        let number = line.line_number.unwrap_or(((n + 1) * 10) as u32);
        item.insert("PurchaseOrderItem".into(), json!(number.to_string()));
        if let Some(d) = &line.description {
            item.insert("PurchaseOrderItemText".into(), json!(d));
        }
        if let Some(code) = &line.product_code {
            item.insert("Material".into(), json!(code));
        }
        item.insert("OrderQuantity".into(), json!(decimal_text(quantity, 3)));
        if let Some(unit) = &line.unit_of_measure {
            item.insert("PurchaseOrderQuantityUnit".into(), json!(unit));
        }
        item.insert("NetPriceAmount".into(), json!(decimal_text(price, 2)));
        item.insert("NetPriceQuantity".into(), json!("1"));
        items.push(Value::Object(item));
    }
    body.insert("to_PurchaseOrderItem".into(), json!({ "results": items }));
    Ok(Value::Object(body))
}

/// A decimal for an `Edm.Decimal` property: no more fraction digits than the property holds
/// (SAP refuses more), trailing zeros kept as given.
fn decimal_text(value: &Decimal, max_scale: u32) -> String {
    if value.scale() <= max_scale {
        value.as_str().to_string()
    } else {
        value
            .to_scaled(max_scale)
            .map(|u| Decimal::from_scaled(u, max_scale).into_string())
            .unwrap_or_else(|| value.as_str().to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn work_order_body() {
        let body = maintenance_order(&json!({
            "title": "Replace seal", "type": "preventive", "priority": "urgent",
            "asset_id": "10000003", "scheduled_start_at": "2026-01-01T00:00:00Z"
        }))
        .unwrap();
        assert_eq!(body["MaintenanceOrderType"], "PM02");
        assert_eq!(body["MaintPriority"], "1");
        assert_eq!(body["Equipment"], "10000003");
        assert_eq!(body["MaintOrdBasicStartDateTime"], "/Date(1767225600000)/");
        assert!(matches!(
            maintenance_order(&json!({"title": "x", "status": "open"})),
            Err(ConnectorError::Invalid { field, .. }) if field == "status"
        ));
        assert!(maintenance_order(&json!({"priority": "low"})).is_err());
    }

    #[test]
    fn purchase_order_body() {
        let body = purchase_order(&json!({
            "vendor_id": "17300002",
            "line_items": [{"description": "Seal", "quantity": "2", "unit_price": "184.505"}]
        }))
        .unwrap();
        let item = &body["to_PurchaseOrderItem"]["results"][0];
        assert_eq!(item["PurchaseOrderItem"], "10");
        assert_eq!(item["NetPriceAmount"], "184.51");
        assert!(matches!(
            purchase_order(&json!({"vendor_id": "1", "line_items": []})),
            Err(ConnectorError::Invalid { field, .. }) if field == "line_items"
        ));
    }
}
