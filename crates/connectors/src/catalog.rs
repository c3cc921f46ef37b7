//! Catalog entries: what `GET /api/v1/connectors` shows for each system.

use millwright_core::{
    credits::{credits_for, Deployment, Tier},
    Entity,
};
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    Cmms,
    Eam,
    Erp,
}

/// One credential field a connector asks for.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AuthField {
    pub name: &'static str,
    pub label: &'static str,
    /// Secret fields are encrypted at rest, redacted from logs and masked in forms.
    pub secret: bool,
    pub required: bool,
    /// Shown under the field in forms (Link, dashboard).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub help: Option<&'static str>,
    /// Used when the field is left out.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default: Option<&'static str>,
}

/// What a connector can do with one entity.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EntityOperations {
    pub entity: Entity,
    pub read: bool,
    pub create: bool,
    pub update: bool,
    pub delete: bool,
}

impl EntityOperations {
    pub const fn read_only(entity: Entity) -> EntityOperations {
        EntityOperations {
            entity,
            read: true,
            create: false,
            update: false,
            delete: false,
        }
    }

    pub const fn new(entity: Entity, create: bool, update: bool, delete: bool) -> EntityOperations {
        EntityOperations {
            entity,
            read: true,
            create,
            update,
            delete,
        }
    }
}

#[derive(Debug, Clone)]
pub struct ConnectorDescriptor {
    pub id: &'static str,
    pub name: &'static str,
    pub category: Category,
    pub tier: Tier,
    pub deployments: &'static [Deployment],
    pub auth_fields: Vec<AuthField>,
    pub entities: Vec<EntityOperations>,
}

impl ConnectorDescriptor {
    /// Credits a connection costs in this deployment, or `None` if the connector does not
    /// offer it.
    pub fn credits(&self, deployment: Deployment) -> Option<i64> {
        self.deployments
            .contains(&deployment)
            .then(|| credits_for(self.tier, deployment))
    }

    pub fn operations(&self, entity: Entity) -> Option<&EntityOperations> {
        self.entities.iter().find(|e| e.entity == entity)
    }

    pub fn auth_field(&self, name: &str) -> Option<&AuthField> {
        self.auth_fields.iter().find(|f| f.name == name)
    }
}

fn base_url(help: &'static str, default: Option<&'static str>) -> AuthField {
    AuthField {
        name: "base_url",
        label: "Instance URL",
        secret: false,
        required: default.is_none(),
        help: Some(help),
        default,
    }
}

fn field(
    name: &'static str,
    label: &'static str,
    secret: bool,
    required: bool,
    help: &'static str,
) -> AuthField {
    AuthField {
        name,
        label,
        secret,
        required,
        help: Some(help),
        default: None,
    }
}

pub(crate) fn maintainx() -> ConnectorDescriptor {
    use Entity::*;
    ConnectorDescriptor {
        id: "maintainx",
        name: "MaintainX",
        category: Category::Cmms,
        tier: Tier::One,
        deployments: &[Deployment::Cloud],
        auth_fields: vec![
            base_url(
                "scheme://host[:port]; requests go to /v1 under it.",
                Some("https://api.getmaintainx.com"),
            ),
            field(
                "api_key",
                "API key",
                true,
                true,
                "Settings → Integrations → New Key → Generate Key in MaintainX.",
            ),
            field(
                "organization_id",
                "Organization ID",
                false,
                false,
                "Only for keys that span several organizations (sent as x-organization-id).",
            ),
        ],
        entities: vec![
            EntityOperations::read_only(Assets),
            EntityOperations::read_only(Locations),
            // Delete: `DELETE /workorders/{id}` (the simulator's 204 is UNVERIFIED upstream).
            EntityOperations::new(WorkOrders, true, true, true),
            EntityOperations::read_only(InventoryItems),
            EntityOperations::read_only(PurchaseOrders),
            EntityOperations::read_only(Vendors),
            EntityOperations::read_only(Users),
        ],
    }
}

pub(crate) fn maximo() -> ConnectorDescriptor {
    use Entity::*;
    ConnectorDescriptor {
        id: "maximo",
        name: "IBM Maximo (Manage)",
        category: Category::Eam,
        tier: Tier::Three,
        deployments: &[Deployment::Cloud, Deployment::OnPremise],
        auth_fields: vec![
            base_url(
                "scheme://host[:port] of Maximo; requests go to /maximo under it.",
                None,
            ),
            field(
                "api_key",
                "API key",
                true,
                true,
                "Administration → API Keys in Maximo Manage (sent as the apikey header).",
            ),
        ],
        entities: vec![
            EntityOperations::read_only(Assets),
            EntityOperations::read_only(Locations),
            EntityOperations::new(WorkOrders, true, true, false),
            EntityOperations::read_only(MaintenanceSchedules),
            EntityOperations::read_only(InventoryItems),
            EntityOperations::read_only(PurchaseOrders),
            EntityOperations::read_only(Vendors),
        ],
    }
}

pub(crate) fn sap_s4hana() -> ConnectorDescriptor {
    use Entity::*;
    ConnectorDescriptor {
        id: "sap_s4hana",
        name: "SAP S/4HANA",
        category: Category::Erp,
        tier: Tier::Three,
        deployments: &[Deployment::Cloud, Deployment::OnPremise],
        auth_fields: vec![
            base_url(
                "scheme://host[:port] of the S/4HANA system; OData under /sap/opu/odata/sap.",
                None,
            ),
            field(
                "username",
                "Communication user",
                false,
                true,
                "A communication user with the PM and purchasing OData services.",
            ),
            field(
                "password",
                "Password",
                true,
                true,
                "The communication user's password.",
            ),
            field(
                "client",
                "SAP client",
                false,
                false,
                "The sap-client number, e.g. 100, when not the system default.",
            ),
        ],
        entities: vec![
            EntityOperations::read_only(Assets),
            EntityOperations::read_only(Locations),
            EntityOperations::new(WorkOrders, true, false, false),
            EntityOperations::read_only(MaintenanceSchedules),
            EntityOperations::new(PurchaseOrders, true, false, false),
            EntityOperations::read_only(Vendors),
        ],
    }
}

pub(crate) fn tryton() -> ConnectorDescriptor {
    use Entity::*;
    ConnectorDescriptor {
        id: "tryton",
        name: "Tryton ERP",
        category: Category::Erp,
        tier: Tier::Two,
        deployments: &[Deployment::Cloud, Deployment::OnPremise],
        auth_fields: vec![
            base_url("scheme://host[:port] of the trytond server.", None),
            field(
                "database",
                "Database",
                false,
                true,
                "The Tryton database name.",
            ),
            field(
                "username",
                "User",
                false,
                true,
                "A Tryton user allowed to read and write purchases.",
            ),
            field("password", "Password", true, true, "That user's password."),
        ],
        entities: vec![
            EntityOperations::read_only(Assets),
            EntityOperations::read_only(Locations),
            EntityOperations::read_only(InventoryItems),
            EntityOperations::new(PurchaseOrders, true, false, false),
            EntityOperations::new(Vendors, true, false, false),
            EntityOperations::read_only(Users),
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credits_follow_tier_and_deployment() {
        assert_eq!(maintainx().credits(Deployment::Cloud), Some(1));
        assert_eq!(maintainx().credits(Deployment::OnPremise), None);
        assert_eq!(maximo().credits(Deployment::OnPremise), Some(8));
        assert_eq!(tryton().credits(Deployment::OnPremise), Some(4));
        assert_eq!(sap_s4hana().credits(Deployment::Cloud), Some(4));
    }
}
