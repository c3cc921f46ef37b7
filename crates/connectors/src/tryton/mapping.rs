//! Tryton → unified model, as tables: per entity the Tryton model, the fields `search_read`
//! asks for, and one [`FieldMap`] per unified field (unified field ← Tryton field, how to read
//! it); one translation table per enum. Field names are those of reference/connectors.md §1.6
//! and Appendix A (`fields_get` of 8.2).
//!
//! Dotted sources (`currency.code`) are read from the extra keys Tryton adds for dotted field
//! names (`"currency.": {"id": 1, "code": "USD"}`); through a one2many (`addresses.city`) the
//! first related record counts. An unreadable value leaves the unified field empty: the raw record
//! is always kept in `remote_data`.

use std::borrow::Cow;

use millwright_core::{
    model::{Address, AssetStatus, LocationType, PurchaseOrderStatus, VendorStatus},
    time, Entity,
};
use serde_json::{json, Map, Value};

use super::value;
pub use crate::mapping::FieldMap;
use crate::{
    mapping::{self, f, json, Read, Source},
    ConnectorError, RemoteRecord,
};

/// One unified entity over one Tryton model.
pub struct Model {
    /// The Tryton model (`purchase.purchase`).
    pub name: &'static str,
    /// What `search_read` asks for; dotted names bring related fields in the same call.
    pub fields: &'static [&'static str],
    /// The unified fields.
    pub table: &'static [FieldMap],
}

// ---------------------------------------------------------------------------------------------
// Translation tables.

/// `purchase.purchase.state`. `processing` (confirmed and being delivered/invoiced) is refined
/// by `shipment_state` in [`purchase_status`].
pub const PURCHASE_STATE: &[(&str, PurchaseOrderStatus)] = &[
    ("draft", PurchaseOrderStatus::Draft),
    ("quotation", PurchaseOrderStatus::Submitted),
    ("confirmed", PurchaseOrderStatus::Approved),
    ("processing", PurchaseOrderStatus::Approved),
    ("done", PurchaseOrderStatus::Closed),
    ("cancelled", PurchaseOrderStatus::Cancelled),
];

/// `purchase.purchase.shipment_state` while processing.
pub const PURCHASE_SHIPMENT_STATE: &[(&str, PurchaseOrderStatus)] = &[
    ("partially shipped", PurchaseOrderStatus::PartiallyReceived),
    ("received", PurchaseOrderStatus::Received),
];

/// `stock.location.type`. Storage locations are the zones and bins inside a warehouse; view
/// locations only group others.
pub const LOCATION_TYPE: &[(&str, LocationType)] = &[
    ("warehouse", LocationType::Warehouse),
    ("storage", LocationType::Bin),
    ("view", LocationType::Area),
    ("supplier", LocationType::Other),
    ("customer", LocationType::Other),
    ("lost_found", LocationType::Other),
    ("production", LocationType::Other),
    ("drop", LocationType::Other),
    ("rental", LocationType::Other),
];

/// `account.asset.state`. Tryton tracks an asset's depreciation, not its condition: a draft
/// asset is not yet depreciating, which says nothing about whether it runs.
pub const ASSET_STATE: &[(&str, AssetStatus)] = &[
    ("draft", AssetStatus::Unknown),
    ("running", AssetStatus::Operational),
    ("closed", AssetStatus::Decommissioned),
];

/// The unified value of a selection key: exact, as Tryton's keys are.
fn translate<T: Copy>(table: &[(&str, T)], code: &str) -> Option<T> {
    table.iter().find(|(c, _)| *c == code).map(|(_, v)| *v)
}

fn location_type(code: &str) -> Option<Value> {
    json(translate(LOCATION_TYPE, code)?)
}

fn asset_status(code: &str) -> Option<Value> {
    json(translate(ASSET_STATE, code)?)
}

// ---------------------------------------------------------------------------------------------
// The models.

