//! Request logging off the hot path: handlers hand finished logs to a channel; one writer task
//! inserts them in batches.

use std::{sync::Arc, time::Duration};

use axum::{
    body::Bytes,
    http::{HeaderMap, Method, Uri},
};
use millwright_core::time::Timestamp;
use millwright_store::{RequestLog, Store};
use tokio::sync::mpsc;

use crate::redact;

/// A finished request as the middleware hands it over: raw parts, not yet redacted.
pub struct PendingLog {
    pub request_id: String,
    pub workspace_id: Option<String>,
    pub connection_id: Option<String>,
    pub method: Method,
    pub uri: Uri,
    pub status: u16,
    pub duration_ms: i64,
    pub headers: HeaderMap,
    pub request_body: Option<Bytes>,
    pub response_body: Bytes,
    pub error_code: Option<&'static str>,
    pub created_at: Timestamp,
}

impl PendingLog {
    /// Redacts and truncates into the stored form.
    pub fn into_log(self) -> RequestLog {
        let path = self
            .uri
            .path_and_query()
            .map(|p| p.as_str())
            .unwrap_or_else(|| self.uri.path());
        RequestLog {
            request_id: self.request_id,
            workspace_id: self.workspace_id,
            connection_id: self.connection_id,
            method: self.method.to_string(),
            path: redact::path(path),
            status: self.status as i64,
            duration_ms: self.duration_ms,
            request_headers: redact::headers(&self.headers),
            request_body: self
                .request_body
                .filter(|b| !b.is_empty())
                .map(|b| redact::body(&b)),
            response_body: (!self.response_body.is_empty())
                .then(|| redact::body(&self.response_body)),
            error_code: self.error_code.map(str::to_string),
            created_at: self.created_at,
        }
    }
}

const CHANNEL_CAPACITY: usize = 50_000;
const BATCH: usize = 500;

#[derive(Clone)]
pub struct RequestLogger {
    tx: mpsc::Sender<PendingLog>,
}

impl RequestLogger {
    /// Starts the writer task. It ends, after writing what is queued, once every
    /// [`RequestLogger`] clone is dropped.
    pub fn spawn(store: Arc<dyn Store>) -> (RequestLogger, tokio::task::JoinHandle<()>) {
        let (tx, rx) = mpsc::channel(CHANNEL_CAPACITY);
        let handle = tokio::spawn(write_loop(store, rx));
        (RequestLogger { tx }, handle)
    }

    pub fn submit(&self, log: PendingLog) {
        if self.tx.try_send(log).is_err() {
            tracing::warn!("request log queue full; a request log was dropped");
        }
    }
}

async fn write_loop(store: Arc<dyn Store>, mut rx: mpsc::Receiver<PendingLog>) {
    let mut batch = Vec::with_capacity(BATCH);
    while rx.recv_many(&mut batch, BATCH).await > 0 {
        // Give a burst a moment to fill the batch: fewer, larger transactions.
        if batch.len() < BATCH {
            tokio::time::sleep(Duration::from_millis(20)).await;
            while batch.len() < BATCH {
                match rx.try_recv() {
                    Ok(l) => batch.push(l),
                    Err(_) => break,
                }
            }
        }
        let logs: Vec<RequestLog> = batch.drain(..).map(PendingLog::into_log).collect();
        if let Err(e) = store.insert_request_logs(&logs).await {
            tracing::error!(error = %e, count = logs.len(), "could not write request logs");
        }
    }
}
