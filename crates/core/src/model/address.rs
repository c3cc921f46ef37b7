//! Postal addresses, shared by locations, vendors and purchase orders.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A postal address. Every part is optional because sources split addresses differently (some
/// keep one free-text line); a connector puts what it cannot split into `line1`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct Address {
    /// Street and number.
    pub line1: Option<String>,
    /// Building, floor, suite.
    pub line2: Option<String>,
    /// City or town.
    pub city: Option<String>,
    /// State, province, county or region.
    pub region: Option<String>,
    /// Postal or ZIP code.
    pub postal_code: Option<String>,
    /// The country as the source gives it (ISO 3166 code when the source has one).
    pub country: Option<String>,
}

impl Address {
    /// Whether no part is filled, so connectors can leave an empty source address out.
    pub fn is_empty(&self) -> bool {
        self == &Address::default()
    }
}
