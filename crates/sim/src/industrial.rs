//! The plant itself: equipment classes, spare parts, maintenance tasks and places, shared by
//! every simulator so a MaintainX, a Maximo and an SAP tenant describe the same kind of site.

use crate::rng::Rng;

/// A kind of equipment, with what it takes to describe one and to maintain it.
#[derive(Debug)]
pub(crate) struct EquipmentClass {
    /// The asset type label (`Pump`).
    pub(crate) type_name: &'static str,
    /// Tag prefix on the plant floor (`P` in `P-1047`).
    pub(crate) tag: &'static str,
    /// What it serves, put before the noun (`Cooling Water` pump).
    pub(crate) services: &'static [&'static str],
    /// The noun used in names (`Pump`).
    pub(crate) noun: &'static str,
    /// Manufacturer and its models.
    pub(crate) makes: &'static [(&'static str, &'static [&'static str])],
    /// Rating phrases for descriptions.
    pub(crate) ratings: &'static [&'static str],
    /// Corrective work: (title, failure code, category).
    pub(crate) faults: &'static [(&'static str, &'static str, &'static str)],
    /// Preventive routines.
    pub(crate) routines: &'static [&'static str],
    /// Relative frequency among top-level assets.
    pub(crate) weight: u32,
}

const MECH: &str = "Mechanical";
const ELEC: &str = "Electrical";
const REFR: &str = "Refrigeration";
const SAFE: &str = "Safety";
const DMG: &str = "Damage";

