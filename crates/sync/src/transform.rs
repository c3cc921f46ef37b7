//! From a connector's record to the store's: relations rewritten to Millwright ids, the
//! stable record id, the content hash.

use millwright_connectors::RemoteRecord;
use millwright_core::{
    model::rewrite_relations,
    record::{content_hash, record_id},
    Entity,
};
use millwright_store::RecordWrite;
use serde_json::Value;

pub fn to_record_write(connection_id: &str, entity: Entity, r: RemoteRecord) -> RecordWrite {
    let display_name = r.data.display_name();
    let mut data = r.data.to_json();
    rewrite_relations(entity, &mut data, |target, remote| {
        Some(record_id(connection_id, target, remote))
    });
    let custom_fields = Value::Object(r.custom_fields);
    let hash = content_hash(&data, &custom_fields, r.remote_updated_at.as_ref());
    RecordWrite {
        id: record_id(connection_id, entity, &r.remote_id),
        remote_id: r.remote_id,
        data,
        custom_fields,
        remote_data: r.remote_data,
        display_name,
        remote_created_at: r.remote_created_at,
        remote_updated_at: r.remote_updated_at,
        content_hash: hash,
    }
}
