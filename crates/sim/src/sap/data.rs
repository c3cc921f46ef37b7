//! The seeded S/4HANA tenant: one generator per entity set, each a pure function of
//! `(seed, index)` that returns the entity as OData v2 JSON properties (without `__metadata`,
//! which depends on the URL the client used).
//!
//! Plant `1010` (company code `1010`, EUR) with a functional-location tree `1010` →
//! `1010-SP` → `1010-SP-PMP` → `1010-SP-PMP-001`, equipment installed in it, maintenance
//! orders and plans on that equipment, suppliers and purchase orders from them.
//!
//! `LastChangeDateTime` of seeded record `i` grows with `i` (spread over the 180 days before
//! the anchor), so a `$filter=LastChangeDateTime gt …` or `$orderby=LastChangeDateTime` over
//! 100 000 seeded records finds its start by binary search instead of generating them all.
//! Records changed later always carry a time after the anchor, so they sort after every
//! seeded one.

use serde_json::{json, Map, Value};

use crate::clock::{Ts, DAY_MS};
use crate::industrial::{EquipmentClass, EQUIPMENT, PARTS};
use crate::names;
use crate::rng::{hash, Rng};

use super::odata::{date_time, date_time_offset};

/// How far back seeded history reaches.
const HISTORY_MS: i64 = 180 * DAY_MS;

/// The one maintenance plant (and company code) of the simulated tenant.
pub(crate) const PLANT: &str = "1010";

/// `ValidityEndDate` of current equipment time segments: 9999-12-31.
pub(crate) const VALIDITY_END_MS: i64 = 253_402_214_400_000;

/// The entity sets the simulator serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Kind {
    Equipment,
    FunctionalLocation,
    MaintenanceOrder,
    MaintenancePlan,
    PurchaseOrder,
    Supplier,
}

/// Where an entity set lives and how its keys look.
#[derive(Debug)]
pub(crate) struct SetDef {
    pub(crate) kind: Kind,
    /// The OData service (path segment after `/sap/opu/odata/sap/`).
    pub(crate) service: &'static str,
    /// The entity set name.
    pub(crate) set: &'static str,
    /// `__metadata.type`.
    pub(crate) type_name: &'static str,
    /// The key property.
    pub(crate) key: &'static str,
    /// Numeric keys: the key of index 0. `None` for functional locations (coded keys).
    pub(crate) first_number: Option<u64>,
    /// Navigation properties rendered as `__deferred` (or expanded when stored inline).
    pub(crate) navigations: &'static [&'static str],
    /// `POST /__sim/mutate` entity name (snake_case plural of the unified entity).
    pub(crate) entity: &'static str,
    /// Whether the entity type has `LastChangeDateTime` (A_Supplier has none).
    pub(crate) has_change_time: bool,
}

/// Stream ids for [`Rng::for_record`], one per entity set.
const S_EQ: u64 = 0x5a01;
const S_FL: u64 = 0x5a02;
const S_MO: u64 = 0x5a03;
const S_MP: u64 = 0x5a04;
const S_PO: u64 = 0x5a05;
const S_SUP: u64 = 0x5a06;

