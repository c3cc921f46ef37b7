//! The sync engine against a real Tryton 8.2 server (started by scripts/test): the initial
//! sync's counts equal Tryton's own, entity by entity, through the unified API.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

#[path = "../../../connectors/tests/support/tryton.rs"]
#[allow(dead_code)]
pub(crate) mod support;

use crate::common::*;

#[tokio::test]
async fn initial_sync_counts_equal_trytons() {
    let server = support::Server::from_env();
    let rpc = support::Rpc::login(&server)
        .await
        .ensure_company(&server)
        .await;
    // A record of our own, to find by name afterwards.
    let marker = format!("Millwright sync test {}", millwright_core::ids::new_id("t"));
    rpc.create("party.party", json!({"name": marker})).await;

    let env = TestEnv::start().await;
    let ws = env.workspace(10).await;
    let (status, created) = env
        .call(
            Method::POST,
            "/api/v1/connections",
            &ws.key,
            Some(json!({
                "connector": "tryton", "deployment": "on_premise", "name": "Tryton ERP",
                "credentials": {"base_url": server.url, "database": server.database, "username": "admin", "password": server.password},
                "sync": {"history_days": 3650}
            })),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["connection"]["credits"], 4, "tier 2 on premise");
    let token = created["access_token"].as_str().unwrap().to_string();
    crate::sync::initial_sync_done(&env, &token).await;

    // Tryton's own counts, with the connector's documented scope per entity. (Tryton's `root`
    // user has id 0: an internal account, not listed.)
    let both = json!([["active", "in", [true, false]], ["id", ">", 0]]);
    for (path, model, domain) in [
        ("purchase-orders", "purchase.purchase", json!([])),
        ("vendors", "party.party", both.clone()),
        (
            "inventory-items",
            "product.product",
            json!([["type", "=", "goods"]]),
        ),
        ("locations", "stock.location", json!([])),
        ("assets", "account.asset", json!([])),
        ("users", "res.user", both.clone()),
    ] {
        let expected = rpc
            .ok(&format!("model.{model}.search_count"), json!([domain]))
            .await;
        let got = crate::sync::all_records(&env, &token, path, "").await;
        assert_eq!(
            got.len() as i64,
            expected.as_i64().unwrap(),
            "{path} vs {model}"
        );
    }
    let vendors = crate::sync::all_records(&env, &token, "vendors", "").await;
    let mine: Vec<&Value> = vendors
        .iter()
        .filter(|v| v["name"] == marker.as_str())
        .collect();
    assert_eq!(mine.len(), 1, "the seeded party is there once");
    assert_eq!(mine[0]["display_name"], marker.as_str());
}
