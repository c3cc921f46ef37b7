//! Reads a page's [`StatusView`] from the store: the platform page from the evaluated
//! components and platform incidents, a workspace page from that workspace's connections, their
//! probes and its incidents.

use std::collections::{BTreeSet, HashMap};

use millwright_api::AppState;
use millwright_core::{status::ConnectionStatus, time::Timestamp};
use millwright_store::{
    Component, ConnectionFilter, Incident, IncidentFilter, IncidentKind, PageRequest, Store,
    StoreResult,
};

use super::view::{
    assemble, connection_component, status_label, uptime, window_start, ComponentView, DayFigures,
    PageInfo, StatusView, CONNECTOR_COMPONENT_PREFIX,
};

/// Incidents and maintenances listed besides the unresolved ones (Statuspage: 50).
const RECENT: u32 = 50;
/// Bounds the unresolved items read for one page view, so a public page costs a bounded
/// number of queries whatever happens.
const UNRESOLVED_PAGES: usize = 5;
const PAGE_SIZE: u32 = 100;

/// The public URL without a trailing slash.
fn base_url(state: &AppState) -> &str {
    state.config.public_url.trim_end_matches('/')
}

/// The page's name: the public URL's host when it is a domain name, otherwise "Millwright"
/// (an address or `localhost` says nothing to a visitor).
pub fn page_name(public_url: &str) -> String {
    let rest = public_url.split_once("://").map_or(public_url, |(_, r)| r);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    if host_port.starts_with('[') {
        return "Millwright".into();
    }
    let host = host_port.split(':').next().unwrap_or_default();
    let is_ip = host.parse::<std::net::IpAddr>().is_ok();
    if host.is_empty() || is_ip || host.eq_ignore_ascii_case("localhost") || !host.contains('.') {
        "Millwright".into()
    } else {
        host.to_ascii_lowercase()
    }
}

/// The platform's page. `with_uptime`: also read the 90 days of daily figures (the HTML page
/// shows them; the JSON does not).
pub async fn platform(state: &AppState, with_uptime: bool) -> StoreResult<StatusView> {
    let store = state.store.as_ref();
    let now = millwright_core::time::now();
    let mut components: Vec<ComponentView> = store
        .list_components()
        .await?
        .into_iter()
        .map(platform_component)
        .collect();
    if with_uptime {
        let ids: Vec<String> = components.iter().map(|c| c.id.clone()).collect();
        let mut by_component: HashMap<String, Vec<DayFigures>> = HashMap::new();
        for d in store
            .component_days(&ids, window_start(now.date_naive()))
            .await?
        {
            if let Some(f) = DayFigures::from_component_day(&d) {
                by_component.entry(d.component_id).or_default().push(f);
            }
        }
        for c in &mut components {
            let days = by_component.remove(&c.id).unwrap_or_default();
            c.uptime = Some(uptime(days, now.date_naive()));
        }
    }
    let incidents = incidents(store, None).await?;
    let page = PageInfo {
        id: "millwright".into(),
        name: page_name(&state.config.public_url),
        url: format!("{}/status", base_url(state)),
        time_zone: "Etc/UTC",
        updated_at: components_updated_at(&components, now),
    };
    Ok(assemble(
        page,
        components,
        incidents,
        |id| vec![id.to_string()],
        now,
    ))
}

