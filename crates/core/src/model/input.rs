//! Unified-model JSON given for a write (`POST`/`PATCH` bodies), checked field by field so that
//! an error names the field at fault.

use serde::{de::DeserializeOwned, Serialize};
use serde_json::{Map, Value};

use super::EntityModel;

/// A field of a write body that is not acceptable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct FieldError {
    /// The field's path: `priority`, `line_items[1].quantity`; `body` for the body itself.
    pub field: String,
    /// What is wrong with it.
    pub message: String,
}

/// A parsed write body.
#[derive(Debug, Clone, PartialEq)]
pub struct Input<T> {
    /// The unified fields; those not given are empty.
    pub data: T,
    /// The fields the body named (including those set to `null`), sorted. A `PATCH` changes
    /// exactly these; `null` clears.
    pub fields: Vec<String>,
    /// `custom_fields`, when the body had that object.
    pub custom_fields: Option<Map<String, Value>>,
}

impl<T> Input<T> {
    /// Whether the body named `field`.
    pub fn has(&self, field: &str) -> bool {
        self.fields.iter().any(|f| f == field)
    }
}

/// Parses a write body for entity `T`: an object of `T`'s fields plus an optional
/// `custom_fields` object. Unknown fields are refused (a misspelt field would otherwise be
/// silently ignored), and each field is checked on its own so that the error names it, down to
/// the element of a list of objects (`line_items[1].quantity`).
pub fn parse_input<T>(body: &Value) -> Result<Input<T>, FieldError>
where
    T: EntityModel + Serialize + DeserializeOwned + Default,
{
    let Some(object) = body.as_object() else {
        return Err(FieldError {
            field: "body".into(),
            message: "must be a JSON object".into(),
        });
    };
    let known = serde_json::to_value(T::default()).unwrap_or_default();
    let known = known.as_object().cloned().unwrap_or_default();
    let mut fields = Map::new();
    let mut custom_fields = None;
    for (key, value) in object {
        if key == "custom_fields" {
            match value {
                Value::Object(map) => custom_fields = Some(map.clone()),
                Value::Null => {}
                _ => {
                    return Err(FieldError {
                        field: key.clone(),
                        message: "must be an object".into(),
                    })
                }
            }
            continue;
        }
        let Some(template) = known.get(key) else {
            return Err(FieldError {
                field: key.clone(),
                message: format!("is not a field of {}", T::ENTITY.as_str()),
            });
        };
        check_field::<T>(key, value, template)?;
        fields.insert(key.clone(), value.clone());
    }
    // Sorted explicitly: `Map`'s own order depends on serde_json's `preserve_order` feature.
    let mut names: Vec<String> = fields.keys().cloned().collect();
    names.sort();
    let data = serde_json::from_value(Value::Object(fields)).map_err(|e| FieldError {
        field: "body".into(),
        message: e.to_string(),
    })?;
    Ok(Input {
        data,
        fields: names,
        custom_fields,
    })
}

/// Deserializes `T` from `{key: value}` alone, so the error can only be this field's; for a list
/// of objects (purchase order lines), checks each element's fields the same way, unknown ones
/// included.
fn check_field<T: DeserializeOwned + Serialize>(
    key: &str,
    value: &Value,
    template: &Value,
) -> Result<(), FieldError> {
    let single = |v: Value| {
        serde_json::from_value::<T>(Value::Object(Map::from_iter([(key.to_string(), v)])))
    };
    if let (Value::Array(items), Value::Array(_)) = (value, template) {
        let element_fields = element_fields::<T>(key);
        for (index, item) in items.iter().enumerate() {
            let Value::Object(item_fields) = item else {
                continue;
            };
            for (item_key, item_value) in item_fields {
                let at = || format!("{key}[{index}].{item_key}");
                if element_fields
                    .as_ref()
                    .is_some_and(|known| !known.contains_key(item_key))
                {
                    return Err(FieldError {
                        field: at(),
                        message: "is not a field of this list's elements".into(),
                    });
                }
                let one = Map::from_iter([(item_key.clone(), item_value.clone())]);
                if let Err(e) = single(Value::Array(vec![Value::Object(one)])) {
                    return Err(FieldError {
                        field: at(),
                        message: clean(&e),
                    });
                }
            }
        }
        for (index, item) in items.iter().enumerate() {
            if let Err(e) = single(Value::Array(vec![item.clone()])) {
                return Err(FieldError {
                    field: format!("{key}[{index}]"),
                    message: clean(&e),
                });
            }
        }
    }
    single(value.clone()).map(|_| ()).map_err(|e| FieldError {
        field: key.to_string(),
        message: clean(&e),
    })
}

