//! Millwright's domain core: identifiers, secrets, encryption at rest, credits, scopes, the
//! entity catalogue and the unified model. This crate performs no I/O so that every other
//! layer can depend on it.

pub mod credits;
pub mod crypto;
pub mod entity;
pub mod ids;
pub mod keyring;
pub mod model;
pub mod record;
pub mod scope;
pub mod secrets;
pub mod status;
pub mod time;
pub mod webhook;

pub use entity::Entity;
pub use scope::Scope;
