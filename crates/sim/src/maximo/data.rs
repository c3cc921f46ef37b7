//! Seeded Maximo data: record `i` of every object structure as a pure function of the seed, in
//! the lean JSON shape (`lean=1`: plain lower-case attribute names).
//!
//! The tenant is one organization (`EAGLENA`) with one to three sites (`BEDFORD`, `NASHUA`,
//! `TEXAS`, IBM's sample names). Record `i` of every object structure belongs to site
//! `i % sites`, which lets relations be computed without generating the related record:
//! a work order points at an asset, location and PM of its own site, an asset at a location and
//! a parent asset of its site, an inventory balance at a storeroom of its site, a PO at a vendor
//! (companies are organization-wide) with lines for inventory items of its site.
//!
//! Locations form a hierarchy per site by index: `q = i / sites` is the record's number within
//! its site; `q == 0` is the site's top location (`PLANT`), `1..8` are buildings (`BLDG03`),
//! from 8 on every fifth one is a storeroom (`CENTRAL`, `STORE13`, ...) and the rest are areas
//! (`BR109`), each under one of the buildings.
//!
//! Business keys are numbers derived from the index (asset `11000 + i`, work order `1000 + i`,
//! ...), so a resource id (`_` + base64 of the keys) can be turned back into a record index
//! without any lookup table, whatever the scale.

use chrono::{DateTime, FixedOffset, Utc};
use serde_json::{json, Map, Value};

use crate::clock::{Ts, DAY_MS, HOUR_MS, MINUTE_MS};
use crate::industrial::{bin, EquipmentClass, AREAS, BUILDINGS, EQUIPMENT, PARTS};
use crate::names::{self, Address, CITIES};
use crate::num::Num;
use crate::rng::{hash, Rng};

/// The organization every site belongs to.
pub(crate) const ORGID: &str = "EAGLENA";
/// The item set of every item.
pub(crate) const ITEMSETID: &str = "SET1";
/// Site ids, in the order sites are added as the scale grows.
pub(crate) const SITES: &[&str] = &["BEDFORD", "NASHUA", "TEXAS"];
/// The user seeded changes are made by.
const CHANGEBY: &str = "MAXADMIN";

/// First business number of each object structure.
pub(crate) const ASSETNUM_BASE: u64 = 11_000;
pub(crate) const WONUM_BASE: u64 = 1_000;
pub(crate) const PMNUM_BASE: u64 = 1_000;
pub(crate) const ITEMNUM_BASE: u64 = 100_000;
pub(crate) const PONUM_BASE: u64 = 1_000;
pub(crate) const COMPANY_BASE: u64 = 1_000;

// Independent random streams per object structure.
const S_LOCATION: u64 = 21;
const S_ASSET: u64 = 22;
const S_WO: u64 = 23;
const S_PM: u64 = 24;
const S_INVENTORY: u64 = 25;
const S_PO: u64 = 26;
const S_VENDOR: u64 = 27;
const S_SITE: u64 = 28;

const HISTORY_MS: i64 = 180 * DAY_MS;

/// The offset the simulated server prints its timestamps in (US Eastern standard time):
/// Maximo answers in the server's zone, with the offset (reference §3).
const SERVER_OFFSET_SECONDS: i32 = -5 * 3600;

/// A timestamp as Maximo prints it: seconds precision with the server's offset
/// (`2024-08-20T10:07:06-05:00`).
pub(crate) fn mx_time(ts: Ts) -> String {
    let offset = FixedOffset::east_opt(SERVER_OFFSET_SECONDS).expect("valid offset");
    DateTime::<Utc>::from_timestamp_millis(ts.0)
        .unwrap_or_default()
        .with_timezone(&offset)
        .format("%Y-%m-%dT%H:%M:%S%:z")
        .to_string()
}

/// `_rowstamp`: Maximo's row version, a string of digits that grows with every change (the
/// clock is strictly increasing in milliseconds, so two changes never share one).
pub(crate) fn rowstamp(ts: Ts) -> String {
    ts.0.to_string()
}

/// Where a location sits in its site's hierarchy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum LocKind {
    Site,
    Building,
    Storeroom,
    Area,
}

