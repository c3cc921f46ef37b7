//! The tenant's records: per entity set, a seeded range generated on read plus an overlay of
//! records changed through the API or `/__sim/mutate`, and the listing engine behind every
//! collection request (filter, order, server-driven paging).
//!
//! Two orders are served without generating the whole set: key order (an index walk) and
//! `LastChangeDateTime` order, which is `(time, index)`: unchanged seeded records in index order
//! (their times grow with the index, see `data.rs`), then changed records from a time index.
//! Both rest on index order being key order, true of the numeric keys only; an explicit order
//! on functional locations (coded keys, which sort differently as text) and any other
//! `$orderby` sort every match, which is fine for the sizes tests ask for. Lower bounds in the
//! filter on `LastChangeDateTime` or on a numeric key (what keyset paging sends) start a walk
//! at the bound instead of at the first record.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde_json::{Map, Value};

use super::data::{self, Kind, SetDef, World, SETS};
use super::odata::{order, parse_date, Filter, Literal, Op, OrderBy};
use crate::rng::Rng;

/// One entity set's records.
#[derive(Debug, Default)]
pub(crate) struct Set {
    seeded: u64,
    next: u64,
    /// Changed (`Some`) and deleted (`None`) records by index.
    overlay: BTreeMap<u64, Option<Map<String, Value>>>,
    /// `(LastChangeDateTime ms, index)` of every changed live record.
    by_time: BTreeSet<(i64, u64)>,
    /// The time each changed live record is filed under in `by_time`.
    time_of: HashMap<u64, i64>,
}

impl Set {
    fn new(seeded: u64) -> Self {
        Set {
            seeded,
            next: seeded,
            ..Set::default()
        }
    }

    /// The live record at `index`.
    pub(crate) fn get(&self, world: &World, kind: Kind, index: u64) -> Option<Map<String, Value>> {
        match self.overlay.get(&index) {
            Some(entry) => entry.clone(),
            None => (index < self.seeded).then(|| world.generate(kind, index)),
        }
    }

    pub(crate) fn contains(&self, index: u64) -> bool {
        match self.overlay.get(&index) {
            Some(entry) => entry.is_some(),
            None => index < self.seeded,
        }
    }

    /// Stores `record` at `index` (new or replacing).
    pub(crate) fn put(&mut self, index: u64, record: Map<String, Value>) {
        self.unfile(index);
        let time = change_time(&record);
        self.by_time.insert((time, index));
        self.time_of.insert(index, time);
        self.overlay.insert(index, Some(record));
        self.next = self.next.max(index + 1);
    }

    /// The index the next created record gets.
    pub(crate) fn next_index(&self) -> u64 {
        self.next
    }

    pub(crate) fn delete(&mut self, index: u64) -> bool {
        if !self.contains(index) {
            return false;
        }
        self.unfile(index);
        if index < self.seeded {
            self.overlay.insert(index, None);
        } else {
            self.overlay.remove(&index);
        }
        true
    }

    fn unfile(&mut self, index: u64) {
        if let Some(old) = self.time_of.remove(&index) {
            self.by_time.remove(&(old, index));
        }
    }

    pub(crate) fn live_count(&self) -> u64 {
        let deleted = self
            .overlay
            .range(..self.seeded)
            .filter(|(_, r)| r.is_none())
            .count() as u64;
        let created = self.overlay.range(self.seeded..).count() as u64;
        self.seeded - deleted + created
    }

    /// Up to `count` distinct live indexes chosen at random.
    pub(crate) fn sample(&self, rng: &mut Rng, count: usize) -> Vec<u64> {
        let mut chosen = BTreeSet::new();
        let mut attempts = count * 20 + 100;
        while chosen.len() < count && attempts > 0 && self.next > 0 {
            let index = rng.below(self.next);
            if self.contains(index) {
                chosen.insert(index);
            }
            attempts -= 1;
        }
        chosen.into_iter().collect()
    }
}

/// The `LastChangeDateTime` of a stored record; records without one file under 0.
fn change_time(record: &Map<String, Value>) -> i64 {
    record
        .get("LastChangeDateTime")
        .and_then(Value::as_str)
        .and_then(parse_date)
        .unwrap_or(0)
}

/// Every entity set, and the random stream `/__sim/mutate` draws from.
#[derive(Debug)]
pub(crate) struct Db {
    sets: HashMap<Kind, Set>,
    pub(crate) rng: Rng,
}

impl Db {
    pub(crate) fn new(world: &World) -> Self {
        Db {
            sets: SETS
                .iter()
                .map(|d| (d.kind, Set::new(world.scale)))
                .collect(),
            rng: Rng::new(world.seed ^ 0x5a9_5a9),
        }
    }

    pub(crate) fn set(&self, kind: Kind) -> &Set {
        &self.sets[&kind]
    }

