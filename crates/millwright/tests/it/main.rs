//! Integration tests: each boots the real server on 127.0.0.1:0 over a real SQLite file (some
//! also on PostgreSQL) and talks HTTP to it, with the MaintainX simulator as the source system.

mod cli;
mod common;
mod credits;
mod dashboard;
mod errors;
mod health;
mod isolation;
mod lifecycle;
mod link;
mod metrics;
mod openapi;
mod request_logs;
mod secrets_at_rest;
mod status;
mod status_page;
mod sync;
mod sync_resume;
mod tryton;
mod webhooks;
mod writes;
mod writes_more;
