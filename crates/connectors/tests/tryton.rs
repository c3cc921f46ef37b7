//! The Tryton connector against a real trytond 8.2 (started by scripts/test through
//! scripts/tryton.sh): records seeded over raw JSON-RPC are read through the connector and
//! checked field by field; what the connector creates is read back over raw JSON-RPC.

#[path = "support/tryton.rs"]
mod support;

use std::{
    collections::BTreeSet,
    time::{Duration, Instant},
};

use millwright_connectors::{
    tryton::Tryton, Connector, ConnectorError, Incremental, ListRequest, RemoteRecord,
};
use millwright_core::{time, Entity};
use serde_json::{json, Value};
use support::{date, dec, Rpc, Server};
use tokio::sync::OnceCell;

/// What the shared fixture seeded, once per test binary. Names carry a run tag so that runs
/// against the same server do not collide.
struct Seed {
    tag: String,
    company: i64,
    vendor: i64,
    address: i64,
    bearing: i64,
    location: i64,
    purchase: i64,
    asset: i64,
    user: i64,
}

static SEED: OnceCell<Seed> = OnceCell::const_new();

async fn seed() -> &'static Seed {
    SEED.get_or_init(|| async {
        let server = Server::from_env();
        let rpc = Rpc::login(&server).await.ensure_company(&server).await;
        let company = rpc.company.expect("a company");
        let tag = format!("{}", time::now().timestamp_micros() % 1_000_000_000);
        let vendor = rpc
            .create(
                "party.party",
                json!({"name": format!("Bearings Inc {tag}"), "code": format!("V-{tag}"),
                       "addresses": [["create", [{"street": "1 Main St\nUnit 4", "city": "Springfield",
                                                   "postal_code": "12345"}]]],
                       "contact_mechanisms": [["create", [
                           {"type": "email", "value": "sales@bearings.example"},
                           {"type": "phone", "value": "+1 555 0100"}]]]}),
            )
            .await;
        let address = rpc.read("party.party", vendor, &["addresses"]).await["addresses"][0]
            .as_i64()
            .unwrap();
        let template = rpc
            .create(
                "product.template",
                json!({"name": format!("Ball Bearing 6204 {tag}"), "type": "goods", "default_uom": 1,
                       "purchasable": true, "purchase_uom": 1, "code": format!("BRG-{tag}"),
                       "list_price": dec("10"),
                       "products": [["create", [{"suffix_code": "-A", "cost_price": dec("7.2500"),
                                                 "description": "Deep groove, 20x47x14"}]]]}),
            )
            .await;
        let bearing = rpc.read("product.template", template, &["products"]).await["products"][0]
            .as_i64()
            .unwrap();
        rpc.create(
            "purchase.product_supplier",
            json!({"template": template, "product": bearing, "party": vendor}),
        )
        .await;
        // 14 in stock: an inventory in the warehouse's storage zone (id 3).
        let inventory = rpc
            .create(
                "stock.inventory",
                json!({"location": 3, "company": company,
                       "lines": [["create", [{"product": bearing, "quantity": 14.0}]]]}),
            )
            .await;
        rpc.ok("model.stock.inventory.confirm", json!([[inventory]])).await;
        let location = rpc
            .create(
                "stock.location",
                json!({"name": format!("Spare Parts Cage {tag}"), "code": format!("SPC{tag}"),
                       "type": "storage", "parent": 3}),
            )
            .await;
        let purchase = rpc
            .create(
                "purchase.purchase",
                json!({"party": vendor, "invoice_address": address, "warehouse": 5,
                       "purchase_date": date(2026, 11, 2), "delivery_date": date(2026, 11, 20),
                       "reference": format!("SUP-{tag}"), "invoice_method": "manual",
                       "lines": [["create", [
                           {"type": "line", "product": bearing, "quantity": 10.0, "unit": 1,
                            "unit_price": dec("12.5000"), "description": "Ball Bearing 6204"},
                           {"type": "comment", "description": "Deliver to gate 4"},
                           {"type": "line", "product": null, "description": "Freight",
                            "quantity": 1.0, "unit": 1, "unit_price": dec("20")}]]]}),
            )
            .await;
        rpc.ok("model.purchase.purchase.quote", json!([[purchase]])).await;
        let asset_template = rpc
            .create(
                "product.template",
                json!({"name": format!("CNC Mill {tag}"), "type": "assets", "default_uom": 1,
                       "depreciable": true, "depreciation_duration": 60, "list_price": dec("0"),
                       "products": [["create", [{"suffix_code": format!("AST-{tag}")}]]]}),
            )
            .await;
        let asset_product =
            rpc.read("product.template", asset_template, &["products"]).await["products"][0]
                .as_i64()
                .unwrap();
        let journal = rpc
            .ok("model.account.journal.search", json!([[["type", "=", "asset"]], 0, 1, null]))
            .await[0]
            .as_i64()
            .expect("account_asset seeds an asset journal");
        let asset = rpc
            .create(
                "account.asset",
                json!({"product": asset_product, "company": company, "account_journal": journal,
                       "value": dec("120000.00"), "residual_value": dec("0"),
                       "depreciated_amount": dec("0"), "purchase_date": date(2026, 1, 15),
                       "start_date": date(2026, 2, 1), "end_date": date(2031, 1, 31),
                       "depreciation_method": "linear", "frequency": "monthly", "quantity": 1.0,
                       "unit": 1, "comment": "Haas VF-2, serial 12345"}),
            )
            .await;
        let user = rpc
            .create(
                "res.user",
                json!({"name": format!("Dana Reyes {tag}"), "login": format!("dana-{tag}"),
                       "password": format!("pw-{tag}-long-enough")}),
            )
            .await;
        // Tryton refuses to create an archived user, not to archive one.
        rpc.ok("model.res.user.write", json!([[user], {"active": false}])).await;
        Seed {
            tag,
            company,
            vendor,
            address,
            bearing,
            location,
            purchase,
            asset,
            user,
        }
    })
    .await
}