/// A workspace's page, or `None` when the workspace does not exist or does not publish one
/// (the caller answers both the same way).
pub async fn workspace(
    state: &AppState,
    workspace_id: &str,
    with_uptime: bool,
) -> StoreResult<Option<StatusView>> {
    let store = state.store.as_ref();
    let Some(ws) = store.get_workspace(workspace_id).await? else {
        return Ok(None);
    };
    if !store.workspace_status_page(&ws.id).await? {
        return Ok(None);
    }
    let now = millwright_core::time::now();

    let mut connections = Vec::new();
    let mut page = PageRequest::first(PAGE_SIZE);
    loop {
        let batch = store
            .list_connections(&ws.id, &ConnectionFilter::default(), &page)
            .await?;
        connections.extend(
            batch
                .items
                .into_iter()
                .filter(|c| c.status != ConnectionStatus::Disconnected),
        );
        match batch.next_after {
            Some(after) => page.after = Some(after),
            None => break,
        }
    }
    connections.sort_by(|a, b| (&a.name, &a.id).cmp(&(&b.name, &b.id)));

    let since = window_start(now.date_naive())
        .and_hms_opt(0, 0, 0)
        .map(|t| t.and_utc())
        .unwrap_or(now);
    let mut components = Vec::with_capacity(connections.len());
    for (i, c) in connections.iter().enumerate() {
        let connector_name = state
            .connectors
            .descriptor(&c.connector)
            .map_or(c.connector.as_str(), |d| d.name);
        let Some(mut view) = connection_component(c, connector_name, i as i64 + 1) else {
            continue;
        };
        if with_uptime {
            let days = store.probe_daily(&ws.id, &c.id, since).await?;
            view.uptime = Some(uptime(
                days.iter().filter_map(DayFigures::from_probe_day),
                now.date_naive(),
            ));
        }
        components.push(view);
    }

    // Its own incidents, and the platform's unresolved ones about a connector it uses.
    let used: BTreeSet<String> = connections
        .iter()
        .map(|c| format!("{CONNECTOR_COMPONENT_PREFIX}{}", c.connector))
        .collect();
    let mut items = incidents(store, Some(&ws.id)).await?;
    for kind in [IncidentKind::Incident, IncidentKind::Maintenance] {
        let platform = unresolved(store, None, kind).await?;
        items.extend(
            platform
                .into_iter()
                .filter(|i| i.component_ids.iter().any(|id| used.contains(id))),
        );
    }

    let by_connector: HashMap<String, Vec<String>> =
        connections.iter().fold(HashMap::new(), |mut m, c| {
            m.entry(format!("{CONNECTOR_COMPONENT_PREFIX}{}", c.connector))
                .or_default()
                .push(c.id.clone());
            m
        });
    let page = PageInfo {
        id: ws.id.clone(),
        name: ws.name.clone(),
        url: format!("{}/status/w/{}", base_url(state), ws.id),
        time_zone: "Etc/UTC",
        updated_at: components_updated_at(&components, ws.created_at),
    };
    Ok(Some(assemble(
        page,
        components,
        items,
        |id| {
            by_connector
                .get(id)
                .cloned()
                .unwrap_or_else(|| vec![id.to_string()])
        },
        now,
    )))
}

/// A page's `updated_at` before incidents count: its latest component change, else `fallback`.
/// [`assemble`] then moves it to the latest incident change.
fn components_updated_at(components: &[ComponentView], fallback: Timestamp) -> Timestamp {
    components
        .iter()
        .map(|c| c.updated_at)
        .max()
        .unwrap_or(fallback)
}

fn platform_component(c: Component) -> ComponentView {
    ComponentView {
        label: status_label(c.status),
        id: c.id,
        name: c.name,
        description: c.description,
        status: c.status,
        detail: c.detail,
        position: c.position,
        group: c.group,
        connector: None,
        created_at: c.created_at,
        updated_at: c.updated_at,
        uptime: None,
    }
}

/// The recent incidents and maintenances of a page (`None`: the platform's), plus every
/// unresolved one; duplicates are dropped by [`assemble`].
async fn incidents(store: &dyn Store, workspace_id: Option<&str>) -> StoreResult<Vec<Incident>> {
    let mut out = Vec::new();
    for kind in [IncidentKind::Incident, IncidentKind::Maintenance] {
        let filter = IncidentFilter {
            workspace_id: workspace_id.map(str::to_string),
            kind: Some(kind),
            unresolved: false,
        };
        out.extend(
            store
                .list_incidents(&filter, &PageRequest::first(RECENT))
                .await?
                .items,
        );
        out.extend(unresolved(store, workspace_id, kind).await?);
    }
    Ok(out)
}

async fn unresolved(
    store: &dyn Store,
    workspace_id: Option<&str>,
    kind: IncidentKind,
) -> StoreResult<Vec<Incident>> {
    let filter = IncidentFilter {
        workspace_id: workspace_id.map(str::to_string),
        kind: Some(kind),
        unresolved: true,
    };
    let mut out = Vec::new();
    let mut page = PageRequest::first(PAGE_SIZE);
    for _ in 0..UNRESOLVED_PAGES {
        let batch = store.list_incidents(&filter, &page).await?;
        out.extend(batch.items);
        match batch.next_after {
            Some(after) => page.after = Some(after),
            None => break,
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::page_name;

    #[test]
    fn page_name_is_the_public_domain_or_millwright() {
        assert_eq!(
            page_name("https://Status.Example.com"),
            "status.example.com"
        );
        assert_eq!(page_name("https://api.acme.io:8443/base/"), "api.acme.io");
        assert_eq!(page_name("http://127.0.0.1:8080"), "Millwright");
        assert_eq!(page_name("http://localhost:8080"), "Millwright");
        assert_eq!(page_name("http://[::1]:8080"), "Millwright");
        assert_eq!(page_name("http://millwright:8080"), "Millwright");
        assert_eq!(page_name(""), "Millwright");
    }
}
