//! The event outbox. Events are appended by the write that causes them (in its transaction) or
//! on their own, and listed oldest first: their ids are time-ordered ULIDs.

use millwright_store::{Event, EventFilter, NewEvent, Page, PageRequest, StoreResult};
use rusqlite::{params, types::Value as SqlValue, Connection as SqlConn};

use crate::decode::{self, all, json_text, micros, EVENT_COLS};
use crate::error::Db;

pub(crate) fn insert(c: &SqlConn, e: &NewEvent) -> StoreResult<()> {
    c.prepare_cached(
        "INSERT INTO events (id, workspace_id, connection_id, type, data, created_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )
    .db()?
    .execute(params![
        e.id,
        e.workspace_id,
        e.connection_id,
        e.event_type,
        json_text(&e.data),
        micros(&e.created_at),
    ])
    .db()?;
    Ok(())
}

/// The half-open range of type strings `[low, high)` that a `prefix.*` filter matches: every
/// type starting with `prefix.`. Compared as text on the (workspace, type, id) index rather
/// than with `LIKE`, whose wildcards (`_`) would need escaping.
fn prefix_range(pattern: &str) -> Option<(String, String)> {
    let dotted = pattern.strip_suffix('*').filter(|p| p.ends_with('.'))?;
    // '/' is the character after '.', so "a." <= t < "a/" holds exactly for t starting "a.".
    let high = format!("{}/", &dotted[..dotted.len() - 1]);
    Some((dotted.to_owned(), high))
}

pub(crate) fn list(
    c: &SqlConn,
    workspace_id: &str,
    filter: &EventFilter,
    page: &PageRequest,
) -> StoreResult<Page<Event>> {
    let mut sql = format!("SELECT {EVENT_COLS} FROM events WHERE workspace_id = ?");
    let mut args: Vec<SqlValue> = vec![workspace_id.to_owned().into()];
    match filter.event_type.as_deref().map(|t| (t, prefix_range(t))) {
        None => {}
        Some((_, Some((low, high)))) => {
            sql.push_str(" AND type >= ? AND type < ?");
            args.push(low.into());
            args.push(high.into());
        }
        Some((exact, None)) => {
            sql.push_str(" AND type = ?");
            args.push(exact.to_owned().into());
        }
    }
    if let Some(connection_id) = &filter.connection_id {
        sql.push_str(" AND connection_id = ?");
        args.push(connection_id.clone().into());
    }
    if let Some(since) = &filter.since {
        sql.push_str(" AND created_at >= ?");
        args.push(micros(since).into());
    }
    if let Some(after) = &page.after {
        sql.push_str(" AND id > ?");
        args.push(after.clone().into());
    }
    sql.push_str(" ORDER BY id LIMIT ?");
    args.push(SqlValue::Integer(i64::from(page.limit) + 1));
    let rows = all(
        c.prepare_cached(&sql).db()?,
        rusqlite::params_from_iter(args),
        decode::event,
    )?;
    Ok(Page::from_overfetch(rows, page.limit, |e| e.id.clone()))
}

#[cfg(test)]
mod tests {
    use super::prefix_range;

    #[test]
    fn prefix_patterns_become_ranges() {
        assert_eq!(
            prefix_range("work_order.*"),
            Some(("work_order.".into(), "work_order/".into()))
        );
        assert_eq!(prefix_range("work_order.updated"), None);
        assert_eq!(prefix_range("work_order*"), None);
        assert_eq!(prefix_range("*"), None);
    }
}
