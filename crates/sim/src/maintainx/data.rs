//! Seeded MaintainX data: record `i` of every entity as a pure function of the seed.
//!
//! Relations are consistent: work orders point at assets, locations and users that exist,
//! assets at locations and at parent assets (components share their parent's location), parts
//! at vendors, purchase orders at vendors with lines for parts. A record only refers to records
//! of a lower index, which were created earlier: `createdAt` grows with the index, spread over
//! the 180 days before the clock's anchor, so about half of every entity is older than 90 days.
//! Each entity's ids are its own sequence (as in a per-table database sequence), starting at a
//! different number per entity so a connector mixing up ids is caught.

use serde_json::json;

use crate::clock::{Ts, DAY_MS, HOUR_MS, MINUTE_MS};
use crate::industrial::{
    bin, EquipmentClass, AREAS, BUILDINGS, COMPONENTS, EQUIPMENT, FACILITY_TASKS, PARTS, SITE_KINDS,
};
use crate::names::{self, Address, City, CITIES};
use crate::num::Num;
use crate::rng::{hash, Rng};

use super::wire::*;

/// First id of each entity's sequence.
pub(crate) const USER_FIRST_ID: u64 = 101;
pub(crate) const VENDOR_FIRST_ID: u64 = 301;
pub(crate) const PURCHASE_ORDER_FIRST_ID: u64 = 701;
pub(crate) const LOCATION_FIRST_ID: u64 = 2_001;
pub(crate) const PART_FIRST_ID: u64 = 5_001;
pub(crate) const ASSET_FIRST_ID: u64 = 8_001;
pub(crate) const WORK_ORDER_FIRST_ID: u64 = 12_001;
/// Purchase-order line ids: seeded order `i` owns `first + i * 8 ..`.
pub(crate) const PO_ITEM_FIRST_ID: u64 = 40_001;
const MAX_PO_ITEMS: u64 = 8;

// Independent random streams per entity, so adding a draw to one leaves the others unchanged.
const S_ORG: u64 = 1;
const S_LOCATION: u64 = 2;
const S_SITE_PLACE: u64 = 3;
const S_ASSET: u64 = 4;
const S_ASSET_SHAPE: u64 = 5;
const S_PART: u64 = 6;
const S_USER: u64 = 7;
const S_VENDOR: u64 = 8;
const S_WORK_ORDER: u64 = 9;
const S_PURCHASE_ORDER: u64 = 10;

const HISTORY_MS: i64 = 180 * DAY_MS;

/// Everything seeded records are derived from.
#[derive(Debug)]
pub(crate) struct World {
    pub(crate) seed: u64,
    /// Records per entity.
    pub(crate) scale: u64,
    /// End of seeded history.
    pub(crate) anchor: Ts,
    pub(crate) organization_name: String,
    pub(crate) domain: String,
    pub(crate) headquarters: Address,
    sites: u64,
    buildings: u64,
}

/// Where a location sits in the site / building / area hierarchy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum LocationKind {
    Site,
    Building,
    Area,
}

/// Creation order among records of the same index (see [`World::created`]).
#[derive(Clone, Copy, Debug)]
enum Tier {
    Location,
    Party,
    Equipment,
    Work,
}

/// What an asset is, derivable without generating the whole asset.
struct AssetIdentity {
    class: &'static EquipmentClass,
    make: &'static str,
    model: &'static str,
    rating: &'static str,
    tag: String,
    name: String,
}

impl World {
    pub(crate) fn new(seed: u64, scale: u64, anchor: Ts) -> Self {
        let mut rng = Rng::for_record(seed, S_ORG, 0);
        let (organization_name, domain) = names::organization(&mut rng);
        let city = *rng.pick(CITIES);
        let headquarters = Address::generate(&mut rng, &city);
        // One site per 40 locations and a building per 8: a 50-location tenant has two plants
        // with a handful of buildings each; the rest are areas where the equipment stands.
        let sites = if scale == 0 { 0 } else { scale.div_ceil(40) };
        let buildings = (scale - sites).min(scale.div_ceil(8));
        World {
            seed,
            scale,
            anchor,
            organization_name,
            domain,
            headquarters,
            sites,
            buildings,
        }
    }

    fn h(&self, stream: u64, index: u64, salt: u64) -> u64 {
        hash(self.seed, stream, index, salt)
    }

