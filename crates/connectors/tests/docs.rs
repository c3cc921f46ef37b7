//! The connector pages in `docs/connectors/` stay true to the code: each page holds a block
//! between `<!-- generated:begin -->` and `<!-- generated:end -->` rendered here from the
//! connectors' own declarations — catalog entry (credits, auth fields, per-entity operations),
//! `incremental(entity)`, the source resource behind each entity, the field tables of each
//! `mapping` module and its translation tables — and this test fails when a page's block
//! differs from what the code says now.
//!
//! `MILLWRIGHT_UPDATE_DOCS=1 cargo test -p millwright-connectors --test docs` rewrites the
//! blocks instead. Everything outside the markers is hand-written (wire format, how computed
//! fields are derived, known limits of the source API) and left alone.

use std::{fmt::Write as _, fs, path::PathBuf};

use millwright_connectors::{
    maintainx, maximo, sap, tryton, AuthField, Category, Connector, ConnectorDescriptor,
    Incremental, Registry,
};
use millwright_core::{credits::Deployment, Entity};
use serde::Serialize;

const BEGIN: &str = "<!-- generated:begin -->";
const END: &str = "<!-- generated:end -->";
const NOTICE: &str = "<!-- Generated from the connector's declarations by `MILLWRIGHT_UPDATE_DOCS=1 cargo test -p millwright-connectors --test docs`; edit the code, not this block. -->";

/// Every deployment, in the order the pages list credits.
const DEPLOYMENTS: [Deployment; 2] = [Deployment::Cloud, Deployment::OnPremise];

fn docs_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/connectors")
}

/// The page of a connector: `docs/connectors/<id>.md`.
fn page_path(id: &str) -> PathBuf {
    docs_dir().join(format!("{id}.md"))
}

fn updating() -> bool {
    std::env::var("MILLWRIGHT_UPDATE_DOCS").is_ok_and(|v| v == "1")
}

// ---------------------------------------------------------------------------------------------
// What each connector declares beyond its descriptor. Each connector module keeps these as its
// own public data; this is the one place that knows where to find them.

/// A field table: unified field ← source field.
type Fields = Vec<(&'static str, &'static str)>;

/// A translation table: a title, its column heads, its rows.
struct Translation {
    title: &'static str,
    heads: Vec<&'static str>,
    rows: Vec<Vec<String>>,
}

/// The unified value of an enum, as the API spells it.
fn unified<T: Serialize>(value: T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => format!("`{s}`"),
        Ok(other) => format!("`{other}`"),
        Err(e) => panic!("an enum of a translation table does not serialise: {e}"),
    }
}

/// A two-column translation table (source code → unified value).
fn table<C: std::fmt::Display, T: Serialize + Copy>(
    title: &'static str,
    source: &'static str,
    rows: &[(C, T)],
) -> Translation {
    Translation {
        title,
        heads: vec![source, "unified value"],
        rows: rows
            .iter()
            .map(|(code, value)| vec![format!("`{code}`"), unified(*value)])
            .collect(),
    }
}

/// The source resource behind `entity` (as the wire names it).
fn source_of(id: &str, entity: Entity) -> Option<String> {
    match id {
        "maintainx" => maintainx::client::resource(entity).map(|r| format!("`/v1/{}`", r.path)),
        "maximo" => maximo::client::object_structure(entity)
            .map(|os| format!("`/maximo/api/os/{}`", os.name)),
        "sap_s4hana" => sap::client::entity_set(entity).map(|s| {
            let expand = s
                .expand
                .map(|e| format!(" (`$expand={e}`)"))
                .unwrap_or_default();
            format!("`{}/{}`{expand}", s.service, s.set)
        }),
        "tryton" => tryton::mapping::model(entity).map(|m| format!("`{}`", m.name)),
        other => panic!("no documentation adapter for connector {other}"),
    }
}

fn pairs<F>(table: &[F], pick: impl Fn(&F) -> (&'static str, &'static str)) -> Fields {
    table.iter().map(pick).collect()
}

