//! Unified reads (spec §5): `GET /{entity}` and `GET /{entity}/{id}` for the eight entities,
//! served from the synced store, with the connection's field mappings applied.

use axum::{
    extract::{Path, State},
    http::{header, HeaderValue},
    response::{IntoResponse, Response},
};
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use millwright_core::{
    record::{record_json, RecordParts},
    scope::Scope,
    time, Entity,
};
use millwright_store::{Connection, RecordQuery, StoredRecord};
use serde_json::Value;

use crate::{
    auth::ConnectionAuth, extract::ApiQuery, field_mappings, state::AppState, ApiError, ApiResult,
};

pub const DEFAULT_PAGE_SIZE: u32 = 100;
pub const MAX_PAGE_SIZE: u32 = 1000;

/// Query filters each entity accepts: (query parameter, unified field, allowed values or empty
/// for any).
fn filters(entity: Entity) -> &'static [(&'static str, &'static str, &'static [&'static str])] {
    const ASSET_STATUS: &[&str] = &[
        "operational",
        "down",
        "maintenance",
        "decommissioned",
        "unknown",
    ];
    const WO_STATUS: &[&str] = &["open", "in_progress", "on_hold", "completed", "cancelled"];
    const WO_TYPE: &[&str] = &[
        "corrective",
        "preventive",
        "predictive",
        "inspection",
        "emergency",
        "other",
    ];
    const PRIORITY: &[&str] = &["none", "low", "medium", "high", "urgent"];
    const LOC_TYPE: &[&str] = &[
        "site",
        "building",
        "area",
        "functional_location",
        "warehouse",
        "bin",
        "other",
    ];
    const PO_STATUS: &[&str] = &[
        "draft",
        "submitted",
        "approved",
        "partially_received",
        "received",
        "closed",
        "cancelled",
    ];
    const VENDOR_STATUS: &[&str] = &["active", "inactive"];
    const BOOL: &[&str] = &["true", "false"];
    match entity {
        Entity::Assets => &[
            ("status", "status", ASSET_STATUS),
            ("location_id", "location_id", &[]),
            ("parent_asset_id", "parent_asset_id", &[]),
            ("category", "category", &[]),
        ],
        Entity::Locations => &[
            ("type", "type", LOC_TYPE),
            ("parent_location_id", "parent_location_id", &[]),
        ],
        Entity::WorkOrders => &[
            ("status", "status", WO_STATUS),
            ("type", "type", WO_TYPE),
            ("priority", "priority", PRIORITY),
            ("asset_id", "asset_id", &[]),
            ("location_id", "location_id", &[]),
            ("assignee_id", "assignee_ids", &[]),
        ],
        Entity::MaintenanceSchedules => &[
            ("asset_id", "asset_id", &[]),
            ("location_id", "location_id", &[]),
            ("active", "active", BOOL),
        ],
        Entity::InventoryItems => &[
            ("location_id", "location_id", &[]),
            ("vendor_id", "vendor_ids", &[]),
        ],
        Entity::PurchaseOrders => &[
            ("status", "status", PO_STATUS),
            ("vendor_id", "vendor_id", &[]),
        ],
        Entity::Vendors => &[("status", "status", VENDOR_STATUS)],
        Entity::Users => &[("active", "active", BOOL)],
    }
}

fn encode_cursor(at: &time::Timestamp, id: &str) -> String {
    URL_SAFE_NO_PAD.encode(format!("v1:r:{}:{id}", at.timestamp_micros()))
}

fn decode_cursor(c: &str) -> ApiResult<(time::Timestamp, String)> {
    let bad = || ApiError::InvalidRequest("`cursor` is not a cursor this API issued".into());
    let text =
        String::from_utf8(URL_SAFE_NO_PAD.decode(c).map_err(|_| bad())?).map_err(|_| bad())?;
    let rest = text.strip_prefix("v1:r:").ok_or_else(bad)?;
    let (micros, id) = rest.split_once(':').ok_or_else(bad)?;
    let micros: i64 = micros.parse().map_err(|_| bad())?;
    let at = chrono::DateTime::from_timestamp_micros(micros).ok_or_else(bad)?;
    if id.is_empty() {
        return Err(bad());
    }
    Ok((at, id.to_string()))
}