/// What an asset is, derivable from its index without generating the rest of the record.
pub(crate) struct AssetIdentity {
    pub(crate) class: &'static EquipmentClass,
    pub(crate) make: &'static str,
    pub(crate) model: &'static str,
    pub(crate) description: String,
}

/// Everything seeded records are derived from.
#[derive(Debug)]
pub(crate) struct World {
    pub(crate) seed: u64,
    /// Records per object structure.
    pub(crate) scale: u64,
    anchor: Ts,
    /// How many of [`SITES`] exist.
    pub(crate) sites: u64,
}

impl World {
    pub(crate) fn new(seed: u64, scale: u64, anchor: Ts) -> Self {
        let sites = match scale {
            0..40 => 1,
            40..1000 => 2,
            _ => 3,
        };
        World {
            seed,
            scale,
            anchor,
            sites,
        }
    }

    fn h(&self, stream: u64, index: u64, salt: u64) -> u64 {
        hash(self.seed, stream, index, salt)
    }

    /// The site of record `i` of any object structure.
    pub(crate) fn site(&self, i: u64) -> &'static str {
        SITES[(i % self.sites) as usize]
    }

    /// The index of a site id, if the tenant has that site.
    pub(crate) fn site_index(&self, siteid: &str) -> Option<u64> {
        SITES
            .iter()
            .take(self.sites as usize)
            .position(|s| s.eq_ignore_ascii_case(siteid))
            .map(|p| p as u64)
    }

    /// Record `i`'s creation time: grows with `i` over the 180 days before the anchor; `tier`
    /// orders records of equal index so that what a record refers to existed before it.
    fn created(&self, rng: &mut Rng, i: u64, tier: i64) -> Ts {
        let n = self.scale.max(1) as i128;
        let span = i128::from(HISTORY_MS);
        let start = i128::from(self.anchor.0 - HISTORY_MS);
        let quarter = (span / n / 4).max(1) as i64;
        let index = i.min(self.scale.max(1) - 1);
        let base = start + span * i128::from(index) / n;
        Ts(base as i64 + quarter * tier + rng.range(0, quarter))
    }

    /// Last change: most records were touched only around creation, the rest any time since.
    fn changed(&self, rng: &mut Rng, created: Ts) -> Ts {
        let room = (self.anchor.0 - created.0).max(0);
        if room < MINUTE_MS {
            return created;
        }
        if rng.chance(55) {
            Ts(created.0 + rng.range(0, room.min(2 * HOUR_MS)))
        } else {
            Ts(created.0 + rng.range(0, room))
        }
    }

    /// How many records of an object structure with `count` records belong to site `s`.
    fn per_site(&self, count: u64, s: u64) -> u64 {
        if count <= s {
            0
        } else {
            (count - s).div_ceil(self.sites)
        }
    }

    /// An index of site `s` below `count` chosen by `key`, preferring indices up to `upto` (so
    /// records refer to older ones where possible).
    fn same_site(&self, key: u64, s: u64, upto: u64, count: u64) -> Option<u64> {
        let available = self.per_site((upto + 1).min(count), s);
        let available = if available == 0 {
            self.per_site(count, s)
        } else {
            available
        };
        (available > 0).then(|| s + self.sites * (key % available))
    }

    // ---- locations ------------------------------------------------------------------------

    pub(crate) fn location_kind(&self, i: u64) -> LocKind {
        match i / self.sites {
            0 => LocKind::Site,
            1..8 => LocKind::Building,
            q if q % 5 == 3 => LocKind::Storeroom,
            _ => LocKind::Area,
        }
    }

    /// The location code of location `i` (unique within its site).
    pub(crate) fn location_code(&self, i: u64) -> String {
        let q = i / self.sites;
        match self.location_kind(i) {
            LocKind::Site => "PLANT".to_owned(),
            LocKind::Building => format!("BLDG{q:02}"),
            LocKind::Storeroom if q == 8 => "CENTRAL".to_owned(),
            LocKind::Storeroom => format!("STORE{q}"),
            LocKind::Area => format!("BR{}", 100 + q),
        }
    }

    /// The index of the location with `code` at site `s`, if its code has the seeded shape.
    pub(crate) fn location_index(&self, code: &str, s: u64) -> Option<u64> {
        let q = match code {
            "PLANT" => 0,
            "CENTRAL" => 8,
            _ => {
                let (prefix, digits) = code.split_at(code.find(|c: char| c.is_ascii_digit())?);
                let n: u64 = digits.parse().ok()?;
                match prefix {
                    "BLDG" => n,
                    "STORE" => n,
                    "BR" => n.checked_sub(100)?,
                    _ => return None,
                }
            }
        };
        let i = q.checked_mul(self.sites)?.checked_add(s)?;
        (self.location_code(i) == code).then_some(i)
    }

    /// Where the equipment of site `s` stands: an area if the site has one, else a building,
    /// else the site itself.
    fn floor_location(&self, key: u64, s: u64) -> u64 {
        let count = self.per_site(self.scale, s).max(1);
        let q = if count > 8 {
            let q = 8 + key % (count - 8);
            if q % 5 == 3 {
                q - 1
            } else {
                q
            }
        } else if count > 1 {
            1 + key % (count - 1)
        } else {
            0
        };
        q * self.sites + s
    }

    /// A storeroom of site `s` (the site's top location if it has none).
    pub(crate) fn storeroom(&self, key: u64, s: u64) -> u64 {
        let count = self.per_site(self.scale, s);
        // Storerooms are q = 8, 13, 18, ... below `count`.
        let storerooms = if count > 8 {
            (count - 8).div_ceil(5)
        } else {
            0
        };
        if storerooms == 0 {
            return s;
        }
        (8 + 5 * (key % storerooms)) * self.sites + s
    }

    fn location_parent(&self, i: u64) -> Option<u64> {
        let s = i % self.sites;
        match self.location_kind(i) {
            LocKind::Site => None,
            LocKind::Building => Some(s),
            LocKind::Storeroom | LocKind::Area => {
                Some((1 + self.h(S_LOCATION, i, 1) % 7) * self.sites + s)
            }
        }
    }

    fn site_address(&self, s: u64) -> Address {
        let mut rng = Rng::for_record(self.seed, S_SITE, s);
        let city = *rng.pick(CITIES);
        Address::generate(&mut rng, &city)
    }

    pub(crate) fn location(&self, i: u64) -> Value {
        let mut rng = Rng::for_record(self.seed, S_LOCATION, i);
        let s = i % self.sites;
        let siteid = self.site(i);
        let kind = self.location_kind(i);
        let q = i / self.sites;
        let description = match kind {
            LocKind::Site => {
                let address = self.site_address(s);
                format!(
                    "{} {}",
                    address.city,
                    rng.pick(crate::industrial::SITE_KINDS)
                )
            }
            LocKind::Building => BUILDINGS[(q as usize - 1) % BUILDINGS.len()].to_owned(),
            LocKind::Storeroom if q == 8 => "Central Storeroom".to_owned(),
            LocKind::Storeroom => format!("Maintenance Storeroom {q}"),
            LocKind::Area => {
                let (area, numbered) = *rng.pick(AREAS);
                if numbered {
                    format!("{area} {}", rng.range(1, 12))
                } else {
                    area.to_owned()
                }
            }
        };
        let created = self.created(&mut rng, i, 0);
        let changed = self.changed(&mut rng, created);
        let mut record = json!({
            "location": self.location_code(i),
            "description": description,
            "type": if kind == LocKind::Storeroom { "STOREROOM" } else { "OPERATING" },
            "status": "OPERATING",
            "status_description": "Operating",
            "siteid": siteid,
            "orgid": ORGID,
            "locationsid": i + 1,
            "disabled": false,
            "changedate": mx_time(changed),
            "changeby": CHANGEBY,
            "_rowstamp": rowstamp(changed),
        });
        let map = record.as_object_mut().expect("object");
        if let Some(parent) = self.location_parent(i) {
            map.insert("parent".into(), Value::String(self.location_code(parent)));
        }
        if matches!(kind, LocKind::Site | LocKind::Building) {
            let address = self.site_address(s);
            map.insert(
                "serviceaddress".into(),
                json!([{
                    "addresscode": format!("{siteid}-{}", self.location_code(i)),
                    "addressline1": address.street,
                    "city": address.city,
                    "regiondistrict": address.state,
                    "postalcode": address.postal_code,
                    "country": address.country,
                }]),
            );
        }
        record
    }

    // ---- assets ---------------------------------------------------------------------------

    pub(crate) fn asset_identity(&self, i: u64) -> AssetIdentity {
        let mut rng = Rng::for_record(self.seed, S_ASSET, i);
        let class = EquipmentClass::pick(&mut rng, EQUIPMENT);
        let (make, models) = *rng.pick(class.makes);
        let model = *rng.pick(models);
        let service = *rng.pick(class.services);
        let description = class.name(service, 1000 + i);
        AssetIdentity {
            class,
            make,
            model,
            description,
        }
    }

    /// The location index asset `i` stands at.
    pub(crate) fn asset_location(&self, i: u64) -> u64 {
        self.floor_location(self.h(S_ASSET, i, 1), i % self.sites)
    }

    pub(crate) fn assetnum(i: u64) -> String {
        (ASSETNUM_BASE + i).to_string()
    }

    pub(crate) fn asset(&self, i: u64) -> Value {
        let identity = self.asset_identity(i);
        let mut rng = Rng::for_record(self.seed, S_ASSET, i ^ 0x5a5a_0000);
        let s = i % self.sites;
        let status = *rng.weighted(&[
            ("OPERATING", 80),
            ("NOT READY", 8),
            ("BROKEN", 4),
            ("LIMITEDUSE", 3),
            ("DECOMMISSIONED", 5),
        ]);
        let status_description = match status {
            "OPERATING" => "Operating",
            "NOT READY" => "Not Ready",
            "BROKEN" => "Broken",
            "LIMITEDUSE" => "Limited Use",
            _ => "Decommissioned",
        };
        let created = self.created(&mut rng, i, 2);
        let changed = self.changed(&mut rng, created);
        let installed = Ts(created.0 - rng.range(30, 3000) * DAY_MS);
        let mut record = json!({
            "assetnum": Self::assetnum(i),
            "assetuid": i + 1,
            "siteid": self.site(i),
            "orgid": ORGID,
            "description": identity.description,
            "assettype": identity.class.type_name.to_uppercase(),
            "status": status,
            "status_description": status_description,
            "location": self.location_code(self.asset_location(i)),
            "manufacturer": names::slug(identity.make).to_uppercase(),
            "serialnum": format!("{}{}", rng.alnum(3), rng.digits(7)),
            "priority": rng.range(1, 6),
            "purchaseprice": Num::cents(rng.range(150_000, 12_500_000)),
            "installdate": mx_time(installed),
            "isrunning": status == "OPERATING",
            "changedate": mx_time(changed),
            "changeby": CHANGEBY,
            "_rowstamp": rowstamp(changed),
            "description_longdescription": format!("{} {}, {}", identity.make, identity.model, rng.pick(identity.class.ratings)),
        });
        let map = record.as_object_mut().expect("object");
        if i >= self.sites && rng.chance(25) {
            let back = 1 + self.h(S_ASSET, i, 2) % (i / self.sites).min(20);
            map.insert(
                "parent".into(),
                Value::String(Self::assetnum(i - back * self.sites)),
            );
        }
        if self.scale > 0 && rng.chance(70) {
            let v = self.h(S_ASSET, i, 3) % self.scale;
            map.insert("vendor".into(), Value::String(self.company_code(v)));
        }
        if status == "DECOMMISSIONED" {
            map.insert("isrunning".into(), Value::Bool(false));
        }
        let _ = s;
        record
    }

    // ---- companies (vendors) --------------------------------------------------------------

    pub(crate) fn company_code(&self, i: u64) -> String {
        let mut rng = Rng::for_record(self.seed, S_VENDOR, i);
        let (name, _, _) = names::vendor_company(&mut rng);
        let prefix: String = names::slug(name.split(' ').next().unwrap_or("V"))
            .to_uppercase()
            .chars()
            .take(6)
            .collect();
        format!("{prefix}{}", COMPANY_BASE + i)
    }

    pub(crate) fn vendor(&self, i: u64) -> Value {
        let mut rng = Rng::for_record(self.seed, S_VENDOR, i);
        let (name, sells, domain) = names::vendor_company(&mut rng);
        let city = *rng.pick(CITIES);
        let address = Address::generate(&mut rng, &city);
        let (first, last, _) = names::person(self.seed, i);
        let created = self.created(&mut rng, i, 1);
        let changed = self.changed(&mut rng, created);
        let disabled = rng.chance(5);
        json!({
            "company": self.company_code(i),
            "companiesid": i + 1,
            "orgid": ORGID,
            "name": name,
            "type": "V",
            "currencycode": "USD",
            "paymentterms": rng.pick(&["NET30", "NET45", "NET60", "2%10NET30"]),
            "address1": address.street,
            "address2": address.city,
            "address3": address.state,
            "address4": address.postal_code,
            "country": address.country,
            "phone": names::phone(&mut rng, &city),
            "homepage": format!("https://www.{domain}"),
            "disabled": disabled,
            "remarks": sells,
            "compcontact": [{
                "contact": format!("{}{}", &first[..1], last).to_uppercase(),
                "email": format!("{}.{}@{domain}", names::slug(first), names::slug(last)),
                "voicephone": names::phone(&mut rng, &city),
            }],
            "changedate": mx_time(changed),
            "changeby": CHANGEBY,
            "_rowstamp": rowstamp(changed),
        })
    }

    // ---- inventory ------------------------------------------------------------------------

    pub(crate) fn itemnum(i: u64) -> String {
        (ITEMNUM_BASE + i).to_string()
    }

    /// The storeroom inventory record `i` is kept in.
    pub(crate) fn inventory_storeroom(&self, i: u64) -> u64 {
        self.storeroom(self.h(S_INVENTORY, i, 1), i % self.sites)
    }

    /// Item description and unit, shared with purchase order lines.
    fn item(&self, i: u64) -> (String, &'static str, &'static str, i64) {
        let mut rng = Rng::for_record(self.seed, S_INVENTORY, i);
        let template = rng.pick(PARTS);
        let name = *rng.pick(template.names);
        let maker = *rng.pick(template.makers);
        let cost = rng.range(template.cost_cents.0, template.cost_cents.1);
        (name.to_owned(), maker, template.unit, cost)
    }

    pub(crate) fn inventory(&self, i: u64) -> Value {
        let (description, maker, unit, cost) = self.item(i);
        let mut rng = Rng::for_record(self.seed, S_INVENTORY, i ^ 0x1111_0000);
        let template = PARTS
            .iter()
            .find(|p| p.unit == unit)
            .expect("unit from PARTS");
        let stock = rng.range(template.stock.0, template.stock.1);
        let minlevel = (stock / 4).max(1);
        let reserved = rng.range(0, (stock / 5).max(1));
        let issueunit = unit_code(unit);
        let vendor =
            (self.scale > 0).then(|| self.company_code(self.h(S_INVENTORY, i, 2) % self.scale));
        let bin = bin(&mut rng);
        json!({
            "itemnum": Self::itemnum(i),
            "itemsetid": ITEMSETID,
            "description": description,
            "location": self.location_code(self.inventory_storeroom(i)),
            "siteid": self.site(i),
            "orgid": ORGID,
            "inventoryid": i + 1,
            "status": "ACTIVE",
            "status_description": "Active",
            "curbaltotal": stock,
            "avblbalance": stock - reserved,
            "issueunit": issueunit,
            "orderunit": issueunit,
            "minlevel": minlevel,
            "maxlevel": stock * 2,
            "orderqty": (stock - minlevel).max(1),
            "avgcost": Num::cents(cost),
            "lastcost": Num::cents(cost + rng.range(-cost / 10, cost / 10 + 1)),
            "stdcost": Num::cents(cost),
            "manufacturer": names::slug(maker).to_uppercase(),
            "modelnum": format!("{}-{}", rng.alnum(2), rng.digits(5)),
            "vendor": vendor,
            "invbalances": [{
                "binnum": bin,
                "curbal": stock,
                "physcnt": stock,
                "conditioncode": Value::Null,
            }],
        })
    }

    // ---- PMs ------------------------------------------------------------------------------

    pub(crate) fn pmnum(i: u64) -> String {
        format!("PM{}", PMNUM_BASE + i)
    }

    pub(crate) fn pm(&self, i: u64) -> Value {
        let mut rng = Rng::for_record(self.seed, S_PM, i);
        let s = i % self.sites;
        let asset = self
            .same_site(self.h(S_PM, i, 1), s, i, self.scale)
            .unwrap_or(s);
        let identity = self.asset_identity(asset);
        let routine = *rng.pick(identity.class.routines);
        let (frequency, unit, days) = *rng.pick(&[
            (1, "WEEKS", 7),
            (2, "WEEKS", 14),
            (1, "MONTHS", 30),
            (3, "MONTHS", 91),
            (6, "MONTHS", 182),
            (1, "YEARS", 365),
            (30, "DAYS", 30),
            (90, "DAYS", 90),
        ]);
        let created = self.created(&mut rng, i, 3);
        let changed = self.changed(&mut rng, created);
        let active = rng.chance(85);
        let last = Ts(self.anchor.0 - rng.range(0, days) * DAY_MS - rng.range(0, DAY_MS));
        let next = Ts(last.0 + days * DAY_MS);
        json!({
            "pmnum": Self::pmnum(i),
            "pmuid": i + 1,
            "siteid": self.site(i),
            "orgid": ORGID,
            "description": format!("{routine} - {}", identity.description),
            "status": if active { "ACTIVE" } else { "INACTIVE" },
            "status_description": if active { "Active" } else { "Inactive" },
            "assetnum": Self::assetnum(asset),
            "location": self.location_code(self.asset_location(asset)),
            "worktype": "PM",
            "frequency": frequency,
            "frequnit": unit,
            "laststartdate": mx_time(Ts(last.0 - 2 * HOUR_MS)),
            "lastcompdate": mx_time(last),
            "nextdate": mx_time(next),
            "usetargetdate": rng.chance(50),
            "changedate": mx_time(changed),
            "changeby": CHANGEBY,
            "_rowstamp": rowstamp(changed),
        })
    }

    // ---- work orders ----------------------------------------------------------------------

    pub(crate) fn wonum(i: u64) -> String {
        (WONUM_BASE + i).to_string()
    }

    pub(crate) fn work_order(&self, i: u64) -> Value {
        let mut rng = Rng::for_record(self.seed, S_WO, i);
        let s = i % self.sites;
        let asset = self
            .same_site(self.h(S_WO, i, 1), s, i, self.scale)
            .unwrap_or(s);
        let identity = self.asset_identity(asset);
        let worktype = *rng.weighted(&[("CM", 55), ("PM", 35), ("EM", 10)]);
        let (description, failurecode) = match worktype {
            "PM" => ((*rng.pick(identity.class.routines)).to_owned(), None),
            _ => {
                let (title, code, _) = *rng.pick(identity.class.faults);
                (title.to_owned(), Some(code))
            }
        };
        let created = self.created(&mut rng, i, 3);
        let age_days = (self.anchor.0 - created.0) / DAY_MS;
        // Old work is finished; recent work is anywhere in its life cycle.
        let status = if age_days > 30 {
            *rng.weighted(&[
                ("CLOSE", 70),
                ("COMP", 15),
                ("CAN", 8),
                ("INPRG", 4),
                ("APPR", 3),
            ])
        } else {
            *rng.weighted(&[
                ("WAPPR", 20),
                ("APPR", 20),
                ("WSCH", 8),
                ("WMATL", 7),
                ("INPRG", 20),
                ("COMP", 15),
                ("CLOSE", 6),
                ("CAN", 4),
            ])
        };
        let estdur = rng.range(2, 33) as f64 / 4.0;
        let targstart = Ts(created.0 + rng.range(HOUR_MS, 5 * DAY_MS));
        let targcomp = Ts(targstart.0 + rng.range(4 * HOUR_MS, 10 * DAY_MS));
        let started = matches!(status, "INPRG" | "COMP" | "CLOSE");
        let finished = matches!(status, "COMP" | "CLOSE");
        let actstart = Ts(targstart.0 + rng.range(-HOUR_MS, DAY_MS)).min(self.anchor);
        let actfinish = Ts(actstart.0 + rng.range(HOUR_MS, 3 * DAY_MS)).min(self.anchor);
        let statusdate = if finished { actfinish } else { created };
        let changed = self
            .changed(&mut rng, created)
            .max(statusdate)
            .min(self.anchor);
        let (first, last, _) = names::person(self.seed, self.h(S_WO, i, 2) % 40);
        let lead = format!("{}{}", &first[..1], last)
            .to_uppercase()
            .replace('\'', "");
        let mut record = json!({
            "wonum": Self::wonum(i),
            "workorderid": i + 1,
            "siteid": self.site(i),
            "orgid": ORGID,
            "description": description,
            "status": status,
            "status_description": wo_status_description(status),
            "worktype": worktype,
            "wopriority": match worktype { "EM" => 1, _ => rng.range(1, 5) },
            "assetnum": Self::assetnum(asset),
            "location": self.location_code(self.asset_location(asset)),
            "woclass": "WORKORDER",
            "istask": false,
            "reportedby": CHANGEBY,
            "reportdate": mx_time(created),
            "targstartdate": mx_time(targstart),
            "targcompdate": mx_time(targcomp),
            "schedstart": mx_time(targstart),
            "estdur": estdur,
            "lead": lead,
            "statusdate": mx_time(statusdate),
            "changedate": mx_time(changed),
            "changeby": CHANGEBY,
            "_rowstamp": rowstamp(changed),
        });
        let map = record.as_object_mut().expect("object");
        if let Some(code) = failurecode {
            map.insert("failurecode".into(), Value::String(code.to_owned()));
        }
        if worktype == "PM" && self.scale > 0 {
            let pm = self
                .same_site(self.h(S_WO, i, 3), s, i, self.scale)
                .unwrap_or(s);
            map.insert("pmnum".into(), Value::String(Self::pmnum(pm)));
        }
        if started {
            map.insert("actstart".into(), Value::String(mx_time(actstart)));
        }
        if finished {
            map.insert("actfinish".into(), Value::String(mx_time(actfinish)));
            let hours = ((actfinish.0 - actstart.0) as f64 / HOUR_MS as f64).min(estdur * 1.5);
            map.insert("actlabhrs".into(), json!((hours * 4.0).round() / 4.0));
        }
        record
    }

    // ---- purchase orders ------------------------------------------------------------------

    pub(crate) fn ponum(i: u64) -> String {
        (PONUM_BASE + i).to_string()
    }

    pub(crate) fn purchase_order(&self, i: u64) -> Value {
        let mut rng = Rng::for_record(self.seed, S_PO, i);
        let s = i % self.sites;
        let vendor = self.h(S_PO, i, 1) % self.scale.max(1);
        let created = self.created(&mut rng, i, 3);
        let age_days = (self.anchor.0 - created.0) / DAY_MS;
        let status = if age_days > 45 {
            *rng.weighted(&[("CLOSE", 75), ("CAN", 8), ("APPR", 17)])
        } else {
            *rng.weighted(&[
                ("WAPPR", 25),
                ("APPR", 45),
                ("INPRG", 10),
                ("CLOSE", 12),
                ("CAN", 8),
            ])
        };
        let receipts = match status {
            "CLOSE" => "COMPLETE",
            "APPR" | "INPRG" => *rng.weighted(&[("NONE", 50), ("PARTIAL", 30), ("COMPLETE", 20)]),
            _ => "NONE",
        };
        let required = Ts(created.0 + rng.range(3, 30) * DAY_MS);
        let storeroom = self.location_code(self.storeroom(self.h(S_PO, i, 2), s));
        let lines = rng.range(1, 6) as u64;
        let mut total_cents = 0i64;
        let mut polines = Vec::new();
        for n in 0..lines {
            let item = self
                .same_site(self.h(S_PO, i, 10 + n), s, self.scale, self.scale)
                .unwrap_or(s);
            let (description, _, unit, cost) = self.item(item);
            let qty = rng.range(1, 25);
            let linecost = cost * qty;
            total_cents += linecost;
            let received = match receipts {
                "COMPLETE" => qty,
                "PARTIAL" => rng.range(0, qty + 1),
                _ => 0,
            };
            polines.push(json!({
                "polinenum": n + 1,
                "polineid": (i + 1) * 10 + n,
                "itemnum": Self::itemnum(item),
                "itemsetid": ITEMSETID,
                "description": description,
                "orderqty": qty,
                "orderunit": unit_code(unit),
                "unitcost": Num::cents(cost),
                "linecost": Num::cents(linecost),
                "receivedqty": received,
                "storeloc": self.location_code(self.inventory_storeroom(item)),
                "tositeid": self.site(i),
                "vendeliverydate": mx_time(required),
                "linetype": "ITEM",
            }));
        }
        let changed = self.changed(&mut rng, created);
        json!({
            "ponum": Self::ponum(i),
            "revisionnum": 0,
            "poid": i + 1,
            "siteid": self.site(i),
            "orgid": ORGID,
            "description": format!("Replenishment for {storeroom} storeroom"),
            "status": status,
            "status_description": po_status_description(status),
            "receipts": receipts,
            "vendor": self.company_code(vendor),
            "orderdate": mx_time(created),
            "requireddate": mx_time(required),
            "currencycode": "USD",
            "totalcost": Num::cents(total_cents),
            "pretaxtotal": Num::cents(total_cents),
            "paymentterms": rng.pick(&["NET30", "NET45", "2%10NET30"]),
            "shipto": format!("{}-PLANT", self.site(i)),
            "billto": format!("{}-PLANT", self.site(i)),
            "potype": "STD",
            "poline": polines,
            "changedate": mx_time(changed),
            "changeby": CHANGEBY,
            "_rowstamp": rowstamp(changed),
        })
    }
}