/// The field tables of a connector: per entity, and for purchase order lines.
fn fields_of(id: &str, entity: Entity) -> Fields {
    match id {
        "maintainx" => pairs(maintainx::mapping::fields(entity), |f| (f.field, f.source)),
        "maximo" => pairs(maximo::mapping::fields(entity), |f| (f.field, f.source)),
        "sap_s4hana" => pairs(sap::mapping::fields(entity), |f| (f.field, f.source)),
        "tryton" => tryton::mapping::field_sources(entity),
        other => panic!("no documentation adapter for connector {other}"),
    }
}

/// The purchase order line table, if the connector reads lines.
fn line_fields_of(id: &str) -> Option<(String, Fields)> {
    let (source, fields) = match id {
        "maintainx" => (
            "`items[]`".to_string(),
            pairs(maintainx::mapping::PURCHASE_ORDER_LINE, |f| {
                (f.field, f.source)
            }),
        ),
        "maximo" => (
            "`poline[]`".to_string(),
            pairs(maximo::mapping::PURCHASE_ORDER_LINE, |f| {
                (f.field, f.source)
            }),
        ),
        "sap_s4hana" => (
            "`to_PurchaseOrderItem` (`A_PurchaseOrderItem`)".to_string(),
            pairs(sap::mapping::PURCHASE_ORDER_LINE, |f| (f.field, f.source)),
        ),
        "tryton" => (
            format!("`{}`", tryton::mapping::PURCHASE_LINE.name),
            pairs(tryton::mapping::PURCHASE_LINE.table, |f| {
                (f.field, f.source)
            }),
        ),
        _ => return None,
    };
    Some((source, fields))
}

/// The translation tables of a connector.
fn translations_of(id: &str) -> Vec<Translation> {
    match id {
        "maintainx" => {
            use maintainx::mapping::*;
            vec![
                table("Work order status", "`status`", WORK_ORDER_STATUS),
                Translation {
                    title: "Work order statuses a write may send",
                    heads: vec!["`status`"],
                    rows: WORK_ORDER_STATUS_WRITABLE
                        .iter()
                        .map(|s| vec![format!("`{s}`")])
                        .collect(),
                },
                table("Work order priority", "`priority`", WORK_ORDER_PRIORITY),
                table("Work order type", "`type` / category", WORK_ORDER_TYPE),
                Translation {
                    title: "Asset status (first matching row)",
                    heads: vec!["`status`", "`downtimeType`", "unified value"],
                    rows: ASSET_STATUS
                        .iter()
                        .map(|(status, downtime, value)| {
                            vec![
                                format!("`{status}`"),
                                downtime.map_or("any".into(), |d| format!("`{d}`")),
                                unified(*value),
                            ]
                        })
                        .collect(),
                },
                table("Purchase order status", "`status`", PURCHASE_ORDER_STATUS),
            ]
        }
        "maximo" => {
            use maximo::mapping::*;
            vec![
                table("Asset status", "`status`", ASSET_STATUS),
                table("Work order status", "`status`", WORK_ORDER_STATUS),
                table("Work type", "`worktype`", WORK_TYPE),
                table("Work order priority", "`wopriority`", WORK_ORDER_PRIORITY),
                table("Purchase order status", "`status`", PURCHASE_ORDER_STATUS),
                table("Location type", "`type`", LOCATION_TYPE),
                table("PM frequency unit", "`frequnit`", FREQUENCY_UNIT),
            ]
        }
        "sap_s4hana" => {
            use sap::mapping::*;
            vec![
                table(
                    "Maintenance order type",
                    "`MaintenanceOrderType`",
                    ORDER_TYPE,
                ),
                table("Maintenance priority", "`MaintPriority`", PRIORITY),
                table(
                    "Maintenance order status (first system status present decides)",
                    "`SystemStatusText` status",
                    ORDER_SYSTEM_STATUS,
                ),
                Translation {
                    title: "User statuses that put a released order on hold",
                    heads: vec!["`UserStatusText` status"],
                    rows: ORDER_HOLD_USER_STATUS
                        .iter()
                        .map(|s| vec![format!("`{s}`")])
                        .collect(),
                },
                table(
                    "Purchase order processing status",
                    "`PurchasingProcessingStatus`",
                    PO_PROCESSING_STATUS,
                ),
                table(
                    "Maintenance plan cycle unit",
                    "`MaintenancePlanCycleUnit`",
                    CYCLE_UNIT,
                ),
            ]
        }
        "tryton" => {
            use tryton::mapping::*;
            vec![
                table("Purchase state", "`state`", PURCHASE_STATE),
                table(
                    "Purchase shipment state (while `processing`)",
                    "`shipment_state`",
                    PURCHASE_SHIPMENT_STATE,
                ),
                table("Location type", "`type`", LOCATION_TYPE),
                table("Asset state", "`state`", ASSET_STATE),
            ]
        }
        other => panic!("no documentation adapter for connector {other}"),
    }
}