fn parse_time(name: &str, v: &str) -> ApiResult<time::Timestamp> {
    time::parse(v)
        .ok_or_else(|| ApiError::InvalidRequest(format!("`{name}` must be an RFC 3339 timestamp")))
}

fn parse_bool(name: &str, v: &str) -> ApiResult<bool> {
    match v {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(ApiError::InvalidRequest(format!(
            "`{name}` must be true or false"
        ))),
    }
}

/// The record as the API shows it, field mappings applied.
pub fn view(r: &StoredRecord, connection: &Connection, include_remote: bool) -> Value {
    let mut data = r.data.clone();
    let mut custom = r.custom_fields.clone();
    field_mappings::apply(
        &connection.field_mappings,
        r.entity,
        &r.remote_data,
        &mut data,
        &mut custom,
    );
    record_json(&RecordParts {
        id: &r.id,
        remote_id: &r.remote_id,
        data: &data,
        custom_fields: &custom,
        display_name: r.display_name.as_deref(),
        remote_created_at: r.remote_created_at,
        remote_updated_at: r.remote_updated_at,
        created_at: r.created_at,
        updated_at: r.updated_at,
        deleted_at: r.deleted_at,
        remote_data: include_remote.then_some(&r.remote_data),
    })
}

/// Whether a record's stored rendering is exactly what [`view`] makes of it: no field mapping of
/// the connection touches the entity (`field_mappings::apply` does nothing then) and
/// `remote_data` is not asked for.
fn rendering_serves(connection: &Connection, entity: Entity, include_remote: bool) -> bool {
    !include_remote && connection.field_mappings.get(entity.as_str()).is_none()
}

/// Appends the record as the API shows it: its stored rendering when that serves, otherwise
/// [`view`] encoded (rows written before the rendering existed, mappings, `remote_data`).
fn write_record(
    out: &mut Vec<u8>,
    r: &StoredRecord,
    connection: &Connection,
    include_remote: bool,
) {
    match &r.rendered {
        Some(text) if rendering_serves(connection, r.entity, include_remote) => {
            out.extend_from_slice(text.as_bytes())
        }
        _ => serde_json::to_writer(&mut *out, &view(r, connection, include_remote))
            .expect("a JSON value encodes into a Vec"),
    }
}

/// A JSON answer from bytes already encoded, with the header `axum::Json` would set.
fn json_bytes(body: Vec<u8>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body,
    )
        .into_response()
}

/// `GET /{entity}`.
pub async fn list(
    state: State<AppState>,
    auth: ConnectionAuth,
    entity: Entity,
    query: ApiQuery<Vec<(String, String)>>,
) -> ApiResult<Response> {
    list_body(state, auth, entity, query).await.map(json_bytes)
}