/// Top-level equipment found in a plant.
pub(crate) const EQUIPMENT: &[EquipmentClass] = &[
    EquipmentClass {
        type_name: "Pump",
        tag: "P",
        services: &[
            "Cooling Water",
            "Condensate",
            "Process Water",
            "Boiler Feed",
            "Chilled Water",
            "Sump",
            "Transfer",
            "Wastewater",
        ],
        noun: "Pump",
        makes: &[
            ("Grundfos", &["CR 32-2", "NB 65-200", "CRN 15-3"]),
            ("Goulds", &["3196 MTX", "3656 LH", "e-SV 33SV"]),
            ("Flowserve", &["Durco Mark 3", "HPX 4x3-13"]),
            ("KSB", &["Etanorm 80-200", "Movitec 25"]),
        ],
        ratings: &[
            "7.5 kW, 480 V",
            "15 kW, 480 V",
            "22 kW, 480 V",
            "250 gpm at 120 ft TDH",
        ],
        faults: &[
            ("Mechanical seal leaking", "SEAL-LEAK", MECH),
            ("High vibration on pump bearing housing", "BRG-VIB", MECH),
            ("Pump cavitating at low suction pressure", "PROC-CAV", MECH),
            ("Motor tripping on overload", "ELEC-OL", ELEC),
            ("Coupling guard damaged", "GUARD-DMG", SAFE),
        ],
        routines: &[
            "Monthly PM",
            "Quarterly lubrication",
            "Annual alignment check",
            "Vibration route",
        ],
        weight: 20,
    },
    EquipmentClass {
        type_name: "Air Compressor",
        tag: "AC",
        services: &["Plant Air", "Instrument Air", "Booster", "Backup Plant Air"],
        noun: "Compressor",
        makes: &[
            ("Atlas Copco", &["GA 37 VSD+", "ZT 55", "GA 75"]),
            ("Ingersoll Rand", &["R55n", "R110i"]),
            ("Kaeser", &["ASD 40", "CSD 125"]),
            ("Sullair", &["LS-110", "4509"]),
        ],
        ratings: &["37 kW, 125 psig", "55 kW, 125 psig", "75 kW, 150 psig"],
        faults: &[
            ("High discharge temperature alarm", "TEMP-HI", MECH),
            ("Oil carryover into air system", "OIL-CARRY", MECH),
            ("Compressor short cycling", "CTRL-CYC", ELEC),
            ("Air leak at aftercooler", "AIR-LEAK", MECH),
        ],
        routines: &[
            "2000-hour service",
            "Replace air and oil filters",
            "Drain condensate traps",
            "Quarterly PM",
        ],
        weight: 10,
    },
    EquipmentClass {
        type_name: "Conveyor",
        tag: "CV",
        services: &[
            "Infeed",
            "Outfeed",
            "Case",
            "Transfer",
            "Incline",
            "Packaging Line",
        ],
        noun: "Conveyor",
        makes: &[
            ("Dorner", &["3200 Series", "2200 Series"]),
            ("Hytrol", &["ABEZ", "190-NSP"]),
            ("FlexLink", &["X85", "XK"]),
            ("Intralox", &["Series 900 ARB"]),
        ],
        ratings: &[
            "24 in belt, 120 fpm",
            "18 in belt, 90 fpm",
            "30 in rollers, 65 fpm",
        ],
        faults: &[
            ("Belt mistracking", "BELT-TRACK", MECH),
            ("Jammed product at transfer", "JAM", MECH),
            ("Drive roller bearing noisy", "BRG-NOISE", MECH),
            ("Photo-eye not detecting cases", "SENS-FAIL", ELEC),
            ("E-stop pull cord damaged", "ESTOP-DMG", SAFE),
        ],
        routines: &[
            "Weekly belt inspection",
            "Monthly PM",
            "Lubricate drive chain",
            "Quarterly roller inspection",
        ],
        weight: 16,
    },
    EquipmentClass {
        type_name: "Chiller",
        tag: "CH",
        services: &["Process", "Comfort Cooling", "Central Plant"],
        noun: "Chiller",
        makes: &[
            ("Trane", &["CenTraVac CVHE", "Sintesis RTAF"]),
            ("Carrier", &["AquaEdge 19DV", "30XA"]),
            ("York", &["YK", "YVAA"]),
            ("Daikin", &["Magnitude WME", "Pathfinder AWV"]),
        ],
        ratings: &["300 tons", "500 tons", "150 tons, air-cooled"],
        faults: &[
            ("Low refrigerant pressure alarm", "REFR-LOW", REFR),
            ("High condenser approach temperature", "COND-FOUL", REFR),
            ("Chiller will not start", "CTRL-FAIL", ELEC),
            ("Oil pressure differential fault", "OIL-PRESS", MECH),
        ],
        routines: &[
            "Annual tube cleaning",
            "Monthly log review",
            "Refrigerant leak check",
            "Oil analysis",
        ],
        weight: 5,
    },
    EquipmentClass {
        type_name: "Boiler",
        tag: "B",
        services: &["Steam", "Hot Water", "Process Steam"],
        noun: "Boiler",
        makes: &[
            ("Cleaver-Brooks", &["CBEX Elite 400", "ClearFire-CE"]),
            ("Fulton", &["VSRT-40", "Endura+ 2000"]),
            ("Bryan", &["RV Series"]),
            ("Miura", &["LX-200", "EX-100"]),
        ],
        ratings: &["200 BHP, 150 psig", "400 BHP, 125 psig", "100 BHP, 15 psig"],
        faults: &[
            ("Flame failure lockout", "BURN-FLAME", MECH),
            ("Low water cutoff tripped", "LWCO-TRIP", SAFE),
            ("Steam leak at header valve", "STEAM-LEAK", MECH),
            ("High stack temperature", "TEMP-HI", MECH),
        ],
        routines: &[
            "Annual boiler inspection",
            "Weekly blowdown",
            "Test low water cutoff",
            "Burner combustion tune-up",
        ],
        weight: 5,
    },
    EquipmentClass {
        type_name: "CNC Machine",
        tag: "CNC",
        services: &[
            "Vertical Machining Center",
            "Lathe",
            "Horizontal Machining Center",
            "5-Axis Mill",
        ],
        noun: "",
        makes: &[
            ("Haas", &["VF-2SS", "ST-20Y", "UMC-750"]),
            ("DMG Mori", &["NLX 2500", "DMU 50"]),
            ("Mazak", &["Variaxis i-700", "Integrex i-200"]),
            ("Okuma", &["Genos M560-V", "LB3000 EX II"]),
        ],
        ratings: &["12,000 rpm spindle", "15,000 rpm spindle", "8-inch chuck"],
        faults: &[
            ("Spindle overheating", "SPDL-TEMP", MECH),
            ("Tool changer fault", "ATC-FAULT", MECH),
            ("Axis servo alarm", "SERVO-ALM", ELEC),
            ("Coolant pump not delivering", "COOL-PUMP", MECH),
            ("Door interlock failed", "INTLK-FAIL", SAFE),
        ],
        routines: &[
            "Monthly PM",
            "Check way lube and coolant concentration",
            "Ballbar test",
            "Annual spindle inspection",
        ],
        weight: 12,
    },
    EquipmentClass {
        type_name: "Air Handling Unit",
        tag: "AHU",
        services: &["Production Floor", "Office", "Clean Room", "Warehouse"],
        noun: "Air Handler",
        makes: &[
            ("Trane", &["Performance Climate Changer"]),
            ("Carrier", &["39M AeroSeries"]),
            ("Daikin", &["Vision"]),
        ],
        ratings: &["20,000 cfm", "12,000 cfm", "35,000 cfm"],
        faults: &[
            ("Supply fan belt squealing", "BELT-WEAR", MECH),
            ("Damper actuator stuck", "ACT-FAIL", ELEC),
            ("High filter differential pressure", "FILT-DP", MECH),
        ],
        routines: &[
            "Quarterly filter change",
            "Semi-annual belt inspection",
            "Coil cleaning",
        ],
        weight: 6,
    },
    EquipmentClass {
        type_name: "Forklift",
        tag: "FL",
        services: &["Warehouse", "Shipping", "Receiving", "Yard"],
        noun: "Forklift",
        makes: &[
            ("Toyota", &["8FGCU25", "8FBE20U"]),
            ("Hyster", &["H50FT", "E50XN"]),
            ("Crown", &["FC 5200", "RR 5700"]),
        ],
        ratings: &[
            "5,000 lb capacity",
            "4,000 lb capacity, electric",
            "3,500 lb reach truck",
        ],
        faults: &[
            ("Hydraulic leak at mast cylinder", "HYD-LEAK", MECH),
            ("Horn and backup alarm inoperative", "ALARM-FAIL", SAFE),
            ("Battery not holding charge", "BATT-FAIL", ELEC),
        ],
        routines: &[
            "250-hour service",
            "Daily pre-shift inspection review",
            "Annual load test",
        ],
        weight: 7,
    },
    EquipmentClass {
        type_name: "Industrial Robot",
        tag: "RB",
        services: &[
            "Welding",
            "Palletizing",
            "Machine Tending",
            "Pick and Place",
        ],
        noun: "Robot",
        makes: &[
            ("FANUC", &["R-2000iC/165F", "M-20iD/25"]),
            ("ABB", &["IRB 6700", "IRB 460"]),
            ("KUKA", &["KR QUANTEC", "KR 210 R2700"]),
        ],
        ratings: &["165 kg payload", "25 kg payload", "210 kg payload"],
        faults: &[
            ("Collision detected on axis 3", "COLL-DET", MECH),
            ("Teach pendant communication error", "COMM-ERR", ELEC),
            ("Gripper not holding vacuum", "VAC-LOSS", MECH),
        ],
        routines: &[
            "Replace grease on J2-J3 reducers",
            "Back up controller",
            "Annual PM",
        ],
        weight: 5,
    },
    EquipmentClass {
        type_name: "Hydraulic Press",
        tag: "HP",
        services: &["Forming", "Trim", "Stamping", "Assembly"],
        noun: "Press",
        makes: &[
            ("Beckwood", &["H-Frame 150T"]),
            ("Greenerd", &["HP-100"]),
            ("Schuler", &["MSD 400"]),
        ],
        ratings: &["150 ton", "100 ton", "400 ton"],
        faults: &[
            ("Light curtain fault", "LC-FAULT", SAFE),
            ("Hydraulic oil overheating", "HYD-TEMP", MECH),
            ("Ram drifting down", "HYD-DRIFT", MECH),
        ],
        routines: &[
            "Monthly PM",
            "Change hydraulic filters",
            "Light curtain stop-time test",
        ],
        weight: 5,
    },
    EquipmentClass {
        type_name: "Cooling Tower",
        tag: "CT",
        services: &["Condenser Water", "Process Cooling"],
        noun: "Cooling Tower",
        makes: &[
            ("BAC", &["Series 3000", "FXV"]),
            ("Evapco", &["AT 19-912", "ESWA"]),
        ],
        ratings: &["800 tons", "450 tons"],
        faults: &[
            ("Basin heater not working", "HTR-FAIL", ELEC),
            ("Fan gearbox oil leak", "GB-LEAK", MECH),
            ("Drift eliminators damaged", "DRIFT-DMG", DMG),
        ],
        routines: &[
            "Clean basin and strainers",
            "Monthly water treatment check",
            "Gearbox oil change",
        ],
        weight: 3,
    },
    EquipmentClass {
        type_name: "Generator",
        tag: "GEN",
        services: &["Emergency", "Standby"],
        noun: "Generator",
        makes: &[
            ("Caterpillar", &["C15", "C32"]),
            ("Cummins", &["C500 D6", "C1000 D6B"]),
            ("Kohler", &["KD800"]),
        ],
        ratings: &["500 kW", "1,000 kW", "800 kW"],
        faults: &[
            ("Failed to start on weekly test", "START-FAIL", ELEC),
            ("Block heater inoperative", "HTR-FAIL", ELEC),
            ("Coolant leak", "COOL-LEAK", MECH),
        ],
        routines: &[
            "Monthly load bank test",
            "Weekly no-load run",
            "Annual fuel polishing",
        ],
        weight: 3,
    },
    EquipmentClass {
        type_name: "Injection Molding Machine",
        tag: "IMM",
        services: &["Molding Cell"],
        noun: "Injection Molder",
        makes: &[
            ("Engel", &["victory 200", "e-mac 180"]),
            ("Arburg", &["Allrounder 570 A"]),
            ("Husky", &["HyPET HPP5"]),
        ],
        ratings: &["200 ton clamp", "180 ton clamp", "300 ton clamp"],
        faults: &[
            ("Barrel heater zone 3 not heating", "HTR-FAIL", ELEC),
            ("Mold clamp pressure low", "HYD-PRESS", MECH),
            ("Safety gate switch fault", "INTLK-FAIL", SAFE),
        ],
        routines: &[
            "Monthly PM",
            "Check screw and barrel wear",
            "Clean hopper dryer",
        ],
        weight: 4,
    },
];

