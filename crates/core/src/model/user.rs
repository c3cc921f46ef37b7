//! Users of the source system: technicians, planners, buyers.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{EntityModel, Relation};
use crate::Entity;

/// A person with an account in the source system.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct User {
    /// Full name, as the source shows it.
    pub name: Option<String>,
    /// E-mail address.
    pub email: Option<String>,
    /// The source's role name, as written there (roles differ per system).
    pub role: Option<String>,
    /// Whether the account may still sign in.
    pub active: Option<bool>,
}

impl EntityModel for User {
    const ENTITY: Entity = Entity::Users;

    fn relations() -> &'static [Relation] {
        &[]
    }

    fn display_name(&self) -> Option<String> {
        self.name.clone().or_else(|| self.email.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::assert_round_trip;
    use serde_json::json;

    #[test]
    fn round_trips_every_field() {
        let user = User {
            name: Some("Dana Reyes".into()),
            email: Some("dana@plant.example".into()),
            role: Some("TECHNICIAN".into()),
            active: Some(false),
        };
        assert_round_trip(
            &user,
            json!({"name": "Dana Reyes", "email": "dana@plant.example", "role": "TECHNICIAN", "active": false}),
        );
        assert_eq!(user.display_name().as_deref(), Some("Dana Reyes"));
        let nameless = User {
            email: Some("x@y.example".into()),
            ..Default::default()
        };
        assert_eq!(nameless.display_name().as_deref(), Some("x@y.example"));
    }
}
