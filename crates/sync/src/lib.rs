//! The sync engine: keeps each connection's store current with its source system.
//!
//! Every sync is a leased job (`sync`) for one (connection, entity). A run reads pages from the
//! connector, rewrites relations to Millwright ids, and writes each page in one store
//! transaction together with its change events and the run's checkpoint, so a run killed
//! mid-way resumes from its last page without duplicates or gaps. Runs move the connection
//! through its states (`syncing`, `active`, `offline`, `requires_reauthorization`), each
//! transition once, with its event.

mod engine;
mod error;
mod jobs;
pub mod metrics;
mod settings;
mod transform;

pub use engine::{ConnectionChanged, Engine, EngineConfig, FollowUp, JobOutcome};
pub use error::SyncError;
pub use jobs::{schedule_next, trigger, SyncJob, SCHEDULER_JOB, SYNC_JOB};
pub use settings::SyncSettings;
pub use transform::to_record_write;
