//! Work order writes (reference §3 "Writes"): `POST /api/os/mxapiwodetail` creates (201 +
//! `Location`), `POST /api/os/mxapiwodetail/{id}` with `x-method-override: PATCH` updates
//! (204). With a `properties` header (`*` or a select list) either answers the record instead
//! (201 / 200), as Maximo does.
//!
//! Business rules enforced, each a 400 in Maximo's error shape: the site must exist and is
//! required on create (`BMXAA4195E`); `assetnum` and `location` must exist at the site
//! (`BMXAA4049E`, `BMXAA2661E`); `worktype` must be a known type; status changes must follow the
//! work order life cycle (`BMXAA4590E`): nothing leaves `CLOSE` or `CAN`, `COMP` only goes to
//! `CLOSE`, work in progress cannot be cancelled. Keys (`wonum`, `siteid`, `orgid`,
//! `workorderid`) cannot be changed by an update. Attributes the simulator does not model are
//! ignored, as Maximo ignores attributes outside the object structure.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value};

use super::data::{fields, mx_time, rowstamp, wo_status_description, World, ORGID, WONUM_BASE};
use super::error::MxError;
use super::os::Os;
use super::oslc::Select;
use super::routes::{collection_href, object_structure, ok_json, render};
use super::Maximo;
use crate::clock::Ts;

/// Work order statuses Maximo ships with.
const WO_STATUSES: &[&str] = &[
    "WAPPR", "APPR", "WSCH", "WMATL", "INPRG", "COMP", "CLOSE", "CAN",
];
/// Work types of the default `WORKTYPE` domain used here.
const WORK_TYPES: &[&str] = &["CM", "PM", "EM", "CP", "EV"];
/// Free attributes a write may set, with their JSON kind.
const TEXT: &[&str] = &[
    "description",
    "description_longdescription",
    "failurecode",
    "lead",
    "reportedby",
];
const DATES: &[&str] = &[
    "targstartdate",
    "targcompdate",
    "schedstart",
    "schedfinish",
    "actstart",
    "actfinish",
];
const NUMBERS: &[&str] = &["estdur", "actlabhrs"];
/// Keys and system attributes an update may not change.
const READ_ONLY: &[&str] = &[
    "wonum",
    "siteid",
    "orgid",
    "workorderid",
    "href",
    "_rowstamp",
    "changedate",
    "changeby",
    "statusdate",
];

/// Whether a work order may go from `from` to `to`.
fn transition_allowed(from: &str, to: &str) -> bool {
    if from == to {
        return true;
    }
    match from {
        "CLOSE" | "CAN" => false,
        "COMP" => to == "CLOSE",
        "INPRG" => !matches!(to, "WAPPR" | "CAN"),
        _ => true,
    }
}

fn parse_body(body: &Bytes) -> Result<Map<String, Value>, MxError> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map
            .into_iter()
            .map(|(k, v)| (k.to_ascii_lowercase(), v))
            .collect()),
        _ => Err(MxError::bad_request(
            "BMXAA9547E",
            "The JSON body is not valid. A JSON object is expected.",
        )),
    }
}

/// The `properties` header as a select, if the client asked for the record back.
fn properties(headers: &HeaderMap) -> Option<Select> {
    headers
        .get("properties")
        .and_then(|v| v.to_str().ok())
        .map(Select::parse)
}

