//! `GET /api/v1/field-mappings` (spec §5): for this connection, per entity, where each unified
//! field comes from — the connector's own mapping tables ([`Connector::field_mappings`]),
//! overlaid with the connection's custom fields and remaps ([`crate::field_mappings`]), i.e.
//! exactly what reads apply.

use axum::{extract::State, Json};
use millwright_connectors::Connector;
use millwright_core::{scope::Scope, Entity};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use super::writes::connector;
use crate::{auth::ConnectionAuth, state::AppState, ApiResult};

/// Where a unified field's value comes from.
#[derive(Debug, Serialize, ToSchema, PartialEq)]
pub struct FieldSource {
    /// The unified field: `title`, `line_items.quantity`, `custom_fields.<name>`.
    pub field: String,
    /// The source field: a name, a dotted path, `a|b` for the first present of several, or a
    /// short description of a computed value.
    pub source: String,
    /// `connector` for the connector's built-in mapping; `connection` for a custom field or
    /// remap set on this connection with `PATCH /connections/{id}`.
    pub origin: &'static str,
}

/// The mappings of one entity.
#[derive(Debug, Serialize, ToSchema)]
pub struct EntityMappings {
    /// Snake-case plural (`work_orders`).
    pub entity: Entity,
    pub fields: Vec<FieldSource>,
}

/// Every entity the connection reads.
#[derive(Debug, Serialize, ToSchema)]
pub struct FieldMappings {
    /// The connector's id.
    pub connector: String,
    pub data: Vec<EntityMappings>,
}

/// One entity's rows: the connector's, with the connection's remaps replacing the rows of the
/// fields they remap and its custom fields appended.
fn entity_mappings(connector: &dyn Connector, custom: &Value, entity: Entity) -> EntityMappings {
    let own = custom.get(entity.as_str());
    let remaps = own.and_then(|m| m.get("fields")).and_then(Value::as_object);
    let mut fields: Vec<FieldSource> = connector
        .field_mappings(entity)
        .into_iter()
        .map(|(field, source)| FieldSource {
            field: field.to_string(),
            source: source.to_string(),
            origin: "connector",
        })
        .collect();
    for (field, path) in remaps.into_iter().flatten() {
        let Some(path) = path.as_str() else { continue };
        let row = FieldSource {
            field: field.clone(),
            source: path.to_string(),
            origin: "connection",
        };
        match fields.iter_mut().find(|f| f.field == *field) {
            Some(existing) => *existing = row,
            None => fields.push(row),
        }
    }
    let extra = own
        .and_then(|m| m.get("custom_fields"))
        .and_then(Value::as_object);
    for (name, path) in extra.into_iter().flatten() {
        if let Some(path) = path.as_str() {
            fields.push(FieldSource {
                field: format!("custom_fields.{name}"),
                source: path.to_string(),
                origin: "connection",
            });
        }
    }
    EntityMappings { entity, fields }
}

#[utoipa::path(
    get, path = "/api/v1/field-mappings", tag = "unified",
    description = "For this connection, per entity it reads: each unified field and the source field it comes from, including the connection's own custom fields and remaps.",
    responses(
        (status = 200, description = "Mappings per entity", body = FieldMappings),
        (status = 401, description = "REAUTHORIZATION_REQUIRED and token errors", body = crate::error::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn list(
    State(state): State<AppState>,
    auth: ConnectionAuth,
) -> ApiResult<Json<FieldMappings>> {
    auth.require(Scope::Read)?;
    auth.require_usable()?;
    let connector = connector(&state, &auth)?;
    let data = connector
        .descriptor()
        .entities
        .iter()
        .filter(|e| e.read)
        .map(|e| {
            entity_mappings(
                connector.as_ref(),
                &auth.connection.field_mappings,
                e.entity,
            )
        })
        .collect();
    Ok(Json(FieldMappings {
        connector: auth.connection.connector.clone(),
        data,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use millwright_connectors::Registry;
    use serde_json::json;

    #[test]
    fn connection_mappings_overlay_the_connectors() {
        let registry = Registry::standard();
        let mx = registry.connector("maintainx").unwrap();
        let custom = json!({"work_orders": {
            "fields": {"description": "extraFields.Notes"},
            "custom_fields": {"cost_center": "extraFields.Cost center"}
        }});
        let m = entity_mappings(mx.as_ref(), &custom, Entity::WorkOrders);
        let row = |f: &str| m.fields.iter().find(|r| r.field == f).unwrap();
        assert_eq!(row("title").origin, "connector");
        assert_eq!(row("description").source, "extraFields.Notes");
        assert_eq!(row("description").origin, "connection");
        assert_eq!(
            row("custom_fields.cost_center").source,
            "extraFields.Cost center"
        );
        assert_eq!(
            m.fields.iter().filter(|r| r.field == "description").count(),
            1
        );
        let po = entity_mappings(mx.as_ref(), &json!({}), Entity::PurchaseOrders);
        assert!(po.fields.iter().any(|r| r.field == "line_items.quantity"));
    }
}
