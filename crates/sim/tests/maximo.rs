//! The Maximo simulator over real HTTP: authentication, the collection envelope and paging,
//! `oslc.where` / `oslc.select` / `oslc.orderBy`, resource hrefs, work order writes and the
//! `/__sim/` controls.

use std::collections::{BTreeMap, BTreeSet};

use millwright_sim::{maximo::DEFAULT_API_KEY, spawn, SimHandle, SimOptions, System};
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};

async fn sim(scale: usize) -> SimHandle {
    spawn(System::Maximo, SimOptions { seed: 11, scale })
        .await
        .unwrap()
}

fn os_url(sim: &SimHandle, os: &str) -> String {
    format!("{}/maximo/api/os/{os}", sim.base_url())
}

async fn get(url: &str, query: &[(&str, &str)]) -> (StatusCode, Value) {
    let response = Client::new()
        .get(url)
        .header("apikey", DEFAULT_API_KEY)
        .query(query)
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn control(sim: &SimHandle, path: &str, body: Value) -> Value {
    let response = Client::new()
        .post(format!("{}/__sim/{path}", sim.base_url()))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert!(
        response.status().is_success(),
        "{path}: {}",
        response.status()
    );
    response.json().await.unwrap()
}

/// Follows `responseInfo.nextPage.href` to the end; answers every member.
async fn all_members(first: &str, query: &[(&str, &str)]) -> (Vec<Value>, usize) {
    let (status, mut page) = get(first, query).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let mut members = Vec::new();
    let mut pages = 1;
    loop {
        members.extend(page["member"].as_array().unwrap().iter().cloned());
        let Some(next) = page["responseInfo"]["nextPage"]["href"].as_str() else {
            return (members, pages);
        };
        let (status, next_page) = get(next, &[]).await;
        assert_eq!(status, StatusCode::OK);
        page = next_page;
        pages += 1;
        assert!(pages < 10_000);
    }
}

#[tokio::test]
async fn wrong_or_missing_key_gets_maximos_401() {
    let sim = sim(5).await;
    for key in [Some("nope"), None] {
        let mut request = Client::new().get(os_url(&sim, "mxapiasset"));
        if let Some(key) = key {
            request = request.header("apikey", key);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        let body: Value = response.json().await.unwrap();
        assert_eq!(
            body,
            json!({"Error": {"reasonCode": "BMXAA7901E",
                "message": "BMXAA7901E - You cannot log in at this time. Contact the system administrator.",
                "statusCode": "401"}})
        );
    }
    // The key may also travel as a query parameter.
    let response = Client::new()
        .get(os_url(&sim, "mxapiasset"))
        .query(&[("apikey", DEFAULT_API_KEY), ("lean", "1")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn paging_visits_every_record_once_for_every_object_structure() {
    let scale = 57;
    let sim = sim(scale).await;
    for os in [
        "mxapiasset",
        "mxapioperloc",
        "mxapiwodetail",
        "mxapipm",
        "mxapiinventory",
        "mxapipo",
        "mxapivendor",
    ] {
        let (members, pages) = all_members(
            &os_url(&sim, os),
            &[("lean", "1"), ("oslc.select", "*"), ("oslc.pageSize", "10")],
        )
        .await;
        assert_eq!(members.len(), scale, "{os}");
        assert_eq!(pages, 6, "{os}");
        let hrefs: BTreeSet<&str> = members
            .iter()
            .map(|m| m["href"].as_str().unwrap())
            .collect();
        assert_eq!(hrefs.len(), scale, "{os}: hrefs are unique");
    }
    let (_, first) = get(
        &os_url(&sim, "mxapiasset"),
        &[("oslc.pageSize", "20"), ("collectioncount", "1")],
    )
    .await;
    assert_eq!(first["responseInfo"]["totalCount"], scale);
    assert_eq!(first["responseInfo"]["totalPages"], 3);
    assert_eq!(first["responseInfo"]["pagenum"], 1);
    // Without oslc.select members are bare links.
    let member = first["member"][0].as_object().unwrap();
    assert_eq!(member.keys().collect::<Vec<_>>(), ["href"]);
}

#[tokio::test]
async fn records_carry_realistic_related_values() {
    let sim = sim(60).await;
    let select = [("lean", "1"), ("oslc.select", "*")];
    let (_, assets) = get(&os_url(&sim, "mxapiasset"), &select).await;
    let (_, locations) = get(&os_url(&sim, "mxapioperloc"), &select).await;
    let (_, wos) = get(&os_url(&sim, "mxapiwodetail"), &select).await;
    let (_, pos) = get(&os_url(&sim, "mxapipo"), &select).await;
    let (_, inventory) = get(&os_url(&sim, "mxapiinventory"), &select).await;
    let loc_keys: BTreeSet<(String, String)> = locations["member"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["location"].as_str().unwrap().into(),
                l["siteid"].as_str().unwrap().into(),
            )
        })
        .collect();
    let asset_keys: BTreeSet<(String, String)> = assets["member"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["assetnum"].as_str().unwrap().into(),
                a["siteid"].as_str().unwrap().into(),
            )
        })
        .collect();
    for asset in assets["member"].as_array().unwrap() {
        let key = (
            asset["location"].as_str().unwrap().to_owned(),
            asset["siteid"].as_str().unwrap().to_owned(),
        );
        assert!(loc_keys.contains(&key), "{asset}");
        assert!([
            "OPERATING",
            "NOT READY",
            "BROKEN",
            "LIMITEDUSE",
            "DECOMMISSIONED"
        ]
        .contains(&asset["status"].as_str().unwrap()));
        assert!(asset["changedate"].as_str().unwrap().ends_with("-05:00"));
    }
    let mut statuses = BTreeSet::new();
    for wo in wos["member"].as_array().unwrap() {
        let key = (
            wo["assetnum"].as_str().unwrap().to_owned(),
            wo["siteid"].as_str().unwrap().to_owned(),
        );
        assert!(asset_keys.contains(&key), "{wo}");
        assert!(["CM", "PM", "EM"].contains(&wo["worktype"].as_str().unwrap()));
        statuses.insert(wo["status"].as_str().unwrap().to_owned());
    }
    assert!(statuses.len() >= 4, "{statuses:?}");
    for po in pos["member"].as_array().unwrap() {
        let lines = po["poline"].as_array().unwrap();
        assert!(!lines.is_empty());
        let total: f64 = lines.iter().map(|l| l["linecost"].as_f64().unwrap()).sum();
        assert!((total - po["totalcost"].as_f64().unwrap()).abs() < 0.005);
    }
    for item in inventory["member"].as_array().unwrap() {
        let key = (
            item["location"].as_str().unwrap().to_owned(),
            item["siteid"].as_str().unwrap().to_owned(),
        );
        assert!(loc_keys.contains(&key), "{item}");
        assert!(
            item.get("changedate").is_none(),
            "inventory has no changedate"
        );
    }
    // Same seed, same data.
    let again = sim_with_same_seed(60).await;
    let (_, assets_again) = get(&os_url(&again, "mxapiasset"), &select).await;
    assert_eq!(
        strip_hosts(&assets["member"]),
        strip_hosts(&assets_again["member"])
    );
}

async fn sim_with_same_seed(scale: usize) -> SimHandle {
    sim(scale).await
}

fn strip_hosts(members: &Value) -> Vec<Value> {
    members
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            let mut m = m.clone();
            m.as_object_mut().unwrap().remove("href");
            m
        })
        .collect()
}