/// Equipment that is mostly a component of another asset (its `parentId`).
pub(crate) const COMPONENTS: &[EquipmentClass] = &[
    EquipmentClass {
        type_name: "Electric Motor",
        tag: "M",
        services: &["Drive", "Fan", "Pump"],
        noun: "Motor",
        makes: &[
            ("WEG", &["W22 Premium"]),
            ("Baldor-Reliance", &["Super-E EM4115T"]),
            ("Siemens", &["SIMOTICS 1LE1"]),
        ],
        ratings: &[
            "15 hp, 1800 rpm, TEFC",
            "25 hp, 1800 rpm, TEFC",
            "7.5 hp, 3600 rpm, ODP",
        ],
        faults: &[
            ("Motor running hot", "MTR-TEMP", ELEC),
            ("Motor bearing noise", "BRG-NOISE", MECH),
        ],
        routines: &["Motor insulation test", "Grease motor bearings"],
        weight: 5,
    },
    EquipmentClass {
        type_name: "Gearbox",
        tag: "GB",
        services: &["Drive", "Reducer"],
        noun: "Gearbox",
        makes: &[
            ("SEW-Eurodrive", &["R97", "K87"]),
            ("Nord", &["SK 9072.1"]),
            ("Falk", &["Quadrive Y"]),
        ],
        ratings: &["ratio 25:1", "ratio 40:1", "ratio 15:1"],
        faults: &[
            ("Gearbox oil leak at output seal", "GB-LEAK", MECH),
            ("Gear noise under load", "GEAR-WEAR", MECH),
        ],
        routines: &["Gearbox oil change", "Oil sample for analysis"],
        weight: 3,
    },
    EquipmentClass {
        type_name: "Variable Frequency Drive",
        tag: "VFD",
        services: &["Motor"],
        noun: "Drive",
        makes: &[
            ("ABB", &["ACS880"]),
            ("Allen-Bradley", &["PowerFlex 755"]),
            ("Danfoss", &["VLT FC 302"]),
        ],
        ratings: &["20 hp, 480 V", "40 hp, 480 V", "10 hp, 480 V"],
        faults: &[
            ("Drive faulted on overvoltage", "VFD-OV", ELEC),
            ("Drive cooling fan failed", "FAN-FAIL", ELEC),
        ],
        routines: &["Clean drive heat sink", "Check DC bus capacitors"],
        weight: 3,
    },
];

