//! Kubernetes resource quantities ("500m", "1Gi", "1e3"): parsing and exact comparison.

use std::cmp::Ordering;

/// The regular expression Kubernetes quotes when a quantity does not parse.
pub const QUANTITY_FORMAT_MSG: &str =
    "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";

/// A parsed quantity. `nanos` is exact when it fits; `approx` always holds the value.
#[derive(Clone, Copy, Debug)]
pub struct Quantity {
    nanos: Option<i128>,
    approx: f64,
}

impl Quantity {
    pub fn parse(s: &str) -> Option<Quantity> {
        let (sign, rest) = match s.as_bytes().first()? {
            b'+' => (1i128, &s[1..]),
            b'-' => (-1i128, &s[1..]),
            _ => (1i128, s),
        };
        let num_len = rest
            .bytes()
            .take_while(|b| b.is_ascii_digit() || *b == b'.')
            .count();
        let (number, suffix) = rest.split_at(num_len);
        if number.is_empty() || number == "." || number.matches('.').count() > 1 {
            return None;
        }
        let (int_part, frac_part) = number.split_once('.').unwrap_or((number, ""));
        // value = digits * 10^(exp10 - frac_len) * 2^exp2
        let digits: String = format!("{int_part}{frac_part}");
        let (mut exp10, exp2) = suffix_exponents(suffix)?;
        exp10 -= frac_part.len() as i32;
        let digits = digits.trim_start_matches('0');
        let approx_mantissa: f64 = if digits.is_empty() {
            0.0
        } else {
            digits.parse().ok()?
        };
        let approx = sign as f64 * approx_mantissa * 10f64.powi(exp10) * 2f64.powi(exp2);
        let nanos = exact_nanos(digits, exp10 + 9, exp2).map(|n| n * sign);
        Some(Quantity { nanos, approx })
    }

    /// A quantity as it appears in JSON: a string, or a bare number some clients send.
    pub fn from_json(v: &serde_json::Value) -> Option<Quantity> {
        match v {
            serde_json::Value::String(s) => Quantity::parse(s),
            serde_json::Value::Number(n) => Quantity::parse(&n.to_string()),
            _ => None,
        }
    }

    pub fn is_negative(&self) -> bool {
        match self.nanos {
            Some(n) => n < 0,
            None => self.approx < 0.0,
        }
    }

    pub fn is_zero(&self) -> bool {
        match self.nanos {
            Some(n) => n == 0,
            None => self.approx == 0.0,
        }
    }

    /// True when the value is a whole number (extended resources must be integers).
    pub fn is_integer(&self) -> bool {
        match self.nanos {
            Some(n) => n % 1_000_000_000 == 0,
            None => self.approx.fract() == 0.0,
        }
    }

    pub fn add(&self, other: &Quantity) -> Quantity {
        Quantity {
            nanos: self
                .nanos
                .zip(other.nanos)
                .and_then(|(a, b)| a.checked_add(b)),
            approx: self.approx + other.approx,
        }
    }

    pub fn zero() -> Quantity {
        Quantity {
            nanos: Some(0),
            approx: 0.0,
        }
    }
}

impl PartialEq for Quantity {
    fn eq(&self, other: &Self) -> bool {
        self.cmp_value(other) == Ordering::Equal
    }
}

impl Quantity {
    pub fn cmp_value(&self, other: &Quantity) -> Ordering {
        match (self.nanos, other.nanos) {
            (Some(a), Some(b)) => a.cmp(&b),
            _ => self
                .approx
                .partial_cmp(&other.approx)
                .unwrap_or(Ordering::Equal),
        }
    }
}

/// Decimal and binary exponents for a suffix; None when the suffix is not a Kubernetes one.
fn suffix_exponents(suffix: &str) -> Option<(i32, i32)> {
    let fixed = match suffix {
        "" => Some((0, 0)),
        "n" => Some((-9, 0)),
        "u" => Some((-6, 0)),
        "m" => Some((-3, 0)),
        "k" => Some((3, 0)),
        "M" => Some((6, 0)),
        "G" => Some((9, 0)),
        "T" => Some((12, 0)),
        "P" => Some((15, 0)),
        "E" => Some((18, 0)),
        "Ki" => Some((0, 10)),
        "Mi" => Some((0, 20)),
        "Gi" => Some((0, 30)),
        "Ti" => Some((0, 40)),
        "Pi" => Some((0, 50)),
        "Ei" => Some((0, 60)),
        _ => None,
    };
    if fixed.is_some() {
        return fixed;
    }
    let exp = suffix.strip_prefix(['e', 'E'])?;
    let digits = exp.strip_prefix(['+', '-']).unwrap_or(exp);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let value: i32 = exp.parse().ok()?;
    Some((value, 0))
}

/// digits * 10^exp10 * 2^exp2 as an integer, rounding a fractional result up (as Kubernetes
/// rounds sub-nano precision up). None on overflow.
fn exact_nanos(digits: &str, exp10: i32, exp2: i32) -> Option<i128> {
    if digits.is_empty() {
        return Some(0);
    }
    if digits.len() > 36 {
        return None;
    }
    let mut value: i128 = digits.parse().ok()?;
    if exp2 > 0 {
        value = value.checked_mul(1i128.checked_shl(exp2 as u32)?)?;
    }
    if exp10 >= 0 {
        value.checked_mul(10i128.checked_pow(exp10 as u32)?)
    } else {
        let div = 10i128.checked_pow((-exp10) as u32)?;
        let q = value / div;
        Some(if value % div != 0 { q + 1 } else { q })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_compares() {
        let q = |s| Quantity::parse(s).unwrap_or_else(|| panic!("{s} should parse"));
        assert_eq!(q("1Gi"), q("1073741824"));
        assert_eq!(q("500m"), q("0.5"));
        assert_eq!(q("1k"), q("1e3"));
        assert_eq!(q("1.5"), q("1500m"));
        assert!(q("2").cmp_value(&q("1900m")) == Ordering::Greater);
        assert!(q("-1").is_negative());
        assert!(q("1").is_integer() && !q("100m").is_integer());
        for bad in ["", "abc", "1.2.3", "1Zi", "1e", "--1", "1 Gi", "."] {
            assert!(Quantity::parse(bad).is_none(), "{bad} should not parse");
        }
    }
}