/// Applies `input` to work order `record`, enforcing the rules above.
fn apply(
    world: &World,
    mx: &Maximo,
    db: &super::Db,
    record: &mut Value,
    input: &Map<String, Value>,
    now: Ts,
    creating: bool,
) -> Result<(), MxError> {
    let siteid = record
        .get("siteid")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let site = world.site_index(&siteid).ok_or_else(|| {
        MxError::bad_request(
            "BMXAA4049E",
            format!("The value {siteid} for siteid is not valid."),
        )
    })?;
    let wonum = record
        .get("wonum")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let f = fields(record);
    for (attr, value) in input {
        let attr = attr.as_str();
        if !creating && READ_ONLY.contains(&attr) {
            if f.get(attr) != Some(value) {
                return Err(MxError::bad_request(
                    "BMXAA4192E",
                    format!("The {attr} field is read-only and cannot be changed."),
                ));
            }
            continue;
        }
        let text = || value.as_str().map(str::trim).filter(|s| !s.is_empty());
        match attr {
            "assetnum" => match text() {
                None => {
                    f.remove("assetnum");
                }
                Some(assetnum) => {
                    let exists = super::os::Os::Asset
                        .index_of(world, &[assetnum, &siteid])
                        .and_then(|i| mx.get(db, Os::Asset, i + 1))
                        .is_some_and(|a| {
                            a.get("siteid").and_then(Value::as_str) == Some(siteid.as_str())
                        });
                    if !exists {
                        return Err(MxError::bad_request(
                            "BMXAA4049E",
                            format!("The value {assetnum} for assetnum is not valid. Asset {assetnum} does not exist at site {siteid}."),
                        ));
                    }
                    f.insert("assetnum".into(), assetnum.into());
                }
            },
            "location" => match text() {
                None => {
                    f.remove("location");
                }
                Some(location) => {
                    let exists = world
                        .location_index(location, site)
                        .and_then(|i| mx.get(db, Os::Location, i + 1))
                        .is_some();
                    if !exists {
                        return Err(MxError::bad_request(
                            "BMXAA2661E",
                            format!("Location {location} is not a valid location."),
                        ));
                    }
                    f.insert("location".into(), location.into());
                }
            },
            "worktype" => match text() {
                Some(t) if WORK_TYPES.contains(&t) => {
                    f.insert("worktype".into(), t.into());
                }
                None => {
                    f.remove("worktype");
                }
                Some(t) => {
                    return Err(MxError::bad_request(
                        "BMXAA4049E",
                        format!("The value {t} for worktype is not valid."),
                    ))
                }
            },
            "wopriority" => match value {
                Value::Null => {
                    f.remove("wopriority");
                }
                Value::Number(n) if n.as_i64().is_some() => {
                    f.insert("wopriority".into(), value.clone());
                }
                _ => {
                    return Err(MxError::bad_request(
                        "BMXAA4049E",
                        format!(
                        "The value {value} for wopriority is not valid. An integer is expected."
                    ),
                    ))
                }
            },
            "status" => {
                let to = text().unwrap_or_default().to_uppercase();
                if !WO_STATUSES.contains(&to.as_str()) {
                    return Err(MxError::bad_request(
                        "BMXAA4049E",
                        format!("The value {to} for status is not valid."),
                    ));
                }
                let from = f
                    .get("status")
                    .and_then(Value::as_str)
                    .unwrap_or("WAPPR")
                    .to_owned();
                if !transition_allowed(&from, &to) {
                    return Err(MxError::bad_request(
                        "BMXAA4590E",
                        format!("The status of work order {wonum} cannot be changed from {from} to {to}."),
                    ));
                }
                if from != to {
                    f.insert("status".into(), to.clone().into());
                    f.insert(
                        "status_description".into(),
                        wo_status_description(&to).into(),
                    );
                    f.insert("statusdate".into(), mx_time(now).into());
                    if to == "INPRG" && !f.contains_key("actstart") {
                        f.insert("actstart".into(), mx_time(now).into());
                    }
                    if to == "COMP" && !f.contains_key("actfinish") {
                        f.insert("actfinish".into(), mx_time(now).into());
                    }
                }
            }
            a if TEXT.contains(&a) => match value {
                Value::Null => {
                    f.remove(a);
                }
                Value::String(s) => {
                    f.insert(a.into(), s.clone().into());
                }
                _ => {
                    return Err(MxError::bad_request(
                        "BMXAA4049E",
                        format!("The value {value} for {a} is not valid."),
                    ))
                }
            },
            a if DATES.contains(&a) => match value {
                Value::Null => {
                    f.remove(a);
                }
                Value::String(s) => {
                    let ts = Ts::parse(s).ok_or_else(|| {
                        MxError::bad_request(
                            "BMXAA4049E",
                            format!("The value {s} for {a} is not a valid date."),
                        )
                    })?;
                    f.insert(a.into(), mx_time(ts).into());
                }
                _ => {
                    return Err(MxError::bad_request(
                        "BMXAA4049E",
                        format!("The value {value} for {a} is not a valid date."),
                    ))
                }
            },
            a if NUMBERS.contains(&a) => match value {
                Value::Null => {
                    f.remove(a);
                }
                Value::Number(_) => {
                    f.insert(a.into(), value.clone());
                }
                _ => {
                    return Err(MxError::bad_request(
                        "BMXAA4049E",
                        format!("The value {value} for {a} is not valid. A number is expected."),
                    ))
                }
            },
            _ => {}
        }
    }
    f.insert("changedate".into(), mx_time(now).into());
    f.insert("changeby".into(), "MXINTADM".into());
    f.insert("_rowstamp".into(), rowstamp(now).into());
    Ok(())
}