/// Purchase orders: `purchase.purchase`, lines from `purchase.line` (see [`PURCHASE_LINE`]).
/// `bill_to` stays empty: Tryton's `invoice_address` is the *supplier's* address invoices come
/// from, not the buyer's billing address.
pub const PURCHASE_ORDER: Model = Model {
    name: "purchase.purchase",
    fields: &[
        "number",
        "reference",
        "description",
        "state",
        "shipment_state",
        "invoice_state",
        "party",
        "purchase_date",
        "delivery_date",
        "currency.code",
        "total_amount",
        "untaxed_amount",
        "payment_term.name",
        "invoice_address",
        "invoice_method",
        "warehouse.address.street",
        "warehouse.address.city",
        "warehouse.address.postal_code",
        "warehouse.address.subdivision.name",
        "warehouse.address.country.code",
        "lines",
        "create_date",
        "write_date",
        "last_modified_at",
    ],
    table: &[
        f("number", "number", Read::Text),
        f(
            "status",
            "state + shipment_state",
            Read::Custom(purchase_status),
        ),
        f("remote_status", "state", Read::Text),
        f("vendor_id", "party", Read::Id),
        f("order_date", "purchase_date", Read::Date),
        f("required_date", "delivery_date", Read::Date),
        f(
            "delivery_date",
            "latest lines.delivery_date",
            Read::Custom(latest_line_delivery),
        ),
        f("currency", "currency.code", Read::Text),
        f("total_amount", "total_amount", Read::Decimal),
        f("payment_terms", "payment_term.name", Read::Text),
        f("ship_to", "warehouse.address", Read::Address),
        f(
            "line_items",
            "lines (purchase.line, type line)",
            Read::Custom(purchase_lines),
        ),
    ],
};

/// `purchase.line`, read in one call per page of purchases. Only lines of type `line` are
/// items; `subtotal`, `title` and `comment` lines are layout.
pub const PURCHASE_LINE: Model = Model {
    name: "purchase.line",
    fields: &[
        "purchase",
        "type",
        "sequence",
        "product",
        "product.code",
        "description",
        "quantity",
        "unit.symbol",
        "unit_price",
        "amount",
        "delivery_date",
        "actual_quantity",
        "create_date",
        "write_date",
        "last_modified_at",
    ],
    table: &[
        f("item_id", "product", Read::Id),
        f("product_code", "product.code", Read::Text),
        f("description", "description", Read::Text),
        f("quantity", "quantity", Read::Decimal),
        f("unit_of_measure", "unit.symbol", Read::Text),
        f("unit_price", "unit_price", Read::Decimal),
        f("total", "amount", Read::Decimal),
        f("delivery_date", "delivery_date", Read::Date),
        f("received_quantity", "actual_quantity", Read::Decimal),
    ],
};

/// Vendors: `party.party`. Tryton has no supplier flag (a supplier is any party bought from),
/// so every party is listed, archived ones included (`status` inactive).
pub const VENDOR: Model = Model {
    name: "party.party",
    fields: &[
        "name",
        "code",
        "active",
        "email",
        "phone",
        "tax_identifier.code",
        "supplier_currency.code",
        "supplier_payment_term.name",
        "addresses.street",
        "addresses.city",
        "addresses.postal_code",
        "addresses.subdivision.name",
        "addresses.country.code",
        "create_date",
        "write_date",
        "last_modified_at",
    ],
    table: &[
        f("name", "name", Read::Text),
        f("code", "code", Read::Text),
        f("email", "email", Read::Text),
        f("phone", "phone", Read::Text),
        f("tax_id", "tax_identifier.code", Read::Text),
        f("currency", "supplier_currency.code", Read::Text),
        f("payment_terms", "supplier_payment_term.name", Read::Text),
        f("address", "addresses[0]", Read::Address),
        f("status", "active", Read::Custom(vendor_status)),
    ],
};

/// Inventory items: `product.product` variants of `goods` templates. `quantity_on_hand` is the
/// stock of all warehouses (the connector passes them as the `locations` context); Tryton keeps
/// no per-product location or reorder point in these modules, so `location_id` and
/// `minimum_quantity` stay empty, and `unit_cost` is in the company currency.
pub const INVENTORY_ITEM: Model = Model {
    name: "product.product",
    fields: &[
        "code",
        "name",
        "description",
        "default_uom.symbol",
        "quantity",
        "cost_price",
        "product_suppliers.party",
        "type",
        "active",
        "create_date",
        "write_date",
        "last_modified_at",
    ],
    table: &[
        f("part_number", "code", Read::Text),
        f("name", "name", Read::Text),
        f("description", "description", Read::Text),
        f("unit_of_measure", "default_uom.symbol", Read::Text),
        f("quantity_on_hand", "quantity", Read::Decimal),
        f("unit_cost", "cost_price", Read::Decimal),
        f(
            "currency",
            "company.currency.code",
            Read::Custom(company_currency),
        ),
        f("vendor_ids", "product_suppliers.party", Read::Ids),
    ],
};

