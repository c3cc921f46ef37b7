//! Request logging off the hot path: handlers hand finished logs to a channel; one writer task
//! inserts them in batches.

use std::{sync::Arc, time::Duration};

use millwright_store::{RequestLog, Store};
use tokio::sync::mpsc;

const CHANNEL_CAPACITY: usize = 50_000;
const BATCH: usize = 500;

#[derive(Clone)]
pub struct RequestLogger {
    tx: Option<mpsc::Sender<RequestLog>>,
}

impl RequestLogger {
    /// Starts the writer task. It ends, after writing what is queued, once every
    /// [`RequestLogger`] clone is dropped.
    pub fn spawn(store: Arc<dyn Store>) -> (RequestLogger, tokio::task::JoinHandle<()>) {
        let (tx, rx) = mpsc::channel(CHANNEL_CAPACITY);
        let handle = tokio::spawn(write_loop(store, rx));
        (RequestLogger { tx: Some(tx) }, handle)
    }

    /// A logger that drops everything (for routers built without a store writer).
    pub fn disabled() -> RequestLogger {
        RequestLogger { tx: None }
    }

    pub fn submit(&self, log: RequestLog) {
        if let Some(tx) = &self.tx {
            if tx.try_send(log).is_err() {
                tracing::warn!("request log queue full; a request log was dropped");
            }
        }
    }
}

async fn write_loop(store: Arc<dyn Store>, mut rx: mpsc::Receiver<RequestLog>) {
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
        if let Err(e) = store.insert_request_logs(&batch).await {
            tracing::error!(error = %e, count = batch.len(), "could not write request logs");
        }
        batch.clear();
    }
}
