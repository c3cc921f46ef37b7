//! Unified-model write bodies → Tryton `create` values, checked before anything is sent: a
//! field Tryton cannot take is [`ConnectorError::Invalid`] naming it. Values that name other
//! Tryton records by code (currency, unit, country) are resolved by the connector
//! (`mod.rs`) through [`Lookup`]s collected here, so this file stays free of I/O.

use millwright_core::model::{
    parse_input, FieldError, PurchaseOrder, PurchaseOrderStatus, Vendor, VendorStatus,
};
use serde_json::{json, Map, Value};

use super::value;
use crate::ConnectorError;

/// A Tryton record to find by a unified value before the create is sent; `target` is the path
/// of the id in the values (`currency`, `lines/0/unit`).
#[derive(Debug, Clone, PartialEq)]
pub struct Lookup {
    /// The unified field, for the error when nothing matches (`line_items[0].unit_of_measure`).
    pub field: String,
    /// The Tryton model searched.
    pub model: &'static str,
    /// The search domain.
    pub domain: Value,
    /// JSON pointer into the create values where the found id goes.
    pub target: String,
}

/// A create, ready to send once its lookups are resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct Create {
    /// The values of `model.<name>.create`.
    pub values: Value,
    /// Records to find first.
    pub lookups: Vec<Lookup>,
    /// Workflow buttons to press after the create, in order (`quote`, `confirm`).
    pub buttons: Vec<&'static str>,
}

/// Purchase order fields Tryton computes or numbers itself.
const PURCHASE_ORDER_READ_ONLY: &[&str] = &[
    "number",
    "remote_status",
    "total_amount",
    "delivery_date",
    "ship_to",
    "bill_to",
];

/// `purchase.purchase` values with its lines as `[["create", […]]]`: one call, one transaction.
/// The supplier's invoice address is looked up from the vendor (Tryton needs it to quote and
/// only its client fills it in).
pub fn purchase_order(input: &Value) -> Result<Create, ConnectorError> {
    let input = parse_input::<PurchaseOrder>(input).map_err(invalid)?;
    for field in &input.fields {
        if PURCHASE_ORDER_READ_ONLY.contains(&field.as_str()) {
            return Err(field_error(field, "is set by Tryton and cannot be written"));
        }
    }
    if input.custom_fields.as_ref().is_some_and(|c| !c.is_empty()) {
        return Err(field_error(
            "custom_fields",
            "Tryton purchases have no custom fields",
        ));
    }
    let po = &input.data;
    let mut values = Map::new();
    let mut lookups = Vec::new();
    let vendor = numeric_id("vendor_id", po.vendor_id.as_deref())?
        .ok_or_else(|| field_error("vendor_id", "is required"))?;
    values.insert("party".into(), json!(vendor));
    values.insert("invoice_address".into(), Value::Null);
    lookups.push(Lookup {
        field: "vendor_id".into(),
        model: "party.address",
        domain: json!([["party", "=", vendor]]),
        target: "/invoice_address".into(),
    });
    if let Some(date) = po.order_date {
        values.insert("purchase_date".into(), value::encode_date(date));
    }
    if let Some(date) = po.required_date {
        values.insert("delivery_date".into(), value::encode_date(date));
    }
    if let Some(code) = &po.currency {
        values.insert("currency".into(), Value::Null);
        lookups.push(Lookup {
            field: "currency".into(),
            model: "currency.currency",
            domain: json!([["code", "=", code]]),
            target: "/currency".into(),
        });
    }
    if let Some(terms) = &po.payment_terms {
        values.insert("payment_term".into(), Value::Null);
        lookups.push(Lookup {
            field: "payment_terms".into(),
            model: "account.invoice.payment_term",
            domain: json!([["name", "=", terms]]),
            target: "/payment_term".into(),
        });
    }
    if po.line_items.is_empty() {
        return Err(field_error("line_items", "needs at least one line"));
    }
    let mut lines = Vec::new();
    for (i, item) in po.line_items.iter().enumerate() {
        let name = |f: &str| format!("line_items[{i}].{f}");
        if item.total.is_some() || item.received_quantity.is_some() || item.delivery_date.is_some()
        {
            let f = if item.total.is_some() {
                "total"
            } else if item.received_quantity.is_some() {
                "received_quantity"
            } else {
                "delivery_date"
            };
            return Err(field_error(
                &name(f),
                "is set by Tryton and cannot be written",
            ));
        }
        let mut line = Map::new();
        line.insert("type".into(), json!("line"));
        line.insert(
            "sequence".into(),
            json!(item.line_number.unwrap_or(i as u32 + 1)),
        );
        let product = numeric_id(&name("item_id"), item.item_id.as_deref())?;
        line.insert("product".into(), json!(product));
        if product.is_none() {
            if let Some(code) = &item.product_code {
                lookups.push(Lookup {
                    field: name("product_code"),
                    model: "product.product",
                    domain: json!([["code", "=", code]]),
                    target: format!("/lines/0/1/{i}/product"),
                });
            }
        }
        if let Some(description) = &item.description {
            line.insert("description".into(), json!(description));
        }
        let quantity = item
            .quantity
            .as_ref()
            .ok_or_else(|| field_error(&name("quantity"), "is required"))?;
        // `quantity` is a Float field in Tryton: a JSON number.
        let quantity: f64 = quantity
            .as_str()
            .parse()
            .map_err(|_| field_error(&name("quantity"), "is not a number"))?;
        line.insert("quantity".into(), json!(quantity));
        match &item.unit_of_measure {
            Some(unit) => {
                line.insert("unit".into(), Value::Null);
                lookups.push(Lookup {
                    field: name("unit_of_measure"),
                    model: "product.uom",
                    domain: json!(["OR", [["symbol", "=", unit]], [["name", "=", unit]]]),
                    target: format!("/lines/0/1/{i}/unit"),
                });
            }
            None if product.is_some() || item.product_code.is_some() => {
                // The product's purchase unit, filled in by the connector.
                line.insert("unit".into(), Value::Null);
            }
            None => {
                return Err(field_error(
                    &name("unit_of_measure"),
                    "is required for a line without item_id",
                ))
            }
        }
        if let Some(price) = &item.unit_price {
            line.insert("unit_price".into(), value::encode_decimal(price));
        }
        lines.push(Value::Object(line));
    }
    values.insert("lines".into(), json!([["create", lines]]));
    let buttons =
        match po.status {
            None | Some(PurchaseOrderStatus::Draft) => vec![],
            Some(PurchaseOrderStatus::Submitted) => vec!["quote"],
            Some(PurchaseOrderStatus::Approved) => vec!["quote", "confirm"],
            Some(_) => return Err(field_error(
                "status",
                "a new Tryton purchase can be draft, submitted (quoted) or approved (confirmed)",
            )),
        };
    Ok(Create {
        values: Value::Object(values),
        lookups,
        buttons,
    })
}