/// Locations: `stock.location`.
pub const LOCATION: Model = Model {
    name: "stock.location",
    fields: &[
        "name",
        "code",
        "type",
        "parent",
        "address.street",
        "address.city",
        "address.postal_code",
        "address.subdivision.name",
        "address.country.code",
        "active",
        "create_date",
        "write_date",
        "last_modified_at",
    ],
    table: &[
        f("name", "name", Read::Text),
        f("code", "code", Read::Text),
        f("type", "type", Read::Table(location_type)),
        f("parent_location_id", "parent", Read::Id),
        f("address", "address", Read::Address),
    ],
};

/// Assets: `account.asset` (fixed assets). The name is the asset product's; Tryton has no
/// maker, model, serial number, place or hierarchy for assets (the serial number is often in
/// `comment`, which becomes the description). `installed_at` is the depreciation start date,
/// i.e. when the asset was put in service.
pub const ASSET: Model = Model {
    name: "account.asset",
    fields: &[
        "number",
        "product",
        "product.name",
        "product.account_category.name",
        "comment",
        "state",
        "start_date",
        "purchase_date",
        "end_date",
        "value",
        "create_date",
        "write_date",
        "last_modified_at",
    ],
    table: &[
        f("name", "product.name", Read::Text),
        f("asset_number", "number", Read::Text),
        f("description", "comment", Read::Text),
        f("status", "state", Read::Table(asset_status)),
        f("remote_status", "state", Read::Text),
        f("category", "product.account_category.name", Read::Text),
        f("installed_at", "start_date", Read::Time),
    ],
};

/// Users: `res.user`, archived ones included (`active` false). Tryton has groups, not one role,
/// so `role` stays empty.
pub const USER: Model = Model {
    name: "res.user",
    fields: &[
        "name",
        "login",
        "email",
        "active",
        "create_date",
        "write_date",
        "last_modified_at",
    ],
    table: &[
        f("name", "name|login", Read::Text),
        f("email", "email", Read::Text),
        f("active", "active", Read::Bool),
    ],
};

/// The model behind `entity`, if Tryton has one.
pub fn model(entity: Entity) -> Option<&'static Model> {
    match entity {
        Entity::PurchaseOrders => Some(&PURCHASE_ORDER),
        Entity::Vendors => Some(&VENDOR),
        Entity::InventoryItems => Some(&INVENTORY_ITEM),
        Entity::Locations => Some(&LOCATION),
        Entity::Assets => Some(&ASSET),
        Entity::Users => Some(&USER),
        Entity::WorkOrders | Entity::MaintenanceSchedules => None,
    }
}

/// The key under which [`to_record`] finds a purchase's line records (Tryton's own convention
/// for related records read along, see the module docs), and under which `remote_data` keeps
/// them.
pub const LINES_KEY: &str = "lines.";

/// The key under which the connector puts the company currency code into a product record
/// before mapping, since `product.product` has no currency of its own.
pub const COMPANY_CURRENCY_KEY: &str = "company.currency.code";

// ---------------------------------------------------------------------------------------------
// The reader.

/// Tryton's JSON-RPC records as the mapping framework reads them: values in Tryton's type
/// encoding (see [`value`]), dotted sources through the related records read along.
pub struct Wire;

