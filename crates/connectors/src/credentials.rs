//! Upstream credentials as given by the customer: a flat map of the connector's auth fields.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::{ConnectorDescriptor, ConnectorError};

/// A flat object of string fields. `Debug` never prints values.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Credentials(pub BTreeMap<String, String>);

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.0.keys()).finish()
    }
}

impl Credentials {
    pub fn get(&self, field: &str) -> Option<&str> {
        self.0
            .get(field)
            .map(|s| s.as_str())
            .filter(|s| !s.is_empty())
    }

    /// The field's value, or [`ConnectorError::Invalid`] naming it.
    pub fn require(&self, field: &str) -> Result<&str, ConnectorError> {
        self.get(field).ok_or_else(|| ConnectorError::Invalid {
            field: format!("credentials.{field}"),
            message: "is required".into(),
        })
    }

    /// Builds credentials from a JSON object, checking them against the descriptor's auth
    /// fields: every required field present, no unknown field, every value a string; fills
    /// declared defaults. Errors name the field (`credentials.api_key`).
    pub fn from_json(
        descriptor: &ConnectorDescriptor,
        value: &serde_json::Value,
    ) -> Result<Credentials, Vec<ConnectorError>> {
        let mut errors = Vec::new();
        let Some(obj) = value.as_object() else {
            return Err(vec![ConnectorError::Invalid {
                field: "credentials".into(),
                message: "must be an object".into(),
            }]);
        };
        let mut out = BTreeMap::new();
        for (k, v) in obj {
            let Some(field) = descriptor.auth_fields.iter().find(|f| f.name == *k) else {
                errors.push(ConnectorError::Invalid {
                    field: format!("credentials.{k}"),
                    message: format!("is not a field of the {} connector", descriptor.id),
                });
                continue;
            };
            match v {
                serde_json::Value::String(s) => {
                    out.insert(field.name.to_string(), s.clone());
                }
                serde_json::Value::Null => {}
                _ => errors.push(ConnectorError::Invalid {
                    field: format!("credentials.{k}"),
                    message: "must be a string".into(),
                }),
            }
        }
        for field in &descriptor.auth_fields {
            let present = out.get(field.name).is_some_and(|s| !s.is_empty());
            if !present {
                if let Some(default) = field.default {
                    out.insert(field.name.to_string(), default.to_string());
                } else if field.required {
                    errors.push(ConnectorError::Invalid {
                        field: format!("credentials.{}", field.name),
                        message: "is required".into(),
                    });
                }
            }
        }
        if let Some(url) = out.get("base_url") {
            if let Err(message) = check_base_url(url) {
                errors.push(ConnectorError::Invalid {
                    field: "credentials.base_url".into(),
                    message,
                });
            }
        }
        if errors.is_empty() {
            Ok(Credentials(out))
        } else {
            Err(errors)
        }
    }
}

/// `base_url` is `scheme://host[:port]`: http(s), a host, nothing after it but an optional `/`.
fn check_base_url(url: &str) -> Result<(), String> {
    let parsed = reqwest::Url::parse(url).map_err(|e| format!("is not a URL ({e})"))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err("must use http or https".into());
    }
    if parsed.host_str().is_none_or(|h| h.is_empty()) {
        return Err("must name a host".into());
    }
    if parsed.path() != "/" || parsed.query().is_some() || parsed.fragment().is_some() {
        return Err(
            "must be scheme://host[:port] only; the connector adds the vendor's path".into(),
        );
    }
    Ok(())
}
