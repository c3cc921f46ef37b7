//! Unified-model write bodies → MaintainX request bodies, checked in full before anything is
//! sent: a write that MaintainX cannot take fails with [`ConnectorError::Invalid`] naming the
//! field, and nothing half-happens in the source.

use millwright_core::model::{parse_input, Decimal, FieldError, WorkOrder, WorkOrderPriority};
use serde_json::{json, Map, Value};

use super::mapping::{
    code_for, WORK_ORDER_PRIORITY, WORK_ORDER_STATUS, WORK_ORDER_STATUS_WRITABLE,
};
use crate::ConnectorError;

/// How a unified value becomes a MaintainX one.
#[derive(Clone, Copy)]
enum Write {
    Text,
    /// Text that may not be empty or cleared.
    RequiredText,
    /// A remote id: MaintainX ids are numbers.
    Id,
    /// `assignee_ids` → `assignees: [{"type": "USER", "id": …}]`.
    Assignees,
    /// RFC 3339, as MaintainX writes its own timestamps.
    Time,
    /// Hours → whole seconds.
    SecondsFromHours,
    /// Through [`WORK_ORDER_PRIORITY`]; clearing means `NONE`.
    Priority,
}

/// Work order fields a create or update may set: unified field, MaintainX field, conversion.
/// `status` is not here: it has its own endpoint. Every other unified field (`number`, `type`,
/// `completed_at`, …) is MaintainX's to set.
const WORK_ORDER: &[(&str, &str, Write)] = &[
    ("title", "title", Write::RequiredText),
    ("description", "description", Write::Text),
    ("priority", "priority", Write::Priority),
    ("asset_id", "assetId", Write::Id),
    ("location_id", "locationId", Write::Id),
    ("assignee_ids", "assignees", Write::Assignees),
    ("due_at", "dueDate", Write::Time),
    ("estimated_hours", "estimatedTime", Write::SecondsFromHours),
];

/// A work order write, ready to send.
#[derive(Debug, Clone, PartialEq)]
pub struct WorkOrderWrite {
    /// The body of `POST /workorders` or `PATCH /workorders/{id}`; empty when only the status
    /// changes.
    pub body: Map<String, Value>,
    /// The MaintainX status to set through `PATCH /workorders/{id}/status`, if any.
    pub status: Option<&'static str>,
}

/// Checks and translates a work order create (`creating`) or patch body.
pub fn work_order(input: &Value, creating: bool) -> Result<WorkOrderWrite, ConnectorError> {
    let input = parse_input::<WorkOrder>(input).map_err(invalid)?;
    // The parsed record, re-serialized: values in their canonical form (timestamps in UTC).
    let data = serde_json::to_value(&input.data).unwrap_or_default();
    let mut body = Map::new();
    let mut status = None;
    for field in &input.fields {
        let value = &data[field.as_str()];
        if field == "status" {
            let Some(wanted) = input.data.status else {
                return Err(field_error(field, "cannot be cleared"));
            };
            let code = code_for(WORK_ORDER_STATUS, wanted)
                .filter(|c| WORK_ORDER_STATUS_WRITABLE.contains(c));
            status = Some(code.ok_or_else(|| {
                field_error(
                    field,
                    "MaintainX work orders can be open, in_progress, on_hold or completed",
                )
            })?);
            continue;
        }
        let Some((_, target, conversion)) = WORK_ORDER.iter().find(|(f, _, _)| f == field) else {
            return Err(field_error(
                field,
                "is set by MaintainX and cannot be written",
            ));
        };
        body.insert(
            target.to_string(),
            convert(field, value, *conversion, &input.data)?,
        );
    }
    if creating && !input.has("title") {
        return Err(field_error("title", "is required"));
    }
    if let Some(custom) = input.custom_fields {
        // MaintainX keys custom fields by their label, as `custom_fields` does.
        body.insert("extraFields".into(), Value::Object(custom));
    }
    Ok(WorkOrderWrite { body, status })
}

fn convert(
    field: &str,
    value: &Value,
    conversion: Write,
    data: &WorkOrder,
) -> Result<Value, ConnectorError> {
    match conversion {
        Write::Text => Ok(value.clone()),
        Write::RequiredText => match value.as_str().map(str::trim) {
            Some(text) if !text.is_empty() => Ok(Value::String(text.to_string())),
            _ => Err(field_error(field, "must be a non-empty string")),
        },
        Write::Id => match value {
            Value::Null => Ok(Value::Null),
            Value::String(id) => numeric_id(field, id),
            _ => Err(field_error(field, "must be a string id")),
        },
        Write::Assignees => {
            let assignees = data
                .assignee_ids
                .iter()
                .enumerate()
                .map(|(i, id)| {
                    Ok(json!({"type": "USER", "id": numeric_id(&format!("{field}[{i}]"), id)?}))
                })
                .collect::<Result<Vec<_>, ConnectorError>>()?;
            Ok(Value::Array(assignees))
        }
        Write::Time => Ok(value.clone()),
        Write::SecondsFromHours => match &data.estimated_hours {
            None => Ok(Value::Null),
            Some(hours) => seconds(field, hours),
        },
        Write::Priority => {
            let priority = data.priority.unwrap_or(WorkOrderPriority::None);
            code_for(WORK_ORDER_PRIORITY, priority)
                .map(|code| Value::String(code.into()))
                .ok_or_else(|| {
                    field_error(field, "MaintainX priorities are none, low, medium and high")
                })
        }
    }
}