#[tokio::test]
async fn where_filters_on_changedate_and_equality_and_orders() {
    let sim = sim(120).await;
    let url = os_url(&sim, "mxapiwodetail");
    let (all, _) = all_members(
        &url,
        &[
            ("oslc.select", "wonum,changedate,status,siteid"),
            ("oslc.pageSize", "1000"),
        ],
    )
    .await;
    let mut dates: Vec<chrono::DateTime<chrono::FixedOffset>> = all
        .iter()
        .map(|m| chrono::DateTime::parse_from_rfc3339(m["changedate"].as_str().unwrap()).unwrap())
        .collect();
    dates.sort();
    let cut = dates[dates.len() / 2];
    let since = cut.with_timezone(&chrono::Utc).to_rfc3339();
    let filter = format!("changedate>\"{since}\"");
    let (newer, _) = all_members(
        &url,
        &[
            ("oslc.select", "wonum,changedate"),
            ("oslc.where", &filter),
            ("oslc.orderBy", "+changedate"),
            ("oslc.pageSize", "7"),
        ],
    )
    .await;
    let expected = dates.iter().filter(|d| **d > cut).count();
    assert_eq!(newer.len(), expected);
    let got: Vec<_> = newer
        .iter()
        .map(|m| chrono::DateTime::parse_from_rfc3339(m["changedate"].as_str().unwrap()).unwrap())
        .collect();
    assert!(got.windows(2).all(|w| w[0] <= w[1]), "ascending changedate");
    assert!(got.iter().all(|d| *d > cut));

    let (closed, _) = all_members(
        &url,
        &[
            ("oslc.select", "status,siteid"),
            ("oslc.where", "status=\"CLOSE\" and siteid=\"BEDFORD\""),
        ],
    )
    .await;
    let expected = all
        .iter()
        .filter(|m| m["status"] == "CLOSE" && m["siteid"] == "BEDFORD")
        .count();
    assert!(expected > 0);
    assert_eq!(closed.len(), expected);

    let (status, error) = get(&url, &[("oslc.where", "status=")]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error["Error"]["statusCode"], "400");
}

