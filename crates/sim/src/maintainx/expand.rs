//! The `expand` query parameter and the record views it produces.
//!
//! `expand` is repeatable (`expand=asset&expand=location`, [CODE]). Without it a record carries
//! only id fields (`assetId`, `locationId`, `assigneeIds`); each expansion adds a field next to
//! them: `assignees` → `[{"id": 7, "type": "USER"}]` (ids and types only, no names, [CODE]),
//! `asset` / `location` → the full related record, or `null` if it was deleted (UNVERIFIED),
//! `status` → an asset's status object, `asset_types` → `assetTypes: ["Pump"]` (UNVERIFIED
//! shape), `extra_fields` → `extraFields`, the custom fields keyed by label. Custom fields are
//! only sent when asked for (UNVERIFIED; it matches the parameter's existence). A value a
//! resource does not know is rejected with 400 rather than ignored, so a connector relying on
//! an expansion the simulator lacks finds out at once.

use serde::Serialize;

use super::error::ApiError;
use super::store::Lookup;
use super::wire::*;
use crate::query::Query;

/// One `expand` value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Expansion {
    Assignees,
    Asset,
    Location,
    Status,
    AssetTypes,
    ExtraFields,
}

impl Expansion {
    fn name(self) -> &'static str {
        match self {
            Expansion::Assignees => "assignees",
            Expansion::Asset => "asset",
            Expansion::Location => "location",
            Expansion::Status => "status",
            Expansion::AssetTypes => "asset_types",
            Expansion::ExtraFields => "extra_fields",
        }
    }

    fn bit(self) -> u8 {
        1 << self as u8
    }
}

/// The set of expansions a request asked for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Expand(u8);

impl Expand {
    /// Reads every `expand` value, accepting only those in `allowed`.
    pub(crate) fn parse(query: &Query, allowed: &[Expansion]) -> Result<Self, ApiError> {
        let mut set = 0;
        for value in query.all("expand") {
            match allowed.iter().find(|e| e.name() == value) {
                Some(e) => set |= e.bit(),
                None => {
                    let names: Vec<&str> = allowed.iter().map(|e| e.name()).collect();
                    return Err(ApiError::bad_request(format!(
                        "Invalid expand value '{value}'; allowed: {}",
                        names.join(", ")
                    )));
                }
            }
        }
        Ok(Expand(set))
    }

    pub(crate) fn has(self, e: Expansion) -> bool {
        self.0 & e.bit() != 0
    }
}

/// An expanded assignee: id and kind only.
#[derive(Debug, Serialize)]
pub(crate) struct AssigneeRef {
    id: u64,
    #[serde(rename = "type")]
    kind: &'static str,
}

/// A work order with its expansions.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct WorkOrderView<'a> {
    #[serde(flatten)]
    record: &'a WorkOrder,
    #[serde(skip_serializing_if = "Option::is_none")]
    assignees: Option<Vec<AssigneeRef>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    asset: Option<Option<Asset>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    location: Option<Option<Location>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    extra_fields: Option<&'a ExtraFields>,
}

impl<'a> WorkOrderView<'a> {
    pub(crate) fn new(record: &'a WorkOrder, expand: Expand, lookup: &Lookup<'_>) -> Self {
        WorkOrderView {
            record,
            assignees: expand.has(Expansion::Assignees).then(|| {
                record
                    .assignee_ids
                    .iter()
                    .map(|id| AssigneeRef {
                        id: *id,
                        kind: "USER",
                    })
                    .collect()
            }),
            asset: expand
                .has(Expansion::Asset)
                .then(|| record.asset_id.and_then(|id| lookup.asset(id))),
            location: expand
                .has(Expansion::Location)
                .then(|| record.location_id.and_then(|id| lookup.location(id))),
            extra_fields: expand
                .has(Expansion::ExtraFields)
                .then_some(&record.extra_fields),
        }
    }
}

/// An asset with its expansions.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct AssetView<'a> {
    #[serde(flatten)]
    record: &'a Asset,
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<&'a AssetStatus>,
    #[serde(skip_serializing_if = "Option::is_none")]
    asset_types: Option<&'a [String]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    location: Option<Option<Location>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    extra_fields: Option<&'a ExtraFields>,
}

impl<'a> AssetView<'a> {
    pub(crate) fn new(record: &'a Asset, expand: Expand, lookup: &Lookup<'_>) -> Self {
        AssetView {
            record,
            status: expand.has(Expansion::Status).then_some(&record.status),
            asset_types: expand
                .has(Expansion::AssetTypes)
                .then_some(record.asset_types.as_slice()),
            location: expand
                .has(Expansion::Location)
                .then(|| record.location_id.and_then(|id| lookup.location(id))),
            extra_fields: expand
                .has(Expansion::ExtraFields)
                .then_some(&record.extra_fields),
        }
    }
}

/// Any record whose only expansion is its custom fields.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct WithExtraFields<'a, T: Serialize> {
    #[serde(flatten)]
    record: &'a T,
    #[serde(skip_serializing_if = "Option::is_none")]
    extra_fields: Option<&'a ExtraFields>,
}

impl<'a, T: Serialize> WithExtraFields<'a, T> {
    pub(crate) fn new(record: &'a T, fields: &'a ExtraFields, expand: Expand) -> Self {
        WithExtraFields {
            record,
            extra_fields: expand.has(Expansion::ExtraFields).then_some(fields),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_accepts_repeats_and_rejects_unknown_values() {
        let allowed = [Expansion::Asset, Expansion::Location];
        let q = Query::parse(Some("expand=asset&expand=location&expand=asset"));
        let e = Expand::parse(&q, &allowed).unwrap();
        assert!(e.has(Expansion::Asset) && e.has(Expansion::Location));
        assert!(!e.has(Expansion::Status));
        let bad = Query::parse(Some("expand=status"));
        assert!(Expand::parse(&bad, &allowed).is_err());
        assert_eq!(
            Expand::parse(&Query::parse(None), &allowed).unwrap(),
            Expand::default()
        );
    }
}
