//! The `millwright` binary as a library, so integration tests boot the same server the
//! command line does: configuration, storage selection, the server and its workers, and the
//! administrative commands.

pub mod admin;
pub mod cli;
pub mod config;
pub mod demo;
pub mod master_key;
pub mod server;
pub mod storage;
pub mod worker;