fn connector() -> Tryton {
    Tryton::new(millwright_connectors::http::HttpClient::new(Default::default()).unwrap())
}

async fn get(entity: Entity, id: i64) -> RemoteRecord {
    let server = Server::from_env();
    connector()
        .get(&server.context(), entity, &id.to_string())
        .await
        .unwrap_or_else(|e| panic!("{entity:?} {id}: {e}"))
}

#[tokio::test]
async fn reads_a_purchase_order_with_its_lines() {
    let seed = seed().await;
    let record = get(Entity::PurchaseOrders, seed.purchase).await;
    assert_eq!(record.remote_id, seed.purchase.to_string());
    assert!(record.remote_created_at.is_some());
    assert!(record.remote_updated_at >= record.remote_created_at);
    let po = record.data.to_json();
    assert!(
        po["number"].as_str().is_some_and(|n| !n.is_empty()),
        "numbered at quote: {po}"
    );
    assert_eq!(po["status"], "submitted");
    assert_eq!(po["remote_status"], "quotation");
    assert_eq!(po["vendor_id"], seed.vendor.to_string());
    assert_eq!(po["order_date"], "2026-11-02");
    assert_eq!(po["required_date"], "2026-11-20");
    assert_eq!(po["currency"], "USD");
    assert_eq!(po["total_amount"], "145.00");
    assert_eq!(po["payment_terms"], Value::Null);
    assert_eq!(po["bill_to"], Value::Null);
    let lines = po["line_items"].as_array().unwrap();
    assert_eq!(lines.len(), 2, "the comment line is not an item: {po}");
    assert_eq!(lines[0]["line_number"], 1);
    assert_eq!(lines[0]["item_id"], seed.bearing.to_string());
    assert_eq!(lines[0]["product_code"], format!("BRG-{}-A", seed.tag));
    assert_eq!(lines[0]["description"], "Ball Bearing 6204");
    assert_eq!(lines[0]["quantity"], "10");
    assert_eq!(lines[0]["unit_of_measure"], "u");
    assert_eq!(lines[0]["unit_price"], "12.5000");
    assert_eq!(lines[0]["total"], "125.00");
    assert_eq!(lines[1]["line_number"], 2);
    assert_eq!(lines[1]["item_id"], Value::Null);
    assert_eq!(lines[1]["description"], "Freight");
    assert_eq!(lines[1]["total"], "20.00");
    assert_eq!(record.remote_data["party"], seed.vendor);
    assert_eq!(record.remote_data["lines."].as_array().unwrap().len(), 3);
    assert!(record.custom_fields.is_empty());
}