pub(crate) const SETS: &[SetDef] = &[
    SetDef {
        kind: Kind::Equipment,
        service: "API_EQUIPMENT",
        set: "Equipment",
        type_name: "API_EQUIPMENT.A_EquipmentType",
        key: "Equipment",
        first_number: Some(10_000_000),
        navigations: &[
            "to_Partner",
            "to_Classification",
            "to_LongText",
            "to_Warranty",
        ],
        entity: "assets",
        has_change_time: true,
    },
    SetDef {
        kind: Kind::FunctionalLocation,
        service: "API_FUNCTIONALLOCATION",
        set: "FunctionalLocation",
        type_name: "API_FUNCTIONALLOCATION.A_FunctionalLocationType",
        key: "FunctionalLocation",
        first_number: None,
        navigations: &["to_Partner", "to_Classification", "to_LongText"],
        entity: "locations",
        has_change_time: true,
    },
    SetDef {
        kind: Kind::MaintenanceOrder,
        service: "API_MAINTENANCEORDER;v=0002",
        set: "MaintenanceOrder",
        type_name: "API_MAINTENANCEORDER.MaintenanceOrderType",
        key: "MaintenanceOrder",
        first_number: Some(4_000_000),
        navigations: &[
            "to_MaintenanceOrderOperation",
            "to_MaintOrderObjectListItem",
        ],
        entity: "work_orders",
        has_change_time: true,
    },
    SetDef {
        kind: Kind::MaintenancePlan,
        service: "API_MAINTENANCEPLAN",
        set: "MaintenancePlan",
        type_name: "API_MAINTENANCEPLAN.MaintenancePlanType",
        key: "MaintenancePlan",
        first_number: Some(100_000),
        navigations: &["to_MaintenancePlanCycle", "to_MaintenanceItem"],
        entity: "maintenance_schedules",
        has_change_time: true,
    },
    SetDef {
        kind: Kind::PurchaseOrder,
        service: "API_PURCHASEORDER_PROCESS_SRV",
        set: "A_PurchaseOrder",
        type_name: "API_PURCHASEORDER_PROCESS_SRV.A_PurchaseOrderType",
        key: "PurchaseOrder",
        first_number: Some(4_500_000_000),
        navigations: &["to_PurchaseOrderItem", "to_PurchaseOrderNote"],
        entity: "purchase_orders",
        has_change_time: true,
    },
    SetDef {
        kind: Kind::Supplier,
        service: "API_BUSINESS_PARTNER",
        set: "A_Supplier",
        type_name: "API_BUSINESS_PARTNER.A_SupplierType",
        key: "Supplier",
        first_number: Some(17_300_001),
        navigations: &["to_SupplierCompany", "to_SupplierPurchasingOrg"],
        entity: "vendors",
        has_change_time: false,
    },
];

/// The definition of `kind`.
pub(crate) fn def(kind: Kind) -> &'static SetDef {
    SETS.iter()
        .find(|d| d.kind == kind)
        .expect("every kind has a definition")
}

/// The entity set `set` of `service`.
pub(crate) fn find_set(service: &str, set: &str) -> Option<&'static SetDef> {
    SETS.iter()
        .find(|d| d.service.eq_ignore_ascii_case(service) && d.set == set)
}

/// `A_PurchaseOrderItem` lives in the purchase order service; items are stored inside their
/// purchase order.
pub(crate) const PO_ITEM_TYPE: &str = "API_PURCHASEORDER_PROCESS_SRV.A_PurchaseOrderItemType";

// ---------------------------------------------------------------------------------------------
// Keys.

const AREAS: &[(&str, &str)] = &[
    ("SP", "Steam Plant"),
    ("WT", "Water Treatment"),
    ("PK", "Packaging"),
    ("UT", "Utilities"),
    ("PR", "Production Hall"),
    ("WH", "Warehouse"),
];

const SYSTEMS: &[(&str, &str)] = &[
    ("PMP", "Pumps"),
    ("CMP", "Compressors"),
    ("CNV", "Conveyors"),
    ("BLR", "Boilers"),
    ("HVC", "HVAC"),
    ("ELE", "Electrical Distribution"),
    ("MIX", "Mixers"),
    ("TNK", "Tanks"),
];

const FIRST_SYSTEM: u64 = 1 + AREAS.len() as u64;
const FIRST_LEAF: u64 = FIRST_SYSTEM + (AREAS.len() * SYSTEMS.len()) as u64;
const SYSTEM_COUNT: u64 = (AREAS.len() * SYSTEMS.len()) as u64;

/// The functional location code of index `i`: the plant, its areas, their systems, then
/// numbered positions in each system (`1010-SP-PMP-001`).
pub(crate) fn fl_code(i: u64) -> String {
    if i == 0 {
        return PLANT.to_owned();
    }
    if i < FIRST_SYSTEM {
        return format!("{PLANT}-{}", AREAS[(i - 1) as usize].0);
    }
    if i < FIRST_LEAF {
        let k = (i - FIRST_SYSTEM) as usize;
        return format!(
            "{PLANT}-{}-{}",
            AREAS[k / SYSTEMS.len()].0,
            SYSTEMS[k % SYSTEMS.len()].0
        );
    }
    let k = i - FIRST_LEAF;
    let system = (k % SYSTEM_COUNT) as usize;
    format!(
        "{PLANT}-{}-{}-{:03}",
        AREAS[system / SYSTEMS.len()].0,
        SYSTEMS[system % SYSTEMS.len()].0,
        k / SYSTEM_COUNT + 1
    )
}