/// The body of `GET /{entity}`: `{"data": [...], "next_cursor": ...}` as JSON bytes.
pub async fn list_body(
    State(state): State<AppState>,
    auth: ConnectionAuth,
    entity: Entity,
    ApiQuery(pairs): ApiQuery<Vec<(String, String)>>,
) -> ApiResult<Vec<u8>> {
    auth.require(Scope::Read)?;
    auth.require_usable()?;
    let mut q = RecordQuery {
        limit: DEFAULT_PAGE_SIZE,
        ..Default::default()
    };
    let mut include_remote = false;
    let allowed = filters(entity);
    for (k, v) in pairs {
        match k.as_str() {
            "cursor" => q.after = Some(decode_cursor(&v)?),
            "page_size" => {
                let n: u32 = v.parse().map_err(|_| {
                    ApiError::InvalidRequest("`page_size` must be a whole number".into())
                })?;
                if n == 0 || n > MAX_PAGE_SIZE {
                    return Err(ApiError::InvalidRequest(format!(
                        "`page_size` must be between 1 and {MAX_PAGE_SIZE}"
                    )));
                }
                q.limit = n;
            }
            "modified_after" => q.modified_after = Some(parse_time(&k, &v)?),
            "modified_before" => q.modified_before = Some(parse_time(&k, &v)?),
            "include_deleted" => q.include_deleted = parse_bool(&k, &v)?,
            "include" => match v.as_str() {
                "remote_data" => include_remote = true,
                _ => {
                    return Err(ApiError::InvalidRequest(format!(
                        "`include` accepts remote_data, not `{v}`"
                    )))
                }
            },
            other => {
                let Some((_, field, values)) = allowed.iter().find(|(p, _, _)| *p == other) else {
                    let names: Vec<&str> = allowed.iter().map(|(p, _, _)| *p).collect();
                    return Err(ApiError::InvalidRequest(format!(
                        "unknown query parameter `{other}`; {} filters by {}",
                        entity.path(),
                        names.join(", ")
                    )));
                };
                if !values.is_empty() && !values.contains(&v.as_str()) {
                    return Err(ApiError::InvalidRequest(format!(
                        "`{other}` must be one of {}; got `{v}`",
                        values.join(", ")
                    )));
                }
                q.filters.push((field.to_string(), v));
            }
        }
    }
    let rendered = rendering_serves(&auth.connection, entity, include_remote);
    // The raw record is read only when shown or when a field mapping reads from it, that is
    // exactly when the stored renderings do not serve.
    q.with_remote_data = !rendered;
    q.rendered = rendered;
    let page = state
        .store
        .list_records(&auth.workspace.id, &auth.connection_id, entity, &q)
        .await?;
    // `pagination::List` encoded by hand, byte for byte as serde_json would, so that stored
    // renderings are copied in rather than decoded and encoded again.
    let mut body = Vec::with_capacity(
        64 + page
            .items
            .iter()
            .map(|r| r.rendered.as_ref().map_or(1024, String::len) + 1)
            .sum::<usize>(),
    );
    body.extend_from_slice(b"{\"data\":[");
    for (i, r) in page.items.iter().enumerate() {
        if i > 0 {
            body.push(b',');
        }
        write_record(&mut body, r, &auth.connection, include_remote);
    }
    body.extend_from_slice(b"],\"next_cursor\":");
    let next_cursor = page.next_after.map(|(at, id)| encode_cursor(&at, &id));
    serde_json::to_writer(&mut body, &next_cursor).expect("a cursor encodes into a Vec");
    body.push(b'}');
    Ok(body)
}

/// `GET /{entity}/{id}`.
pub async fn get(
    State(state): State<AppState>,
    auth: ConnectionAuth,
    entity: Entity,
    Path(id): Path<String>,
    ApiQuery(pairs): ApiQuery<Vec<(String, String)>>,
) -> ApiResult<Response> {
    auth.require(Scope::Read)?;
    auth.require_usable()?;
    let mut include_remote = false;
    for (k, v) in pairs {
        match (k.as_str(), v.as_str()) {
            ("include", "remote_data") => include_remote = true,
            _ => {
                return Err(ApiError::InvalidRequest(format!(
                    "unknown query parameter `{k}={v}`"
                )))
            }
        }
    }
    let r = state
        .store
        .get_record(&auth.workspace.id, &auth.connection_id, entity, &id)
        .await?
        .ok_or_else(|| ApiError::not_found(entity.event_name()))?;
    let mut body = Vec::with_capacity(r.rendered.as_ref().map_or(1024, String::len));
    write_record(&mut body, &r, &auth.connection, include_remote);
    Ok(json_bytes(body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_cursors_round_trip() {
        let t = time::now();
        let c = encode_cursor(&t, "rec_abc");
        assert_eq!(decode_cursor(&c).unwrap(), (t, "rec_abc".to_string()));
        assert!(decode_cursor("garbage").is_err());
        assert!(decode_cursor(&URL_SAFE_NO_PAD.encode("v1:r:x:rec")).is_err());
    }

    #[test]
    fn every_entity_has_filters_with_known_fields() {
        for e in Entity::ALL {
            for (param, field, _) in filters(e) {
                assert!(!param.is_empty() && !field.is_empty());
            }
        }
    }
}