impl Source for Wire {
    fn fields(entity: Entity) -> &'static [FieldMap] {
        model(entity).map_or(&[], |m| m.table)
    }

    fn remote_id(entity: Entity, raw: &Map<String, Value>) -> Result<String, ConnectorError> {
        let Some(model) = model(entity) else {
            return Err(ConnectorError::not_supported(entity, "list"));
        };
        let id = raw
            .get("id")
            .and_then(value::id)
            .ok_or_else(|| ConnectorError::Upstream {
                status: 200,
                message: format!("a Tryton {} record has no id", model.name),
            })?;
        Ok(id.to_string())
    }

    fn record_name(entity: Entity) -> String {
        format!("Tryton {}", model(entity).map_or("record", |m| m.name))
    }

    fn created_at(_: Entity, raw: &Map<String, Value>) -> Option<time::Timestamp> {
        raw.get("create_date").and_then(value::timestamp)
    }

    /// `last_modified_at`, else `write_date` (null until the first write), else the creation.
    fn updated_at(entity: Entity, raw: &Map<String, Value>) -> Option<time::Timestamp> {
        raw.get("last_modified_at")
            .or_else(|| raw.get("write_date"))
            .and_then(value::timestamp)
            .or_else(|| Self::created_at(entity, raw))
    }

    fn lookup<'a>(raw: &'a Map<String, Value>, path: &str, object: bool) -> Option<Cow<'a, Value>> {
        lookup(raw, path, object)
    }

    fn text(value: &Value) -> Option<String> {
        value::text(value)
    }

    /// Selection keys are matched as sent.
    fn code(value: &Value) -> Option<Cow<'_, str>> {
        value.as_str().map(Cow::Borrowed)
    }

    fn id(value: &Value) -> Option<String> {
        value::id(value).map(|id| id.to_string())
    }

    /// Without repeats: a dotted read through a list (`product_suppliers.party`) may name one
    /// record several times.
    fn ids(value: &Value) -> Option<Vec<String>> {
        let mut ids: Vec<String> = Vec::new();
        for id in value.as_array()?.iter().filter_map(Self::id) {
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
        Some(ids)
    }

    fn time(value: &Value) -> Option<time::Timestamp> {
        value::timestamp(value)
    }

    fn date(value: &Value) -> Option<chrono::NaiveDate> {
        value::date(value)
    }

    fn decimal(value: &Value) -> Option<millwright_core::model::Decimal> {
        value::decimal(value)
    }

    fn boolean(value: &Value) -> Option<bool> {
        value::boolean(value)
    }

    fn address(value: &Value) -> Option<Address> {
        address(value)
    }
}

/// A Tryton record as a [`RemoteRecord`]: unified fields per the entity's table,
/// `create_date`/`last_modified_at` (`write_date` is null until the first write), the raw record
/// as `remote_data`.
pub fn to_record(entity: Entity, raw: Map<String, Value>) -> Result<RemoteRecord, ConnectorError> {
    mapping::to_record::<Wire>(entity, raw)
}

fn read_fields(table: &[FieldMap], raw: &Map<String, Value>) -> Map<String, Value> {
    mapping::read_fields::<Wire>(table, raw)
}

/// One row applied to a record (the unit tests read single rows).
#[cfg(test)]
fn read(field: &FieldMap, raw: &Map<String, Value>) -> Option<Value> {
    mapping::read::<Wire>(field, raw)
}

/// `a.b.c` of a record: a plain field, or through the related records Tryton sends for dotted
/// names (`"a.": {"b.": {"c": …}}`). `related` asks for the related record of the last part
/// (`warehouse.address` → the address read along) rather than its id. Through a list
/// (one2many) the first element counts, except that `list.field` answers every element's field
/// (`product_suppliers.party`). A trailing `[0]` only documents "the first".
fn lookup<'a>(raw: &'a Map<String, Value>, path: &str, related: bool) -> Option<Cow<'a, Value>> {
    let parts: Vec<&str> = path.trim().trim_end_matches("[0]").split('.').collect();
    let mut current = raw;
    for (i, part) in parts.iter().enumerate() {
        let last = i + 1 == parts.len();
        if last && !related {
            return current.get(*part).map(Cow::Borrowed);
        }
        match current.get(&format!("{part}."))? {
            Value::Object(next) if !last => current = next,
            Value::Array(items) if !last && i + 2 == parts.len() && !related => {
                let field = parts[i + 1];
                return Some(Cow::Owned(Value::Array(
                    items
                        .iter()
                        .filter_map(|item| item.get(field).cloned())
                        .collect(),
                )));
            }
            Value::Array(items) if !last => current = items.first()?.as_object()?,
            found if last => return Some(Cow::Borrowed(found)),
            _ => return None,
        }
    }
    None
}

/// A `party.address` as read along (`street`, `city`, `postal_code`, `subdivision.name`,
/// `country.code`): Tryton's multi-line `street` gives `line1` and `line2`.
fn address(value: &Value) -> Option<Address> {
    let object = match value {
        Value::Array(items) => items.first()?.as_object()?,
        Value::Object(o) => o,
        _ => return None,
    };
    let text = |key: &str| object.get(key).and_then(value::text);
    let related = |key: &str, field: &str| {
        object
            .get(&format!("{key}."))
            .and_then(|r| r.get(field))
            .and_then(value::text)
    };
    let street = text("street");
    let mut lines = street.as_deref().unwrap_or_default().lines().map(str::trim);
    let line1 = lines.next().filter(|l| !l.is_empty()).map(str::to_string);
    let rest: Vec<&str> = lines.filter(|l| !l.is_empty()).collect();
    let address = Address {
        line1,
        line2: (!rest.is_empty()).then(|| rest.join(", ")),
        city: text("city"),
        region: related("subdivision", "name"),
        postal_code: text("postal_code"),
        country: related("country", "code"),
    };
    (!address.is_empty()).then_some(address)
}