/// Maximo units of measure are upper-case codes (`EACH`, `FOOT`).
fn unit_code(unit: &str) -> String {
    unit.to_uppercase().replace(' ', "")
}

/// The `status_description` of a work order status.
pub(crate) fn wo_status_description(status: &str) -> &'static str {
    match status {
        "WAPPR" => "Waiting on Approval",
        "APPR" => "Approved",
        "WSCH" => "Waiting to be Scheduled",
        "WMATL" => "Waiting on Material",
        "INPRG" => "In Progress",
        "COMP" => "Completed",
        "CLOSE" => "Closed",
        "CAN" => "Canceled",
        _ => "",
    }
}

fn po_status_description(status: &str) -> &'static str {
    match status {
        "WAPPR" => "Waiting on Approval",
        "APPR" => "Approved",
        "INPRG" => "In Progress",
        "CLOSE" => "Closed",
        "CAN" => "Canceled",
        _ => "",
    }
}

/// A record's fields, for code that edits them.
pub(crate) fn fields(record: &mut Value) -> &mut Map<String, Value> {
    if !record.is_object() {
        *record = Value::Object(Map::new());
    }
    record.as_object_mut().expect("just made an object")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn world(scale: u64) -> World {
        World::new(7, scale, Ts(1_780_000_000_000))
    }

    #[test]
    fn location_codes_round_trip_and_parents_exist() {
        for scale in [1, 9, 50, 2_000] {
            let w = world(scale);
            for i in 0..scale {
                let code = w.location_code(i);
                assert_eq!(w.location_index(&code, i % w.sites), Some(i), "{code}");
                if let Some(p) = w.location_parent(i) {
                    assert!(p < i && p % w.sites == i % w.sites);
                }
            }
            for i in 0..scale.min(200) {
                let loc = w.asset_location(i);
                assert!(loc < scale && loc % w.sites == i % w.sites);
                assert_ne!(w.location_kind(loc), LocKind::Storeroom);
                let store = w.inventory_storeroom(i);
                assert!(store < scale && store % w.sites == i % w.sites);
            }
        }
    }

    #[test]
    fn records_are_deterministic_and_same_site() {
        let w = world(100);
        assert_eq!(w.work_order(17), w.work_order(17));
        let wo = w.work_order(17);
        let asset: u64 = wo["assetnum"].as_str().unwrap().parse::<u64>().unwrap() - ASSETNUM_BASE;
        assert_eq!(w.asset(asset)["siteid"], wo["siteid"]);
        assert_eq!(w.asset(asset)["location"], wo["location"]);
        assert_eq!(mx_time(Ts(0)), "1969-12-31T19:00:00-05:00");
    }
}
