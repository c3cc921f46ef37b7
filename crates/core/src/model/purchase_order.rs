//! Purchase orders and their line items.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{Address, Decimal, EntityModel, Relation};
use crate::Entity;

/// A purchase order with its lines. Relation fields hold the source's remote ids (see
/// [`super`]); `line_items.item_id` is a relation inside each line.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct PurchaseOrder {
    /// The purchase order number people quote.
    pub number: Option<String>,
    /// Unified status, translated from [`PurchaseOrder::remote_status`].
    pub status: Option<PurchaseOrderStatus>,
    /// The status exactly as the source names it.
    pub remote_status: Option<String>,
    /// Remote id of the vendor ordered from.
    pub vendor_id: Option<String>,
    /// When the order was placed (or created, where the source has no order date).
    pub order_date: Option<NaiveDate>,
    /// When the buyer needs the goods.
    pub required_date: Option<NaiveDate>,
    /// When the vendor promises or made delivery.
    pub delivery_date: Option<NaiveDate>,
    /// ISO 4217 code of every amount on the order.
    pub currency: Option<String>,
    /// The order's total, in `currency`.
    pub total_amount: Option<Decimal>,
    /// Payment terms as the source writes them (`Net 30`).
    pub payment_terms: Option<String>,
    /// Where the goods go.
    pub ship_to: Option<Address>,
    /// Where the invoice goes.
    pub bill_to: Option<Address>,
    /// The order's lines, in order.
    pub line_items: Vec<PurchaseOrderLineItem>,
}

/// One line of a purchase order.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct PurchaseOrderLineItem {
    /// Position on the order, from 1 unless the source numbers lines otherwise (10, 20, …).
    pub line_number: Option<u32>,
    /// Remote id of the inventory item ordered, when the line is for a stocked item.
    pub item_id: Option<String>,
    /// The vendor's or the buyer's product code.
    pub product_code: Option<String>,
    /// What is ordered, in words.
    pub description: Option<String>,
    /// Quantity ordered, in `unit_of_measure`.
    pub quantity: Option<Decimal>,
    /// The unit the quantity is counted in.
    pub unit_of_measure: Option<String>,
    /// Price of one unit, in the order's currency.
    pub unit_price: Option<Decimal>,
    /// The line amount (usually quantity × unit price).
    pub total: Option<Decimal>,
    /// When this line is to be or was delivered.
    pub delivery_date: Option<NaiveDate>,
    /// Quantity received so far.
    pub received_quantity: Option<Decimal>,
}

/// Where a purchase order stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PurchaseOrderStatus {
    /// Being prepared; not sent.
    Draft,
    /// Sent for approval (a requested PO).
    Submitted,
    /// Approved to be sent to the vendor.
    Approved,
    /// Some goods received.
    PartiallyReceived,
    /// All goods received.
    Received,
    /// Closed (invoiced, or finished otherwise).
    Closed,
    /// Cancelled or declined.
    Cancelled,
}

impl EntityModel for PurchaseOrder {
    const ENTITY: Entity = Entity::PurchaseOrders;

    fn relations() -> &'static [Relation] {
        &[
            ("vendor_id", Entity::Vendors),
            ("line_items.item_id", Entity::InventoryItems),
        ]
    }

    fn display_name(&self) -> Option<String> {
        self.number.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::assert_round_trip;
    use serde_json::json;

    fn dec(s: &str) -> Option<Decimal> {
        Some(Decimal::parse(s).unwrap())
    }

    #[test]
    fn round_trips_every_field() {
        let po = PurchaseOrder {
            number: Some("PO-2026-0042".into()),
            status: Some(PurchaseOrderStatus::PartiallyReceived),
            remote_status: Some("PARTIALLY_FULFILLED".into()),
            vendor_id: Some("77".into()),
            order_date: NaiveDate::from_ymd_opt(2026, 11, 2),
            required_date: NaiveDate::from_ymd_opt(2026, 11, 20),
            delivery_date: NaiveDate::from_ymd_opt(2026, 11, 18),
            currency: Some("USD".into()),
            total_amount: dec("1250.00"),
            payment_terms: Some("Net 30".into()),
            ship_to: Some(Address {
                line1: Some("1 Mill Road".into()),
                city: Some("Leeds".into()),
                ..Default::default()
            }),
            bill_to: None,
            line_items: vec![PurchaseOrderLineItem {
                line_number: Some(10),
                item_id: Some("5".into()),
                product_code: Some("BRG-6205".into()),
                description: Some("Ball bearing".into()),
                quantity: dec("100"),
                unit_of_measure: Some("EA".into()),
                unit_price: dec("12.50"),
                total: dec("1250.00"),
                delivery_date: NaiveDate::from_ymd_opt(2026, 11, 18),
                received_quantity: dec("40"),
            }],
        };
        assert_round_trip(
            &po,
            json!({
                "number": "PO-2026-0042", "status": "partially_received",
                "remote_status": "PARTIALLY_FULFILLED", "vendor_id": "77",
                "order_date": "2026-11-02", "required_date": "2026-11-20", "delivery_date": "2026-11-18",
                "currency": "USD", "total_amount": "1250.00", "payment_terms": "Net 30",
                "ship_to": {"line1": "1 Mill Road", "line2": null, "city": "Leeds", "region": null,
                            "postal_code": null, "country": null},
                "bill_to": null,
                "line_items": [{
                    "line_number": 10, "item_id": "5", "product_code": "BRG-6205",
                    "description": "Ball bearing", "quantity": "100", "unit_of_measure": "EA",
                    "unit_price": "12.50", "total": "1250.00", "delivery_date": "2026-11-18",
                    "received_quantity": "40"
                }]
            }),
        );
        assert_eq!(po.display_name().as_deref(), Some("PO-2026-0042"));
    }

    #[test]
    fn statuses_use_the_contract_words_and_dates_are_plain() {
        let words = [
            "draft",
            "submitted",
            "approved",
            "partially_received",
            "received",
            "closed",
            "cancelled",
        ];
        for word in words {
            let s: PurchaseOrderStatus = serde_json::from_value(json!(word)).unwrap();
            assert_eq!(serde_json::to_value(s).unwrap(), word);
        }
        assert!(serde_json::from_value::<PurchaseOrder>(
            json!({"order_date": "2026-11-02T00:00:00Z"})
        )
        .is_err());
        let po: PurchaseOrder = serde_json::from_value(json!({"number": "1"})).unwrap();
        assert!(po.line_items.is_empty());
    }
}
