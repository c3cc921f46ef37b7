//! Names of people, companies and places, shared by every simulator.
//!
//! The lists are small on purpose; variety comes from combining them. Domains use the reserved
//! `.example` top-level domain so no generated address can reach a real mailbox.

use crate::rng::Rng;

/// Given names.
#[rustfmt::skip]
pub(crate) const FIRST_NAMES: &[&str] = &[
    "James", "Maria", "Robert", "Linda", "Michael", "Patricia", "David", "Jennifer", "Carlos",
    "Elizabeth", "Daniel", "Susan", "Matthew", "Jessica", "Anthony", "Sarah", "Mark", "Karen",
    "Steven", "Nancy", "Andrew", "Lisa", "Joshua", "Angela", "Kevin", "Brenda", "Brian", "Emma",
    "Jose", "Olivia", "Ryan", "Amanda", "Jacob", "Melissa", "Gary", "Deborah", "Nicholas",
    "Stephanie", "Eric", "Rebecca", "Jonathan", "Laura", "Justin", "Sharon", "Scott", "Cynthia",
    "Brandon", "Kathleen", "Tyler", "Amy", "Samuel", "Shirley", "Gregory", "Anna", "Alexander",
    "Priya", "Raymond", "Nicole", "Wei", "Fatima", "Dmitri", "Aisha", "Hiroshi", "Lucia",
];

/// Family names.
#[rustfmt::skip]
pub(crate) const LAST_NAMES: &[&str] = &[
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez",
    "Martinez", "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor",
    "Moore", "Jackson", "Martin", "Lee", "Perez", "Thompson", "White", "Harris", "Sanchez",
    "Clark", "Ramirez", "Lewis", "Robinson", "Walker", "Young", "Allen", "King", "Wright", "Scott",
    "Torres", "Nguyen", "Hill", "Flores", "Green", "Adams", "Nelson", "Baker", "Hall", "Rivera",
    "Campbell", "Mitchell", "Carter", "Roberts", "Kowalski", "Novak", "Schmidt", "Patel", "Okafor",
    "Chen", "Tanaka", "Larsen", "Fischer", "O'Brien", "Murphy", "Reyes", "Sullivan", "Becker",
];

/// An industrial US city with its state and a postal code prefix, for addresses and site names.
#[derive(Clone, Copy, Debug)]
pub(crate) struct City {
    pub(crate) name: &'static str,
    pub(crate) state: &'static str,
    pub(crate) zip: &'static str,
    pub(crate) area_code: &'static str,
}

/// Cities with manufacturing bases.
#[rustfmt::skip]
pub(crate) const CITIES: &[City] = &[
    City { name: "Dayton", state: "OH", zip: "454", area_code: "937" },
    City { name: "Toledo", state: "OH", zip: "436", area_code: "419" },
    City { name: "Gary", state: "IN", zip: "464", area_code: "219" },
    City { name: "Fort Wayne", state: "IN", zip: "468", area_code: "260" },
    City { name: "Rockford", state: "IL", zip: "611", area_code: "815" },
    City { name: "Peoria", state: "IL", zip: "616", area_code: "309" },
    City { name: "Greenville", state: "SC", zip: "296", area_code: "864" },
    City { name: "Spartanburg", state: "SC", zip: "293", area_code: "864" },
    City { name: "Wichita", state: "KS", zip: "672", area_code: "316" },
    City { name: "Tulsa", state: "OK", zip: "741", area_code: "918" },
    City { name: "Houston", state: "TX", zip: "770", area_code: "713" },
    City { name: "Erie", state: "PA", zip: "165", area_code: "814" },
    City { name: "Allentown", state: "PA", zip: "181", area_code: "610" },
    City { name: "Racine", state: "WI", zip: "534", area_code: "262" },
    City { name: "Grand Rapids", state: "MI", zip: "495", area_code: "616" },
    City { name: "Saginaw", state: "MI", zip: "486", area_code: "989" },
    City { name: "Chattanooga", state: "TN", zip: "374", area_code: "423" },
    City { name: "Decatur", state: "AL", zip: "356", area_code: "256" },
    City { name: "Charlotte", state: "NC", zip: "282", area_code: "704" },
    City { name: "Baton Rouge", state: "LA", zip: "708", area_code: "225" },
];

#[rustfmt::skip]
const STREET_NAMES: &[&str] = &[
    "Industrial", "Commerce", "Enterprise", "Foundry", "Mill", "Railroad", "Harbor", "Factory",
    "Technology", "Corporate", "Progress", "Manufacturers", "Distribution", "Gateway", "Airport",
    "Riverside", "Canal", "Steelworks", "Quarry", "Logistics",
];

const STREET_KINDS: &[&str] = &["Pkwy", "Dr", "Blvd", "Rd", "Ave", "Way", "St", "Ct"];

/// A postal address in parts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Address {
    pub(crate) street: String,
    pub(crate) city: &'static str,
    pub(crate) state: &'static str,
    pub(crate) postal_code: String,
    pub(crate) country: &'static str,
}

impl Address {
    /// A street address in `city`.
    pub(crate) fn generate(rng: &mut Rng, city: &City) -> Self {
        Address {
            street: format!(
                "{} {} {}",
                rng.range(100, 9900),
                rng.pick(STREET_NAMES),
                rng.pick(STREET_KINDS)
            ),
            city: city.name,
            state: city.state,
            postal_code: format!("{}{}", city.zip, rng.digits(2)),
            country: "US",
        }
    }

