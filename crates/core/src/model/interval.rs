//! The repeat interval of a maintenance schedule.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// "Every `value` `unit`s", e.g. `{"value": 3, "unit": "months"}`.
///
/// Both parts are required: an interval without its unit means nothing, so a connector that
/// cannot read both leaves the schedule's `interval` empty instead.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Interval {
    /// How many units between two occurrences.
    pub value: u32,
    /// The unit of `value`.
    pub unit: IntervalUnit,
}

/// Calendar units, plus `hours` for schedules on running time; `other` for what does not fit
/// (a meter reading in km, cycles), with the source's unit left in `remote_data`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum IntervalUnit {
    /// Running or calendar hours.
    Hours,
    /// Days.
    Days,
    /// Weeks.
    Weeks,
    /// Calendar months.
    Months,
    /// Years.
    Years,
    /// A unit none of the above covers.
    Other,
}
