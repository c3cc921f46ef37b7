//! HTTP handlers, one file per resource.

pub mod catalog;
pub mod connections;
pub mod credits;
pub mod entities;
pub mod events;
pub mod field_mappings_route;
pub mod health;
pub mod incidents;
pub mod link_sessions;
pub mod ops;
pub mod passthrough;
pub mod records;
pub mod request_logs;
pub mod sync;
pub mod unified;
pub mod webhooks;
pub mod workspace;
pub mod writes;
