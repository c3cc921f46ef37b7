//! Measures a large simulator: boots MaintainX at `--scale` (default 100 000) and pages through
//! every record of every resource with `limit=200`, printing timings. Run under
//! `/usr/bin/time -v` for peak memory:
//! `cargo run -p millwright-sim --example scale -- 100000`.

use std::time::Instant;

use millwright_sim::{maintainx, spawn, SimOptions, System};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let scale: usize = std::env::args()
        .nth(1)
        .map(|s| s.parse())
        .transpose()?
        .unwrap_or(100_000);
    let started = Instant::now();
    let sim = spawn(System::Maintainx, SimOptions { seed: 42, scale }).await?;
    println!("scale {scale}: listening after {:?}", started.elapsed());
    let client = reqwest::Client::new();
    for (resource, key) in [
        ("workorders", "workOrders"),
        ("assets", "assets"),
        ("locations", "locations"),
        ("parts", "parts"),
        ("users", "users"),
        ("vendors", "vendors"),
        ("purchaseorders", "purchaseOrders"),
    ] {
        let t = Instant::now();
        let mut path = format!("/v1/{resource}?limit=200");
        let (mut records, mut pages, mut bytes) = (0usize, 0usize, 0usize);
        loop {
            let body = client
                .get(format!("{}{path}", sim.base_url()))
                .bearer_auth(maintainx::DEFAULT_API_KEY)
                .send()
                .await?
                .error_for_status()?
                .bytes()
                .await?;
            bytes += body.len();
            pages += 1;
            let page: Value = serde_json::from_slice(&body)?;
            records += page[key].as_array().map_or(0, Vec::len);
            match page["nextPageUrl"].as_str() {
                Some(next) => path = next.to_owned(),
                None => break,
            }
        }
        let elapsed = t.elapsed();
        println!(
            "{resource:>15}: {records} records, {pages} pages, {} MB in {elapsed:?} ({:?}/page)",
            bytes / 1_000_000,
            elapsed / pages as u32
        );
        assert_eq!(records, scale, "{resource}");
    }
    println!("total {:?}", started.elapsed());
    sim.shutdown().await;
    Ok(())
}