impl EquipmentClass {
    /// Picks a class by weight.
    pub(crate) fn pick(
        rng: &mut Rng,
        classes: &'static [EquipmentClass],
    ) -> &'static EquipmentClass {
        let total: u64 = classes.iter().map(|c| u64::from(c.weight)).sum();
        let mut roll = rng.below(total);
        for class in classes {
            if roll < u64::from(class.weight) {
                return class;
            }
            roll -= u64::from(class.weight);
        }
        &classes[classes.len() - 1]
    }

    /// A display name such as `Cooling Water Pump P-1047`.
    pub(crate) fn name(&self, service: &str, tag_number: u64) -> String {
        let tag = format!("{}-{}", self.tag, tag_number);
        if self.noun.is_empty() {
            format!("{service} {tag}")
        } else {
            format!("{service} {} {tag}", self.noun)
        }
    }
}

/// Facility work with no particular asset: (title, category).
pub(crate) const FACILITY_TASKS: &[(&str, &str)] = &[
    ("Replace failed LED high-bay fixture", ELEC),
    ("Repair dock door seal", DMG),
    ("Clean up hydraulic oil spill", SAFE),
    ("Roof leak above aisle", DMG),
    ("Monthly fire extinguisher inspection", "Inspection"),
    ("Emergency eyewash station weekly test", SAFE),
    ("Replace exit sign battery", ELEC),
    ("Repaint floor safety markings", SAFE),
    ("Install new 480 V drop for relocated machine", "Project"),
    ("Fix restroom plumbing leak", MECH),
];

