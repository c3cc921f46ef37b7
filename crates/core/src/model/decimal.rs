//! Decimal strings for money and quantities (`"1250.00"`): the contract never carries floats,
//! so amounts keep the precision their source gave them and survive any JSON parser intact.

use std::{borrow::Cow, fmt, str::FromStr};

use serde::{de, Deserialize, Deserializer, Serialize, Serializer};
use utoipa::{
    openapi::{schema::Schema, ObjectBuilder, RefOr, Type},
    PartialSchema, ToSchema,
};

/// A decimal number kept as its text, `^-?\d+(\.\d+)?$`.
///
/// Equality is textual: `"1.50"` and `"1.5"` are different values, because the text is what
/// clients see and what the sync layer hashes. Build one with [`Decimal::parse`] (strict), from
/// integers, from an `f64` or a JSON number (shortest round-trip text, so `0.1` stays `"0.1"`), or
/// from a number's text in any JSON form (`"1.5e3"` → `"1500"`).
///
/// Deserializing accepts the decimal string form and, for leniency towards clients and sources
/// that send amounts as JSON numbers, a JSON number; serializing always writes the string.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Decimal(String);

/// Why a text is not a [`Decimal`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a decimal string (expected digits with an optional `-` and fraction, e.g. \"1250.00\")")]
pub struct DecimalError(pub String);

impl Decimal {
    /// Parses the strict contract form `^-?\d+(\.\d+)?$`.
    pub fn parse(text: &str) -> Result<Decimal, DecimalError> {
        if is_decimal(text) {
            Ok(Decimal(text.to_string()))
        } else {
            Err(DecimalError(text.to_string()))
        }
    }

    /// The decimal text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The decimal text, owned.
    pub fn into_string(self) -> String {
        self.0
    }

    /// An integer, written without a fraction.
    pub fn from_i64(value: i64) -> Decimal {
        Decimal(value.to_string())
    }

    /// The shortest text that reads back as the same `f64` (Rust's `Display` for floats never
    /// uses an exponent), so `0.1` becomes `"0.1"`, not `"0.1000000000000000055511151231257827"`.
    /// `None` for NaN and infinities.
    pub fn from_f64(value: f64) -> Option<Decimal> {
        if !value.is_finite() {
            return None;
        }
        // `-0.0` prints as "-0"; an amount of minus zero means nothing to anyone.
        let value = if value == 0.0 { 0.0 } else { value };
        Some(Decimal(format!("{value}")))
    }

    /// A JSON number: integers exactly, other numbers through [`Decimal::from_f64`].
    pub fn from_json_number(number: &serde_json::Number) -> Option<Decimal> {
        if let Some(i) = number.as_i64() {
            Some(Decimal::from_i64(i))
        } else if let Some(u) = number.as_u64() {
            Some(Decimal(u.to_string()))
        } else {
            number.as_f64().and_then(Decimal::from_f64)
        }
    }

    /// A number's text in any JSON (or common source) form — optional sign, digits, optional
    /// fraction, optional exponent — rewritten into the contract form by moving the decimal point,
    /// never through a float: `"1.5E+3"` → `"1500"`, `"-2.5e-2"` → `"-0.025"`, `"+7."` → `"7"`.
    pub fn from_number_text(text: &str) -> Option<Decimal> {
        let text = text.trim();
        let (negative, rest) = match text.as_bytes().first()? {
            b'-' => (true, &text[1..]),
            b'+' => (false, &text[1..]),
            _ => (false, text),
        };
        let (mantissa, exponent) = match rest.find(['e', 'E']) {
            Some(i) => (&rest[..i], rest[i + 1..].parse::<i64>().ok()?),
            None => (rest, 0),
        };
        let (int_part, frac_part) = mantissa.split_once('.').unwrap_or((mantissa, ""));
        if int_part.is_empty() && frac_part.is_empty() {
            return None;
        }
        if !int_part
            .bytes()
            .chain(frac_part.bytes())
            .all(|b| b.is_ascii_digit())
        {
            return None;
        }
        // Refuse absurd exponents instead of allocating gigabytes of zeros.
        if exponent.unsigned_abs() > 4096 {
            return None;
        }
        let digits: String = format!("{int_part}{frac_part}");
        let point = int_part.len() as i64 + exponent;
        let (int_digits, frac_digits) = if point <= 0 {
            (
                "0".to_string(),
                format!("{}{digits}", "0".repeat(point.unsigned_abs() as usize)),
            )
        } else if point as usize >= digits.len() {
            (
                format!("{digits}{}", "0".repeat(point as usize - digits.len())),
                String::new(),
            )
        } else {
            (
                digits[..point as usize].to_string(),
                digits[point as usize..].to_string(),
            )
        };
        let int_digits = int_digits.trim_start_matches('0');
        let int_digits = if int_digits.is_empty() {
            "0"
        } else {
            int_digits
        };
        // An exponent form says nothing about significant trailing zeros; the plain form keeps
        // what it was given ("1250.00" stays "1250.00").
        let frac_digits = if exponent != 0 {
            frac_digits.trim_end_matches('0')
        } else {
            &frac_digits
        };
        let zero = int_digits == "0" && frac_digits.bytes().all(|b| b == b'0');
        let sign = if negative && !zero { "-" } else { "" };
        let text = if frac_digits.is_empty() {
            format!("{sign}{int_digits}")
        } else {
            format!("{sign}{int_digits}.{frac_digits}")
        };
        Some(Decimal(text))
    }

