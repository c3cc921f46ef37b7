//! A table of records that are generated on read and remembered only once changed.
//!
//! Seeded record `i` of a table has id `first_id + i` and is regenerated from the seed every
//! time it is read, so a table of 100 000 records costs nothing until it is written to. Writes
//! (API calls and `/__sim/mutate`) land in an overlay: `Some(record)` replaces or adds a record,
//! `None` deletes one. New ids are always above every id handed out before, so a listing in id
//! order never skips or repeats a record while others are created, changed or deleted.

use std::collections::{BTreeMap, BTreeSet};

use crate::rng::Rng;

/// One entity's records: a seeded range plus an overlay of changes.
#[derive(Debug)]
pub(crate) struct Table<T> {
    first_id: u64,
    seeded: u64,
    next_id: u64,
    overlay: BTreeMap<u64, Option<T>>,
}

impl<T: Clone> Table<T> {
    /// A table whose `seeded` records have ids `first_id ..= first_id + seeded - 1`.
    pub(crate) fn new(first_id: u64, seeded: u64) -> Self {
        Table {
            first_id,
            seeded,
            next_id: first_id + seeded,
            overlay: BTreeMap::new(),
        }
    }

    /// The seeded index of `id`, if `id` is in the seeded range.
    pub(crate) fn seeded_index(&self, id: u64) -> Option<u64> {
        (id >= self.first_id && id < self.first_id + self.seeded).then(|| id - self.first_id)
    }

    /// The index a record with `id` has, seeded or created (`id - first_id`). Created records
    /// use it for their human sequence numbers, which continue the seeded ones.
    pub(crate) fn index_of(&self, id: u64) -> u64 {
        id - self.first_id
    }

    /// The record with `id`, if it exists and is not deleted.
    pub(crate) fn get(&self, id: u64, generate: impl Fn(u64) -> T) -> Option<T> {
        match self.overlay.get(&id) {
            Some(entry) => entry.clone(),
            None => self.seeded_index(id).map(generate),
        }
    }

    /// Whether a live record has `id`.
    pub(crate) fn contains(&self, id: u64) -> bool {
        match self.overlay.get(&id) {
            Some(entry) => entry.is_some(),
            None => self.seeded_index(id).is_some(),
        }
    }

    /// Up to `limit` live records with ids above `after` that satisfy `keep`, in id order, and
    /// whether more such records follow.
    pub(crate) fn page(
        &self,
        after: u64,
        limit: usize,
        generate: impl Fn(u64) -> T,
        keep: impl Fn(&T) -> bool,
    ) -> (Vec<T>, bool) {
        let mut out = Vec::with_capacity(limit.min(1024));
        let seeded_end = self.first_id + self.seeded;
        let mut id = after.saturating_add(1).max(self.first_id);
        // Walk the seeded range id by id, consulting the overlay for changes.
        while id < seeded_end {
            let record = match self.overlay.get(&id) {
                Some(Some(changed)) => Some(changed.clone()),
                Some(None) => None,
                None => Some(generate(id - self.first_id)),
            };
            if let Some(record) = record.filter(|r| keep(r)) {
                if out.len() == limit {
                    return (out, true);
                }
                out.push(record);
            }
            id += 1;
        }
        // Past it, only created records exist, and they all live in the overlay.
        for record in self.overlay.range(id..).filter_map(|(_, r)| r.as_ref()) {
            if keep(record) {
                if out.len() == limit {
                    return (out, true);
                }
                out.push(record.clone());
            }
        }
        (out, false)
    }