/// The fields of an element of list field `key`, when its elements are objects: read off an
/// element built from `{}`, which every element struct accepts (all its fields are optional).
fn element_fields<T: DeserializeOwned + Serialize>(key: &str) -> Option<Map<String, Value>> {
    let probe = Value::Object(Map::from_iter([(
        key.to_string(),
        Value::Array(vec![Value::Object(Map::new())]),
    )]));
    let built = serde_json::to_value(serde_json::from_value::<T>(probe).ok()?).ok()?;
    built.get(key)?.get(0)?.as_object().cloned()
}

/// serde's message without the position suffix that means nothing for a `Value`.
fn clean(error: &serde_json::Error) -> String {
    let text = error.to_string();
    match text.find(" at line ") {
        Some(i) => text[..i].to_string(),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Decimal, PurchaseOrder, WorkOrder, WorkOrderPriority, WorkOrderStatus};
    use serde_json::json;

    #[test]
    fn reads_fields_and_remembers_which_were_named() {
        let input = parse_input::<WorkOrder>(&json!({
            "title": "Replace seal", "priority": "high", "status": "in_progress", "asset_id": "8901",
            "due_at": null, "estimated_hours": "1.5", "custom_fields": {"Cost center": "CC-12"}
        }))
        .unwrap();
        assert_eq!(input.data.title.as_deref(), Some("Replace seal"));
        assert_eq!(input.data.priority, Some(WorkOrderPriority::High));
        assert_eq!(input.data.status, Some(WorkOrderStatus::InProgress));
        assert_eq!(
            input.data.estimated_hours,
            Some(Decimal::parse("1.5").unwrap())
        );
        assert!(input.has("due_at") && input.has("title") && !input.has("description"));
        assert!(!input.has("custom_fields"));
        assert_eq!(input.custom_fields.unwrap()["Cost center"], "CC-12");
    }

    #[test]
    fn names_the_bad_field() {
        let cases = [
            (
                json!({"title": "x", "priority": "critical"}),
                "priority",
                "unknown variant",
            ),
            (
                json!({"titel": "x"}),
                "titel",
                "is not a field of work_orders",
            ),
            (json!({"due_at": "tomorrow"}), "due_at", "RFC 3339"),
            (json!({"assignee_ids": "7"}), "assignee_ids", "sequence"),
            (
                json!({"estimated_hours": "1,5"}),
                "estimated_hours",
                "not a decimal",
            ),
            (
                json!({"custom_fields": [1]}),
                "custom_fields",
                "must be an object",
            ),
            (json!(["title"]), "body", "must be a JSON object"),
        ];
        for (body, field, message) in cases {
            let err = parse_input::<WorkOrder>(&body).unwrap_err();
            assert_eq!(err.field, field, "{body}");
            assert!(err.message.contains(message), "{body}: {}", err.message);
        }
    }

    #[test]
    fn names_the_bad_field_inside_a_line() {
        let body = json!({"number": "PO-1", "line_items": [
            {"line_number": 1, "quantity": "2"},
            {"line_number": 2, "quantity": "2 pcs"}
        ]});
        let err = parse_input::<PurchaseOrder>(&body).unwrap_err();
        assert_eq!(err.field, "line_items[1].quantity");
        assert!(err.message.contains("2 pcs"), "{}", err.message);
        let err = parse_input::<PurchaseOrder>(&json!({"line_items": [7]})).unwrap_err();
        assert_eq!(err.field, "line_items[0]");
        let err = parse_input::<PurchaseOrder>(&json!({"line_items": [{"qty": 2}]})).unwrap_err();
        assert_eq!(err.field, "line_items[0].qty");
        let ok =
            parse_input::<PurchaseOrder>(&json!({"line_items": [{"item_id": "5", "quantity": 2}]}))
                .unwrap();
        assert_eq!(ok.data.line_items[0].quantity, Some(Decimal::from(2)));
    }
}