/// `party.party` values with address and contact mechanisms created along.
pub fn vendor(input: &Value) -> Result<Create, ConnectorError> {
    let input = parse_input::<Vendor>(input).map_err(invalid)?;
    if input.has("tax_id") {
        // Tryton keeps tax ids as typed identifiers (`eu_vat`, `us_ein`, …); a bare number has no
        // type to give it.
        return Err(field_error(
            "tax_id",
            "cannot be written to Tryton; add it in Tryton",
        ));
    }
    if input.custom_fields.as_ref().is_some_and(|c| !c.is_empty()) {
        return Err(field_error(
            "custom_fields",
            "Tryton parties have no custom fields",
        ));
    }
    let v = &input.data;
    let name = v
        .name
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .ok_or_else(|| field_error("name", "is required"))?;
    let mut values = Map::new();
    let mut lookups = Vec::new();
    values.insert("name".into(), json!(name));
    if let Some(code) = &v.code {
        values.insert("code".into(), json!(code));
    }
    if let Some(status) = v.status {
        values.insert("active".into(), json!(status == VendorStatus::Active));
    }
    let mut contacts = Vec::new();
    if let Some(email) = &v.email {
        contacts.push(json!({"type": "email", "value": email}));
    }
    if let Some(phone) = &v.phone {
        contacts.push(json!({"type": "phone", "value": phone}));
    }
    if !contacts.is_empty() {
        values.insert("contact_mechanisms".into(), json!([["create", contacts]]));
    }
    if let Some(code) = &v.currency {
        values.insert("supplier_currency".into(), Value::Null);
        lookups.push(Lookup {
            field: "currency".into(),
            model: "currency.currency",
            domain: json!([["code", "=", code]]),
            target: "/supplier_currency".into(),
        });
    }
    if let Some(terms) = &v.payment_terms {
        values.insert("supplier_payment_term".into(), Value::Null);
        lookups.push(Lookup {
            field: "payment_terms".into(),
            model: "account.invoice.payment_term",
            domain: json!([["name", "=", terms]]),
            target: "/supplier_payment_term".into(),
        });
    }
    if let Some(address) = v.address.as_ref().filter(|a| !a.is_empty()) {
        let street: Vec<&str> = [&address.line1, &address.line2]
            .into_iter()
            .flatten()
            .map(String::as_str)
            .collect();
        let mut a = Map::new();
        if !street.is_empty() {
            a.insert("street".into(), json!(street.join("\n")));
        }
        if let Some(city) = &address.city {
            a.insert("city".into(), json!(city));
        }
        if let Some(postal_code) = &address.postal_code {
            a.insert("postal_code".into(), json!(postal_code));
        }
        if let Some(country) = &address.country {
            a.insert("country".into(), Value::Null);
            lookups.push(Lookup {
                field: "address.country".into(),
                model: "country.country",
                domain: json!([["code", "=", country.to_uppercase()]]),
                target: "/addresses/0/1/0/country".into(),
            });
        }
        if let Some(region) = &address.region {
            a.insert("subdivision".into(), Value::Null);
            lookups.push(Lookup {
                field: "address.region".into(),
                model: "country.subdivision",
                domain: json!(["OR", [["name", "=", region]], [["code", "=", region]]]),
                target: "/addresses/0/1/0/subdivision".into(),
            });
        }
        values.insert("addresses".into(), json!([["create", [a]]]));
    }
    Ok(Create {
        values: Value::Object(values),
        lookups,
        buttons: vec![],
    })
}