// ---------------------------------------------------------------------------------------------
// Rendering.

fn category(c: Category) -> &'static str {
    match c {
        Category::Cmms => "CMMS",
        Category::Eam => "EAM",
        Category::Erp => "ERP",
    }
}

fn deployment(d: Deployment) -> &'static str {
    match d {
        Deployment::Cloud => "cloud",
        Deployment::OnPremise => "on-premise",
    }
}

/// Credits per connection in each deployment the connector offers.
fn credits(d: &ConnectorDescriptor) -> String {
    DEPLOYMENTS
        .iter()
        .map(|&dep| match d.credits(dep) {
            Some(n) => format!("{}: {n}", deployment(dep)),
            None => format!("{}: not offered", deployment(dep)),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn incremental(i: Incremental) -> String {
    match i {
        Incremental::ServerFilter { field } => format!("server-side filter on `{field}`"),
        Incremental::ClientCompare { field } => {
            format!("full scan, compared on `{field}` client-side")
        }
        Incremental::FullScan => "full scan (no change marker)".into(),
    }
}

fn yes(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "—"
    }
}

/// Pipes would end a Markdown table cell.
fn cell(text: &str) -> String {
    text.replace('|', "\\|")
}

fn auth_row(out: &mut String, f: &AuthField) {
    let _ = writeln!(
        out,
        "| `{}` | {} | {} | {} | {} | {} |",
        f.name,
        cell(f.label),
        yes(f.required),
        yes(f.secret),
        f.default.map_or("—".into(), |d| format!("`{d}`")),
        cell(f.help.unwrap_or("")),
    );
}

fn fields_table(out: &mut String, fields: &Fields) {
    out.push_str("| unified field | source field |\n|---|---|\n");
    for (field, source) in fields {
        let _ = writeln!(out, "| `{field}` | {} |", cell(source));
    }
}

/// The generated block of one connector's page, markers included.
fn render_page(d: &ConnectorDescriptor, c: &dyn Connector) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{BEGIN}\n{NOTICE}\n");
    out.push_str("| | |\n|---|---|\n");
    let _ = writeln!(out, "| connector id | `{}` |", d.id);
    let _ = writeln!(out, "| category | {} |", category(d.category));
    let _ = writeln!(out, "| tier | {} |", d.tier.number());
    let _ = writeln!(out, "| credits per connection | {} |", credits(d));

    out.push_str("\n### Credentials\n\n");
    out.push_str("| field | label | required | secret | default | help |\n");
    out.push_str("|---|---|---|---|---|---|\n");
    for f in &d.auth_fields {
        auth_row(&mut out, f);
    }

    out.push_str("\n### Entities and operations\n\n");
    out.push_str("| unified entity | source | read | create | update | delete | incremental |\n");
    out.push_str("|---|---|---|---|---|---|---|\n");
    for ops in &d.entities {
        let _ = writeln!(
            out,
            "| `{}` | {} | {} | {} | {} | {} | {} |",
            ops.entity.as_str(),
            source_of(d.id, ops.entity).unwrap_or_else(|| "—".into()),
            yes(ops.read),
            yes(ops.create),
            yes(ops.update),
            yes(ops.delete),
            incremental(c.incremental(ops.entity)),
        );
    }

    out.push_str("\n### Field mapping\n\n");
    out.push_str(
        "`a|b`: the first of the source fields present; a description: computed, see below.\n",
    );
    for ops in &d.entities {
        let fields = fields_of(d.id, ops.entity);
        let _ = writeln!(out, "\n#### `{}`\n", ops.entity.as_str());
        fields_table(&mut out, &fields);
        if ops.entity == Entity::PurchaseOrders {
            if let Some((source, lines)) = line_fields_of(d.id) {
                let _ = writeln!(out, "\n#### `purchase_orders.line_items` ← {source}\n");
                fields_table(&mut out, &lines);
            }
        }
    }

    out.push_str("\n### Translation tables\n");
    for t in translations_of(d.id) {
        let _ = writeln!(out, "\n#### {}\n", t.title);
        let _ = writeln!(out, "| {} |", t.heads.join(" | "));
        let _ = writeln!(out, "|{}", "---|".repeat(t.heads.len()));
        for row in &t.rows {
            let _ = writeln!(out, "| {} |", row.join(" | "));
        }
    }
    let _ = write!(out, "\n{END}");
    out
}

/// The generated block of the index: one row per connector.
fn render_index(registry: &Registry) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{BEGIN}\n{NOTICE}\n");
    out.push_str("| connector | id | category | tier | credits per connection | entities |\n");
    out.push_str("|---|---|---|---|---|---|\n");
    for d in registry.descriptors() {
        let entities: Vec<String> = d
            .entities
            .iter()
            .map(|e| {
                let writes: Vec<&str> = [
                    (e.create, "create"),
                    (e.update, "update"),
                    (e.delete, "delete"),
                ]
                .into_iter()
                .filter_map(|(on, op)| on.then_some(op))
                .collect();
                if writes.is_empty() {
                    format!("`{}`", e.entity.as_str())
                } else {
                    format!("`{}` ({})", e.entity.as_str(), writes.join(", "))
                }
            })
            .collect();
        let _ = writeln!(
            out,
            "| [{}]({}.md) | `{}` | {} | {} | {} | {} |",
            d.name,
            d.id,
            d.id,
            category(d.category),
            d.tier.number(),
            credits(d),
            entities.join(", "),
        );
    }
    let _ = write!(out, "\n{END}");
    out
}