/// A spare part template: category code, name pattern, makers, unit, cost range in cents,
/// usual shelf quantity range.
#[derive(Debug)]
pub(crate) struct PartTemplate {
    pub(crate) code: &'static str,
    pub(crate) names: &'static [&'static str],
    pub(crate) makers: &'static [&'static str],
    pub(crate) unit: &'static str,
    pub(crate) cost_cents: (i64, i64),
    pub(crate) stock: (i64, i64),
}

/// The storeroom catalogue.
pub(crate) const PARTS: &[PartTemplate] = &[
    PartTemplate {
        code: "BRG",
        names: &[
            "Deep Groove Ball Bearing 6205-2RS",
            "Deep Groove Ball Bearing 6308-ZZ",
            "Spherical Roller Bearing 22216 EK",
            "Pillow Block Bearing UCP208",
            "Tapered Roller Bearing 30207",
        ],
        makers: &["SKF", "Timken", "NSK", "FAG"],
        unit: "Each",
        cost_cents: (900, 24_000),
        stock: (2, 40),
    },
    PartTemplate {
        code: "BLT",
        names: &[
            "V-Belt B48",
            "V-Belt BX62",
            "Timing Belt 8MGT-1200-30",
            "Banded V-Belt 3/5V1000",
        ],
        makers: &["Gates", "Continental", "Optibelt"],
        unit: "Each",
        cost_cents: (1_200, 18_000),
        stock: (2, 30),
    },
    PartTemplate {
        code: "SEAL",
        names: &[
            "Mechanical Seal Type 21, 1.375 in",
            "Cartridge Seal 1.875 in",
            "Lip Seal 45x62x8",
            "O-Ring Kit Viton, 382 pcs",
        ],
        makers: &["John Crane", "Flowserve", "Chesterton", "Parker"],
        unit: "Each",
        cost_cents: (1_500, 95_000),
        stock: (1, 12),
    },
    PartTemplate {
        code: "FLT",
        names: &[
            "Compressor Air Filter Element",
            "Compressor Oil Filter",
            "Hydraulic Return Filter 10 micron",
            "Pleated Air Filter 24x24x2 MERV 13",
            "Coalescing Filter Element",
        ],
        makers: &["Atlas Copco", "Donaldson", "Parker", "Hydac", "Camfil"],
        unit: "Each",
        cost_cents: (800, 22_000),
        stock: (4, 60),
    },
    PartTemplate {
        code: "LUB",
        names: &[
            "Synthetic Gear Oil ISO 220, 5 gal",
            "Polyrex EM Motor Bearing Grease, 14 oz",
            "Compressor Fluid, 5 gal",
            "Hydraulic Oil AW 46, 55 gal",
        ],
        makers: &["Mobil", "Shell", "Chevron", "Klüber"],
        unit: "Container",
        cost_cents: (1_100, 120_000),
        stock: (2, 24),
    },
    PartTemplate {
        code: "ELC",
        names: &[
            "IEC Contactor 32 A, 120 V coil",
            "Class RK5 Fuse 30 A",
            "Thermal Overload Relay 23-32 A",
            "Inductive Proximity Sensor M18",
            "Photoelectric Sensor, diffuse",
        ],
        makers: &[
            "Schneider Electric",
            "Allen-Bradley",
            "Siemens",
            "ifm",
            "Banner",
        ],
        unit: "Each",
        cost_cents: (600, 38_000),
        stock: (2, 50),
    },
    PartTemplate {
        code: "MTR",
        names: &[
            "3-Phase Motor 5 hp, 1800 rpm, TEFC",
            "3-Phase Motor 15 hp, 1800 rpm, TEFC",
            "Gearmotor 1 hp, 40:1",
        ],
        makers: &["WEG", "Baldor-Reliance", "SEW-Eurodrive"],
        unit: "Each",
        cost_cents: (45_000, 280_000),
        stock: (0, 3),
    },
    PartTemplate {
        code: "CNV",
        names: &[
            "Conveyor Roller 1.9 in x 24 in",
            "Belt Lacing Kit, size 25",
            "Roller Chain #60, 10 ft",
            "Sprocket 60B18",
        ],
        makers: &["Hytrol", "Flexco", "Tsubaki", "Martin"],
        unit: "Each",
        cost_cents: (1_800, 16_000),
        stock: (2, 40),
    },
    PartTemplate {
        code: "HYD",
        names: &[
            "Hydraulic Hose Assembly 1/2 in x 36 in",
            "Directional Control Valve D03",
            "Hydraulic Cylinder Seal Kit",
            "Gear Pump 16 cc/rev",
        ],
        makers: &["Parker", "Eaton", "Bosch Rexroth"],
        unit: "Each",
        cost_cents: (3_500, 140_000),
        stock: (1, 15),
    },
    PartTemplate {
        code: "HVC",
        names: &[
            "Refrigerant R-134a, 30 lb",
            "Condenser Fan Motor",
            "Expansion Valve Power Head",
            "Fan Belt AX38",
        ],
        makers: &["Chemours", "Trane", "Carrier", "Sporlan"],
        unit: "Each",
        cost_cents: (2_000, 85_000),
        stock: (1, 10),
    },
    PartTemplate {
        code: "CNC",
        names: &[
            "Spindle Drawbar Spring Stack",
            "Way Cover Wiper Kit",
            "Coolant Pump 1/2 hp",
            "Tool Holder CAT40 ER32",
        ],
        makers: &["Haas", "DMG Mori", "Kennametal", "Mazak"],
        unit: "Each",
        cost_cents: (4_000, 190_000),
        stock: (0, 8),
    },
    PartTemplate {
        code: "HW",
        names: &[
            "Hex Bolt 1/2-13 x 2 in Grade 8, box of 50",
            "Flange Gasket 4 in 150#, spiral wound",
            "Pipe Union 1 in, 304 SS",
            "Ball Valve 2 in NPT, full port",
        ],
        makers: &["Fastenal", "Grainger", "Lamons", "Apollo"],
        unit: "Box",
        cost_cents: (700, 21_000),
        stock: (5, 80),
    },
    PartTemplate {
        code: "SAF",
        names: &[
            "Lockout Padlock, red",
            "Gas Detector Sensor, H2S",
            "Safety Light Curtain Mirror",
            "Emergency Stop Pushbutton 40 mm",
        ],
        makers: &["Master Lock", "Honeywell", "Banner", "Allen-Bradley"],
        unit: "Each",
        cost_cents: (1_500, 65_000),
        stock: (2, 30),
    },
];

