//! Input rules shared by several routes; each failure names its field.

use millwright_connectors::{ConnectorDescriptor, ConnectorError, Credentials};
use millwright_core::Entity;
use serde_json::{Map, Value};

use crate::{
    error::FieldError,
    views::{SyncSettings, DEFAULT_FREQUENCY_MINUTES, DEFAULT_HISTORY_DAYS},
};

const MAX_NAME: usize = 200;
const MAX_METADATA_KEYS: usize = 50;
const MAX_METADATA_KEY: usize = 40;
const MAX_METADATA_VALUE: usize = 500;

/// Collects field errors so one answer lists every problem.
#[derive(Default)]
pub struct Problems(pub Vec<FieldError>);

impl Problems {
    pub fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.push(FieldError::new(field, message));
    }

    pub fn into_result(self) -> Result<(), crate::ApiError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(crate::ApiError::ValidationFailed(self.0))
        }
    }
}

pub fn name(p: &mut Problems, field: &str, v: &str) {
    if v.trim().is_empty() {
        p.add(field, "must not be empty");
    } else if v.chars().count() > MAX_NAME {
        p.add(field, format!("must be at most {MAX_NAME} characters"));
    }
}

/// Metadata is a flat object of strings, Stripe's way: at most 50 keys of 40 characters,
/// values of at most 500. `null` values are allowed only where `allow_null` (PATCH deletes).
pub fn metadata(p: &mut Problems, v: &Value, allow_null: bool) -> Map<String, Value> {
    let Some(obj) = v.as_object() else {
        p.add("metadata", "must be an object of string values");
        return Map::new();
    };
    if obj.len() > MAX_METADATA_KEYS {
        p.add(
            "metadata",
            format!("may hold at most {MAX_METADATA_KEYS} keys"),
        );
    }
    for (k, val) in obj {
        let field = format!("metadata.{k}");
        if k.is_empty() || k.chars().count() > MAX_METADATA_KEY {
            p.add(
                &field,
                format!("keys must be 1 to {MAX_METADATA_KEY} characters"),
            );
        }
        match val {
            Value::String(s) if s.chars().count() > MAX_METADATA_VALUE => p.add(
                &field,
                format!("must be at most {MAX_METADATA_VALUE} characters"),
            ),
            Value::String(_) => {}
            Value::Null if allow_null => {}
            _ => p.add(&field, "must be a string"),
        }
    }
    obj.clone()
}

/// Sync settings with defaults filled and entities checked against what the connector reads.
#[derive(Debug, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SyncInput {
    pub frequency_minutes: Option<u32>,
    pub history_days: Option<u32>,
    pub entities: Option<Vec<Entity>>,
}

pub fn sync_settings(
    p: &mut Problems,
    input: Option<SyncInput>,
    d: &ConnectorDescriptor,
) -> SyncSettings {
    let input = input.unwrap_or_default();
    let frequency_minutes = input.frequency_minutes.unwrap_or(DEFAULT_FREQUENCY_MINUTES);
    if !(1..=1440).contains(&frequency_minutes) {
        p.add("sync.frequency_minutes", "must be between 1 and 1440");
    }
    let history_days = input.history_days.unwrap_or(DEFAULT_HISTORY_DAYS);
    if !(1..=3650).contains(&history_days) {
        p.add("sync.history_days", "must be between 1 and 3650");
    }
    let readable: Vec<Entity> = d
        .entities
        .iter()
        .filter(|e| e.read)
        .map(|e| e.entity)
        .collect();
    let entities = match input.entities {
        None => readable,
        Some(list) => {
            for e in &list {
                if !readable.contains(e) {
                    p.add(
                        "sync.entities",
                        format!("the {} connector does not read {}", d.id, e.as_str()),
                    );
                }
            }
            let mut list = list;
            list.sort();
            list.dedup();
            list
        }
    };
    SyncSettings {
        frequency_minutes,
        history_days,
        entities,
    }
}

pub fn credentials(p: &mut Problems, d: &ConnectorDescriptor, v: &Value) -> Option<Credentials> {
    match Credentials::from_json(d, v) {
        Ok(c) => Some(c),
        Err(errors) => {
            for e in errors {
                match e {
                    ConnectorError::Invalid { field, message } => p.add(field, message),
                    other => p.add("credentials", other.to_string()),
                }
            }
            None
        }
    }
}
