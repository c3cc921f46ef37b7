//! Unified work order writes → `mxapiwodetail` bodies, checked in full before anything is sent:
//! a field Maximo cannot take fails with [`ConnectorError::Invalid`] naming it.

use millwright_core::model::{parse_input, FieldError, WorkOrder, WorkOrderPriority};
use serde_json::{Map, Value};

use super::client::decode_rest_id;
use super::mapping::{code_for, WORK_ORDER_PRIORITY, WORK_ORDER_STATUS, WORK_TYPE};
use crate::ConnectorError;

/// Work order statuses a write may set (the `WOSTATUS` defaults; `HOLD` is only read).
const WRITABLE_STATUS: &[&str] = &["WAPPR", "INPRG", "COMP", "CAN"];

/// A checked work order write: the body, and the site it belongs to when the input says
/// (through its asset or location).
#[derive(Debug, Clone, PartialEq)]
pub struct WorkOrderWrite {
    pub body: Map<String, Value>,
    pub siteid: Option<String>,
}

fn field_error(field: &str, message: &str) -> ConnectorError {
    ConnectorError::Invalid {
        field: field.to_string(),
        message: message.to_string(),
    }
}

fn invalid(e: FieldError) -> ConnectorError {
    ConnectorError::Invalid {
        field: e.field,
        message: e.message,
    }
}

/// The key values of a related record's id: `(value, siteid)` for assets and locations.
fn keyed_id(field: &str, id: &str) -> Result<(String, String), ConnectorError> {
    match decode_rest_id(id).as_deref() {
        Some([value, site]) => Ok((value.clone(), site.clone())),
        _ => Err(field_error(field, "is not a Maximo asset or location id")),
    }
}

/// Checks and translates a work order create (`creating`) or patch body.
pub fn work_order(input: &Value, creating: bool) -> Result<WorkOrderWrite, ConnectorError> {
    let input = parse_input::<WorkOrder>(input).map_err(invalid)?;
    let data = serde_json::to_value(&input.data).unwrap_or_default();
    let wo = &input.data;
    let mut body = Map::new();
    let mut sites: Vec<(&str, String)> = Vec::new();
    for field in &input.fields {
        let value = &data[field.as_str()];
        let (attribute, converted) = match field.as_str() {
            "title" => match value.as_str().map(str::trim) {
                Some(t) if !t.is_empty() => ("description", Value::String(t.into())),
                _ => return Err(field_error(field, "must be a non-empty string")),
            },
            "description" => ("description_longdescription", value.clone()),
            "type" => match wo.r#type {
                None => ("worktype", Value::Null),
                Some(t) => (
                    "worktype",
                    Value::String(
                        code_for(WORK_TYPE, t)
                            .filter(|c| matches!(*c, "CM" | "PM" | "EM"))
                            .ok_or_else(|| {
                                field_error(field, "Maximo work types written are corrective, preventive and emergency")
                            })?
                            .into(),
                    ),
                ),
            },
            "status" => {
                let status = wo
                    .status
                    .ok_or_else(|| field_error(field, "cannot be cleared"))?;
                let code = code_for(WORK_ORDER_STATUS, status)
                    .filter(|c| WRITABLE_STATUS.contains(c))
                    .ok_or_else(|| {
                        field_error(field, "Maximo work orders can be set open, in_progress, completed or cancelled")
                    })?;
                ("status", Value::String(code.into()))
            }
            "priority" => match wo.priority {
                None | Some(WorkOrderPriority::None) => ("wopriority", Value::Null),
                Some(p) => (
                    "wopriority",
                    Value::from(code_for(WORK_ORDER_PRIORITY, p).unwrap_or(4)),
                ),
            },
            "asset_id" => match &wo.asset_id {
                None => ("assetnum", Value::Null),
                Some(id) => {
                    let (assetnum, site) = keyed_id(field, id)?;
                    sites.push(("asset_id", site));
                    ("assetnum", Value::String(assetnum))
                }
            },
            "location_id" => match &wo.location_id {
                None => ("location", Value::Null),
                Some(id) => {
                    let (location, site) = keyed_id(field, id)?;
                    sites.push(("location_id", site));
                    ("location", Value::String(location))
                }
            },
            "due_at" => ("targcompdate", value.clone()),
            "scheduled_start_at" => ("schedstart", value.clone()),
            "completed_at" => ("actfinish", value.clone()),
            "estimated_hours" => match &wo.estimated_hours {
                None => ("estdur", Value::Null),
                Some(hours) => (
                    "estdur",
                    hours
                        .as_str()
                        .parse::<f64>()
                        .ok()
                        .and_then(serde_json::Number::from_f64)
                        .map(Value::Number)
                        .ok_or_else(|| field_error(field, "must be a number of hours"))?,
                ),
            },
            "actual_hours" => {
                return Err(field_error(
                    field,
                    "is booked through labor transactions in Maximo and cannot be written",
                ))
            }
            "assignee_ids" if wo.assignee_ids.is_empty() => continue,
            "assignee_ids" => {
                return Err(field_error(
                    field,
                    "Maximo assignments are not written by this connector",
                ))
            }
            _ => return Err(field_error(field, "is set by Maximo and cannot be written")),
        };
        body.insert(attribute.into(), converted);
    }
    if creating && !input.has("title") {
        return Err(field_error("title", "is required"));
    }
    let siteid = match sites.as_slice() {
        [] => None,
        [(_, first), rest @ ..] => {
            if let Some((field, _)) = rest.iter().find(|(_, s)| s != first) {
                return Err(field_error(
                    field,
                    "is at another site than the work order's other references",
                ));
            }
            Some(first.clone())
        }
    };
    Ok(WorkOrderWrite { body, siteid })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::maximo::client::rest_id;
    use serde_json::json;

    #[test]
    fn create_body_and_site() {
        let w = work_order(
            &json!({"title": "Fix", "type": "corrective", "priority": "high", "status": "in_progress",
                    "asset_id": rest_id(&["11001", "BEDFORD"]), "location_id": rest_id(&["BR108", "BEDFORD"]),
                    "estimated_hours": "2.5"}),
            true,
        )
        .unwrap();
        assert_eq!(w.siteid.as_deref(), Some("BEDFORD"));
        assert_eq!(
            Value::Object(w.body),
            json!({"description": "Fix", "worktype": "CM", "wopriority": 2, "status": "INPRG",
                   "assetnum": "11001", "location": "BR108", "estdur": 2.5})
        );
    }

    #[test]
    fn refusals_name_the_field() {
        let err = |v: Value, creating| match work_order(&v, creating).unwrap_err() {
            ConnectorError::Invalid { field, .. } => field,
            other => panic!("{other:?}"),
        };
        assert_eq!(err(json!({"description": "x"}), true), "title");
        assert_eq!(err(json!({"status": "on_hold"}), false), "status");
        assert_eq!(err(json!({"number": "1"}), false), "number");
        assert_eq!(err(json!({"asset_id": "12"}), false), "asset_id");
        assert_eq!(
            err(
                json!({"asset_id": rest_id(&["1", "A"]), "location_id": rest_id(&["L", "B"])}),
                false
            ),
            "location_id"
        );
    }
}