#[tokio::test]
async fn reads_vendors_items_locations_assets_and_users() {
    let seed = seed().await;

    let vendor = get(Entity::Vendors, seed.vendor).await.data.to_json();
    assert_eq!(vendor["name"], format!("Bearings Inc {}", seed.tag));
    assert_eq!(vendor["code"], format!("V-{}", seed.tag));
    assert_eq!(vendor["email"], "sales@bearings.example");
    assert_eq!(vendor["phone"], "+1 555 0100");
    assert_eq!(vendor["status"], "active");
    assert_eq!(
        vendor["address"],
        json!({"line1": "1 Main St", "line2": "Unit 4", "city": "Springfield",
               "region": null, "postal_code": "12345", "country": null})
    );

    let item = get(Entity::InventoryItems, seed.bearing)
        .await
        .data
        .to_json();
    assert_eq!(item["part_number"], format!("BRG-{}-A", seed.tag));
    assert_eq!(item["name"], format!("Ball Bearing 6204 {}", seed.tag));
    assert_eq!(item["description"], "Deep groove, 20x47x14");
    assert_eq!(item["unit_of_measure"], "u");
    assert_eq!(item["quantity_on_hand"], "14");
    assert_eq!(item["unit_cost"], "7.2500");
    assert_eq!(item["currency"], "USD");
    assert_eq!(item["vendor_ids"], json!([seed.vendor.to_string()]));

    let location = get(Entity::Locations, seed.location).await.data.to_json();
    assert_eq!(location["name"], format!("Spare Parts Cage {}", seed.tag));
    assert_eq!(location["code"], format!("SPC{}", seed.tag));
    assert_eq!(location["type"], "bin");
    assert_eq!(location["parent_location_id"], "3");
    let warehouse = get(Entity::Locations, 5).await.data.to_json();
    assert_eq!(warehouse["type"], "warehouse");

    let asset = get(Entity::Assets, seed.asset).await;
    let data = asset.data.to_json();
    assert_eq!(data["name"], format!("CNC Mill {}", seed.tag));
    assert_eq!(data["description"], "Haas VF-2, serial 12345");
    assert_eq!(data["status"], "unknown");
    assert_eq!(data["remote_status"], "draft");
    assert_eq!(data["installed_at"], "2026-02-01T00:00:00Z");
    assert_eq!(data["asset_number"], Value::Null, "numbered only when run");
    assert_eq!(asset.remote_data["value"]["decimal"], "120000.00");

    let user = get(Entity::Users, seed.user).await.data.to_json();
    assert_eq!(user["name"], format!("Dana Reyes {}", seed.tag));
    assert_eq!(user["active"], false);
    // The e-mail trytond-admin --email gave admin (scripts/tryton.sh); Tryton refuses to set
    // one over RPC for another user.
    let admin = get(Entity::Users, 1).await.data.to_json();
    assert_eq!(admin["email"], "admin@millwright.invalid");
    assert_eq!(admin["active"], true);

    let missing = connector()
        .get(&Server::from_env().context(), Entity::Vendors, "999999")
        .await;
    assert!(
        matches!(missing, Err(ConnectorError::NotFound)),
        "{missing:?}"
    );
}