    /// Stores a new record built from its id; returns the id.
    pub(crate) fn insert_with(&mut self, build: impl FnOnce(u64) -> T) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        self.overlay.insert(id, Some(build(id)));
        id
    }

    /// The id the next created record will get.
    pub(crate) fn next_id(&self) -> u64 {
        self.next_id
    }

    /// Replaces a live record.
    pub(crate) fn replace(&mut self, id: u64, record: T) {
        debug_assert!(self.contains(id), "replace of missing id {id}");
        self.overlay.insert(id, Some(record));
    }

    /// Deletes a live record; false if there was none.
    pub(crate) fn delete(&mut self, id: u64) -> bool {
        if !self.contains(id) {
            return false;
        }
        if self.seeded_index(id).is_some() {
            self.overlay.insert(id, None);
        } else {
            self.overlay.remove(&id);
        }
        true
    }

    /// The number of live records.
    pub(crate) fn live_count(&self) -> u64 {
        let seeded_end = self.first_id + self.seeded;
        let deleted_seeded = self
            .overlay
            .range(..seeded_end)
            .filter(|(_, r)| r.is_none())
            .count() as u64;
        let created = self.overlay.range(seeded_end..).count() as u64;
        self.seeded - deleted_seeded + created
    }

    /// Up to `count` distinct live ids chosen at random, ascending.
    pub(crate) fn sample_live(&self, rng: &mut Rng, count: usize) -> Vec<u64> {
        let live = self.live_count();
        if count as u64 >= live {
            return self.all_live_ids();
        }
        let span = self.next_id - self.first_id;
        let mut chosen = BTreeSet::new();
        // Rejection sampling is fast while most ids are live; the attempt budget bounds the
        // pathological case of a table mostly deleted, which falls back to a scan.
        let mut attempts = count * 20 + 100;
        while chosen.len() < count && attempts > 0 {
            let id = self.first_id + rng.below(span);
            if self.contains(id) {
                chosen.insert(id);
            }
            attempts -= 1;
        }
        if chosen.len() < count {
            for id in self.all_live_ids() {
                if chosen.len() == count {
                    break;
                }
                chosen.insert(id);
            }
        }
        chosen.into_iter().collect()
    }

    fn all_live_ids(&self) -> Vec<u64> {
        let seeded_end = self.first_id + self.seeded;
        (self.first_id..seeded_end)
            .filter(|id| self.contains(*id))
            .chain(
                self.overlay
                    .range(seeded_end..)
                    .filter(|(_, r)| r.is_some())
                    .map(|(id, _)| *id),
            )
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gen(i: u64) -> String {
        format!("seeded-{i}")
    }

    #[test]
    fn seeded_records_are_generated_on_read() {
        let t: Table<String> = Table::new(100, 3);
        assert_eq!(t.get(100, gen).as_deref(), Some("seeded-0"));
        assert_eq!(t.get(102, gen).as_deref(), Some("seeded-2"));
        assert_eq!(t.get(103, gen), None);
        assert_eq!(t.get(99, gen), None);
    }

    #[test]
    fn paging_skips_deleted_and_includes_created_once() {
        let mut t: Table<String> = Table::new(1, 5);
        assert!(t.delete(2));
        assert!(!t.delete(2));
        t.replace(3, "changed".into());
        let created = t.insert_with(|id| format!("new-{id}"));
        assert_eq!(created, 6);
        let (first, more) = t.page(0, 2, gen, |_| true);
        assert_eq!(first, ["seeded-0", "changed"]);
        assert!(more);
        let (rest, more) = t.page(3, 10, gen, |_| true);
        assert_eq!(rest, ["seeded-3", "seeded-4", "new-6"]);
        assert!(!more);
        assert_eq!(t.live_count(), 5);
    }

    #[test]
    fn page_boundary_reports_more_exactly() {
        let t: Table<String> = Table::new(1, 4);
        let (page, more) = t.page(0, 4, gen, |_| true);
        assert_eq!(page.len(), 4);
        assert!(!more);
    }

    #[test]
    fn deleting_a_created_record_forgets_it() {
        let mut t: Table<String> = Table::new(1, 1);
        let id = t.insert_with(|_| "x".into());
        assert!(t.delete(id));
        assert_eq!(t.get(id, gen), None);
        assert_eq!(t.live_count(), 1);
        assert_eq!(t.next_id(), 3, "ids are never reused");
    }

    #[test]
    fn sampling_returns_distinct_live_ids() {
        let mut t: Table<String> = Table::new(10, 50);
        for id in 10..40 {
            t.delete(id);
        }
        let mut rng = Rng::new(7);
        let ids = t.sample_live(&mut rng, 15);
        assert_eq!(ids.len(), 15);
        assert!(ids.windows(2).all(|w| w[0] < w[1]));
        assert!(ids.iter().all(|id| t.contains(*id)));
        assert_eq!(t.sample_live(&mut rng, 100).len(), 20);
    }
}