/// MaintainX ids are integers; a relation field must hold one (as text).
fn numeric_id(field: &str, id: &str) -> Result<Value, ConnectorError> {
    id.trim().parse::<u64>().map(Value::from).map_err(|_| {
        field_error(
            field,
            &format!("`{id}` is not a MaintainX id (ids are numbers)"),
        )
    })
}

fn seconds(field: &str, hours: &Decimal) -> Result<Value, ConnectorError> {
    let scale = hours.scale().min(9);
    let seconds = hours
        .to_scaled(scale)
        .and_then(|units| units.checked_mul(3600))
        .and_then(|units| Decimal::from_scaled(units, scale).to_scaled(0))
        .filter(|s| (0..=i64::MAX as i128).contains(s))
        .ok_or_else(|| field_error(field, "must be a non-negative number of hours"))?;
    Ok(Value::from(seconds as i64))
}

fn field_error(field: &str, message: &str) -> ConnectorError {
    ConnectorError::Invalid {
        field: field.to_string(),
        message: message.to_string(),
    }
}

fn invalid(error: FieldError) -> ConnectorError {
    ConnectorError::Invalid {
        field: error.field,
        message: error.message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn invalid_field(result: Result<WorkOrderWrite, ConnectorError>) -> (String, String) {
        match result {
            Err(ConnectorError::Invalid { field, message }) => (field, message),
            other => panic!("expected Invalid, got {other:?}"),
        }
    }

    #[test]
    fn a_full_create_translates_every_writable_field() {
        let write = work_order(
            &json!({
                "title": " Pump 3 seal leak ", "description": "Weeping at the gland",
                "priority": "high", "asset_id": "8901", "location_id": "2345",
                "assignee_ids": ["11", "12"], "due_at": "2026-03-21T18:00:00+01:00",
                "estimated_hours": "1.5", "status": "in_progress",
                "custom_fields": {"Cost center": "CC-12"}
            }),
            true,
        )
        .unwrap();
        assert_eq!(
            Value::Object(write.body),
            json!({
                "title": "Pump 3 seal leak", "description": "Weeping at the gland", "priority": "HIGH",
                "assetId": 8901, "locationId": 2345,
                "assignees": [{"type": "USER", "id": 11}, {"type": "USER", "id": 12}],
                "dueDate": "2026-03-21T17:00:00Z", "estimatedTime": 5400,
                "extraFields": {"Cost center": "CC-12"}
            })
        );
        assert_eq!(write.status, Some("IN_PROGRESS"));
    }

    #[test]
    fn a_patch_sends_only_what_it_names_and_null_clears() {
        let write = work_order(&json!({"status": "completed"}), false).unwrap();
        assert!(write.body.is_empty());
        assert_eq!(write.status, Some("DONE"));
        let write = work_order(
            &json!({"asset_id": null, "priority": null, "estimated_hours": null}),
            false,
        )
        .unwrap();
        assert_eq!(
            Value::Object(write.body),
            json!({"assetId": null, "priority": "NONE", "estimatedTime": null})
        );
        assert_eq!(write.status, None);
        let write = work_order(&json!({"estimated_hours": 0.25}), false).unwrap();
        assert_eq!(write.body["estimatedTime"], 900);
    }

    #[test]
    fn refusals_name_the_field() {
        let cases = [
            (
                json!({"description": "no title"}),
                true,
                "title",
                "is required",
            ),
            (json!({"title": "  "}), true, "title", "non-empty"),
            (
                json!({"title": "x", "priority": "urgent"}),
                true,
                "priority",
                "none, low, medium and high",
            ),
            (
                json!({"title": "x", "priority": "asap"}),
                true,
                "priority",
                "unknown variant",
            ),
            (
                json!({"status": "cancelled"}),
                false,
                "status",
                "open, in_progress, on_hold or completed",
            ),
            (
                json!({"status": null}),
                false,
                "status",
                "cannot be cleared",
            ),
            (
                json!({"number": "42"}),
                false,
                "number",
                "cannot be written",
            ),
            (
                json!({"completed_at": "2026-01-01T00:00:00Z"}),
                false,
                "completed_at",
                "cannot be written",
            ),
            (
                json!({"asset_id": "rec_01abc"}),
                false,
                "asset_id",
                "not a MaintainX id",
            ),
            (
                json!({"assignee_ids": ["1", "bob"]}),
                false,
                "assignee_ids[1]",
                "not a MaintainX id",
            ),
            (
                json!({"estimated_hours": "-2"}),
                false,
                "estimated_hours",
                "non-negative",
            ),
            (json!({"due_at": "soon"}), false, "due_at", "RFC 3339"),
            (json!({"colour": "red"}), false, "colour", "is not a field"),
        ];
        for (body, creating, field, message) in cases {
            let (got_field, got_message) = invalid_field(work_order(&body, creating));
            assert_eq!(got_field, field, "{body}");
            assert!(got_message.contains(message), "{body}: {got_message}");
        }
    }
}
