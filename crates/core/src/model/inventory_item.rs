//! Inventory items: spare parts and materials kept in stock.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{Decimal, EntityModel, Relation};
use crate::Entity;

/// A stocked part or material. Relation fields hold the source's remote ids (see [`super`]).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct InventoryItem {
    /// The part or material number.
    pub part_number: Option<String>,
    /// The item's name.
    pub name: Option<String>,
    /// Free text.
    pub description: Option<String>,
    /// The unit quantities are counted in (`EA`, `pcs`, `kg`), as the source writes it.
    pub unit_of_measure: Option<String>,
    /// Quantity in stock, in `unit_of_measure`.
    pub quantity_on_hand: Option<Decimal>,
    /// The reorder point.
    pub minimum_quantity: Option<Decimal>,
    /// Cost of one unit, in `currency`.
    pub unit_cost: Option<Decimal>,
    /// ISO 4217 code of `unit_cost`.
    pub currency: Option<String>,
    /// Remote id of the storage location.
    pub location_id: Option<String>,
    /// Remote ids of the vendors that supply the item.
    pub vendor_ids: Vec<String>,
}

impl EntityModel for InventoryItem {
    const ENTITY: Entity = Entity::InventoryItems;

    fn relations() -> &'static [Relation] {
        &[
            ("location_id", Entity::Locations),
            ("vendor_ids", Entity::Vendors),
        ]
    }

    fn display_name(&self) -> Option<String> {
        self.name.clone().or_else(|| self.part_number.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::assert_round_trip;
    use serde_json::json;

    #[test]
    fn round_trips_every_field() {
        let item = InventoryItem {
            part_number: Some("BRG-6205".into()),
            name: Some("Ball bearing 6205".into()),
            description: Some("Deep groove, 25x52x15".into()),
            unit_of_measure: Some("EA".into()),
            quantity_on_hand: Some(Decimal::parse("14").unwrap()),
            minimum_quantity: Some(Decimal::parse("4").unwrap()),
            unit_cost: Some(Decimal::parse("12.40").unwrap()),
            currency: Some("EUR".into()),
            location_id: Some("30".into()),
            vendor_ids: vec!["77".into()],
        };
        assert_round_trip(
            &item,
            json!({
                "part_number": "BRG-6205", "name": "Ball bearing 6205",
                "description": "Deep groove, 25x52x15", "unit_of_measure": "EA",
                "quantity_on_hand": "14", "minimum_quantity": "4", "unit_cost": "12.40",
                "currency": "EUR", "location_id": "30", "vendor_ids": ["77"]
            }),
        );
        assert_eq!(item.display_name().as_deref(), Some("Ball bearing 6205"));
        let unnamed = InventoryItem {
            part_number: Some("X-1".into()),
            ..Default::default()
        };
        assert_eq!(unnamed.display_name().as_deref(), Some("X-1"));
    }
}