#[tokio::test]
async fn creates_a_purchase_order_with_two_lines_in_one_call() {
    let seed = seed().await;
    let server = Server::from_env();
    let created = connector()
        .create(
            &server.context(),
            Entity::PurchaseOrders,
            json!({
                "vendor_id": seed.vendor.to_string(), "order_date": "2026-11-27",
                "required_date": "2026-12-15", "currency": "USD",
                "line_items": [
                    {"item_id": seed.bearing.to_string(), "quantity": "4", "unit_price": "11.75",
                     "description": "Bearings for line 3"},
                    {"description": "Expedited freight", "quantity": "1", "unit_of_measure": "u",
                     "unit_price": "35.00"}
                ]
            }),
        )
        .await
        .unwrap();
    let po = created.data.to_json();
    assert_eq!(po["status"], "draft");
    assert_eq!(po["total_amount"], "82.00");
    assert_eq!(po["line_items"].as_array().unwrap().len(), 2);

    // Read back from Tryton itself.
    let rpc = Rpc::login(&server).await;
    let id: i64 = created.remote_id.parse().unwrap();
    let raw = rpc
        .read(
            "purchase.purchase",
            id,
            &[
                "party",
                "invoice_address",
                "purchase_date",
                "delivery_date",
                "state",
                "lines",
                "total_amount",
                "company",
                "currency.code",
            ],
        )
        .await;
    assert_eq!(raw["party"], seed.vendor);
    assert_eq!(
        raw["invoice_address"], seed.address,
        "filled from the vendor"
    );
    assert_eq!(raw["company"], seed.company);
    assert_eq!(raw["purchase_date"], date(2026, 11, 27));
    assert_eq!(raw["delivery_date"], date(2026, 12, 15));
    assert_eq!(raw["state"], "draft");
    assert_eq!(raw["currency."]["code"], "USD");
    assert_eq!(raw["total_amount"], dec("82.00"));
    let line_ids: Vec<i64> = raw["lines"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_i64)
        .collect();
    assert_eq!(line_ids.len(), 2);
    let lines = rpc
        .ok(
            "model.purchase.line.read",
            json!([
                line_ids,
                [
                    "product",
                    "quantity",
                    "unit",
                    "unit_price",
                    "description",
                    "sequence"
                ]
            ]),
        )
        .await;
    let first = lines
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["sequence"] == 1)
        .unwrap();
    assert_eq!(first["product"], seed.bearing);
    assert_eq!(first["quantity"], 4.0);
    assert_eq!(first["unit"], 1, "the product's purchase unit");
    assert_eq!(first["unit_price"], dec("11.75"));
    let second = lines
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["sequence"] == 2)
        .unwrap();
    assert_eq!(second["product"], Value::Null);
    assert_eq!(second["description"], "Expedited freight");
    assert_eq!(second["unit_price"], dec("35.00"));
}

#[tokio::test]
async fn creates_a_vendor_and_quotes_a_purchase_with_buttons() {
    let seed = seed().await;
    let server = Server::from_env();
    let connector = connector();
    let vendor = connector
        .create(
            &server.context(),
            Entity::Vendors,
            json!({"name": format!("Seals & Gaskets {}", seed.tag), "email": "orders@seals.example",
                   "phone": "+1 555 0199", "currency": "USD",
                   "address": {"line1": "9 Dock Rd", "city": "Harbor", "postal_code": "99999"}}),
        )
        .await
        .unwrap();
    let v = vendor.data.to_json();
    assert_eq!(v["name"], format!("Seals & Gaskets {}", seed.tag));
    assert!(
        v["code"].as_str().is_some(),
        "Tryton numbers the party: {v}"
    );
    assert_eq!(v["email"], "orders@seals.example");
    assert_eq!(v["phone"], "+1 555 0199");
    assert_eq!(v["currency"], "USD");
    assert_eq!(v["address"]["city"], "Harbor");

    let po = connector
        .create(
            &server.context(),
            Entity::PurchaseOrders,
            json!({"vendor_id": vendor.remote_id, "status": "submitted",
                   "line_items": [{"item_id": seed.bearing.to_string(), "quantity": "2", "unit_price": "9"}]}),
        )
        .await
        .unwrap();
    let data = po.data.to_json();
    assert_eq!(data["status"], "submitted");
    assert!(
        data["number"].is_string(),
        "quoting numbers the purchase: {data}"
    );
}