    pub(crate) fn set_mut(&mut self, kind: Kind) -> &mut Set {
        self.sets.get_mut(&kind).expect("every kind has a set")
    }
}

/// Where a listing resumes: what `$skiptoken` encodes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Resume {
    /// Key order, after this index.
    Key(u64),
    /// `LastChangeDateTime` order, after `(time, index)`.
    Time(i64, u64),
    /// Any other order, after this many matches.
    Offset(u64),
}

impl Resume {
    pub(crate) fn token(self) -> String {
        match self {
            Resume::Key(i) => format!("k{i}"),
            Resume::Time(t, i) => format!("t{t}.{i}"),
            Resume::Offset(n) => format!("o{n}"),
        }
    }

    pub(crate) fn parse(token: &str) -> Option<Resume> {
        let (kind, rest) = token.split_at_checked(1)?;
        match kind {
            "k" => rest.parse().ok().map(Resume::Key),
            "o" => rest.parse().ok().map(Resume::Offset),
            "t" => {
                let (t, i) = rest.split_once('.')?;
                Some(Resume::Time(t.parse().ok()?, i.parse().ok()?))
            }
            _ => None,
        }
    }
}

/// A listed record and where a listing resumes after it.
pub(crate) type Row = (Map<String, Value>, Resume);

/// How a listing is ordered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Order {
    Key,
    ChangeTime,
    Sorted(Vec<OrderBy>),
}

impl Order {
    /// The order `$orderby` asks for on `def`.
    ///
    /// Index order is key order only for numeric keys of one width; coded keys (functional
    /// locations) sort differently as text, so an explicit order on them is really sorted:
    /// keyset paging (`… and Key gt 'K'`) is only sound if the order matches the comparison.
    pub(crate) fn of(def: &SetDef, terms: &[OrderBy]) -> Order {
        let asc = |t: &OrderBy, f: &str| t.field == f && !t.descending;
        let index_is_key_order = def.first_number.is_some();
        match terms {
            [] => Order::Key,
            [t] if asc(t, def.key) && index_is_key_order => Order::Key,
            [t] | [t, _] if def.has_change_time && asc(t, "LastChangeDateTime") => {
                // A second term on the key changes nothing when ties are already in key order.
                let tie_break_differs =
                    terms.len() == 2 && !(asc(&terms[1], def.key) && index_is_key_order);
                if tie_break_differs {
                    return Order::Sorted(terms.to_vec());
                }
                Order::ChangeTime
            }
            _ => Order::Sorted(terms.to_vec()),
        }
    }
}

/// One listing request.
pub(crate) struct Listing<'a> {
    pub(crate) world: &'a World,
    pub(crate) def: &'static SetDef,
    pub(crate) set: &'a Set,
    pub(crate) filter: Option<&'a Filter>,
    pub(crate) order: &'a Order,
}

