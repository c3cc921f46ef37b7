//! MaintainX records as they appear on the wire (reference/connectors.md §2).
//!
//! Field names and enum values tagged [CODE] in the reference are used as observed. Where the
//! reference is silent or UNVERIFIED, the choice is documented on the field. Conventions kept
//! across every record (UNVERIFIED, chosen for consistency): every field is always present and
//! empty values are `null` rather than omitted; ids are JSON numbers; timestamps are ISO 8601
//! UTC with milliseconds and `Z`; money and quantities are JSON numbers. Fields that only appear
//! with an `expand` parameter are `#[serde(skip)]` here and added by the views in `expand.rs`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::clock::Ts;
use crate::num::Num;

/// Custom fields, keyed by their *label* as MaintainX does ([CODE]); sorted, so responses are
/// byte-stable.
pub(crate) type ExtraFields = BTreeMap<String, Value>;

/// Work-order status ([CODE]: `DONE` is the real completed status).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub(crate) enum WorkOrderStatus {
    Open,
    InProgress,
    OnHold,
    Done,
}

/// Work-order priority ([CODE], Pipedream constants).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub(crate) enum Priority {
    None,
    Low,
    Medium,
    High,
}

/// Work-order type. `PREVENTIVE` is [CODE]; `REACTIVE` and `OTHER` complete MaintainX's
/// Reactive / Preventive / Other choice in its UI (UNVERIFIED as wire values).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub(crate) enum WorkOrderType {
    Reactive,
    Preventive,
    Other,
}

/// A work order.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct WorkOrder {
    pub(crate) id: u64,
    /// The human work-order number, per organization, from 1.
    pub(crate) sequential_id: u64,
    pub(crate) title: String,
    pub(crate) description: Option<String>,
    pub(crate) status: WorkOrderStatus,
    pub(crate) priority: Priority,
    #[serde(rename = "type")]
    pub(crate) work_order_type: WorkOrderType,
    pub(crate) due_date: Option<Ts>,
    /// Seconds.
    pub(crate) estimated_time: Option<u64>,
    /// Always present, possibly empty ([CODE]).
    pub(crate) assignee_ids: Vec<u64>,
    pub(crate) categories: Vec<String>,
    pub(crate) asset_id: Option<u64>,
    pub(crate) location_id: Option<u64>,
    /// Set exactly when `status` is `DONE`.
    pub(crate) completed_at: Option<Ts>,
    pub(crate) created_at: Ts,
    pub(crate) updated_at: Ts,
    /// Free-form integration data, returned as stored.
    pub(crate) external_data: Option<Value>,
    /// Only with `expand=extra_fields`.
    #[serde(skip)]
    pub(crate) extra_fields: ExtraFields,
}

/// Whether an asset is running, shown with `expand=status` ([CODE] shape:
/// `{status, downtimeType, description, startedAt, customStatus:{label}}`). The values
/// `ONLINE`/`OFFLINE` and `PLANNED`/`UNPLANNED` are UNVERIFIED.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct AssetStatus {
    pub(crate) status: AssetState,
    pub(crate) downtime_type: Option<DowntimeType>,
    pub(crate) description: Option<String>,
    pub(crate) started_at: Ts,
    pub(crate) custom_status: Option<CustomStatus>,
}

/// An asset's running state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub(crate) enum AssetState {
    Online,
    Offline,
}

/// Why an offline asset is down.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub(crate) enum DowntimeType {
    Planned,
    Unplanned,
}

/// An organization-defined status label.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct CustomStatus {
    pub(crate) label: String,
}

/// An asset.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Asset {
    pub(crate) id: u64,
    pub(crate) name: String,
    pub(crate) description: Option<String>,
    pub(crate) location_id: Option<u64>,
    /// The asset this one is a component of.
    pub(crate) parent_id: Option<u64>,
    pub(crate) serial_number: Option<String>,
    pub(crate) model: Option<String>,
    pub(crate) manufacturer: Option<String>,
    pub(crate) barcode: Option<String>,
    pub(crate) created_at: Ts,
    pub(crate) updated_at: Ts,
    /// Only with `expand=asset_types`, as `assetTypes: ["Pump"]` (label strings: UNVERIFIED).
    #[serde(skip)]
    pub(crate) asset_types: Vec<String>,
    /// Only with `expand=status`.
    #[serde(skip)]
    pub(crate) status: AssetStatus,
    /// Only with `expand=extra_fields`.
    #[serde(skip)]
    pub(crate) extra_fields: ExtraFields,
}