/// The index of a functional location code; `None` if no index has it.
pub(crate) fn fl_index(code: &str) -> Option<u64> {
    let parts: Vec<&str> = code.split('-').collect();
    if parts.first() != Some(&PLANT) {
        return None;
    }
    let area = |p: &str| AREAS.iter().position(|(c, _)| *c == p);
    let system = |p: &str| SYSTEMS.iter().position(|(c, _)| *c == p);
    let index = match parts.len() {
        1 => 0,
        2 => 1 + area(parts[1])? as u64,
        3 => FIRST_SYSTEM + (area(parts[1])? * SYSTEMS.len() + system(parts[2])?) as u64,
        4 => {
            let number: u64 = parts[3].parse().ok().filter(|n| *n >= 1)?;
            let s = (area(parts[1])? * SYSTEMS.len() + system(parts[2])?) as u64;
            FIRST_LEAF + (number - 1) * SYSTEM_COUNT + s
        }
        _ => return None,
    };
    // `1010-SP-PMP-01` is not `1010-SP-PMP-001`.
    (fl_code(index) == code).then_some(index)
}

/// The parent of functional location `i`.
fn fl_parent(i: u64) -> Option<u64> {
    if i == 0 {
        return None;
    }
    if i < FIRST_SYSTEM {
        return Some(0);
    }
    if i < FIRST_LEAF {
        return Some(1 + (i - FIRST_SYSTEM) / SYSTEMS.len() as u64);
    }
    Some(FIRST_SYSTEM + (i - FIRST_LEAF) % SYSTEM_COUNT)
}

/// The key text of index `i` of `def`.
pub(crate) fn key_of(def: &SetDef, i: u64) -> String {
    match def.first_number {
        Some(first) => (first + i).to_string(),
        None => fl_code(i),
    }
}

/// The index of key text `key` of `def`, if it has that shape (the record may still not exist).
pub(crate) fn index_of(def: &SetDef, key: &str) -> Option<u64> {
    match def.first_number {
        Some(first) => {
            // SAP pads numeric keys with zeros internally; clients may send either form.
            let n: u64 = key.trim().trim_start_matches('0').parse().ok()?;
            n.checked_sub(first)
        }
        None => fl_index(key.trim()),
    }
}

// ---------------------------------------------------------------------------------------------
// The world.

/// The seeded data: everything a generator needs.
#[derive(Debug, Clone, Copy)]
pub(crate) struct World {
    pub(crate) seed: u64,
    pub(crate) scale: u64,
    pub(crate) anchor: Ts,
}

const WORK_CENTERS: &[&str] = &["MECH-01", "MECH-02", "ELEC-01", "INST-01", "UTIL-01"];
const USERS: &[&str] = &[
    "CB9980000012",
    "MAINT_PLANNER",
    "JSCHMIDT",
    "AMUELLER",
    "KWEBER",
];
const PAYMENT_TERMS: &[(&str, u32)] = &[("0001", 3), ("0002", 2), ("NT30", 4), ("NT60", 1)];
const VAT_PREFIX: &str = "DE";

impl World {
    /// `LastChangeDateTime` of seeded record `i` of stream `stream`: increasing with `i`.
    pub(crate) fn change_ms(&self, stream_kind: Kind, i: u64) -> i64 {
        let n = self.scale.max(1);
        let span_s = (HISTORY_MS / 1000) as u64;
        // Slot `i` starts at i·span/n; a jitter below the narrowest slot keeps times strictly
        // increasing while not lining them up on a grid.
        let width = (span_s / n).max(1);
        let jitter = hash(self.seed, stream(stream_kind), i, 0xc4a7) % width;
        let base = (u128::from(i.min(n)) * u128::from(span_s) / u128::from(n)) as u64;
        self.anchor.0 - HISTORY_MS + ((base + jitter) as i64) * 1000
    }

    fn start_of_day(ms: i64) -> i64 {
        ms - ms.rem_euclid(DAY_MS)
    }

