//! A simulator on loopback and a client that speaks to it like a connector would.

use std::time::Duration;

use millwright_sim::{maintainx, spawn, SimHandle, SimOptions, System};
use reqwest::{Method, StatusCode};
use serde_json::Value;

pub struct Sim {
    pub handle: SimHandle,
    pub client: reqwest::Client,
    pub key: String,
}

/// Boots a MaintainX simulator with `seed` and `scale`.
pub async fn start(seed: u64, scale: usize) -> Sim {
    let handle = spawn(System::Maintainx, SimOptions { seed, scale })
        .await
        .expect("simulator starts");
    Sim {
        handle,
        client: reqwest::Client::builder()
            .timeout(Duration::from_secs(20))
            .build()
            .unwrap(),
        key: maintainx::DEFAULT_API_KEY.to_owned(),
    }
}

impl Sim {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.handle.base_url())
    }

    /// An authenticated request to `path` (starting with `/v1`).
    pub fn request(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        self.client
            .request(method, self.url(path))
            .bearer_auth(&self.key)
    }

    /// Sends and returns status and JSON body (`Value::Null` if the body is not JSON).
    pub async fn send(&self, request: reqwest::RequestBuilder) -> (StatusCode, Value) {
        let response = request.send().await.expect("request completes");
        let status = response.status();
        let text = response.text().await.expect("body");
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.send(self.request(Method::GET, path)).await
    }

    pub async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.send(self.request(Method::POST, path).json(&body))
            .await
    }

    pub async fn patch(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.send(self.request(Method::PATCH, path).json(&body))
            .await
    }

    pub async fn delete(&self, path: &str) -> StatusCode {
        self.send(self.request(Method::DELETE, path)).await.0
    }

    /// Calls a `/__sim/` control endpoint (no credentials).
    pub async fn control(&self, path: &str, body: Value) -> (StatusCode, Value) {
        let request = self.client.post(self.url(path)).json(&body);
        self.send(request).await
    }

    pub async fn stats(&self) -> Value {
        let response = self
            .client
            .get(self.url("/__sim/stats"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        response.json().await.unwrap()
    }

    /// Every record of a resource, following `nextCursor` with `limit`; asserts the envelope
    /// on the way.
    pub async fn all(&self, resource: &str, key: &str, limit: usize) -> Vec<Value> {
        let mut out = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut path = format!("/v1/{resource}?limit={limit}");
            if let Some(c) = &cursor {
                path.push_str(&format!("&cursor={c}"));
            }
            let (status, body) = self.get(&path).await;
            assert_eq!(status, StatusCode::OK, "{path}: {body}");
            let page = body[key]
                .as_array()
                .unwrap_or_else(|| panic!("{key} in {body}"));
            assert!(page.len() <= limit);
            out.extend(page.iter().cloned());
            match &body["nextCursor"] {
                Value::String(c) => {
                    assert!(!page.is_empty(), "a page with a next cursor has records");
                    cursor = Some(c.clone());
                }
                Value::Null => {
                    assert!(body["nextPageUrl"].is_null());
                    return out;
                }
                other => panic!("nextCursor {other}"),
            }
        }
    }
}

/// The ids of a list of records.
pub fn ids(records: &[Value]) -> Vec<u64> {
    records
        .iter()
        .map(|r| r["id"].as_u64().expect("numeric id"))
        .collect()
}