    /// `units / 10^scale`, e.g. `from_scaled(12345, 2)` → `"123.45"`; always exactly `scale`
    /// fraction digits.
    pub fn from_scaled(units: i128, scale: u32) -> Decimal {
        let digits = units.unsigned_abs().to_string();
        let scale = scale as usize;
        let sign = if units < 0 { "-" } else { "" };
        if scale == 0 {
            return Decimal(format!("{sign}{digits}"));
        }
        let padded = format!("{digits:0>width$}", width = scale + 1);
        let (int_part, frac_part) = padded.split_at(padded.len() - scale);
        Decimal(format!("{sign}{int_part}.{frac_part}"))
    }

    /// `round(numerator / denominator, scale)`, half away from zero, with exactly `scale`
    /// fraction digits: `ratio(5400, 3600, 2)` → `"1.50"`. `None` when `denominator` is zero
    /// or the result does not fit.
    pub fn ratio(numerator: i128, denominator: i128, scale: u32) -> Option<Decimal> {
        if denominator == 0 {
            return None;
        }
        let scaled = numerator.checked_mul(10i128.checked_pow(scale)?)?;
        Some(Decimal::from_scaled(div_round(scaled, denominator), scale))
    }

    /// The value in units of `10^-scale`, rounded half away from zero: `"1.505"` at scale 2 is
    /// `151`. `None` if it does not fit in an `i128`.
    pub fn to_scaled(&self, scale: u32) -> Option<i128> {
        let (negative, units, own_scale) = self.parts()?;
        let value = if own_scale <= scale {
            units.checked_mul(10i128.checked_pow(scale - own_scale)?)?
        } else {
            div_round(units, 10i128.checked_pow(own_scale - scale)?)
        };
        Some(if negative { -value } else { value })
    }

    /// The exact product, with as many fraction digits as both factors together
    /// (`"2.5" × "1.20"` = `"3.000"`). `None` on overflow.
    pub fn checked_mul(&self, other: &Decimal) -> Option<Decimal> {
        let (neg_a, a, scale_a) = self.parts()?;
        let (neg_b, b, scale_b) = other.parts()?;
        let product = a.checked_mul(b)?;
        Some(Decimal::from_scaled(
            if neg_a != neg_b { -product } else { product },
            scale_a + scale_b,
        ))
    }

    /// The exact sum, with the larger number of fraction digits of the two. `None` on overflow.
    pub fn checked_add(&self, other: &Decimal) -> Option<Decimal> {
        let scale = self.scale().max(other.scale());
        Some(Decimal::from_scaled(
            self.to_scaled(scale)?
                .checked_add(other.to_scaled(scale)?)?,
            scale,
        ))
    }

    /// Number of digits after the point.
    pub fn scale(&self) -> u32 {
        self.0.split_once('.').map_or(0, |(_, f)| f.len() as u32)
    }

    /// (negative, digits without the point, fraction digits).
    fn parts(&self) -> Option<(bool, i128, u32)> {
        let (negative, rest) = match self.0.strip_prefix('-') {
            Some(r) => (true, r),
            None => (false, self.0.as_str()),
        };
        let (int_part, frac_part) = rest.split_once('.').unwrap_or((rest, ""));
        let units: i128 = format!("{int_part}{frac_part}").parse().ok()?;
        Some((negative, units, frac_part.len() as u32))
    }
}

/// `numerator / denominator` rounded half away from zero.
fn div_round(numerator: i128, denominator: i128) -> i128 {
    let quotient = numerator / denominator;
    let remainder = numerator % denominator;
    if remainder.unsigned_abs() * 2 >= denominator.unsigned_abs() {
        if (numerator < 0) != (denominator < 0) {
            quotient - 1
        } else {
            quotient + 1
        }
    } else {
        quotient
    }
}

/// `^-?\d+(\.\d+)?$`, without pulling in a regex engine.
fn is_decimal(text: &str) -> bool {
    let unsigned = text.strip_prefix('-').unwrap_or(text);
    let (int_part, frac_part) = match unsigned.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (unsigned, None),
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    digits(int_part) && frac_part.is_none_or(digits)
}

impl fmt::Display for Decimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for Decimal {
    type Err = DecimalError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Decimal::parse(s)
    }
}

impl From<i64> for Decimal {
    fn from(value: i64) -> Self {
        Decimal::from_i64(value)
    }
}

impl From<Decimal> for String {
    fn from(value: Decimal) -> Self {
        value.0
    }
}

impl Serialize for Decimal {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Decimal {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;