/// Checks (or, when updating, rewrites) the generated block of the file at `path`; answers a
/// complaint if the file is out of date.
fn check(path: &PathBuf, block: &str) -> Option<String> {
    let text = fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{}: {e} (every connector needs a page)", path.display()));
    let (Some(start), Some(end)) = (text.find(BEGIN), text.find(END)) else {
        return Some(format!(
            "{}: no `{BEGIN}` … `{END}` block; add the two markers where the generated part goes",
            path.display()
        ));
    };
    assert!(start < end, "{}: markers out of order", path.display());
    let current = &text[start..end + END.len()];
    if current == block {
        return None;
    }
    if updating() {
        let updated = format!("{}{block}{}", &text[..start], &text[end + END.len()..]);
        fs::write(path, updated).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        return None;
    }
    Some(format!(
        "{} is out of date with the code; run `MILLWRIGHT_UPDATE_DOCS=1 cargo test -p millwright-connectors --test docs`",
        path.display()
    ))
}

#[test]
fn connector_pages_match_the_declarations() {
    let registry = Registry::standard();
    let mut stale = Vec::new();
    for d in registry.descriptors() {
        let connector = registry
            .connector(d.id)
            .unwrap_or_else(|| panic!("{} has a catalog entry but no implementation", d.id));
        stale.extend(check(&page_path(d.id), &render_page(d, connector.as_ref())));
    }
    stale.extend(check(
        &docs_dir().join("README.md"),
        &render_index(&registry),
    ));
    assert!(stale.is_empty(), "{}", stale.join("\n"));
}

#[test]
fn every_page_belongs_to_a_connector() {
    let registry = Registry::standard();
    for entry in fs::read_dir(docs_dir()).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        let Some(id) = name.strip_suffix(".md") else {
            continue;
        };
        assert!(
            id == "README" || registry.descriptor(id).is_some(),
            "docs/connectors/{name} names no connector of the registry"
        );
    }
}
