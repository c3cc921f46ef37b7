//! Maintenance schedules: preventive work that repeats (a PM, a maintenance plan).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{EntityModel, Interval, Relation};
use crate::{time::Timestamp, Entity};

/// A repeating maintenance plan. Relation fields hold the source's remote ids (see [`super`]).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct MaintenanceSchedule {
    /// The schedule's name.
    pub name: Option<String>,
    /// Remote id of the asset maintained.
    pub asset_id: Option<String>,
    /// Remote id of the location maintained.
    pub location_id: Option<String>,
    /// How often the work repeats.
    pub interval: Option<Interval>,
    /// When the next occurrence is due.
    #[serde(with = "crate::time::rfc3339_opt")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub next_due_at: Option<Timestamp>,
    /// When the last occurrence was completed.
    #[serde(with = "crate::time::rfc3339_opt")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_completed_at: Option<Timestamp>,
    /// Whether the schedule still generates work.
    pub active: Option<bool>,
}

impl EntityModel for MaintenanceSchedule {
    const ENTITY: Entity = Entity::MaintenanceSchedules;

    fn relations() -> &'static [Relation] {
        &[
            ("asset_id", Entity::Assets),
            ("location_id", Entity::Locations),
        ]
    }

    fn display_name(&self) -> Option<String> {
        self.name.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{assert_round_trip, IntervalUnit};
    use serde_json::json;

    #[test]
    fn round_trips_every_field() {
        let pm = MaintenanceSchedule {
            name: Some("Quarterly pump inspection".into()),
            asset_id: Some("8901".into()),
            location_id: Some("2345".into()),
            interval: Some(Interval {
                value: 3,
                unit: IntervalUnit::Months,
            }),
            next_due_at: crate::time::parse("2026-12-01T00:00:00Z"),
            last_completed_at: crate::time::parse("2026-09-01T10:30:00Z"),
            active: Some(true),
        };
        assert_round_trip(
            &pm,
            json!({
                "name": "Quarterly pump inspection", "asset_id": "8901", "location_id": "2345",
                "interval": {"value": 3, "unit": "months"},
                "next_due_at": "2026-12-01T00:00:00Z", "last_completed_at": "2026-09-01T10:30:00Z",
                "active": true
            }),
        );
        assert_eq!(
            pm.display_name().as_deref(),
            Some("Quarterly pump inspection")
        );
        assert!(serde_json::from_value::<Interval>(json!({"value": 3})).is_err());
        for word in ["hours", "days", "weeks", "months", "years", "other"] {
            let unit: IntervalUnit = serde_json::from_value(json!(word)).unwrap();
            assert_eq!(serde_json::to_value(unit).unwrap(), word);
        }
    }
}