        impl de::Visitor<'_> for Visitor {
            type Value = Decimal;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a decimal string such as \"1250.00\"")
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<Decimal, E> {
                Decimal::parse(v).map_err(E::custom)
            }

            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Decimal, E> {
                Ok(Decimal::from_i64(v))
            }

            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Decimal, E> {
                Ok(Decimal(v.to_string()))
            }

            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Decimal, E> {
                Decimal::from_f64(v).ok_or_else(|| E::custom("a decimal must be a finite number"))
            }
        }

        d.deserialize_any(Visitor)
    }
}

impl PartialSchema for Decimal {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .pattern(Some(r"^-?\d+(\.\d+)?$"))
            .description(Some("A decimal number as a string, never a float."))
            .examples([serde_json::json!("1250.00")])
            .into()
    }
}

impl ToSchema for Decimal {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("Decimal")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn d(s: &str) -> Decimal {
        Decimal::parse(s).unwrap()
    }

    #[test]
    fn parses_only_the_contract_form() {
        for ok in ["0", "-1", "1250.00", "007", "-0.5"] {
            assert_eq!(Decimal::parse(ok).unwrap().as_str(), ok);
        }
        for bad in [
            "", "-", ".5", "5.", "1e3", "+1", "1,5", " 1", "1.2.3", "NaN", "--1",
        ] {
            assert!(Decimal::parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn floats_and_json_numbers_have_no_artefacts() {
        assert_eq!(Decimal::from_f64(0.1).unwrap().as_str(), "0.1");
        assert_eq!(Decimal::from_f64(1250.0).unwrap().as_str(), "1250");
        assert_eq!(Decimal::from_f64(-0.0).unwrap().as_str(), "0");
        assert_eq!(Decimal::from_f64(1e-7).unwrap().as_str(), "0.0000001");
        assert!(Decimal::from_f64(f64::NAN).is_none());
        let n: serde_json::Number = serde_json::from_str("19.99").unwrap();
        assert_eq!(Decimal::from_json_number(&n).unwrap().as_str(), "19.99");
        let n: serde_json::Number = serde_json::from_str("18446744073709551615").unwrap();
        assert_eq!(
            Decimal::from_json_number(&n).unwrap().as_str(),
            "18446744073709551615"
        );
        assert_eq!(Decimal::from(-42).as_str(), "-42");
    }

    #[test]
    fn number_text_moves_the_point_without_floats() {
        let cases = [
            ("1.5E+3", "1500"),
            ("-2.5e-2", "-0.025"),
            ("+7.", "7"),
            ("0.1", "0.1"),
            ("1250.00", "1250.00"),
            ("000123.4500", "123.4500"),
            (
                "12345678901234567890.123456789",
                "12345678901234567890.123456789",
            ),
            ("-0e5", "0"),
            (".5", "0.5"),
            ("1e0", "1"),
        ];
        for (input, want) in cases {
            assert_eq!(
                Decimal::from_number_text(input).unwrap().as_str(),
                want,
                "{input}"
            );
        }
        for bad in ["", "e5", "1e", "abc", "1.2.3", "1e99999", "-"] {
            assert!(Decimal::from_number_text(bad).is_none(), "{bad:?} accepted");
        }
    }

    #[test]
    fn scaled_arithmetic_is_exact() {
        assert_eq!(Decimal::from_scaled(12345, 2).as_str(), "123.45");
        assert_eq!(Decimal::from_scaled(-5, 3).as_str(), "-0.005");
        assert_eq!(Decimal::from_scaled(7, 0).as_str(), "7");
        assert_eq!(Decimal::ratio(5400, 3600, 2).unwrap().as_str(), "1.50");
        assert_eq!(Decimal::ratio(1000, 3600, 2).unwrap().as_str(), "0.28");
        assert_eq!(Decimal::ratio(-1000, 3600, 2).unwrap().as_str(), "-0.28");
        assert!(Decimal::ratio(1, 0, 2).is_none());
        assert_eq!(d("1.505").to_scaled(2), Some(151));
        assert_eq!(d("-1.505").to_scaled(2), Some(-151));
        assert_eq!(d("1.5").to_scaled(0), Some(2));
        assert_eq!(d("2").to_scaled(3), Some(2000));
        assert_eq!(d("2.5").checked_mul(&d("1.20")).unwrap().as_str(), "3.000");
        assert_eq!(d("-2").checked_mul(&d("0.5")).unwrap().as_str(), "-1.0");
        assert_eq!(d("1.25").checked_add(&d("-3")).unwrap().as_str(), "-1.75");
    }

    #[test]
    fn serde_writes_strings_and_reads_strings_or_numbers() {
        assert_eq!(
            serde_json::to_value(d("1250.00")).unwrap(),
            json!("1250.00")
        );
        assert_eq!(
            serde_json::from_value::<Decimal>(json!("3.10")).unwrap(),
            d("3.10")
        );
        assert_eq!(
            serde_json::from_value::<Decimal>(json!(12)).unwrap(),
            d("12")
        );
        assert_eq!(
            serde_json::from_value::<Decimal>(json!(0.3)).unwrap(),
            d("0.3")
        );
        let err = serde_json::from_value::<Decimal>(json!("12,50"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("12,50"), "{err}");
        assert!(serde_json::from_value::<Decimal>(json!(true)).is_err());
    }
}
