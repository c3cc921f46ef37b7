//! Locations: sites, buildings, areas, functional locations, warehouses and bins.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{Address, EntityModel, Relation};
use crate::Entity;

/// A place where assets stand or stock is kept. Relation fields hold the source's remote ids
/// (see [`super`]).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct Location {
    /// The location's name.
    pub name: Option<String>,
    /// The source's short code for the location (plant code, functional location label).
    pub code: Option<String>,
    /// What kind of place this is.
    #[serde(rename = "type")]
    pub r#type: Option<LocationType>,
    /// Remote id of the enclosing location.
    pub parent_location_id: Option<String>,
    /// Postal address, for sites and buildings.
    pub address: Option<Address>,
}

/// What kind of place a location is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum LocationType {
    /// A plant, campus or other whole site.
    Site,
    /// A building on a site.
    Building,
    /// An area, room or zone inside a building.
    Area,
    /// An SAP/Maximo-style functional location (a position in a technical structure).
    FunctionalLocation,
    /// A storeroom or warehouse.
    Warehouse,
    /// A storage bin inside a warehouse.
    Bin,
    /// The source types the location as something else.
    Other,
}

impl EntityModel for Location {
    const ENTITY: Entity = Entity::Locations;

    fn relations() -> &'static [Relation] {
        &[("parent_location_id", Entity::Locations)]
    }

    fn display_name(&self) -> Option<String> {
        self.name.clone().or_else(|| self.code.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::assert_round_trip;
    use serde_json::json;

    #[test]
    fn round_trips_every_field() {
        let location = Location {
            name: Some("Plant North".into()),
            code: Some("PN01".into()),
            r#type: Some(LocationType::FunctionalLocation),
            parent_location_id: Some("1".into()),
            address: Some(Address {
                line1: Some("1 Mill Road".into()),
                line2: Some("Gate 4".into()),
                city: Some("Leeds".into()),
                region: Some("West Yorkshire".into()),
                postal_code: Some("LS1 4AP".into()),
                country: Some("GB".into()),
            }),
        };
        assert_round_trip(
            &location,
            json!({
                "name": "Plant North", "code": "PN01", "type": "functional_location",
                "parent_location_id": "1",
                "address": {"line1": "1 Mill Road", "line2": "Gate 4", "city": "Leeds",
                            "region": "West Yorkshire", "postal_code": "LS1 4AP", "country": "GB"}
            }),
        );
        assert_eq!(location.display_name().as_deref(), Some("Plant North"));
    }

    #[test]
    fn types_use_the_contract_words() {
        let words = [
            "site",
            "building",
            "area",
            "functional_location",
            "warehouse",
            "bin",
            "other",
        ];
        for word in words {
            let t: LocationType = serde_json::from_value(json!(word)).unwrap();
            assert_eq!(serde_json::to_value(t).unwrap(), word);
        }
        let partial: Address = serde_json::from_value(json!({"city": "Leeds"})).unwrap();
        assert_eq!(partial.city.as_deref(), Some("Leeds"));
        assert!(!partial.is_empty() && Address::default().is_empty());
    }
}