/// Tryton ids are positive integers.
fn numeric_id(field: &str, id: Option<&str>) -> Result<Option<i64>, ConnectorError> {
    match id {
        None => Ok(None),
        Some(text) => text
            .trim()
            .parse::<i64>()
            .ok()
            .filter(|i| *i > 0)
            .map(Some)
            .ok_or_else(|| field_error(field, "must be a Tryton record id (a positive integer)")),
    }
}

fn invalid(e: FieldError) -> ConnectorError {
    ConnectorError::Invalid {
        field: e.field,
        message: e.message,
    }
}

fn field_error(field: &str, message: &str) -> ConnectorError {
    ConnectorError::Invalid {
        field: field.to_string(),
        message: message.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field_of(e: ConnectorError) -> String {
        match e {
            ConnectorError::Invalid { field, .. } => field,
            other => panic!("expected Invalid, got {other:?}"),
        }
    }

    #[test]
    fn a_purchase_order_becomes_one_create_with_its_lines() {
        let create = purchase_order(&json!({
            "vendor_id": "2", "order_date": "2026-11-27", "currency": "USD", "status": "submitted",
            "line_items": [
                {"item_id": "3", "quantity": "10", "unit_price": "12.50", "description": "Bearing"},
                {"description": "Freight", "quantity": "1", "unit_of_measure": "u", "unit_price": "20"}
            ]
        }))
        .unwrap();
        let v = &create.values;
        assert_eq!(v["party"], 2);
        assert_eq!(v["purchase_date"]["__class__"], "date");
        let lines = &v["lines"][0][1];
        assert_eq!(v["lines"][0][0], "create");
        assert_eq!(lines[0]["product"], 3);
        assert_eq!(lines[0]["quantity"], 10.0);
        assert_eq!(
            lines[0]["unit_price"],
            json!({"__class__": "Decimal", "decimal": "12.50"})
        );
        assert_eq!(lines[1]["product"], Value::Null);
        assert_eq!(create.buttons, vec!["quote"]);
        let targets: Vec<&str> = create.lookups.iter().map(|l| l.target.as_str()).collect();
        assert_eq!(
            targets,
            vec!["/invoice_address", "/currency", "/lines/0/1/1/unit"]
        );
        for l in &create.lookups {
            assert!(
                v.pointer(&l.target).is_some(),
                "{} must exist to be filled",
                l.target
            );
        }
    }

    #[test]
    fn invalid_purchase_orders_name_the_field() {
        let cases = [
            (
                json!({"line_items": [{"item_id": "1", "quantity": "1"}]}),
                "vendor_id",
            ),
            (json!({"vendor_id": "x", "line_items": []}), "vendor_id"),
            (json!({"vendor_id": "2", "line_items": []}), "line_items"),
            (
                json!({"vendor_id": "2", "number": "7", "line_items": []}),
                "number",
            ),
            (
                json!({"vendor_id": "2", "line_items": [{"item_id": "1"}]}),
                "line_items[0].quantity",
            ),
            (
                json!({"vendor_id": "2", "line_items": [{"description": "x", "quantity": "1"}]}),
                "line_items[0].unit_of_measure",
            ),
            (
                json!({"vendor_id": "2", "line_items": [{"item_id": "1", "quantity": "1", "total": "3"}]}),
                "line_items[0].total",
            ),
            (
                json!({"vendor_id": "2", "status": "closed", "line_items": [{"item_id": "1", "quantity": "1"}]}),
                "status",
            ),
            (json!({"vendor_id": "2", "colour": "red"}), "colour"),
        ];
        for (input, field) in cases {
            assert_eq!(
                field_of(purchase_order(&input).unwrap_err()),
                field,
                "{input}"
            );
        }
    }

    #[test]
    fn a_vendor_becomes_a_party_with_address_and_contacts() {
        let create = vendor(&json!({
            "name": "Bearings Inc", "code": "V-9", "email": "a@b.example", "phone": "+1 555",
            "address": {"line1": "1 Main St", "line2": "Unit 4", "city": "Springfield", "country": "us"}
        }))
        .unwrap();
        let v = &create.values;
        assert_eq!(v["addresses"][0][1][0]["street"], "1 Main St\nUnit 4");
        assert_eq!(v["contact_mechanisms"][0][1][1]["type"], "phone");
        assert_eq!(create.lookups[0].domain, json!([["code", "=", "US"]]));
        assert!(v.pointer(&create.lookups[0].target).is_some());
        assert_eq!(field_of(vendor(&json!({"code": "x"})).unwrap_err()), "name");
        assert_eq!(
            field_of(vendor(&json!({"name": "x", "tax_id": "1"})).unwrap_err()),
            "tax_id"
        );
    }
}