    /// `createdAt` of seeded record `i`: within slot `i` of the history, so it grows with the
    /// id, and within the slot at the quarter of its `tier`, so records of equal index are
    /// created in dependency order (locations, then people and vendors, then assets and parts,
    /// then work and purchase orders).
    fn created(&self, rng: &mut Rng, i: u64, tier: Tier) -> Ts {
        let n = self.scale.max(1) as i128;
        let span = i128::from(HISTORY_MS);
        let start = i128::from(self.anchor.0 - HISTORY_MS);
        let quarter = (span / n / 4).max(1) as i64;
        let base = start + span * i128::from(i) / n;
        Ts(base as i64 + quarter * tier as i64 + rng.range(0, quarter))
    }

    /// `updatedAt` for a record created at `created`: most records were touched only around
    /// creation, the rest at any time since.
    fn updated(&self, rng: &mut Rng, created: Ts) -> Ts {
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

    /// An index up to `i` among `count` records of a lower tier: something created before
    /// record `i` of a higher tier.
    fn earlier(&self, rng: &mut Rng, i: u64, count: u64) -> Option<u64> {
        if count == 0 {
            return None;
        }
        Some(rng.below((i + 1).min(count)))
    }

    // ---- locations ----------------------------------------------------------------------

    fn location_kind(&self, i: u64) -> LocationKind {
        if i < self.sites {
            LocationKind::Site
        } else if i < self.sites + self.buildings {
            LocationKind::Building
        } else {
            LocationKind::Area
        }
    }

    fn location_parent(&self, i: u64) -> Option<u64> {
        match self.location_kind(i) {
            LocationKind::Site => None,
            LocationKind::Building => Some(self.h(S_LOCATION, i, 1) % self.sites),
            LocationKind::Area if self.buildings > 0 => {
                Some(self.sites + self.h(S_LOCATION, i, 1) % self.buildings)
            }
            LocationKind::Area if self.sites > 0 => Some(self.h(S_LOCATION, i, 1) % self.sites),
            // Only locations created in an empty tenant get here: they stand alone.
            LocationKind::Area => None,
        }
    }

    fn site_of(&self, i: u64) -> u64 {
        match self.location_parent(i) {
            None => i,
            Some(parent) => self.site_of(parent),
        }
    }

    /// A site's city and street address, shared by the site, its buildings and the POs
    /// shipped there.
    fn site_place(&self, site: u64) -> (City, Address) {
        let mut rng = Rng::for_record(self.seed, S_SITE_PLACE, site);
        let city = *rng.pick(CITIES);
        let address = Address::generate(&mut rng, &city);
        (city, address)
    }

    /// A location with index up to `upto` where equipment stands or parts are kept: an area
    /// if one existed by then, else a building, else a site.
    fn floor_location(&self, key: u64, upto: u64) -> Option<u64> {
        let end = (upto + 1).min(self.scale);
        let first_area = self.sites + self.buildings;
        if end > first_area {
            Some(first_area + key % (end - first_area))
        } else if end > self.sites {
            Some(self.sites + key % (end - self.sites))
        } else if end > 0 {
            Some(key % end)
        } else {
            None
        }
    }

    pub(crate) fn location(&self, i: u64) -> Location {
        let mut rng = Rng::for_record(self.seed, S_LOCATION, i);
        let created_at = self.created(&mut rng, i, Tier::Location);
        let updated_at = self.updated(&mut rng, created_at);
        let parent = self.location_parent(i);
        let (name, description, address) = match self.location_kind(i) {
            LocationKind::Site => {
                let (city, address) = self.site_place(i);
                let kind = rng.pick(SITE_KINDS);
                (
                    format!("{} {kind}", city.name),
                    format!("{kind} in {}, {}.", city.name, city.state),
                    Some(address.one_line()),
                )
            }
            LocationKind::Building => {
                let site = parent.unwrap_or(0);
                let building = rng.pick(BUILDINGS);
                let letter = char::from(b'A' + rng.below(8) as u8);
                let site_name = self.location(site).name;
                (
                    format!("{building} {letter}"),
                    format!("{building} {letter} at the {site_name}."),
                    Some(self.site_place(site).1.one_line()),
                )
            }
            LocationKind::Area => {
                let (area, numbered) = *rng.pick(AREAS);
                let name = if numbered {
                    format!("{area} {}", rng.range(1, 13))
                } else {
                    area.to_owned()
                };
                let within = parent.map(|p| self.location(p).name).unwrap_or_default();
                let description = format!("{name}, {within}.");
                (name, description, None)
            }
        };
        let mut extra_fields = ExtraFields::new();
        extra_fields.insert("Location Code".into(), json!(format!("LOC-{:05}", i + 1)));
        extra_fields.insert(
            "Cost Center".into(),
            json!(format!("CC-{}", 1000 + self.site_of(i) % 90 * 100)),
        );
        Location {
            id: LOCATION_FIRST_ID + i,
            name,
            description: Some(description),
            address,
            parent_id: parent.map(|p| LOCATION_FIRST_ID + p),
            created_at,
            updated_at,
            extra_fields,
        }
    }

    // ---- assets -------------------------------------------------------------------------

    /// One asset in five (never the first) is a component of an earlier machine.
    fn asset_is_component(&self, i: u64) -> bool {
        i > 0 && self.h(S_ASSET_SHAPE, i, 1) % 5 == 0
    }

    /// The machine a component belongs to: a recent earlier asset that is not a component.
    fn asset_parent(&self, i: u64) -> Option<u64> {
        if !self.asset_is_component(i) {
            return None;
        }
        let mut j = i - 1 - self.h(S_ASSET_SHAPE, i, 2) % i.min(8);
        while self.asset_is_component(j) {
            j -= 1; // terminates: asset 0 is never a component
        }
        Some(j)
    }

    fn asset_location(&self, i: u64) -> Option<u64> {
        match self.asset_parent(i) {
            Some(parent) => self.asset_location(parent),
            None => self.floor_location(self.h(S_ASSET_SHAPE, i, 3), i),
        }
    }

    fn asset_identity(&self, i: u64) -> AssetIdentity {
        let mut rng = Rng::for_record(self.seed, S_ASSET_SHAPE, i);
        let classes = if self.asset_is_component(i) {
            COMPONENTS
        } else {
            EQUIPMENT
        };
        let class = EquipmentClass::pick(&mut rng, classes);
        let service = rng.pick(class.services);
        let (make, models) = rng.pick(class.makes);
        let model = rng.pick(models);
        let rating = rng.pick(class.ratings);
        let tag_number = 1000 + i;
        AssetIdentity {
            class,
            make,
            model,
            rating,
            tag: format!("{}-{tag_number}", class.tag),
            name: class.name(service, tag_number),
        }
    }

    pub(crate) fn asset(&self, i: u64) -> Asset {
        let mut rng = Rng::for_record(self.seed, S_ASSET, i);
        let id = self.asset_identity(i);
        let created_at = self.created(&mut rng, i, Tier::Equipment);
        let updated_at = self.updated(&mut rng, created_at);
        let maker_code: String = id
            .make
            .chars()
            .filter(char::is_ascii_alphabetic)
            .take(2)
            .collect::<String>()
            .to_ascii_uppercase();
        let serial_number = format!("{maker_code}{}{}", rng.digits(2), rng.alnum(6));
        let barcode = rng.digits(12);
        let status = if rng.chance(86) {
            AssetStatus {
                status: AssetState::Online,
                downtime_type: None,
                description: None,
                started_at: created_at,
                custom_status: None,
            }
        } else {
            let planned = rng.chance(40);
            let (downtime_type, description, label) = if planned {
                (
                    DowntimeType::Planned,
                    "Planned shutdown for overhaul",
                    "Scheduled Shutdown",
                )
            } else {
                (
                    DowntimeType::Unplanned,
                    *rng.pick(&[
                        "Waiting on replacement parts",
                        "Breakdown, technician assigned",
                        "Tripped, under investigation",
                    ]),
                    *rng.pick(&["Awaiting Parts", "Under Repair"]),
                )
            };
            let since = (updated_at.0 - rng.range(0, 3 * DAY_MS)).max(created_at.0);
            AssetStatus {
                status: AssetState::Offline,
                downtime_type: Some(downtime_type),
                description: Some(description.to_owned()),
                started_at: Ts(since),
                custom_status: rng.chance(50).then(|| CustomStatus {
                    label: label.to_owned(),
                }),
            }
        };
        let installed = Ts(created_at.0 - rng.range(30, 15 * 365) * DAY_MS);
        let mut extra_fields = ExtraFields::new();
        extra_fields.insert(
            "Criticality".into(),
            json!(rng.weighted(&[("A", 2), ("B", 5), ("C", 3)])),
        );
        extra_fields.insert("Install Date".into(), json!(installed.date()));
        extra_fields.insert("Asset Tag".into(), json!(id.tag));
        extra_fields.insert("Rating".into(), json!(id.rating));
        Asset {
            id: ASSET_FIRST_ID + i,
            description: Some(format!(
                "{} {} {}, {}.",
                id.make,
                id.model,
                id.class.type_name.to_lowercase(),
                id.rating
            )),
            name: id.name,
            location_id: self.asset_location(i).map(|l| LOCATION_FIRST_ID + l),
            parent_id: self.asset_parent(i).map(|p| ASSET_FIRST_ID + p),
            serial_number: Some(serial_number),
            model: Some(id.model.to_owned()),
            manufacturer: Some(id.make.to_owned()),
            barcode: Some(barcode),
            created_at,
            updated_at,
            asset_types: vec![id.class.type_name.to_owned()],
            status,
            extra_fields,
        }
    }

    // ---- vendors, parts, users ----------------------------------------------------------

    pub(crate) fn vendor(&self, i: u64) -> Vendor {
        let mut rng = Rng::for_record(self.seed, S_VENDOR, i);
        let created_at = self.created(&mut rng, i, Tier::Party);
        let updated_at = self.updated(&mut rng, created_at);
        let (name, description, domain) = names::vendor_company(&mut rng);
        let city = *rng.pick(CITIES);
        let address = Address::generate(&mut rng, &city);
        let mut extra_fields = ExtraFields::new();
        extra_fields.insert("Vendor Code".into(), json!(format!("V-{:05}", i + 1)));
        extra_fields.insert(
            "Payment Terms".into(),
            json!(rng.weighted(&[
                ("Net 30", 6),
                ("Net 45", 2),
                ("Net 60", 1),
                ("2% 10 Net 30", 1)
            ])),
        );
        Vendor {
            id: VENDOR_FIRST_ID + i,
            name,
            description: Some(description),
            email: Some(format!(
                "{}@{domain}",
                rng.pick(&["orders", "sales", "customerservice", "quotes"])
            )),
            phone_number: Some(names::phone(&mut rng, &city)),
            address: Some(address.one_line()),
            created_at,
            updated_at,
            extra_fields,
        }
    }

    /// The vendor a part is normally bought from (one that existed when the part was added).
    fn part_primary_vendor(&self, p: u64) -> Option<u64> {
        (self.scale > 0).then(|| self.h(S_PART, p, 1) % (p + 1).min(self.scale))
    }

    pub(crate) fn part(&self, i: u64) -> Part {
        let mut rng = Rng::for_record(self.seed, S_PART, i);
        let created_at = self.created(&mut rng, i, Tier::Equipment);
        let updated_at = self.updated(&mut rng, created_at);
        let template = rng.pick(PARTS);
        let name = rng.pick(template.names);
        let maker = rng.pick(template.makers);
        let unit_cost = rng.range(template.cost_cents.0, template.cost_cents.1);
        let minimum = rng.range(
            template.stock.0,
            template.stock.0 + 1 + template.stock.1 / 4,
        );
        // About one part in eight has fallen below its minimum and needs reordering.
        let available = if rng.chance(12) {
            rng.range(0, minimum.max(1))
        } else {
            rng.range(minimum, template.stock.1 + 1)
        };
        let mut vendor_ids: Vec<u64> = self.part_primary_vendor(i).into_iter().collect();
        if self.scale > 1 && rng.chance(30) {
            let second = rng.below((i + 1).min(self.scale));
            if !vendor_ids.contains(&second) {
                vendor_ids.push(second);
            }
        }
        let mut extra_fields = ExtraFields::new();
        extra_fields.insert("Manufacturer".into(), json!(maker));
        extra_fields.insert("Unit of Measure".into(), json!(template.unit));
        Part {
            id: PART_FIRST_ID + i,
            name: (*name).to_owned(),
            description: Some(format!("{maker} {name}")),
            part_number: Some(format!("{}-{}", template.code, 10_000 + i)),
            barcode: Some(rng.digits(12)),
            available_quantity: Num(available as f64),
            minimum_quantity: Num(minimum as f64),
            unit_cost: Num::cents(unit_cost),
            area: Some(bin(&mut rng)),
            location_id: self
                .floor_location(rng.next_u64(), i)
                .map(|l| LOCATION_FIRST_ID + l),
            vendor_ids: vendor_ids
                .into_iter()
                .map(|v| VENDOR_FIRST_ID + v)
                .collect(),
            created_at,
            updated_at,
            extra_fields,
        }
    }

    pub(crate) fn user(&self, i: u64) -> User {
        let mut rng = Rng::for_record(self.seed, S_USER, i);
        let created_at = self.created(&mut rng, i, Tier::Party);
        let updated_at = self.updated(&mut rng, created_at);
        let (first, last, suffix) = names::person(self.seed, i);
        let suffix = if suffix == 0 {
            String::new()
        } else {
            suffix.to_string()
        };
        // The first user set the organization up.
        let role = if i == 0 {
            Role::Admin
        } else {
            *rng.weighted(&[
                (Role::Admin, 5),
                (Role::Technician, 60),
                (Role::LimitedTechnician, 15),
                (Role::Requester, 15),
                (Role::ViewOnly, 5),
            ])
        };
        let city = *rng.pick(CITIES);
        User {
            id: USER_FIRST_ID + i,
            email: format!(
                "{}.{}{suffix}@{}",
                names::slug(first),
                names::slug(last),
                self.domain
            ),
            first_name: first.to_owned(),
            last_name: last.to_owned(),
            role,
            phone_number: rng.chance(80).then(|| names::phone(&mut rng, &city)),
            created_at,
            updated_at,
        }
    }

    // ---- work orders --------------------------------------------------------------------

    pub(crate) fn work_order(&self, i: u64) -> WorkOrder {
        let mut rng = Rng::for_record(self.seed, S_WORK_ORDER, i);
        let created_at = self.created(&mut rng, i, Tier::Work);
        let age = self.anchor.0 - created_at.0;
        let asset = if rng.chance(88) {
            self.earlier(&mut rng, i, self.scale)
        } else {
            None
        };
        let location = match asset {
            Some(a) => self.asset_location(a),
            None => self.floor_location(rng.next_u64(), i),
        };
        let mut extra_fields = ExtraFields::new();
        extra_fields.insert(
            "Cost Center".into(),
            json!(format!("CC-{}", 1000 + rng.below(90) * 100)),
        );
        let (work_order_type, title, description, categories, failure) = match asset {
            Some(a) => {
                let id = self.asset_identity(a);
                let kind = *rng.weighted(&[
                    (WorkOrderType::Reactive, 55),
                    (WorkOrderType::Preventive, 35),
                    (WorkOrderType::Other, 10),
                ]);
                match kind {
                    WorkOrderType::Reactive => {
                        let (fault, code, category) = *rng.pick(id.class.faults);
                        (
                            kind,
                            format!("{fault} - {}", id.name),
                            format!(
                                "Operator reported: {}. {} {} ({}). Failure code {code}.",
                                fault.to_lowercase(),
                                id.make,
                                id.model,
                                id.tag
                            ),
                            vec![category.to_owned()],
                            Some(code),
                        )
                    }
                    WorkOrderType::Preventive => {
                        let routine = rng.pick(id.class.routines);
                        let mut categories = vec!["Preventive".to_owned()];
                        if rng.chance(30) {
                            categories.push("Inspection".to_owned());
                        }
                        (
                            kind,
                            format!("{routine} - {}", id.name),
                            format!(
                                "Scheduled {} per {} recommendations for the {}. Record readings in the procedure.",
                                routine.to_lowercase(),
                                id.make,
                                id.model
                            ),
                            categories,
                            None,
                        )
                    }
                    WorkOrderType::Other => {
                        let (verb, category) = *rng.pick(&[
                            ("Install new guarding on", "Safety"),
                            ("Upgrade controls on", "Project"),
                            ("Relocate", "Project"),
                            ("Audit lockout points on", "Safety"),
                            ("Relabel and tag", "Standard Operating Procedure"),
                        ]);
                        (
                            kind,
                            format!("{verb} {}", id.name),
                            format!("Project work on {} ({}).", id.name, id.tag),
                            vec![category.to_owned()],
                            None,
                        )
                    }
                }
            }
            None => {
                let (task, category) = *rng.pick(FACILITY_TASKS);
                let kind = if category == "Inspection" {
                    WorkOrderType::Preventive
                } else if category == "Project" {
                    WorkOrderType::Other
                } else {
                    WorkOrderType::Reactive
                };
                let place = location.map(|l| self.location(l).name).unwrap_or_default();
                (
                    kind,
                    task.to_owned(),
                    format!("{task} in {place}."),
                    vec![category.to_owned()],
                    None,
                )
            }
        };
        if let Some(code) = failure {
            extra_fields.insert("Failure Code".into(), json!(code));
        }
        let priority = *match work_order_type {
            WorkOrderType::Reactive => rng.weighted(&[
                (Priority::None, 5),
                (Priority::Low, 15),
                (Priority::Medium, 40),
                (Priority::High, 40),
            ]),
            WorkOrderType::Preventive => rng.weighted(&[
                (Priority::None, 30),
                (Priority::Low, 45),
                (Priority::Medium, 20),
                (Priority::High, 5),
            ]),
            WorkOrderType::Other => rng.weighted(&[
                (Priority::None, 40),
                (Priority::Low, 40),
                (Priority::Medium, 15),
                (Priority::High, 5),
            ]),
        };
        // Old work is nearly all done; recent work is still open.
        let status = *if age > 30 * DAY_MS {
            rng.weighted(&[
                (WorkOrderStatus::Done, 92),
                (WorkOrderStatus::OnHold, 5),
                (WorkOrderStatus::Open, 3),
            ])
        } else if age > 7 * DAY_MS {
            rng.weighted(&[
                (WorkOrderStatus::Done, 60),
                (WorkOrderStatus::InProgress, 15),
                (WorkOrderStatus::OnHold, 10),
                (WorkOrderStatus::Open, 15),
            ])
        } else {
            rng.weighted(&[
                (WorkOrderStatus::Open, 45),
                (WorkOrderStatus::InProgress, 25),
                (WorkOrderStatus::OnHold, 10),
                (WorkOrderStatus::Done, 20),
            ])
        };
        let due_date = match work_order_type {
            WorkOrderType::Preventive => Some(Ts(created_at.0 + 7 * DAY_MS)),
            _ if rng.chance(90) => Some(Ts(created_at.0 + rng.range(1, 15) * DAY_MS)),
            _ => None,
        };
        let estimated_time = rng.chance(80).then(|| rng.range(2, 33) as u64 * 900);
        let mut assignee_ids = Vec::new();
        let assignees = *rng.weighted(&[(0u8, 10), (1, 65), (2, 25)]);
        for _ in 0..assignees {
            if let Some(u) = self.earlier(&mut rng, i, self.scale) {
                let id = USER_FIRST_ID + u;
                if !assignee_ids.contains(&id) {
                    assignee_ids.push(id);
                }
            }
        }
        let (completed_at, updated_at) = if status == WorkOrderStatus::Done {
            let room = (age - 30 * MINUTE_MS).clamp(1, 10 * DAY_MS);
            let done = Ts(created_at.0 + (30 * MINUTE_MS).min(age) + rng.range(0, room));
            let done = Ts(done.0.min(self.anchor.0));
            let hours = rng.range(1, 17) as f64 / 2.0;
            if work_order_type == WorkOrderType::Reactive {
                extra_fields.insert("Downtime (hours)".into(), json!(Num(hours)));
            }
            let touched = Ts((done.0 + rng.range(0, 5 * MINUTE_MS)).min(self.anchor.0));
            (Some(done), touched)
        } else {
            (None, self.updated(&mut rng, created_at))
        };
        let external_data = (work_order_type == WorkOrderType::Reactive && rng.chance(10))
            .then(|| json!({ "source": "SCADA", "alarmId": format!("ALM-{}", rng.digits(6)) }));
        WorkOrder {
            id: WORK_ORDER_FIRST_ID + i,
            sequential_id: i + 1,
            title,
            description: Some(description),
            status,
            priority,
            work_order_type,
            due_date,
            estimated_time,
            assignee_ids,
            categories,
            asset_id: asset.map(|a| ASSET_FIRST_ID + a),
            location_id: location.map(|l| LOCATION_FIRST_ID + l),
            completed_at,
            created_at,
            updated_at,
            external_data,
            extra_fields,
        }
    }

    // ---- purchase orders ----------------------------------------------------------------

    fn postal(address: &Address) -> PostalAddress {
        PostalAddress {
            street: address.street.clone(),
            city: address.city.to_owned(),
            state: address.state.to_owned(),
            postal_code: address.postal_code.clone(),
            country: address.country.to_owned(),
        }
    }

    pub(crate) fn purchase_order(&self, i: u64) -> PurchaseOrder {
        let mut rng = Rng::for_record(self.seed, S_PURCHASE_ORDER, i);
        let created_at = self.created(&mut rng, i, Tier::Work);
        let age = self.anchor.0 - created_at.0;
        let status = *if age > 45 * DAY_MS {
            rng.weighted(&[
                (PurchaseOrderStatus::Completed, 85),
                (PurchaseOrderStatus::Canceled, 6),
                (PurchaseOrderStatus::Declined, 4),
                (PurchaseOrderStatus::PartiallyFulfilled, 5),
            ])
        } else {
            rng.weighted(&[
                (PurchaseOrderStatus::Draft, 12),
                (PurchaseOrderStatus::Requested, 18),
                (PurchaseOrderStatus::Approved, 25),
                (PurchaseOrderStatus::PartiallyFulfilled, 15),
                (PurchaseOrderStatus::Completed, 25),
                (PurchaseOrderStatus::Declined, 3),
                (PurchaseOrderStatus::Canceled, 2),
            ])
        };
        let lines = rng.range(1, 5) as u64;
        let mut parts: Vec<u64> = Vec::new();
        for _ in 0..lines {
            if let Some(p) = self.earlier(&mut rng, i, self.scale) {
                if !parts.contains(&p) {
                    parts.push(p);
                }
            }
        }
        // The vendor the first line's part is normally bought from.
        let vendor = parts.first().and_then(|p| self.part_primary_vendor(*p));
        let items = parts
            .iter()
            .enumerate()
            .map(|(k, p)| {
                let part = self.part(*p);
                let ordered = rng.range(1, 25);
                let received = match status {
                    PurchaseOrderStatus::Completed => ordered,
                    PurchaseOrderStatus::PartiallyFulfilled if k == 0 => rng.range(0, ordered),
                    PurchaseOrderStatus::PartiallyFulfilled => rng.range(0, ordered + 1),
                    _ => 0,
                };
                // Negotiated prices drift a little from the storeroom's unit cost.
                let cost = (part.unit_cost.0 * 100.0).round() as i64;
                let cost = cost + cost * rng.range(-8, 9) / 100;
                PurchaseOrderItem {
                    id: PO_ITEM_FIRST_ID + i * MAX_PO_ITEMS + k as u64,
                    part_id: Some(part.id),
                    name: part.name,
                    quantity_ordered: Num(ordered as f64),
                    quantity_received: Num(received as f64),
                    unit_cost: Num::cents(cost.max(1)),
                }
            })
            .collect();
        let ship_site = (self.sites > 0).then(|| rng.below((i + 1).min(self.sites)));
        let note = *rng.weighted(&[
            (None, 5),
            (Some("Please reference the PO number on all invoices."), 3),
            (Some("Expedite: line down until received."), 1),
            (Some("Deliver to receiving dock, Mon-Fri 7:00-15:00."), 2),
        ]);
        let mut extra_fields = ExtraFields::new();
        extra_fields.insert(
            "Cost Center".into(),
            json!(format!("CC-{}", 1000 + rng.below(90) * 100)),
        );
        extra_fields.insert("Requisition".into(), json!(format!("REQ-{}", 20_000 + i)));
        let updated_at = self.updated(&mut rng, created_at);
        let override_number = rng
            .chance(25)
            .then(|| format!("PO-{}-{:05}", created_at.year(), i + 1));
        PurchaseOrder {
            id: PURCHASE_ORDER_FIRST_ID + i,
            sequential_id: i + 1,
            override_number,
            status,
            due_date: Some(Ts(created_at.0 + rng.range(7, 46) * DAY_MS)),
            note: note.map(str::to_owned),
            vendor_id: vendor.map(|v| VENDOR_FIRST_ID + v),
            shipping_address: ship_site.map(|s| Self::postal(&self.site_place(s).1)),
            billing_address: Some(Self::postal(&self.headquarters)),
            items,
            created_at,
            updated_at,
            extra_fields,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn world(scale: u64) -> World {
        World::new(42, scale, Ts(1_767_225_600_000))
    }

    #[test]
    fn generation_is_deterministic() {
        let a = world(50);
        let b = world(50);
        for i in 0..50 {
            assert_eq!(
                serde_json::to_string(&a.work_order(i)).unwrap(),
                serde_json::to_string(&b.work_order(i)).unwrap()
            );
            assert_eq!(
                serde_json::to_string(&a.purchase_order(i)).unwrap(),
                serde_json::to_string(&b.purchase_order(i)).unwrap()
            );
        }
        let c = World::new(43, 50, Ts(1_767_225_600_000));
        assert_ne!(
            a.work_order(0).title + &a.user(0).email,
            c.work_order(0).title + &c.user(0).email
        );
    }

    #[test]
    fn relations_point_at_existing_records() {
        let w = world(200);
        let in_range = |id: u64, first: u64| id >= first && id < first + 200;
        for i in 0..200 {
            // Every reference exists and was created before the record referring to it.
            let location = |id: u64| {
                assert!(in_range(id, LOCATION_FIRST_ID));
                w.location(id - LOCATION_FIRST_ID)
            };
            let wo = w.work_order(i);
            if let Some(a) = wo.asset_id {
                assert!(in_range(a, ASSET_FIRST_ID));
                let asset = w.asset(a - ASSET_FIRST_ID);
                assert!(asset.created_at < wo.created_at);
                assert_eq!(
                    wo.location_id, asset.location_id,
                    "WO at its asset's location"
                );
            }
            assert!(location(wo.location_id.unwrap()).created_at < wo.created_at);
            for u in &wo.assignee_ids {
                assert!(in_range(*u, USER_FIRST_ID));
                assert!(w.user(u - USER_FIRST_ID).created_at < wo.created_at);
            }
            let asset = w.asset(i);
            assert!(location(asset.location_id.unwrap()).created_at < asset.created_at);
            if let Some(p) = asset.parent_id {
                assert!(p < asset.id);
                let parent = w.asset(p - ASSET_FIRST_ID);
                assert_eq!(parent.parent_id, None, "components hang off machines");
                assert_eq!(parent.location_id, asset.location_id);
            }
            let loc = w.location(i);
            if let Some(p) = loc.parent_id {
                assert!(location(p).created_at < loc.created_at);
            }
            let part = w.part(i);
            assert!(!part.vendor_ids.is_empty());
            for v in &part.vendor_ids {
                assert!(in_range(*v, VENDOR_FIRST_ID));
                assert!(w.vendor(v - VENDOR_FIRST_ID).created_at < part.created_at);
            }
            let po = w.purchase_order(i);
            let vendor = po.vendor_id.expect("vendor");
            assert!(w.vendor(vendor - VENDOR_FIRST_ID).created_at < po.created_at);
            let first_part = w.part(po.items[0].part_id.unwrap() - PART_FIRST_ID);
            assert_eq!(first_part.vendor_ids[0], vendor);
            for item in &po.items {
                let part = w.part(item.part_id.unwrap() - PART_FIRST_ID);
                assert!(part.created_at < po.created_at);
                assert!(item.quantity_received.0 <= item.quantity_ordered.0);
            }
        }
    }

    #[test]
    fn timestamps_are_ordered_and_span_the_history() {
        let w = world(1000);
        let mut previous = Ts(i64::MIN);
        let mut old = 0;
        for i in 0..1000 {
            let wo = w.work_order(i);
            assert!(wo.created_at > previous, "createdAt grows with the id");
            previous = wo.created_at;
            assert!(wo.updated_at >= wo.created_at && wo.updated_at <= w.anchor);
            assert_eq!(
                wo.completed_at.is_some(),
                wo.status == WorkOrderStatus::Done
            );
            if let Some(done) = wo.completed_at {
                assert!(done >= wo.created_at && done <= wo.updated_at);
            }
            if w.anchor.0 - wo.updated_at.0 > 90 * DAY_MS {
                old += 1;
            }
        }
        assert!(old > 200, "a good share is older than 90 days: {old}");
    }

    #[test]
    fn tiny_scales_still_hold_together() {
        for scale in 1..6 {
            let w = world(scale);
            for i in 0..scale {
                let loc = w.location(i);
                assert!(loc.parent_id.is_none_or(|p| p < LOCATION_FIRST_ID + scale));
                assert!(w.asset(i).location_id.is_some());
                let _ = w.work_order(i);
                let _ = w.purchase_order(i);
            }
        }
    }

    #[test]
    fn user_emails_are_unique() {
        let w = world(5000);
        let emails: std::collections::HashSet<String> =
            (0..5000).map(|i| w.user(i).email).collect();
        assert_eq!(emails.len(), 5000);
    }
}