/// Storeroom bin locations (`Aisle 3, Shelf B, Bin 12`).
pub(crate) fn bin(rng: &mut Rng) -> String {
    format!(
        "Aisle {}, Shelf {}, Bin {}",
        rng.range(1, 15),
        char::from(b'A' + rng.below(6) as u8),
        rng.range(1, 40)
    )
}

/// Kinds of sites (`Dayton Plant`).
pub(crate) const SITE_KINDS: &[&str] = &[
    "Plant",
    "Works",
    "Manufacturing Campus",
    "Mill",
    "Distribution Center",
];

/// Buildings on a site.
pub(crate) const BUILDINGS: &[&str] = &[
    "Production Building",
    "Utility Building",
    "Warehouse",
    "Central Plant",
    "Maintenance Shop",
    "Assembly Hall",
    "Press Building",
    "Packaging Building",
    "Admin Building",
    "Shipping Building",
];

/// Areas in a building, with whether the name takes a number.
pub(crate) const AREAS: &[(&str, bool)] = &[
    ("Line", true),
    ("Boiler Room", false),
    ("Compressor Room", false),
    ("Chiller Plant", false),
    ("Tool Crib", false),
    ("Parts Storeroom", false),
    ("Packaging Line", true),
    ("Press Shop", false),
    ("Paint Booth", true),
    ("Loading Dock", true),
    ("Mezzanine", false),
    ("Machine Shop", false),
    ("Wastewater Treatment", false),
    ("Cooling Tower Yard", false),
    ("Assembly Cell", true),
    ("Electrical Room", true),
    ("Molding Cell", true),
    ("Quality Lab", false),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_class_is_complete() {
        for class in EQUIPMENT.iter().chain(COMPONENTS) {
            assert!(!class.services.is_empty(), "{}", class.type_name);
            assert!(!class.makes.is_empty(), "{}", class.type_name);
            assert!(class.makes.iter().all(|(_, models)| !models.is_empty()));
            assert!(
                !class.ratings.is_empty() && !class.faults.is_empty() && !class.routines.is_empty()
            );
            assert!(class.weight > 0);
        }
        for part in PARTS {
            assert!(part.cost_cents.0 < part.cost_cents.1 && part.stock.0 < part.stock.1);
            assert!(!part.names.is_empty() && !part.makers.is_empty());
        }
    }

    #[test]
    fn names_read_naturally() {
        assert_eq!(
            EQUIPMENT[0].name("Cooling Water", 1047),
            "Cooling Water Pump P-1047"
        );
        let cnc = EQUIPMENT.iter().find(|c| c.tag == "CNC").unwrap();
        assert_eq!(cnc.name("Lathe", 1003), "Lathe CNC-1003");
    }
}