    /// The one-line form (`1450 Industrial Pkwy, Dayton, OH 45414, US`).
    pub(crate) fn one_line(&self) -> String {
        format!(
            "{}, {}, {} {}, {}",
            self.street, self.city, self.state, self.postal_code, self.country
        )
    }
}

/// A North American phone number in E.164, using the fictional 555-01xx range.
pub(crate) fn phone(rng: &mut Rng, city: &City) -> String {
    format!("+1{}5550{}", city.area_code, rng.range(100, 200))
}

/// The `index`-th person: distinct (first, last) pairs for the first
/// `FIRST_NAMES.len() * LAST_NAMES.len()` indices, so seeded e-mail addresses stay unique
/// (a numeric suffix takes over beyond that).
pub(crate) fn person(seed: u64, index: u64) -> (&'static str, &'static str, u64) {
    let f = FIRST_NAMES.len() as u64;
    let l = LAST_NAMES.len() as u64;
    let offset = seed % (f * l);
    let slot = (index + offset) % (f * l);
    // 37 is coprime with the list lengths, so this walks every first name before repeating.
    let first = (slot % f * 37 + seed) % f;
    let last = (slot / f + first * 11 + seed / 7) % l;
    let suffix = index / (f * l);
    (
        FIRST_NAMES[first as usize],
        LAST_NAMES[last as usize],
        suffix,
    )
}

/// Lower-case ASCII letters and digits of `text` only, for e-mail local parts and domains.
pub(crate) fn slug(text: &str) -> String {
    text.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

#[rustfmt::skip]
const COMPANY_PREFIXES: &[&str] = &[
    "Great Lakes", "Midwest", "Summit", "Keystone", "Atlas", "Pioneer", "Allied", "Precision",
    "Tri-State", "Delta", "Liberty", "Heartland", "Coastal", "Ironbridge", "Northstar", "Cardinal",
    "Frontier", "Blue Ridge", "Capital", "Piedmont", "Gulf Coast", "Lakeshore", "Patriot",
    "Crossroads",
];

const VENDOR_SPECIALTIES: &[(&str, &str)] = &[
    (
        "Bearing & Power Transmission",
        "bearings, belts, couplings and gearboxes",
    ),
    ("Industrial Supply", "MRO supplies, fasteners and tools"),
    (
        "Hydraulics",
        "hydraulic pumps, cylinders, hoses and filters",
    ),
    (
        "Electrical Distributors",
        "motors, drives, contactors and wire",
    ),
    (
        "Fluid Power",
        "pneumatic valves, fittings and compressed-air treatment",
    ),
    ("Pump & Seal", "pump repair, mechanical seals and packing"),
    (
        "Compressor Services",
        "compressor parts, service kits and overhauls",
    ),
    ("Controls & Automation", "PLCs, sensors and control panels"),
    ("Safety Products", "PPE, lockout/tagout and gas detection"),
    (
        "Lubricants",
        "industrial oils, greases and lubrication systems",
    ),
    (
        "Refrigeration",
        "refrigerants, chiller parts and HVAC service",
    ),
    (
        "Machine Tool Service",
        "CNC spindle repair, way covers and tooling",
    ),
    (
        "Conveyor Components",
        "rollers, belting, lacing and sprockets",
    ),
    (
        "Boiler & Steam",
        "burner parts, steam traps and water treatment",
    ),
];

const COMPANY_SUFFIXES: &[&str] = &["Inc.", "LLC", "Co.", "Corp.", "Company", "Group"];

/// A vendor company: name, one-line description of what it sells, and its e-mail domain.
pub(crate) fn vendor_company(rng: &mut Rng) -> (String, String, String) {
    let prefix = rng.pick(COMPANY_PREFIXES);
    let (specialty, sells) = rng.pick(VENDOR_SPECIALTIES);
    let suffix = rng.pick(COMPANY_SUFFIXES);
    let name = format!("{prefix} {specialty} {suffix}");
    let domain = format!(
        "{}{}.example",
        slug(prefix),
        slug(specialty.split(' ').next().unwrap_or(""))
    );
    (name, format!("Supplier of {sells}."), domain)
}

const ORG_INDUSTRIES: &[&str] = &[
    "Precision Manufacturing",
    "Packaging",
    "Foods",
    "Metal Works",
    "Plastics",
    "Beverage",
    "Paper Products",
    "Automotive Components",
];

/// The operating company a simulated tenant belongs to: name and e-mail domain.
pub(crate) fn organization(rng: &mut Rng) -> (String, String) {
    let prefix = rng.pick(COMPANY_PREFIXES);
    let industry = rng.pick(ORG_INDUSTRIES);
    (
        format!("{prefix} {industry}"),
        format!(
            "{}{}.example",
            slug(prefix),
            slug(industry.split(' ').next().unwrap_or(""))
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn people_are_distinct_within_the_name_space() {
        let span = (FIRST_NAMES.len() * LAST_NAMES.len()) as u64;
        let pairs: HashSet<_> = (0..span).map(|i| person(42, i)).collect();
        assert_eq!(pairs.len() as u64, span);
        assert_eq!(
            person(42, span).2,
            1,
            "suffix takes over past the name space"
        );
    }

    #[test]
    fn slug_keeps_only_ascii_alphanumerics() {
        assert_eq!(slug("O'Brien"), "obrien");
        assert_eq!(slug("Tri-State"), "tristate");
    }
}