/// `POST /api/os/{os}`: creates a work order.
pub(crate) async fn create(
    State(mx): State<Arc<Maximo>>,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, MxError> {
    let os = object_structure(&mx, &name, "INSERT")?;
    if os != Os::WorkOrder {
        return Err(MxError::not_allowed("INSERT", os.object()));
    }
    let input = parse_body(&body)?;
    let siteid = input
        .get("siteid")
        .and_then(Value::as_str)
        .map(|s| s.trim().to_uppercase())
        .filter(|s| !s.is_empty())
        .ok_or_else(|| {
            MxError::bad_request(
                "BMXAA4195E",
                "A value is required for the Site field on the WORKORDER object.",
            )
        })?;
    if mx.world.site_index(&siteid).is_none() {
        return Err(MxError::bad_request(
            "BMXAA4049E",
            format!("The value {siteid} for siteid is not valid."),
        ));
    }
    let now = mx.clock.now();
    let mut db = mx.db();
    let id = db.tables[os as usize].next_id();
    let wonum = (WONUM_BASE + id - 1).to_string();
    let mut record = serde_json::json!({
        "wonum": wonum,
        "workorderid": id,
        "siteid": siteid,
        "orgid": ORGID,
        "status": "WAPPR",
        "status_description": wo_status_description("WAPPR"),
        "woclass": "WORKORDER",
        "istask": false,
        "reportedby": "MXINTADM",
        "reportdate": mx_time(now),
        "statusdate": mx_time(now),
    });
    let mut fields_in = input.clone();
    for key in [
        "wonum",
        "siteid",
        "orgid",
        "workorderid",
        "href",
        "_rowstamp",
    ] {
        fields_in.remove(key);
    }
    apply(&mx.world, &mx, &db, &mut record, &fields_in, now, true)?;
    let stored = record.clone();
    let created = db.tables[os as usize].insert_with(|_| stored);
    debug_assert_eq!(created, id);
    db.version += 1;
    drop(db);
    let base = collection_href(&headers, os);
    let href = format!("{base}/{}", os.rest_id(&record));
    let mut response = match properties(&headers) {
        Some(select) => ok_json(StatusCode::CREATED, &render(&record, os, &base, &select)),
        None => StatusCode::CREATED.into_response(),
    };
    if let Ok(value) = HeaderValue::from_str(&href) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    Ok(response)
}

/// `POST /api/os/{os}/{id}` with `x-method-override: PATCH`: updates a work order.
pub(crate) async fn update(
    State(mx): State<Arc<Maximo>>,
    Path((name, rest_id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, MxError> {
    let os = object_structure(&mx, &name, "SAVE")?;
    let method = headers
        .get("x-method-override")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !method.eq_ignore_ascii_case("PATCH") {
        return Err(MxError::bad_request(
            "BMXAA9548E",
            "A POST request to a resource requires the x-method-override header (PATCH).",
        ));
    }
    if os != Os::WorkOrder {
        return Err(MxError::not_allowed("SAVE", os.object()));
    }
    let input = parse_body(&body)?;
    let now = mx.clock.now();
    let mut db = mx.db();
    let (id, mut record) = mx
        .find(&db, os, &rest_id)
        .ok_or_else(|| MxError::not_found(os.name(), &rest_id))?;
    apply(&mx.world, &mx, &db, &mut record, &input, now, false)?;
    mx.replace(&mut db, os, id, record.clone());
    drop(db);
    Ok(match properties(&headers) {
        Some(select) => ok_json(
            StatusCode::OK,
            &render(&record, os, &collection_href(&headers, os), &select),
        ),
        None => StatusCode::NO_CONTENT.into_response(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn life_cycle() {
        assert!(transition_allowed("WAPPR", "APPR"));
        assert!(transition_allowed("APPR", "INPRG"));
        assert!(transition_allowed("INPRG", "COMP"));
        assert!(transition_allowed("COMP", "CLOSE"));
        assert!(!transition_allowed("CLOSE", "INPRG"));
        assert!(!transition_allowed("CAN", "APPR"));
        assert!(!transition_allowed("COMP", "INPRG"));
        assert!(!transition_allowed("INPRG", "CAN"));
        assert!(transition_allowed("CLOSE", "CLOSE"));
    }
}
