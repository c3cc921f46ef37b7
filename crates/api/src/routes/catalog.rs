//! `GET /connectors`: the systems this build can connect to.

use std::collections::BTreeMap;

use axum::{extract::State, Json};
use millwright_connectors::{AuthField, Category, ConnectorDescriptor};
use millwright_core::credits::Deployment;
use serde::Serialize;
use utoipa::ToSchema;

use crate::{auth::WorkspaceAuth, pagination::List, state::AppState, ApiResult};

/// A catalog entry.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConnectorView {
    pub id: &'static str,
    pub name: &'static str,
    pub category: Category,
    /// 1 (simple cloud CMMS), 2 (mid-size ERP) or 3 (SAP-class).
    pub tier: u8,
    pub deployments: Vec<Deployment>,
    /// Credits a connection costs, per deployment: tier 1 = 1, 2 = 2, 3 = 4; on-premise doubles.
    pub credits: BTreeMap<&'static str, i64>,
    pub auth_fields: Vec<AuthField>,
    /// Per entity (snake_case plural), the operations supported: `read`, `create`, `update`, `delete`.
    pub entities: BTreeMap<&'static str, Vec<&'static str>>,
    /// Whether this build can connect to the system now (its wire client is implemented).
    pub available: bool,
}

pub fn view(d: &ConnectorDescriptor, available: bool) -> ConnectorView {
    ConnectorView {
        id: d.id,
        name: d.name,
        category: d.category,
        tier: d.tier.number(),
        deployments: d.deployments.to_vec(),
        credits: d
            .deployments
            .iter()
            .filter_map(|dep| d.credits(*dep).map(|c| (dep.as_str(), c)))
            .collect(),
        auth_fields: d.auth_fields.clone(),
        entities: d
            .entities
            .iter()
            .map(|e| {
                let ops = [
                    ("read", e.read),
                    ("create", e.create),
                    ("update", e.update),
                    ("delete", e.delete),
                ]
                .into_iter()
                .filter_map(|(n, on)| on.then_some(n))
                .collect();
                (e.entity.as_str(), ops)
            })
            .collect(),
        available,
    }
}

#[utoipa::path(
    get, path = "/api/v1/connectors", tag = "connectors",
    responses((status = 200, description = "Every connector of this build", body = List<ConnectorView>)),
    security(("bearer" = []))
)]
pub async fn list(
    State(state): State<AppState>,
    WorkspaceAuth(_ws): WorkspaceAuth,
) -> ApiResult<Json<List<ConnectorView>>> {
    let data = state
        .connectors
        .descriptors()
        .map(|d| view(d, state.connectors.connector(d.id).is_some()))
        .collect();
    Ok(Json(List {
        data,
        next_cursor: None,
    }))
}