    /// The equipment class of equipment `i` (its first random draw).
    fn equipment_class(&self, i: u64) -> &'static EquipmentClass {
        let mut rng = Rng::for_record(self.seed, S_EQ, i);
        EquipmentClass::pick(&mut rng, EQUIPMENT)
    }

    /// The functional location equipment `i` is installed at, if any: a numbered position.
    fn equipment_location(&self, i: u64) -> Option<u64> {
        let h = hash(self.seed, S_EQ, i, 0xf1);
        if h % 100 >= 88 || self.scale == 0 {
            return None;
        }
        let leaves = self.scale.saturating_sub(FIRST_LEAF);
        Some(if leaves > 0 {
            FIRST_LEAF + (h >> 8) % leaves
        } else {
            (h >> 8) % self.scale
        })
    }

    /// A random seeded index in `0..scale` for relation `salt` of record `i`.
    fn related(&self, stream_id: u64, i: u64, salt: u64) -> u64 {
        hash(self.seed, stream_id, i, salt) % self.scale.max(1)
    }

    /// Generates index `i` of `kind`.
    pub(crate) fn generate(&self, kind: Kind, i: u64) -> Map<String, Value> {
        match kind {
            Kind::Equipment => self.equipment(i),
            Kind::FunctionalLocation => self.functional_location(i),
            Kind::MaintenanceOrder => self.maintenance_order(i),
            Kind::MaintenancePlan => self.maintenance_plan(i),
            Kind::PurchaseOrder => self.purchase_order(i),
            Kind::Supplier => self.supplier(i),
        }
    }

    fn equipment(&self, i: u64) -> Map<String, Value> {
        let mut rng = Rng::for_record(self.seed, S_EQ, i);
        let class = EquipmentClass::pick(&mut rng, EQUIPMENT);
        let service = *rng.pick(class.services);
        let (make, models) = *rng.pick(class.makes);
        let model = *rng.pick(models);
        let changed = self.change_ms(Kind::Equipment, i);
        let created = Self::start_of_day(changed - rng.range(30, 3 * 365) * DAY_MS);
        let started = created + rng.range(1, 30) * DAY_MS;
        let location = self.equipment_location(i);
        let superior = (i > 0 && rng.chance(12)).then(|| 10_000_000 + rng.below(i));
        let deleted = rng.chance(3);
        let inactive = !deleted && rng.chance(5);
        let value_cents = rng.range(150_000, 25_000_000);
        let name = class.name(service, 1000 + i);
        let mut type_code = class.type_name.to_ascii_uppercase().replace(' ', "");
        type_code.truncate(10);
        let v = json!({
            "Equipment": (10_000_000 + i).to_string(),
            "ValidityEndDate": date_time(VALIDITY_END_MS),
            "ValidityStartDate": date_time(created),
            "EquipmentName": name,
            "EquipmentCategory": "M",
            "TechnicalObjectType": type_code,
            "AuthorizationGroup": "",
            "GrossWeight": format!("{}.000", rng.range(20, 4000)),
            "GrossWeightUnit": "KG",
            "SizeOrDimensionText": *rng.pick(class.ratings),
            "InventoryNumber": format!("INV-{}", 200_000 + i),
            "OperationStartDate": date_time(started),
            "AcquisitionValue": cents_text(value_cents),
            "Currency": "EUR",
            "AcquisitionDate": date_time(created),
        });
        let rest = json!({
            "AssetManufacturerName": make,
            "ManufacturerPartTypeName": model,
            "ManufacturerPartNmbr": format!("{}-{}", model.replace(' ', ""), rng.digits(4)),
            "ManufacturerCountry": "DE",
            "ConstructionYear": (1995 + rng.below(30)).to_string(),
            "ManufacturerSerialNumber": rng.alnum(10),
            "MaintenancePlant": PLANT,
            "PlantSection": "A01",
            "WorkCenter": *rng.pick(WORK_CENTERS),
            "MainWorkCenter": *rng.pick(WORK_CENTERS),
            "MainWorkCenterPlant": PLANT,
            "MaintenancePlanningPlant": PLANT,
            "ABCIndicator": *rng.pick(&["A", "B", "B", "C", "C", "C"]),
            "FunctionalLocation": location.map(fl_code).unwrap_or_default(),
            "SuperordinateEquipment": superior.map(|s| s.to_string()).unwrap_or_default(),
            "CompanyCode": PLANT,
            "CostCenter": format!("10101{}", rng.range(301, 399)),
            "MasterFixedAsset": format!("{}", 10_000 + rng.below(90_000)),
            "FixedAsset": "0",
            "Material": "",
            "SerialNumber": "",
            "CreationDate": date_time(created),
            "CreatedByUser": *rng.pick(USERS),
            "LastChangedByUser": *rng.pick(USERS),
            "LastChangeDateTime": date_time_offset(changed),
            "EquipmentIsMarkedForDeletion": deleted,
            "EquipmentIsInactive": inactive,
            "EquipmentIsInstalled": location.is_some(),
        });
        merged(v, rest)
    }

    fn functional_location(&self, i: u64) -> Map<String, Value> {
        let mut rng = Rng::for_record(self.seed, S_FL, i);
        let code = fl_code(i);
        let parts: Vec<&str> = code.split('-').collect();
        let area = |p: &str| AREAS.iter().find(|(c, _)| *c == p).map_or("", |a| a.1);
        let system = |p: &str| SYSTEMS.iter().find(|(c, _)| *c == p).map_or("", |s| s.1);
        let name = match parts.len() {
            1 => format!("Plant {PLANT} Hamburg"),
            2 => area(parts[1]).to_owned(),
            3 => format!("{} - {}", area(parts[1]), system(parts[2])),
            _ => format!("{} Position {}", system(parts[2]), parts[3]),
        };
        let changed = self.change_ms(Kind::FunctionalLocation, i);
        let created = Self::start_of_day(changed - rng.range(60, 5 * 365) * DAY_MS);
        let v = json!({
            "FunctionalLocation": code,
            "FunctionalLocationLabelName": code,
            "FunctionalLocationName": name,
            "FunctionalLocationCategory": "M",
            "FunctionalLocationStructure": "YFL1",
            "SuperiorFunctionalLocation": fl_parent(i).map(fl_code).unwrap_or_default(),
            "TechnicalObjectType": "",
            "MaintenancePlant": PLANT,
            "MaintenancePlanningPlant": PLANT,
            "MainWorkCenter": *rng.pick(WORK_CENTERS),
            "MainWorkCenterPlant": PLANT,
            "PlantSection": "A01",
            "CompanyCode": PLANT,
            "CostCenter": format!("10101{}", rng.range(301, 399)),
            "ABCIndicator": *rng.pick(&["A", "B", "C"]),
            "FunctionalLocationIsDeleted": false,
            "CreationDate": date_time(created),
            "CreatedByUser": *rng.pick(USERS),
            "LastChangedByUser": *rng.pick(USERS),
            "LastChangeDateTime": date_time_offset(changed),
        });
        into_map(v)
    }

    fn maintenance_order(&self, i: u64) -> Map<String, Value> {
        let mut rng = Rng::for_record(self.seed, S_MO, i);
        let equipment = self.related(S_MO, i, 1);
        let class = self.equipment_class(equipment);
        let mut eq_rng = Rng::for_record(self.seed, S_EQ, equipment);
        EquipmentClass::pick(&mut eq_rng, EQUIPMENT);
        let service = *eq_rng.pick(class.services);
        let equipment_name = class.name(service, 1000 + equipment);
        let order_type = *rng.weighted(&[("PM01", 50), ("PM02", 35), ("PM03", 5), ("PM04", 10)]);
        let (desc, priority) = match order_type {
            "PM02" | "PM04" if !class.routines.is_empty() => (
                rng.pick(class.routines).to_string(),
                *rng.weighted(&[("3", 5), ("4", 5)]),
            ),
            _ if !class.faults.is_empty() => (
                rng.pick(class.faults).0.to_string(),
                *rng.weighted(&[("1", 1), ("2", 3), ("3", 4), ("4", 2)]),
            ),
            _ => ("Inspect and repair".to_owned(), "3"),
        };
        let changed = self.change_ms(Kind::MaintenanceOrder, i);
        let created = changed - rng.range(1, 60) * DAY_MS;
        let start = Self::start_of_day(created) + rng.range(1, 10) * DAY_MS + 7 * 3_600_000;
        let end = start + rng.range(1, 14) * DAY_MS;
        // Older orders are further along: most of the history is technically complete.
        let age = (self.anchor.0 - changed) as f64 / HISTORY_MS as f64;
        let status = if age > 0.3 {
            *rng.weighted(&[
                ("TECO PCNF NMAT PRC SETC", 6),
                ("CLSD CNF NMAT PRC SETC", 3),
                ("CRTD DLFL NMAT PRC", 1),
            ])
        } else {
            *rng.weighted(&[
                ("CRTD NMAT PRC SETC", 3),
                ("REL NMAT PRC SETC", 4),
                ("REL PCNF NMAT PRC SETC", 3),
                ("TECO CNF NMAT PRC SETC", 1),
            ])
        };
        let user_status = if status.starts_with("REL") && rng.chance(15) {
            "WAIT"
        } else {
            ""
        };
        let location = self.equipment_location(equipment);
        let plan = (order_type == "PM02").then(|| 100_000 + self.related(S_MO, i, 2));
        let v = json!({
            "MaintenanceOrder": (4_000_000 + i).to_string(),
            "MaintenanceOrderType": order_type,
            "MaintenanceOrderDesc": truncate(&desc, 40),
            "MaintPriority": priority,
            "MaintPriorityType": "PM",
            "MaintenancePlanningPlant": PLANT,
            "MaintenancePlant": PLANT,
            "MaintenancePlannerGroup": "100",
            "MainWorkCenter": *rng.pick(WORK_CENTERS),
            "MainWorkCenterPlant": PLANT,
            "Equipment": (10_000_000 + equipment).to_string(),
            "EquipmentName": truncate(&equipment_name, 40),
            "FunctionalLocation": location.map(fl_code).unwrap_or_default(),
            "TechnicalObject": (10_000_000 + equipment).to_string(),
            "MaintenanceNotification": if order_type == "PM01" {
                (10_000_000 + i).to_string()
            } else {
                String::new()
            },
            "MaintenancePlan": plan.map(|p| p.to_string()).unwrap_or_default(),
        });
        let rest = json!({
            "MaintenanceActivityType": match order_type {
                "PM02" => "002",
                "PM04" => "003",
                _ => "001",
            },
            "MaintOrdBasicStartDateTime": date_time_offset(start),
            "MaintOrdBasicEndDateTime": date_time_offset(end),
            "MaintOrdProcessPhaseCode": if status.starts_with("REL") { "03" } else if status.starts_with("CRTD") { "01" } else { "05" },
            "SystemStatusText": status,
            "UserStatusText": user_status,
            "CompanyCode": PLANT,
            "CostCenter": format!("10101{}", rng.range(301, 399)),
            "BusinessArea": "",
            "CreationDate": date_time(Self::start_of_day(created)),
            "LastChangeDateTime": date_time_offset(changed),
        });
        merged(v, rest)
    }

    fn maintenance_plan(&self, i: u64) -> Map<String, Value> {
        let mut rng = Rng::for_record(self.seed, S_MP, i);
        let equipment = self.related(S_MP, i, 1);
        let class = self.equipment_class(equipment);
        let routine = if class.routines.is_empty() {
            "Preventive maintenance"
        } else {
            rng.pick(class.routines)
        };
        let (value, unit) = *rng.pick(&[
            (1u32, "WK"),
            (2, "WK"),
            (30, "DAY"),
            (1, "MON"),
            (3, "MON"),
            (6, "MON"),
            (1, "YR"),
        ]);
        let cycle_days = match unit {
            "WK" => 7 * i64::from(value),
            "DAY" => i64::from(value),
            "MON" => 30 * i64::from(value),
            _ => 365 * i64::from(value),
        };
        let changed = self.change_ms(Kind::MaintenancePlan, i);
        let created = Self::start_of_day(changed - rng.range(90, 4 * 365) * DAY_MS);
        let last = Self::start_of_day(changed - rng.range(0, cycle_days.max(1)) * DAY_MS);
        let inactive = rng.chance(8);
        let v = json!({
            "MaintenancePlan": (100_000 + i).to_string(),
            "MaintenancePlanDesc": truncate(&format!("{routine} {}-{}", class.tag, 1000 + equipment), 40),
            "MaintenancePlanCategory": "PM",
            "MaintenanceStrategy": "",
            "MaintenancePlanCycleValue": value.to_string(),
            "MaintenancePlanCycleUnit": unit,
            "SchedulingDuration": format!("{}", cycle_days * 3),
            "CallHorizonPercent": "100",
            "Equipment": (10_000_000 + equipment).to_string(),
            "FunctionalLocation": self.equipment_location(equipment).map(fl_code).unwrap_or_default(),
            "MaintenancePlanningPlant": PLANT,
            "MaintenanceOrderType": "PM02",
            "MainWorkCenter": *rng.pick(WORK_CENTERS),
            "LastCompletionDate": date_time(last),
            "NextPlannedDate": date_time(last + cycle_days * DAY_MS),
            "MaintenancePlanIsInactive": inactive,
            "CreationDate": date_time(created),
            "CreatedByUser": *rng.pick(USERS),
            "LastChangeDateTime": date_time_offset(changed),
        });
        into_map(v)
    }

    fn supplier(&self, i: u64) -> Map<String, Value> {
        let mut rng = Rng::for_record(self.seed, S_SUP, i);
        let (name, _, _) = names::vendor_company(&mut rng);
        let supplier = (17_300_001 + i).to_string();
        let created = Self::start_of_day(self.anchor.0 - rng.range(30, 10 * 365) * DAY_MS);
        let terms = *rng.weighted(PAYMENT_TERMS);
        let blocked = rng.chance(3);
        let v = json!({
            "Supplier": supplier,
            "SupplierAccountGroup": "SUPL",
            "SupplierName": truncate(&name, 35),
            "SupplierFullName": name,
            "SupplierCorporateGroup": "",
            "AuthorizationGroup": "",
            "VATRegistration": format!("{VAT_PREFIX}{}", rng.digits(9)),
            "TaxNumber1": "",
            "Industry": "",
            "Customer": "",
            "PaymentIsBlockedForSupplier": false,
            "PostingIsBlocked": rng.chance(2),
            "PurchasingIsBlocked": blocked,
            "DeletionIndicator": rng.chance(2),
            "CreationDate": date_time(created),
            "CreatedByUser": *rng.pick(USERS),
            "to_SupplierPurchasingOrg": {"results": [{
                "Supplier": supplier,
                "PurchasingOrganization": PLANT,
                "PurchaseOrderCurrency": "EUR",
                "PaymentTerms": terms,
                "PurchasingIsBlockedForSupplier": blocked,
                "SupplierPhoneNumber": format!("+49 40 {}", rng.digits(7)),
            }]},
        });
        into_map(v)
    }

    fn purchase_order(&self, i: u64) -> Map<String, Value> {
        let mut rng = Rng::for_record(self.seed, S_PO, i);
        let po = (4_500_000_000 + i).to_string();
        let supplier = 17_300_001 + self.related(S_PO, i, 1);
        let changed = self.change_ms(Kind::PurchaseOrder, i);
        let ordered = Self::start_of_day(changed - rng.range(0, 45) * DAY_MS);
        let age = (self.anchor.0 - changed) as f64 / HISTORY_MS as f64;
        // (processing status, how many items are delivered: 0 none, 1 some, 2 all)
        let (status, delivered) = if age > 0.4 {
            *rng.weighted(&[(("05", 2u8), 8), (("05", 1), 1), (("08", 0), 1)])
        } else {
            *rng.weighted(&[
                (("01", 0u8), 2),
                (("02", 0), 2),
                (("03", 0), 1),
                (("05", 0), 3),
                (("05", 1), 2),
            ])
        };
        let count = rng.range(1, 6) as usize;
        let items: Vec<Value> = (0..count)
            .map(|n| {
                let part = rng.pick(PARTS);
                let text = *rng.pick(part.names);
                let price = rng.range(part.cost_cents.0, part.cost_cents.1.max(part.cost_cents.0 + 1));
                let quantity = rng.range(1, 25);
                let done = match delivered {
                    2 => true,
                    1 => n == 0,
                    _ => false,
                };
                json!({
                    "PurchaseOrder": po,
                    "PurchaseOrderItem": ((n + 1) * 10).to_string(),
                    "PurchaseOrderItemText": truncate(text, 40),
                    "PurchaseOrderItemCategory": "0",
                    "Material": format!("{}-{:05}", part.code, hash(self.seed, S_PO, i, n as u64) % 100_000),
                    "MaterialGroup": "L001",
                    "Plant": PLANT,
                    "StorageLocation": "101A",
                    "OrderQuantity": quantity.to_string(),
                    "PurchaseOrderQuantityUnit": sap_unit(part.unit),
                    "NetPriceAmount": cents_text(price),
                    "NetPriceQuantity": "1",
                    "DocumentCurrency": "EUR",
                    "AccountAssignmentCategory": *rng.pick(&["", "K", "F"]),
                    "IsCompletelyDelivered": done,
                    "IsFinallyInvoiced": done && delivered == 2 && rng.chance(60),
                    "PurchaseRequisition": "",
                    "PurchasingDocumentDeletionCode": "",
                })
            })
            .collect();
        let v = json!({
            "PurchaseOrder": po,
            "CompanyCode": PLANT,
            "PurchaseOrderType": "NB",
            "PurchasingDocumentDeletionCode": if status == "08" { "L" } else { "" },
            "PurchasingProcessingStatus": status,
            "CreatedByUser": *rng.pick(USERS),
            "CreationDate": date_time(ordered),
            "LastChangeDateTime": date_time_offset(changed),
            "Supplier": supplier.to_string(),
            "PurchasingOrganization": PLANT,
            "PurchasingGroup": "001",
            "PurchaseOrderDate": date_time(ordered),
            "DocumentCurrency": "EUR",
            "PaymentTerms": *rng.weighted(PAYMENT_TERMS),
            "IncotermsClassification": "FH",
            "Language": "EN",
            "to_PurchaseOrderItem": {"results": items},
        });
        into_map(v)
    }
}

