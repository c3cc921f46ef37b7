//! Numbers as JavaScript backends print them.
//!
//! MaintainX (and Maximo's JSON API) send money and quantities as JSON numbers. A JavaScript
//! server prints `12` rather than `12.0`; serde_json prints an `f64` 12 as `12.0`. Connectors
//! must read both, but the simulator should send what the vendor sends.

use serde::{Serialize, Serializer};

/// A JSON number printed without a trailing `.0` when it is integral.
#[derive(Clone, Copy, Debug, PartialEq, PartialOrd)]
pub(crate) struct Num(pub(crate) f64);

impl Num {
    /// An amount of money from integer cents, so the value is the closest `f64` to the intended
    /// decimal and prints as that decimal (`1999` → `19.99`).
    pub(crate) fn cents(cents: i64) -> Self {
        Num(cents as f64 / 100.0)
    }
}

impl Serialize for Num {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let v = self.0;
        if v.fract() == 0.0 && v.abs() < 9.0e15 {
            serializer.serialize_i64(v as i64)
        } else {
            serializer.serialize_f64(v)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prints_like_javascript() {
        assert_eq!(serde_json::to_string(&Num(12.0)).unwrap(), "12");
        assert_eq!(serde_json::to_string(&Num::cents(1999)).unwrap(), "19.99");
        assert_eq!(serde_json::to_string(&Num::cents(1205)).unwrap(), "12.05");
        assert_eq!(serde_json::to_string(&Num(-3.5)).unwrap(), "-3.5");
    }
}
