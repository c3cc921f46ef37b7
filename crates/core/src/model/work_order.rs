//! Work orders: a job to do on an asset or at a location.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{Decimal, EntityModel, Relation};
use crate::{time::Timestamp, Entity};

/// A work order. Relation fields hold the source's remote ids (see [`super`]).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct WorkOrder {
    /// The human work order number (not the source's internal id).
    pub number: Option<String>,
    /// Short summary of the work.
    pub title: Option<String>,
    /// Free text.
    pub description: Option<String>,
    /// Why the work is done.
    #[serde(rename = "type")]
    pub r#type: Option<WorkOrderType>,
    /// Unified status, translated from [`WorkOrder::remote_status`].
    pub status: Option<WorkOrderStatus>,
    /// The status exactly as the source names it.
    pub remote_status: Option<String>,
    /// How urgent the work is.
    pub priority: Option<WorkOrderPriority>,
    /// Remote id of the asset worked on.
    pub asset_id: Option<String>,
    /// Remote id of the location worked at.
    pub location_id: Option<String>,
    /// Remote ids of the assigned users.
    pub assignee_ids: Vec<String>,
    /// When the work must be done by.
    #[serde(with = "crate::time::rfc3339_opt")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub due_at: Option<Timestamp>,
    /// When the work is planned to start.
    #[serde(with = "crate::time::rfc3339_opt")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub scheduled_start_at: Option<Timestamp>,
    /// When the work was completed.
    #[serde(with = "crate::time::rfc3339_opt")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub completed_at: Option<Timestamp>,
    /// Planned labour, in hours.
    pub estimated_hours: Option<Decimal>,
    /// Labour booked, in hours.
    pub actual_hours: Option<Decimal>,
}

/// Why the work is done.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum WorkOrderType {
    /// Repair after a failure (also called reactive).
    Corrective,
    /// Planned, calendar- or usage-based.
    Preventive,
    /// Triggered by condition monitoring.
    Predictive,
    /// An inspection or check.
    Inspection,
    /// Urgent repair to prevent harm or loss.
    Emergency,
    /// Anything else.
    Other,
}

/// Where a work order stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum WorkOrderStatus {
    /// Not started.
    Open,
    /// Being worked on.
    InProgress,
    /// Paused (waiting for parts, access, approval).
    OnHold,
    /// Work done.
    Completed,
    /// Will not be done.
    Cancelled,
}

/// How urgent a work order is.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum WorkOrderPriority {
    /// No priority set.
    None,
    /// Low.
    Low,
    /// Medium.
    Medium,
    /// High.
    High,
    /// Above high, where the source has it.
    Urgent,
}

impl EntityModel for WorkOrder {
    const ENTITY: Entity = Entity::WorkOrders;

    fn relations() -> &'static [Relation] {
        &[
            ("asset_id", Entity::Assets),
            ("location_id", Entity::Locations),
            ("assignee_ids", Entity::Users),
        ]
    }

    fn display_name(&self) -> Option<String> {
        self.title.clone().or_else(|| self.number.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::assert_round_trip;
    use serde_json::json;

    #[test]
    fn round_trips_every_field() {
        let wo = WorkOrder {
            number: Some("1042".into()),
            title: Some("Pump 3 seal leak".into()),
            description: Some("Mechanical seal weeping".into()),
            r#type: Some(WorkOrderType::Corrective),
            status: Some(WorkOrderStatus::InProgress),
            remote_status: Some("IN_PROGRESS".into()),
            priority: Some(WorkOrderPriority::High),
            asset_id: Some("8901".into()),
            location_id: Some("2345".into()),
            assignee_ids: vec!["11".into(), "12".into()],
            due_at: crate::time::parse("2026-03-21T17:00:00Z"),
            scheduled_start_at: crate::time::parse("2026-03-21T08:00:00.5Z"),
            completed_at: None,
            estimated_hours: Some(Decimal::parse("1.50").unwrap()),
            actual_hours: Some(Decimal::parse("0.75").unwrap()),
        };
        assert_round_trip(
            &wo,
            json!({
                "number": "1042", "title": "Pump 3 seal leak", "description": "Mechanical seal weeping",
                "type": "corrective", "status": "in_progress", "remote_status": "IN_PROGRESS",
                "priority": "high", "asset_id": "8901", "location_id": "2345",
                "assignee_ids": ["11", "12"], "due_at": "2026-03-21T17:00:00Z",
                "scheduled_start_at": "2026-03-21T08:00:00.500Z", "completed_at": null,
                "estimated_hours": "1.50", "actual_hours": "0.75"
            }),
        );
        assert_eq!(wo.display_name().as_deref(), Some("Pump 3 seal leak"));
        let untitled = WorkOrder {
            number: Some("7".into()),
            ..WorkOrder::default()
        };
        assert_eq!(untitled.display_name().as_deref(), Some("7"));
    }

    #[test]
    fn enums_use_the_contract_words() {
        let types = [
            "corrective",
            "preventive",
            "predictive",
            "inspection",
            "emergency",
            "other",
        ];
        for word in types {
            let t: WorkOrderType = serde_json::from_value(json!(word)).unwrap();
            assert_eq!(serde_json::to_value(t).unwrap(), word);
        }
        for word in ["open", "in_progress", "on_hold", "completed", "cancelled"] {
            let s: WorkOrderStatus = serde_json::from_value(json!(word)).unwrap();
            assert_eq!(serde_json::to_value(s).unwrap(), word);
        }
        for word in ["none", "low", "medium", "high", "urgent"] {
            let p: WorkOrderPriority = serde_json::from_value(json!(word)).unwrap();
            assert_eq!(serde_json::to_value(p).unwrap(), word);
        }
        assert!(WorkOrderPriority::Urgent > WorkOrderPriority::High);
        let wo: WorkOrder = serde_json::from_value(json!({"title": "x"})).unwrap();
        assert!(wo.assignee_ids.is_empty());
    }
}