#[tokio::test]
async fn business_errors_are_rejected_with_trytons_message_and_input_errors_name_the_field() {
    let seed = seed().await;
    let server = Server::from_env();
    let connector = connector();
    // Only the server knows party codes must be unique.
    let duplicate = connector
        .create(
            &server.context(),
            Entity::Vendors,
            json!({"name": "Copycat", "code": format!("V-{}", seed.tag)}),
        )
        .await;
    match duplicate {
        Err(ConnectorError::Rejected { message }) => {
            assert!(message.to_lowercase().contains("code"), "{message}")
        }
        other => panic!("expected Rejected, got {other:?}"),
    }
    // A vendor without address cannot be confirmed: Tryton needs the invoice address.
    let bare = connector
        .create(
            &server.context(),
            Entity::Vendors,
            json!({"name": format!("No Address {}", seed.tag)}),
        )
        .await
        .unwrap();
    let quote = connector
        .create(
            &server.context(),
            Entity::PurchaseOrders,
            json!({"vendor_id": bare.remote_id, "status": "approved",
                   "line_items": [{"item_id": seed.bearing.to_string(), "quantity": "1", "unit_price": "1"}]}),
        )
        .await;
    match quote {
        Err(ConnectorError::Rejected { message }) => {
            assert!(message.contains("Invoice Address"), "{message}");
            assert!(message.contains("was created"), "{message}");
        }
        other => panic!("expected Rejected, got {other:?}"),
    }
    let invalid = connector
        .create(
            &server.context(),
            Entity::PurchaseOrders,
            json!({"vendor_id": seed.vendor.to_string(), "currency": "XXX",
                   "line_items": [{"item_id": seed.bearing.to_string(), "quantity": "1"}]}),
        )
        .await;
    assert!(
        matches!(&invalid, Err(ConnectorError::Invalid { field, .. }) if field == "currency"),
        "{invalid:?}"
    );
    let unsupported = connector
        .create(&server.context(), Entity::Locations, json!({"name": "x"}))
        .await;
    assert!(matches!(
        unsupported,
        Err(ConnectorError::NotSupported { .. })
    ));
}

#[tokio::test]
async fn credentials_are_checked_by_logging_in() {
    let seed = seed().await;
    let server = Server::from_env();
    let connector = connector();
    connector
        .check_credentials(&server.context())
        .await
        .unwrap();
    // A user of its own, so that failed logins never lock `admin` out (Tryton counts them
    // per login).
    let rpc = Rpc::login(&server).await;
    let login = format!("probe-{}", seed.tag);
    rpc.create(
        "res.user",
        json!({"name": "Probe", "login": login, "password": "right-password-123"}),
    )
    .await;
    connector
        .check_credentials(&server.context_as(&login, "right-password-123"))
        .await
        .unwrap();
    let wrong = connector
        .check_credentials(&server.context_as(&login, "wrong-password"))
        .await;
    match wrong {
        Err(ConnectorError::CredentialsRejected { reason }) => {
            assert!(reason.contains(&login), "{reason}")
        }
        other => panic!("expected CredentialsRejected, got {other:?}"),
    }
    let mut no_db = server.context();
    no_db
        .credentials
        .0
        .insert("database".into(), "no_such_db".into());
    let missing = connector.check_credentials(&no_db).await;
    assert!(
        matches!(&missing, Err(ConnectorError::Invalid { field, .. }) if field == "credentials.database"),
        "{missing:?}"
    );
    let mut closed = server.context();
    closed
        .credentials
        .0
        .insert("base_url".into(), "http://127.0.0.1:9".into());
    let started = Instant::now();
    let unreachable = connector.check_credentials(&closed).await;
    assert!(
        matches!(unreachable, Err(ConnectorError::Unreachable { .. })),
        "{unreachable:?}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "a login is not retried"
    );
}