fn purchase_status(raw: &Map<String, Value>) -> Option<Value> {
    let state = raw.get("state")?.as_str()?;
    let shipment = raw.get("shipment_state").and_then(Value::as_str);
    let status = match (state, shipment) {
        ("processing", Some(s)) => {
            translate(PURCHASE_SHIPMENT_STATE, s).unwrap_or(PurchaseOrderStatus::Approved)
        }
        _ => translate(PURCHASE_STATE, state)?,
    };
    json(status)
}

/// The item lines (type `line`), numbered from 1 in Tryton's order (`sequence`, then id).
fn purchase_lines(raw: &Map<String, Value>) -> Option<Value> {
    let lines = raw.get(LINES_KEY)?.as_array()?;
    let items: Vec<Value> = lines
        .iter()
        .filter_map(Value::as_object)
        .filter(|l| l.get("type").and_then(Value::as_str) == Some("line"))
        .enumerate()
        .map(|(i, line)| {
            let mut item = read_fields(PURCHASE_LINE.table, line);
            item.insert("line_number".into(), json!(i + 1));
            Value::Object(item)
        })
        .collect();
    Some(Value::Array(items))
}

/// The latest promised delivery date of the lines.
fn latest_line_delivery(raw: &Map<String, Value>) -> Option<Value> {
    raw.get(LINES_KEY)?
        .as_array()?
        .iter()
        .filter_map(|l| l.get("delivery_date").and_then(value::date))
        .max()
        .map(|d| Value::String(d.to_string()))
}

fn vendor_status(raw: &Map<String, Value>) -> Option<Value> {
    let active = value::boolean(raw.get("active")?)?;
    json(if active {
        VendorStatus::Active
    } else {
        VendorStatus::Inactive
    })
}

fn company_currency(raw: &Map<String, Value>) -> Option<Value> {
    raw.get(COMPANY_CURRENCY_KEY)
        .and_then(value::text)
        .map(Value::String)
}