impl Listing<'_> {
    fn matches(&self, record: &Map<String, Value>) -> bool {
        self.filter.is_none_or(|f| f.matches(record))
    }

    /// Whether every unchanged seeded record at or above the floor matches the filter without
    /// looking at it: no filter, or only a lower bound on `LastChangeDateTime`.
    fn implied(&self) -> bool {
        fn bound_only(f: &Filter) -> bool {
            match f {
                Filter::Compare(field, Op::Gt | Op::Ge, Literal::Time(_)) => {
                    field == "LastChangeDateTime"
                }
                Filter::And(a, b) => bound_only(a) && bound_only(b),
                _ => false,
            }
        }
        match self.filter {
            None => true,
            Some(f) => self.def.has_change_time && bound_only(f),
        }
    }

    /// The first seeded index whose change time can satisfy the filter's lower bound.
    fn seeded_floor(&self) -> u64 {
        let bound = self
            .filter
            .filter(|_| self.def.has_change_time)
            .and_then(|f| f.time_lower_bound("LastChangeDateTime"));
        let Some((t, strict)) = bound else { return 0 };
        self.partition(|i| {
            let c = self.world.change_ms(self.def.kind, i);
            if strict {
                c <= t
            } else {
                c < t
            }
        })
    }

    /// The first index a key lower bound (`Key gt 'K'`, as keyset paging sends) lets through,
    /// so a keyset page starts there instead of generating every record before it. Only for
    /// numeric keys, whose index order is their key order.
    fn key_floor(&self) -> u64 {
        let Some((key, strict)) = self
            .filter
            .filter(|_| self.def.first_number.is_some())
            .and_then(|f| f.text_lower_bound(self.def.key))
        else {
            return 0;
        };
        match data::index_of(self.def, &key) {
            // Only a key of the set's own width sorts like its index; anything else is
            // compared record by record.
            Some(i) if data::key_of(self.def, i) == key => i + u64::from(strict),
            _ => 0,
        }
    }

    /// The first seeded index for which `before` is false (`before` is monotone).
    fn partition(&self, before: impl Fn(u64) -> bool) -> u64 {
        let (mut lo, mut hi) = (0u64, self.set.seeded);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if before(mid) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        lo
    }

    /// Skips `skip` matches after `resume`, then returns up to `limit` matches with where each
    /// one leaves off, and whether more matches follow.
    pub(crate) fn page(&self, resume: Option<Resume>, skip: u64, limit: usize) -> (Vec<Row>, bool) {
        let mut out = Vec::with_capacity(limit.min(1024));
        let mut to_skip = skip;
        let mut more = false;
        let mut take = |record: Map<String, Value>, at: Resume| -> bool {
            if out.len() == limit {
                more = true;
                return false;
            }
            out.push((record, at));
            true
        };
        match self.order {
            Order::Key => {
                let start = match resume {
                    Some(Resume::Key(i)) => i + 1,
                    _ => 0,
                };
                self.walk_keys(start.max(self.key_floor()), &mut to_skip, &mut take);
            }
            Order::ChangeTime => {
                let after = match resume {
                    Some(Resume::Time(t, i)) => Some((t, i)),
                    _ => None,
                };
                self.walk_times(after, &mut to_skip, &mut take);
            }
            Order::Sorted(terms) => {
                let mut all = Vec::new();
                self.walk_keys(0, &mut 0, &mut |r, _| {
                    all.push(r);
                    true
                });
                all.sort_by(|a, b| order(a, b, terms));
                let from = match resume {
                    Some(Resume::Offset(n)) => n,
                    _ => 0,
                };
                let from = from + to_skip;
                for (n, record) in all.into_iter().enumerate().skip(from as usize) {
                    if !take(record, Resume::Offset(n as u64 + 1)) {
                        break;
                    }
                }
            }
        }
        (out, more)
    }

    /// Every match from index `start` on, in key order, until `take` says stop.
    fn walk_keys(
        &self,
        start: u64,
        skip: &mut u64,
        take: &mut impl FnMut(Map<String, Value>, Resume) -> bool,
    ) {
        let floor = self.seeded_floor();
        let implied = self.implied();
        let seeded = self.set.seeded;
        let mut i = start;
        while i < seeded {
            if i < floor {
                // Unchanged seeded records below the floor cannot match: jump to the next
                // changed record or to the floor.
                match self.set.overlay.range(i..floor).next() {
                    Some((&changed, _)) => i = changed,
                    None => {
                        i = floor;
                        continue;
                    }
                }
            }
            let record = match self.set.overlay.get(&i) {
                Some(Some(r)) => Some(r.clone()),
                Some(None) => None,
                None if implied && *skip > 0 => {
                    // Known to match without generating it: `$skip` stays cheap.
                    *skip -= 1;
                    i += 1;
                    continue;
                }
                None => Some(self.world.generate(self.def.kind, i)),
            };
            if let Some(record) = record.filter(|r| self.matches(r)) {
                if *skip > 0 {
                    *skip -= 1;
                } else if !take(record, Resume::Key(i)) {
                    return;
                }
            }
            i += 1;
        }
        for (&index, record) in self.set.overlay.range(i.max(seeded)..) {
            if let Some(record) = record.as_ref().filter(|r| self.matches(r)) {
                if *skip > 0 {
                    *skip -= 1;
                } else if !take(record.clone(), Resume::Key(index)) {
                    return;
                }
            }
        }
    }

    /// Every match after `after` in `(LastChangeDateTime, index)` order.
    fn walk_times(
        &self,
        after: Option<(i64, u64)>,
        skip: &mut u64,
        take: &mut impl FnMut(Map<String, Value>, Resume) -> bool,
    ) {
        let kind = self.def.kind;
        let implied = self.implied();
        let start = match after {
            None => 0,
            Some(cursor) => self.partition(|i| (self.world.change_ms(kind, i), i) <= cursor),
        };
        let mut i = start.max(self.seeded_floor());
        while i < self.set.seeded {
            if !self.set.overlay.contains_key(&i) {
                if implied && *skip > 0 {
                    *skip -= 1;
                    i += 1;
                    continue;
                }
                let record = self.world.generate(kind, i);
                if !self.matches(&record) {
                    i += 1;
                    continue;
                }
                if *skip > 0 {
                    *skip -= 1;
                } else if !take(record, Resume::Time(self.world.change_ms(kind, i), i)) {
                    return;
                }
            }
            i += 1;
        }
        let range = match after {
            Some(cursor) => self.set.by_time.range((
                std::ops::Bound::Excluded(cursor),
                std::ops::Bound::Unbounded,
            )),
            None => self.set.by_time.range(..),
        };
        for &(t, index) in range {
            if let Some(Some(record)) = self.set.overlay.get(&index) {
                if !self.matches(record) {
                    continue;
                }
                if *skip > 0 {
                    *skip -= 1;
                } else if !take(record.clone(), Resume::Time(t, index)) {
                    return;
                }
            }
        }
    }

    /// How many records match (`$inlinecount=allpages`).
    pub(crate) fn count(&self) -> u64 {
        if self.filter.is_none() {
            return self.set.live_count();
        }
        let mut n = 0;
        self.walk_keys(0, &mut 0, &mut |_, _| {
            n += 1;
            true
        });
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::Ts;
    use crate::sap::data::def;
    use crate::sap::odata::{date_time_offset, parse_filter};

    fn world() -> World {
        World {
            seed: 3,
            scale: 500,
            anchor: Ts(1_800_000_000_000),
        }
    }

    #[test]
    fn key_and_time_orders_agree_until_something_changes() {
        let w = world();
        let mut db = Db::new(&w);
        let d = def(Kind::MaintenanceOrder);
        let listing = |db: &Db, order: &Order| {
            let l = Listing {
                world: &w,
                def: d,
                set: db.set(d.kind),
                filter: None,
                order,
            };
            let mut keys = Vec::new();
            let mut resume = None;
            loop {
                let (page, more) = l.page(resume, 0, 70);
                resume = page.last().map(|(_, r)| *r);
                keys.extend(page.into_iter().map(|(r, _)| r["MaintenanceOrder"].clone()));
                if !more {
                    break;
                }
            }
            keys
        };
        let by_key = listing(&db, &Order::Key);
        assert_eq!(by_key.len(), 500);
        assert_eq!(listing(&db, &Order::ChangeTime), by_key);
        // Change record 3: it moves to the end of the time order only.
        let mut r = w.generate(d.kind, 3);
        r.insert(
            "LastChangeDateTime".into(),
            date_time_offset(w.anchor.0 + 5).into(),
        );
        db.set_mut(d.kind).put(3, r);
        let by_time = listing(&db, &Order::ChangeTime);
        assert_eq!(by_time.len(), 500);
        assert_eq!(by_time.last(), Some(&by_key[3]));
        assert!(db.set_mut(d.kind).delete(4));
        assert_eq!(listing(&db, &Order::Key).len(), 499);
        assert_eq!(listing(&db, &Order::ChangeTime).len(), 499);
    }

    #[test]
    fn time_filter_starts_at_the_bound() {
        let w = world();
        let db = Db::new(&w);
        let d = def(Kind::Equipment);
        let cut = w.change_ms(d.kind, 250);
        let filter = parse_filter(&format!(
            "LastChangeDateTime gt datetimeoffset'{}'",
            chrono::DateTime::from_timestamp_millis(cut)
                .unwrap()
                .to_rfc3339()
        ))
        .unwrap();
        let l = Listing {
            world: &w,
            def: d,
            set: db.set(d.kind),
            filter: Some(&filter),
            order: &Order::ChangeTime,
        };
        let (page, more) = l.page(None, 0, 1000);
        assert!(!more);
        assert_eq!(page.len(), 249);
        assert_eq!(l.count(), 249);
    }

    #[test]
    fn keyset_filters_resume_inside_a_tie() {
        let w = world();
        let mut db = Db::new(&w);
        let d = def(Kind::MaintenanceOrder);
        // Five orders changed in the same millisecond: ties, broken by key.
        let tie = w.anchor.0 + 7;
        for i in [40, 3, 17, 250, 9] {
            let mut r = w.generate(d.kind, i);
            r.insert("LastChangeDateTime".into(), date_time_offset(tie).into());
            db.set_mut(d.kind).put(i, r);
        }
        let iso = chrono::DateTime::from_timestamp_millis(tie)
            .unwrap()
            .format("%Y-%m-%dT%H:%M:%S%.3fZ")
            .to_string();
        let filter = parse_filter(&format!(
            "LastChangeDateTime ge datetimeoffset'2000-01-01T00:00:00Z' and (LastChangeDateTime gt datetimeoffset'{iso}' or (LastChangeDateTime eq datetimeoffset'{iso}' and MaintenanceOrder gt '4000009'))"
        ))
        .unwrap();
        assert_eq!(
            filter.time_lower_bound("LastChangeDateTime"),
            Some((tie, false))
        );
        let l = Listing {
            world: &w,
            def: d,
            set: db.set(d.kind),
            filter: Some(&filter),
            order: &Order::ChangeTime,
        };
        let (page, more) = l.page(None, 0, 10);
        let keys: Vec<&str> = page
            .iter()
            .map(|(r, _)| r["MaintenanceOrder"].as_str().unwrap())
            .collect();
        assert_eq!((keys, more), (vec!["4000017", "4000040", "4000250"], false));
    }
}