#[tokio::test]
async fn modified_since_filters_on_the_server() {
    let seed = seed().await;
    let server = Server::from_env();
    let connector = connector();
    assert_eq!(
        connector.incremental(Entity::Vendors),
        Incremental::ServerFilter {
            field: "last_modified_at"
        }
    );
    assert_eq!(
        connector.incremental(Entity::InventoryItems),
        Incremental::FullScan
    );
    let rpc = Rpc::login(&server).await;
    let before = rpc
        .create(
            "party.party",
            json!({"name": format!("Old Vendor {}", seed.tag)}),
        )
        .await;
    // Tryton's timestamps are the server's clock at microsecond precision; wait past it.
    tokio::time::sleep(Duration::from_millis(50)).await;
    let before_record = connector
        .get(&server.context(), Entity::Vendors, &before.to_string())
        .await
        .unwrap();
    let cut = before_record.remote_updated_at.unwrap() + chrono::Duration::microseconds(1);
    tokio::time::sleep(Duration::from_millis(50)).await;
    let after = rpc
        .create(
            "party.party",
            json!({"name": format!("New Vendor {}", seed.tag)}),
        )
        .await;
    // A change to an old record counts too.
    rpc.ok(
        "model.party.party.write",
        json!([[seed.vendor], {"name": format!("Bearings Inc {}", seed.tag)}]),
    )
    .await;
    let ids = list_all(&connector, &server, Entity::Vendors, Some(cut), 100).await;
    assert!(ids.contains(&after), "{ids:?}");
    assert!(ids.contains(&seed.vendor), "{ids:?}");
    assert!(!ids.contains(&before), "{ids:?}");
    assert!(ids.iter().all(|id| *id >= seed.vendor));

    // A purchase whose line changed is listed although the purchase itself did not change.
    let purchases = list_all(&connector, &server, Entity::PurchaseOrders, Some(cut), 100).await;
    assert!(!purchases.contains(&seed.purchase));
    let line = rpc
        .read("purchase.purchase", seed.purchase, &["lines"])
        .await["lines"][0]
        .as_i64()
        .unwrap();
    // Quoted purchases are read-only, except for a line's note.
    rpc.ok(
        "model.purchase.line.write",
        json!([[line], {"note": "checked"}]),
    )
    .await;
    let purchases = list_all(&connector, &server, Entity::PurchaseOrders, Some(cut), 100).await;
    assert!(purchases.contains(&seed.purchase), "{purchases:?}");

    let future = time::now() + chrono::Duration::hours(1);
    assert!(
        list_all(&connector, &server, Entity::Vendors, Some(future), 100)
            .await
            .is_empty()
    );
}

#[tokio::test]
async fn pages_through_every_record_in_id_order() {
    let seed = seed().await;
    let server = Server::from_env();
    let rpc = Rpc::login(&server).await;
    let mut seeded = BTreeSet::new();
    for i in 0..12 {
        seeded.insert(
            rpc.create(
                "stock.location",
                json!({"name": format!("Bin {i} {}", seed.tag), "type": "storage", "parent": 3}),
            )
            .await,
        );
    }
    let connector = connector();
    let mut request = ListRequest {
        page_size: 5,
        ..ListRequest::all(Entity::Locations)
    };
    let mut seen = Vec::new();
    let mut pages = 0;
    loop {
        let page = connector.list(&server.context(), &request).await.unwrap();
        pages += 1;
        assert!(page.records.len() <= 5);
        seen.extend(
            page.records
                .iter()
                .map(|r| r.remote_id.parse::<i64>().unwrap()),
        );
        match page.next_cursor {
            Some(cursor) => request.cursor = Some(cursor),
            None => break,
        }
    }
    assert!(pages >= 3, "{pages} pages");
    let mut sorted = seen.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted, seen, "ids strictly increase, none repeats");
    assert!(seeded.iter().all(|id| seen.contains(id)));
    let bad = connector
        .list(
            &server.context(),
            &ListRequest {
                cursor: Some("nonsense".into()),
                ..ListRequest::all(Entity::Locations)
            },
        )
        .await;
    assert!(matches!(bad, Err(ConnectorError::Invalid { .. })));
}

/// Every id of `entity` through the connector's paging.
async fn list_all(
    connector: &Tryton,
    server: &Server,
    entity: Entity,
    since: Option<time::Timestamp>,
    page_size: u32,
) -> Vec<i64> {
    let mut request = ListRequest {
        modified_since: since,
        page_size,
        ..ListRequest::all(entity)
    };
    let mut ids = Vec::new();
    loop {
        let page = connector.list(&server.context(), &request).await.unwrap();
        ids.extend(
            page.records
                .iter()
                .map(|r| r.remote_id.parse::<i64>().unwrap()),
        );
        match page.next_cursor {
            Some(cursor) => request.cursor = Some(cursor),
            None => return ids,
        }
    }
}