/// Every Tryton field a unified field of `entity` comes from, for the field-mappings endpoint.
pub fn field_sources(entity: Entity) -> Vec<(&'static str, &'static str)> {
    model(entity)
        .map(|m| m.table.iter().map(|f| (f.field, f.source)).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    fn dt(day: u32, hour: u32) -> Value {
        json!({"__class__": "datetime", "year": 2026, "month": 11, "day": day, "hour": hour,
               "minute": 0, "second": 0, "microsecond": 0})
    }

    #[test]
    fn a_purchase_with_lines_maps_every_field() {
        let raw = record(json!({
            "id": 4, "number": "7", "state": "processing", "shipment_state": "partially shipped",
            "party": 2, "purchase_date": {"__class__": "date", "year": 2026, "month": 11, "day": 2},
            "delivery_date": {"__class__": "date", "year": 2026, "month": 11, "day": 20},
            "currency.": {"id": 1, "code": "USD"},
            "total_amount": {"__class__": "Decimal", "decimal": "145.00"},
            "payment_term.": {"id": 1, "name": "Net 30"},
            "warehouse.": {"id": 5, "address.": {"id": 3, "street": "1 Mill Road\nGate 4",
                "city": "Leeds", "postal_code": "LS1", "subdivision.": null,
                "country.": {"id": 9, "code": "GB"}}},
            "create_date": dt(2, 9), "write_date": null, "last_modified_at": dt(2, 9),
            LINES_KEY: [
                {"id": 10, "type": "line", "product": 3, "product.": {"id": 3, "code": "BRG"},
                 "description": "Bearing", "quantity": 10.0, "unit.": {"id": 1, "symbol": "u"},
                 "unit_price": {"__class__": "Decimal", "decimal": "12.5000"},
                 "amount": {"__class__": "Decimal", "decimal": "125.00"},
                 "delivery_date": {"__class__": "date", "year": 2026, "month": 11, "day": 18},
                 "actual_quantity": 4.0},
                {"id": 11, "type": "comment", "description": "Deliver to gate 4"},
                {"id": 12, "type": "line", "product": null, "product.": null,
                 "description": "Freight", "quantity": 1.0, "unit.": {"id": 1, "symbol": "u"},
                 "unit_price": {"__class__": "Decimal", "decimal": "20"},
                 "amount": {"__class__": "Decimal", "decimal": "20.00"},
                 "delivery_date": null, "actual_quantity": null}
            ]
        }));
        let record = to_record(Entity::PurchaseOrders, raw).unwrap();
        assert_eq!(record.remote_id, "4");
        assert_eq!(
            time::format(&record.remote_updated_at.unwrap()),
            "2026-11-02T09:00:00Z"
        );
        let data = record.data.to_json();
        assert_eq!(data["number"], "7");
        assert_eq!(data["status"], "partially_received");
        assert_eq!(data["remote_status"], "processing");
        assert_eq!(data["vendor_id"], "2");
        assert_eq!(data["order_date"], "2026-11-02");
        assert_eq!(data["required_date"], "2026-11-20");
        assert_eq!(data["delivery_date"], "2026-11-18");
        assert_eq!(data["currency"], "USD");
        assert_eq!(data["total_amount"], "145.00");
        assert_eq!(data["payment_terms"], "Net 30");
        assert_eq!(data["ship_to"]["line1"], "1 Mill Road");
        assert_eq!(data["ship_to"]["line2"], "Gate 4");
        assert_eq!(data["ship_to"]["country"], "GB");
        let lines = data["line_items"].as_array().unwrap();
        assert_eq!(lines.len(), 2, "the comment line is not an item");
        assert_eq!(lines[0]["line_number"], 1);
        assert_eq!(lines[0]["item_id"], "3");
        assert_eq!(lines[0]["product_code"], "BRG");
        assert_eq!(lines[0]["quantity"], "10");
        assert_eq!(lines[0]["unit_of_measure"], "u");
        assert_eq!(lines[0]["unit_price"], "12.5000");
        assert_eq!(lines[0]["total"], "125.00");
        assert_eq!(lines[0]["received_quantity"], "4");
        assert_eq!(lines[1]["line_number"], 2);
        assert_eq!(lines[1]["item_id"], Value::Null);
        assert_eq!(lines[1]["description"], "Freight");
    }

    #[test]
    fn translation_tables() {
        let status = |state: &str, shipment: &str| {
            purchase_status(&record(json!({"state": state, "shipment_state": shipment})))
        };
        assert_eq!(status("draft", "none"), Some(json!("draft")));
        assert_eq!(status("quotation", "none"), Some(json!("submitted")));
        assert_eq!(status("confirmed", "none"), Some(json!("approved")));
        assert_eq!(status("processing", "waiting"), Some(json!("approved")));
        assert_eq!(status("processing", "received"), Some(json!("received")));
        assert_eq!(status("done", "received"), Some(json!("closed")));
        assert_eq!(status("cancelled", "none"), Some(json!("cancelled")));
        assert_eq!(status("weird", "none"), None);
        assert_eq!(location_type("storage"), Some(json!("bin")));
        assert_eq!(location_type("warehouse"), Some(json!("warehouse")));
        assert_eq!(asset_status("closed"), Some(json!("decommissioned")));
    }

    #[test]
    fn dotted_lookups_through_lists() {
        let raw = record(json!({
            "product_suppliers.": [{"id": 1, "party": 7}, {"id": 2, "party": 9}, {"id": 3, "party": 7}],
            "addresses.": [{"id": 1, "street": "1 Main St", "city": "Springfield"}],
            "parent": 5,
        }));
        let vendors = read(&f("vendor_ids", "product_suppliers.party", Read::Ids), &raw);
        assert_eq!(vendors, Some(json!(["7", "9"])));
        let address = read(&f("address", "addresses[0]", Read::Address), &raw).unwrap();
        assert_eq!(address["city"], "Springfield");
        assert_eq!(read(&f("p", "parent", Read::Id), &raw), Some(json!("5")));
    }

    #[test]
    fn every_model_requests_what_its_table_reads() {
        for entity in Entity::ALL {
            let Some(model) = model(entity) else { continue };
            for field in model.table {
                if matches!(field.read, Read::Custom(_)) {
                    continue;
                }
                for source in field.source.split('|') {
                    let source = source.trim_end_matches("[0]");
                    assert!(
                        model
                            .fields
                            .iter()
                            .any(|f| *f == source || f.starts_with(&format!("{source}."))),
                        "{}: {} reads {source} but does not request it",
                        model.name,
                        field.field
                    );
                }
            }
        }
    }
}