/// A location (site, building or area; the hierarchy is `parentId`).
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Location {
    pub(crate) id: u64,
    pub(crate) name: String,
    pub(crate) description: Option<String>,
    /// One free-text line, as the create body's `address` suggests (UNVERIFIED).
    pub(crate) address: Option<String>,
    pub(crate) parent_id: Option<u64>,
    pub(crate) created_at: Ts,
    pub(crate) updated_at: Ts,
    /// Only with `expand=extra_fields`.
    #[serde(skip)]
    pub(crate) extra_fields: ExtraFields,
}

/// A part (inventory item). Field names beyond `id`/`name` are UNVERIFIED; they follow
/// MaintainX's part form (part number, barcode, quantities, unit cost, area, vendors).
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Part {
    pub(crate) id: u64,
    pub(crate) name: String,
    pub(crate) description: Option<String>,
    pub(crate) part_number: Option<String>,
    pub(crate) barcode: Option<String>,
    pub(crate) available_quantity: Num,
    pub(crate) minimum_quantity: Num,
    pub(crate) unit_cost: Num,
    /// Where in the storeroom (`Aisle 3, Shelf B, Bin 12`).
    pub(crate) area: Option<String>,
    pub(crate) location_id: Option<u64>,
    pub(crate) vendor_ids: Vec<u64>,
    pub(crate) created_at: Ts,
    pub(crate) updated_at: Ts,
    /// Only with `expand=extra_fields`.
    #[serde(skip)]
    pub(crate) extra_fields: ExtraFields,
}

/// User roles (UNVERIFIED values, after MaintainX's Administrator / Technician / Limited
/// Technician / Requester / View-only roles).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub(crate) enum Role {
    Admin,
    Technician,
    LimitedTechnician,
    Requester,
    ViewOnly,
}

/// A user (`id`, `email`, `firstName`, `lastName` are [CODE]; the rest UNVERIFIED).
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct User {
    pub(crate) id: u64,
    pub(crate) email: String,
    pub(crate) first_name: String,
    pub(crate) last_name: String,
    pub(crate) role: Role,
    pub(crate) phone_number: Option<String>,
    pub(crate) created_at: Ts,
    pub(crate) updated_at: Ts,
}

/// A vendor (UNVERIFIED field names beyond `id`/`name`/`extraFields`).
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Vendor {
    pub(crate) id: u64,
    pub(crate) name: String,
    pub(crate) description: Option<String>,
    pub(crate) email: Option<String>,
    pub(crate) phone_number: Option<String>,
    /// One free-text line, like a location's address.
    pub(crate) address: Option<String>,
    pub(crate) created_at: Ts,
    pub(crate) updated_at: Ts,
    /// Only with `expand=extra_fields`.
    #[serde(skip)]
    pub(crate) extra_fields: ExtraFields,
}

/// Purchase-order status. `DRAFT` and `APPROVED` are [CODE]; the others follow MaintainX's
/// PO workflow (requested, approved or declined, partially fulfilled, completed, canceled)
/// and are UNVERIFIED as wire values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub(crate) enum PurchaseOrderStatus {
    Draft,
    Requested,
    Approved,
    Declined,
    PartiallyFulfilled,
    Completed,
    Canceled,
}

/// A structured address on a purchase order ([CODE] field names).
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PostalAddress {
    pub(crate) street: String,
    pub(crate) city: String,
    pub(crate) state: String,
    pub(crate) postal_code: String,
    pub(crate) country: String,
}

/// A purchase-order line (`name`, `quantityOrdered`, `unitCost` are [CODE]; `id`, `partId`
/// and `quantityReceived` UNVERIFIED).
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PurchaseOrderItem {
    pub(crate) id: u64,
    pub(crate) part_id: Option<u64>,
    pub(crate) name: String,
    pub(crate) quantity_ordered: Num,
    pub(crate) quantity_received: Num,
    pub(crate) unit_cost: Num,
}

/// A purchase order.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PurchaseOrder {
    pub(crate) id: u64,
    /// The PO number MaintainX assigns, per organization, from 1 (UNVERIFIED name, as on
    /// work orders).
    pub(crate) sequential_id: u64,
    /// A number the organization chose instead (`PO-2026-00042`), usually `null`.
    pub(crate) override_number: Option<String>,
    pub(crate) status: PurchaseOrderStatus,
    pub(crate) due_date: Option<Ts>,
    pub(crate) note: Option<String>,
    pub(crate) vendor_id: Option<u64>,
    pub(crate) shipping_address: Option<PostalAddress>,
    pub(crate) billing_address: Option<PostalAddress>,
    pub(crate) items: Vec<PurchaseOrderItem>,
    pub(crate) created_at: Ts,
    pub(crate) updated_at: Ts,
    /// Only with `expand=extra_fields`.
    #[serde(skip)]
    pub(crate) extra_fields: ExtraFields,
}