fn stream(kind: Kind) -> u64 {
    match kind {
        Kind::Equipment => S_EQ,
        Kind::FunctionalLocation => S_FL,
        Kind::MaintenanceOrder => S_MO,
        Kind::MaintenancePlan => S_MP,
        Kind::PurchaseOrder => S_PO,
        Kind::Supplier => S_SUP,
    }
}

/// Two `json!` objects as one (`json!` hits the macro recursion limit on SAP-sized entities).
fn merged(first: Value, second: Value) -> Map<String, Value> {
    let mut map = into_map(first);
    map.extend(into_map(second));
    map
}

fn into_map(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

/// SAP's ISO unit codes for the storeroom's units.
fn sap_unit(unit: &str) -> &'static str {
    match unit.to_ascii_lowercase().as_str() {
        "each" => "EA",
        "box" => "BOX",
        "pair" => "PR",
        "liter" | "litre" | "l" => "L",
        "meter" | "metre" | "m" => "M",
        "kilogram" | "kg" => "KG",
        "roll" => "ROL",
        "set" => "SET",
        "container" => "CAN",
        _ => "PC",
    }
}

/// Cents as an `Edm.Decimal` string with two places (`"1250.00"`).
pub(crate) fn cents_text(cents: i64) -> String {
    format!("{}.{:02}", cents / 100, (cents % 100).abs())
}

/// SAP truncates texts to the field length.
fn truncate(text: &str, max: usize) -> String {
    text.chars().take(max).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn functional_location_codes_round_trip() {
        for i in 0..2000 {
            let code = fl_code(i);
            assert_eq!(fl_index(&code), Some(i), "{code}");
        }
        assert_eq!(fl_code(0), "1010");
        assert_eq!(fl_code(1), "1010-SP");
        assert_eq!(fl_code(FIRST_SYSTEM), "1010-SP-PMP");
        assert_eq!(fl_code(FIRST_LEAF), "1010-SP-PMP-001");
        assert_eq!(fl_index("1010-SP-PMP-01"), None);
        assert_eq!(fl_parent(FIRST_LEAF), Some(FIRST_SYSTEM));
    }

    #[test]
    fn change_times_grow_with_the_index() {
        let w = World {
            seed: 1,
            scale: 100_000,
            anchor: Ts(1_800_000_000_000),
        };
        let mut last = i64::MIN;
        for i in 0..100_000 {
            let t = w.change_ms(Kind::Equipment, i);
            assert!(t > last, "{i}");
            assert!(t < w.anchor.0);
            last = t;
        }
    }
}
