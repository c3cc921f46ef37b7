//! What connectors hand to the sync layer and the API: records in the unified model, still
//! keyed by the source's ids, and the requests that page through them.

use millwright_core::{model::EntityData, time::Timestamp, Entity};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// One page request of [`crate::Connector::list`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListRequest {
    /// The entity to list.
    pub entity: Entity,
    /// The `next_cursor` of the previous page; `None` for the first page. Opaque: connectors
    /// may pass the source's own cursor through.
    pub cursor: Option<String>,
    /// Only records changed at or after this instant, as far as the connector can tell (see
    /// [`Incremental`]). `None` for everything.
    pub modified_since: Option<Timestamp>,
    /// Records wanted per page; a hint that connectors clamp to what the source allows.
    pub page_size: u32,
}

impl ListRequest {
    /// The first page of every record of `entity`, 100 at a time.
    pub fn all(entity: Entity) -> ListRequest {
        ListRequest {
            entity,
            cursor: None,
            modified_since: None,
            page_size: 100,
        }
    }
}

/// One page of records.
///
/// A page may be empty while `next_cursor` is still set (a connector that filters client-side
/// may drop a whole page); callers keep paging until `next_cursor` is `None`.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordPage {
    /// Records, in the source's order.
    pub records: Vec<RemoteRecord>,
    /// Where the next page starts; `None` after the last page.
    pub next_cursor: Option<String>,
}

/// A record as a connector produced it: unified fields whose relation fields still hold remote
/// ids (see [`millwright_core::model`]), plus what the store keeps about its source.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RemoteRecord {
    /// The source's id of the record, as a string whatever its type there.
    pub remote_id: String,
    /// When the source created the record, if it says.
    #[serde(with = "millwright_core::time::rfc3339_opt")]
    pub remote_created_at: Option<Timestamp>,
    /// When the source last changed the record, if it says: what incremental syncs compare.
    #[serde(with = "millwright_core::time::rfc3339_opt")]
    pub remote_updated_at: Option<Timestamp>,
    /// The unified fields.
    pub data: EntityData,
    /// The source's custom fields, keyed by their name there.
    pub custom_fields: Map<String, Value>,
    /// The raw source object, unchanged.
    pub remote_data: Value,
}

/// How a connector follows changes of one entity, so the sync layer knows what an incremental
/// `list` with `modified_since` costs and means.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "mode", rename_all = "snake_case")]
pub enum Incremental {
    /// The source filters on `field` server-side: an incremental list fetches only changed
    /// records.
    ServerFilter {
        /// The source field the filter applies to.
        field: &'static str,
    },
    /// The source cannot filter: `list` still pages through every record and drops those whose
    /// `field` is older than `modified_since`, so an incremental sync costs a full scan's
    /// requests but returns only changes.
    ClientCompare {
        /// The source field compared.
        field: &'static str,
    },
    /// No change marker at all: `modified_since` is ignored, every sync sees every record and
    /// changes are found by comparing content.
    FullScan,
}
