//! HTTP handlers, one file per resource.

pub mod catalog;
pub mod connections;
pub mod credits;
pub mod ops;
pub mod request_logs;
pub mod unified;