#[tokio::test]
async fn href_round_trip_and_select() {
    let sim = sim(30).await;
    let (_, page) = get(
        &os_url(&sim, "mxapipo"),
        &[("oslc.select", "ponum,siteid"), ("oslc.pageSize", "3")],
    )
    .await;
    let member = &page["member"][2];
    let href = member["href"].as_str().unwrap();
    assert!(href.starts_with(&os_url(&sim, "mxapipo")));
    let (status, record) = get(href, &[("lean", "1")]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(record["ponum"], member["ponum"]);
    assert_eq!(record["href"], href);
    assert!(record["poline"].as_array().is_some_and(|l| !l.is_empty()));
    let (_, narrow) = get(href, &[("oslc.select", "ponum,poline{polinenum}")]).await;
    assert_eq!(narrow["poline"][0].as_object().unwrap().len(), 1);
    // The reference's id scheme: base64 of the keys.
    let wo_href = format!("{}/_{}", os_url(&sim, "mxapiwodetail"), "QkVERk9SRC8xMDAw");
    let (status, wo) = get(&wo_href, &[]).await;
    assert_eq!(status, StatusCode::OK, "{wo}");
    assert_eq!(
        (wo["siteid"].as_str(), wo["wonum"].as_str()),
        (Some("BEDFORD"), Some("1000"))
    );
    let (status, missing) = get(&format!("{}/_Tk9QRS8x", os_url(&sim, "mxapiwodetail")), &[]).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(missing["Error"]["statusCode"], "404");
}

#[tokio::test]
async fn work_orders_are_created_and_updated_and_rules_enforced() {
    let sim = sim(20).await;
    let url = os_url(&sim, "mxapiwodetail");
    let (_, assets) = get(
        &os_url(&sim, "mxapiasset"),
        &[("oslc.select", "assetnum,siteid,location")],
    )
    .await;
    let asset = &assets["member"][0];
    let client = Client::new();
    let response = client
        .post(&url)
        .query(&[("lean", "1")])
        .header("apikey", DEFAULT_API_KEY)
        .json(&json!({"siteid": asset["siteid"], "description": "Replace seal", "assetnum": asset["assetnum"],
                      "location": asset["location"], "worktype": "CM", "wopriority": 2}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    assert!(
        response.bytes().await.unwrap().is_empty(),
        "no body without properties"
    );
    let (_, created) = get(&location, &[]).await;
    assert_eq!(created["status"], "WAPPR");
    assert_eq!(created["wonum"], "1020");
    assert_eq!(created["description"], "Replace seal");

    // With `properties` the record comes back.
    let response = client
        .post(&url)
        .header("apikey", DEFAULT_API_KEY)
        .header("properties", "wonum,status")
        .json(&json!({"siteid": "BEDFORD", "description": "Second"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["wonum"], "1021");
    assert!(body.get("description").is_none());

    let patch = |body: Value, properties: bool| {
        let mut request = client
            .post(&location)
            .header("apikey", DEFAULT_API_KEY)
            .header("x-method-override", "PATCH")
            .json(&body);
        if properties {
            request = request.header("properties", "*");
        }
        request.send()
    };
    let response = patch(
        json!({"status": "INPRG", "description": "Replace seal, pump 3"}),
        false,
    )
    .await
    .unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let (_, updated) = get(&location, &[]).await;
    assert_eq!(updated["status"], "INPRG");
    assert_eq!(updated["description"], "Replace seal, pump 3");
    assert!(updated["actstart"].is_string());
    assert!(
        updated["changedate"] != created["changedate"]
            || updated["_rowstamp"] != created["_rowstamp"]
    );

    let response = patch(json!({"status": "COMP"}), true).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.json::<Value>().await.unwrap()["status"], "COMP");

    // Business rules: COMP cannot go back to INPRG; unknown location; missing site.
    let response = patch(json!({"status": "INPRG"}), false).await.unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let error: Value = response.json().await.unwrap();
    assert_eq!(error["Error"]["reasonCode"], "BMXAA4590E");
    assert!(error["Error"]["message"].as_str().unwrap().contains("COMP"));
    let response = patch(json!({"location": "NOWHERE"}), false).await.unwrap();
    let error: Value = response.json().await.unwrap();
    assert_eq!(error["Error"]["reasonCode"], "BMXAA2661E");
    let response = client
        .post(&url)
        .header("apikey", DEFAULT_API_KEY)
        .json(&json!({"description": "no site"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    // A POST to a resource without the override is refused.
    let response = client
        .post(&location)
        .header("apikey", DEFAULT_API_KEY)
        .json(&json!({"description": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    // The created records are listed too.
    let (all, _) = all_members(&url, &[]).await;
    assert_eq!(all.len(), 22);
}

#[tokio::test]
async fn controls_credentials_outage_mutate_rate_limit_stats_and_denial() {
    let sim = sim(10).await;
    let url = os_url(&sim, "mxapiasset");
    control(&sim, "credentials", json!({"api_key": "rotated"})).await;
    let (status, _) = get(&url, &[]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let response = Client::new()
        .get(&url)
        .header("apikey", "rotated")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    control(
        &sim,
        "credentials",
        json!({"api_key": DEFAULT_API_KEY, "denied": ["mxapipo"]}),
    )
    .await;
    let (status, body) = get(&os_url(&sim, "mxapipo"), &[]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body["Error"]["reasonCode"], "BMXAA0024E");
    control(&sim, "credentials", json!({"api_key": DEFAULT_API_KEY})).await;

    control(&sim, "outage", json!({"mode": "503"})).await;
    let (status, _) = get(&url, &[]).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    control(&sim, "outage", json!({"mode": "none"})).await;

    let created = control(
        &sim,
        "mutate",
        json!({"entity": "assets", "op": "create", "count": 2}),
    )
    .await;
    assert_eq!(created["ids"].as_array().unwrap().len(), 2);
    let updated = control(
        &sim,
        "mutate",
        json!({"entity": "work_orders", "op": "update", "count": 3}),
    )
    .await;
    let ids = updated["ids"].as_array().unwrap();
    assert_eq!(ids.len(), 3);
    let wo_url = format!(
        "{}/{}",
        os_url(&sim, "mxapiwodetail"),
        ids[0].as_str().unwrap()
    );
    let (status, wo) = get(&wo_url, &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert!(wo["description"].as_str().unwrap().contains("(rev "));
    let deleted = control(
        &sim,
        "mutate",
        json!({"entity": "vendors", "op": "delete", "count": 1}),
    )
    .await;
    let gone = format!(
        "{}/{}",
        os_url(&sim, "mxapivendor"),
        deleted["ids"][0].as_str().unwrap()
    );
    assert_eq!(get(&gone, &[]).await.0, StatusCode::NOT_FOUND);
    let (_, assets) = get(&url, &[("collectioncount", "1")]).await;
    assert_eq!(assets["responseInfo"]["totalCount"], 12);
    let (_, vendors) = get(&os_url(&sim, "mxapivendor"), &[("collectioncount", "1")]).await;
    assert_eq!(vendors["responseInfo"]["totalCount"], 9);

    control(&sim, "rate-limit", json!({"per_minute": 1})).await;
    assert_eq!(get(&url, &[]).await.0, StatusCode::OK);
    let response = Client::new()
        .get(&url)
        .header("apikey", DEFAULT_API_KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(response.headers().contains_key("retry-after"));
    control(&sim, "rate-limit", json!({"per_minute": 0})).await;

    let stats: Value = reqwest::get(format!("{}/__sim/stats", sim.base_url()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(stats["total"].as_u64().unwrap() >= 10);
    assert!(
        stats["requests"]["/maximo/api/os/{os}"].as_u64().unwrap() >= 5,
        "{stats}"
    );
}

#[tokio::test]
async fn serves_a_hundred_thousand_records_per_object_structure() {
    let sim = sim(100_000).await;
    for os in ["mxapiwodetail", "mxapiinventory"] {
        let url = os_url(&sim, os);
        let (_, last) = get(
            &url,
            &[
                ("oslc.select", "*"),
                ("oslc.pageSize", "1000"),
                ("pageno", "100"),
                ("collectioncount", "1"),
            ],
        )
        .await;
        assert_eq!(last["responseInfo"]["totalCount"], 100_000);
        assert_eq!(last["member"].as_array().unwrap().len(), 1000);
        assert!(last["responseInfo"].get("nextPage").is_none());
        let (status, one) = get(last["member"][999]["href"].as_str().unwrap(), &[]).await;
        assert_eq!(status, StatusCode::OK, "{one}");
    }
    // A changedate filter over all 100 000 work orders, then its second page from the cache.
    let since = (chrono::Utc::now() - chrono::Duration::days(3)).to_rfc3339();
    let filter = format!("changedate>=\"{since}\"");
    let query = [
        ("oslc.select", "wonum,changedate"),
        ("oslc.where", filter.as_str()),
        ("oslc.orderBy", "+changedate"),
        ("oslc.pageSize", "100"),
    ];
    let started = std::time::Instant::now();
    let (status, first) = get(&os_url(&sim, "mxapiwodetail"), &query).await;
    assert_eq!(status, StatusCode::OK);
    assert!(!first["member"].as_array().unwrap().is_empty());
    assert!(
        started.elapsed() < std::time::Duration::from_secs(30),
        "{:?}",
        started.elapsed()
    );
}

/// The `workorderid`s of `members`.
fn uids(members: &[Value]) -> BTreeSet<u64> {
    members
        .iter()
        .map(|m| m["workorderid"].as_u64().unwrap())
        .collect()
}

/// Changes `count` work orders through `/__sim/mutate`; answers their `workorderid`s.
async fn change_work_orders(sim: &SimHandle, count: usize) -> Vec<u64> {
    let ids = control(
        sim,
        "mutate",
        json!({"entity": "work_orders", "op": "update", "count": count}),
    )
    .await;
    let mut out = Vec::new();
    for id in ids["ids"].as_array().unwrap() {
        let href = format!("{}/{}", os_url(sim, "mxapiwodetail"), id.as_str().unwrap());
        let (_, wo) = get(&href, &[]).await;
        out.push(wo["workorderid"].as_u64().unwrap());
    }
    out
}

#[tokio::test]
async fn pageno_paging_skips_records_when_others_change_and_keyset_does_not() {
    let sim = sim(60).await;
    let url = os_url(&sim, "mxapiwodetail");
    let select = ("oslc.select", "workorderid,changedate,description");
    let (before, _) = all_members(&url, &[select, ("oslc.pageSize", "1000")]).await;
    let everything = uids(&before);
    let mut changed = BTreeSet::new();

    // What the connector used to do: `changedate` order, pages by number, 8 orders changed
    // after each of the first three pages. A changed order jumps to the end and shifts every
    // later offset down by one, so unread orders slide into pages already read.
    let mut read = Vec::new();
    for pageno in 1.. {
        let (status, page) = get(
            &url,
            &[
                select,
                ("oslc.where", "changedate>=\"2000-01-01T00:00:00+00:00\""),
                ("oslc.orderBy", "+changedate"),
                ("oslc.pageSize", "10"),
                ("pageno", &pageno.to_string()),
            ],
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{page}");
        read.extend(page["member"].as_array().unwrap().iter().cloned());
        if page["responseInfo"].get("nextPage").is_none() {
            break;
        }
        if pageno <= 3 {
            changed.extend(change_work_orders(&sim, 8).await);
        }
    }
    let skipped: BTreeSet<u64> = everything.difference(&uids(&read)).copied().collect();
    assert!(!skipped.is_empty(), "pageno paging skipped nothing");
    assert!(
        skipped.iter().any(|id| !changed.contains(id)),
        "unchanged orders are skipped, and the next incremental read would not see them either"
    );

    // The same changes under keyset paging on the unique id: nothing is skipped.
    let mut read = Vec::new();
    let mut after = 0;
    for n in 0.. {
        let filter = format!("workorderid>{after}");
        let (status, page) = get(
            &url,
            &[
                select,
                ("oslc.where", filter.as_str()),
                ("oslc.orderBy", "+workorderid"),
                ("oslc.pageSize", "10"),
            ],
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{page}");
        let members = page["member"].as_array().unwrap();
        read.extend(members.iter().cloned());
        if page["responseInfo"].get("nextPage").is_none() {
            break;
        }
        after = members.last().unwrap()["workorderid"].as_u64().unwrap();
        if n < 3 {
            change_work_orders(&sim, 8).await;
        }
    }
    let ids: Vec<u64> = read
        .iter()
        .map(|m| m["workorderid"].as_u64().unwrap())
        .collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]));
    assert_eq!(uids(&read), everything);

    // Orders changed together share a `changedate` (Maximo prints seconds): a tie is walked
    // in unique id order with `changedate="T" and workorderid>N`.
    let (now, _) = all_members(&url, &[select, ("oslc.pageSize", "1000")]).await;
    let mut ties: BTreeMap<String, BTreeSet<u64>> = BTreeMap::new();
    for m in &now {
        ties.entry(m["changedate"].as_str().unwrap().to_owned())
            .or_default()
            .insert(m["workorderid"].as_u64().unwrap());
    }
    let (t, tie) = ties.into_iter().max_by_key(|(_, ids)| ids.len()).unwrap();
    assert!(tie.len() >= 4, "{t}: {tie:?}");
    let first = *tie.first().unwrap();
    let filter = format!("changedate=\"{t}\" and workorderid>{first}");
    let (rest, pages) = all_members(
        &url,
        &[
            select,
            ("oslc.where", filter.as_str()),
            ("oslc.orderBy", "+workorderid"),
            ("oslc.pageSize", "2"),
        ],
    )
    .await;
    assert!(pages >= 2);
    let rest: Vec<u64> = rest
        .iter()
        .map(|m| m["workorderid"].as_u64().unwrap())
        .collect();
    assert_eq!(rest, tie.iter().skip(1).copied().collect::<Vec<_>>());
}
