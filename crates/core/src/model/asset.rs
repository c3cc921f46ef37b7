//! Assets: the equipment that is maintained (pumps, motors, vehicles, buildings' systems).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{EntityModel, Relation};
use crate::{time::Timestamp, Entity};

/// An asset. Relation fields hold the source's remote ids (see [`super`]).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct Asset {
    /// The asset's name.
    pub name: Option<String>,
    /// The tag or number people use for the asset (asset tag, equipment number).
    pub asset_number: Option<String>,
    /// Free text.
    pub description: Option<String>,
    /// Unified status, translated from [`Asset::remote_status`].
    pub status: Option<AssetStatus>,
    /// The status exactly as the source names it.
    pub remote_status: Option<String>,
    /// The source's asset type or class.
    pub category: Option<String>,
    /// The maker.
    pub manufacturer: Option<String>,
    /// The maker's model name or number.
    pub model: Option<String>,
    /// The maker's serial number.
    pub serial_number: Option<String>,
    /// The source's criticality or ABC indicator, as written there (scales differ per system).
    pub criticality: Option<String>,
    /// Remote id of the asset's location.
    pub location_id: Option<String>,
    /// Remote id of the parent asset in an asset hierarchy.
    pub parent_asset_id: Option<String>,
    /// When the asset was installed or commissioned.
    #[serde(with = "crate::time::rfc3339_opt")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub installed_at: Option<Timestamp>,
}

/// Whether an asset can do its job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AssetStatus {
    /// Running or available.
    Operational,
    /// Out of service, not planned.
    Down,
    /// Out of service for planned maintenance.
    Maintenance,
    /// Retired; kept for history.
    Decommissioned,
    /// The source has a status that says none of the above.
    Unknown,
}

impl EntityModel for Asset {
    const ENTITY: Entity = Entity::Assets;

    fn relations() -> &'static [Relation] {
        &[
            ("location_id", Entity::Locations),
            ("parent_asset_id", Entity::Assets),
        ]
    }

    fn display_name(&self) -> Option<String> {
        self.name.clone().or_else(|| self.asset_number.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::assert_round_trip;
    use serde_json::json;

    #[test]
    fn round_trips_every_field() {
        let asset = Asset {
            name: Some("Pump 3".into()),
            asset_number: Some("P-0003".into()),
            description: Some("Cooling water pump".into()),
            status: Some(AssetStatus::Maintenance),
            remote_status: Some("OFFLINE".into()),
            category: Some("Pumps".into()),
            manufacturer: Some("Grundfos".into()),
            model: Some("CR 10-4".into()),
            serial_number: Some("SN-889".into()),
            criticality: Some("A".into()),
            location_id: Some("2345".into()),
            parent_asset_id: Some("17".into()),
            installed_at: crate::time::parse("2021-03-01T08:00:00Z"),
        };
        assert_round_trip(
            &asset,
            json!({
                "name": "Pump 3", "asset_number": "P-0003", "description": "Cooling water pump",
                "status": "maintenance", "remote_status": "OFFLINE", "category": "Pumps",
                "manufacturer": "Grundfos", "model": "CR 10-4", "serial_number": "SN-889",
                "criticality": "A", "location_id": "2345", "parent_asset_id": "17",
                "installed_at": "2021-03-01T08:00:00Z"
            }),
        );
        assert_eq!(asset.display_name().as_deref(), Some("Pump 3"));
    }

    #[test]
    fn statuses_use_the_contract_words_and_missing_fields_are_empty() {
        for (status, word) in [
            (AssetStatus::Operational, "operational"),
            (AssetStatus::Down, "down"),
            (AssetStatus::Maintenance, "maintenance"),
            (AssetStatus::Decommissioned, "decommissioned"),
            (AssetStatus::Unknown, "unknown"),
        ] {
            assert_eq!(serde_json::to_value(status).unwrap(), word);
        }
        let empty: Asset = serde_json::from_value(json!({})).unwrap();
        assert_eq!(empty, Asset::default());
        assert_eq!(
            serde_json::to_value(&empty).unwrap()["installed_at"],
            serde_json::Value::Null
        );
        assert!(serde_json::from_value::<Asset>(json!({"status": "broken"})).is_err());
    }
}
