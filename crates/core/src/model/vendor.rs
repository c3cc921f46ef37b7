//! Vendors: the suppliers parts and services are bought from.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{Address, EntityModel, Relation};
use crate::Entity;

/// A supplier.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct Vendor {
    /// The vendor's name.
    pub name: Option<String>,
    /// The source's supplier number or code.
    pub code: Option<String>,
    /// Order or contact e-mail address.
    pub email: Option<String>,
    /// Phone number, as the source writes it.
    pub phone: Option<String>,
    /// VAT number, EIN or the local equivalent.
    pub tax_id: Option<String>,
    /// ISO 4217 code the vendor invoices in.
    pub currency: Option<String>,
    /// Payment terms as the source writes them (`Net 30`).
    pub payment_terms: Option<String>,
    /// The vendor's postal address.
    pub address: Option<Address>,
    /// Whether the vendor is in use.
    pub status: Option<VendorStatus>,
}

/// Whether the vendor may still be ordered from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum VendorStatus {
    /// May be ordered from.
    Active,
    /// Blocked, archived or otherwise not in use.
    Inactive,
}

impl EntityModel for Vendor {
    const ENTITY: Entity = Entity::Vendors;

    fn relations() -> &'static [Relation] {
        &[]
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
        let vendor = Vendor {
            name: Some("Acme Bearings Ltd".into()),
            code: Some("V-1001".into()),
            email: Some("orders@acme.example".into()),
            phone: Some("+44 113 496 0000".into()),
            tax_id: Some("GB123456789".into()),
            currency: Some("GBP".into()),
            payment_terms: Some("Net 30".into()),
            address: Some(Address {
                country: Some("GB".into()),
                ..Default::default()
            }),
            status: Some(VendorStatus::Inactive),
        };
        assert_round_trip(
            &vendor,
            json!({
                "name": "Acme Bearings Ltd", "code": "V-1001", "email": "orders@acme.example",
                "phone": "+44 113 496 0000", "tax_id": "GB123456789", "currency": "GBP",
                "payment_terms": "Net 30",
                "address": {"line1": null, "line2": null, "city": null, "region": null,
                            "postal_code": null, "country": "GB"},
                "status": "inactive"
            }),
        );
        assert_eq!(vendor.display_name().as_deref(), Some("Acme Bearings Ltd"));
        assert_eq!(
            serde_json::to_value(VendorStatus::Active).unwrap(),
            "active"
        );
    }
}
