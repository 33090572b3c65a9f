//! Kubernetes resource quantities (`100m`, `1.5`, `64Mi`, `1G`, `1e3`, `-2`, `.5`): one exact
//! representation for the API server, the scheduler and the node agent.
//!
//! A [`Quantity`] is a whole number of nano-units, as in Kubernetes' `resource.Quantity`:
//! precision finer than `1n` is rounded up (away from zero), binary-suffixed values are capped at
//! 2^63-1, and [`Quantity::value`] / [`Quantity::milli_value`] round up like Go's `Value()` /
//! `MilliValue()`. Values whose magnitude exceeds about 1.7e29 cannot be represented and are
//! rejected with [`QuantityError::OutOfRange`] instead of being approximated.

mod parse;
#[cfg(test)]
mod tests;

use std::fmt;
use std::str::FromStr;

/// The message Kubernetes gives for a quantity that does not parse.
pub const QUANTITY_FORMAT_MSG: &str =
    "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";

/// The message for a well-formed quantity too large for [`Quantity`] to hold.
pub const QUANTITY_RANGE_MSG: &str = "quantities must not exceed about 1.7e29 in magnitude";

const NANOS_PER_UNIT: i128 = 1_000_000_000;
const NANOS_PER_MILLI: i128 = 1_000_000;

/// An exact resource quantity: a signed count of nano-units (`1` is `1n`, `1_000_000_000` is `1`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Quantity {
    nanos: i128,
}

/// Why a quantity could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QuantityError {
    /// Not a quantity at all (`"abc"`, `"1.2.3"`, `"1Gb"`).
    #[error("quantity {input:?} is invalid: {reason}")]
    Malformed { input: String, reason: &'static str },
    /// Well formed, but its magnitude is beyond what [`Quantity`] can hold (`"1e999"`).
    #[error(
        "quantity {input:?} is out of range: magnitudes above about 1.7e29 cannot be represented"
    )]
    OutOfRange { input: String },
}

impl QuantityError {
    /// The text that failed to parse.
    pub fn input(&self) -> &str {
        match self {
            QuantityError::Malformed { input, .. } | QuantityError::OutOfRange { input } => input,
        }
    }

    /// The Kubernetes-style validation message for this failure ([`QUANTITY_FORMAT_MSG`] or
    /// [`QUANTITY_RANGE_MSG`]).
    pub fn validation_message(&self) -> &'static str {
        match self {
            QuantityError::Malformed { .. } => QUANTITY_FORMAT_MSG,
            QuantityError::OutOfRange { .. } => QUANTITY_RANGE_MSG,
        }
    }
}

impl Quantity {
    /// Parses a quantity. Surrounding whitespace is ignored, as Kubernetes ignores it when it
    /// decodes a quantity from JSON or YAML.
    pub fn parse(text: &str) -> Result<Quantity, QuantityError> {
        parse::parse(text)
    }

    /// A quantity as it appears in JSON: a string, or a bare number some clients send.
    pub fn from_json(value: &serde_json::Value) -> Result<Quantity, QuantityError> {
        match value {
            serde_json::Value::String(s) => Quantity::parse(s),
            serde_json::Value::Number(n) => Quantity::parse(&n.to_string()),
            other => Err(QuantityError::Malformed {
                input: other.to_string(),
                reason: "not a string or a number",
            }),
        }
    }

    pub const fn zero() -> Quantity {
        Quantity { nanos: 0 }
    }

    pub const fn from_nanos(nanos: i128) -> Quantity {
        Quantity { nanos }
    }

    /// The exact value in nano-units.
    pub const fn nanos(&self) -> i128 {
        self.nanos
    }

    pub const fn is_negative(&self) -> bool {
        self.nanos < 0
    }

    pub const fn is_zero(&self) -> bool {
        self.nanos == 0
    }

    /// True when the value is a whole number (extended resources must be integers).
    pub const fn is_integer(&self) -> bool {
        self.nanos % NANOS_PER_UNIT == 0
    }

    /// The value in thousandths, rounded up away from zero and saturating at the `i64` range
    /// (Kubernetes' `MilliValue()`, which would overflow instead).
    pub fn milli_value(&self) -> i64 {
        saturate(div_away_from_zero(self.nanos, NANOS_PER_MILLI))
    }

    /// The value in units, rounded up away from zero and saturating at the `i64` range
    /// (Kubernetes' `Value()`, which would overflow instead).
    pub fn value(&self) -> i64 {
        saturate(div_away_from_zero(self.nanos, NANOS_PER_UNIT))
    }

    /// The exact sum, or None when it cannot be represented.
    pub fn checked_add(&self, other: &Quantity) -> Option<Quantity> {
        self.nanos
            .checked_add(other.nanos)
            .map(Quantity::from_nanos)
    }

    /// The sum, clamped to the representable range (only sums beyond ~1.7e29 are clamped).
    pub fn saturating_add(&self, other: &Quantity) -> Quantity {
        Quantity::from_nanos(self.nanos.saturating_add(other.nanos))
    }
}

impl FromStr for Quantity {
    type Err = QuantityError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Quantity::parse(s)
    }
}

/// Shows the exact value in plain decimal (`1.5`, `0.000000001`, `-2`): not Kubernetes'
/// canonical form, but lossless and readable in messages.
impl fmt::Display for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.nanos < 0 { "-" } else { "" };
        let magnitude = self.nanos.unsigned_abs();
        let units = magnitude / NANOS_PER_UNIT.unsigned_abs();
        let fraction = magnitude % NANOS_PER_UNIT.unsigned_abs();
        if fraction == 0 {
            write!(f, "{sign}{units}")
        } else {
            let digits = format!("{fraction:09}");
            write!(f, "{sign}{units}.{}", digits.trim_end_matches('0'))
        }
    }
}

/// `n / d` for `d > 0`, rounding any remainder away from zero (Go's `ScaledValue` rounding).
fn div_away_from_zero(n: i128, d: i128) -> i128 {
    let quotient = n / d;
    match (n % d).signum() {
        1 => quotient + 1,
        -1 => quotient - 1,
        _ => quotient,
    }
}

fn saturate(v: i128) -> i64 {
    i64::try_from(v).unwrap_or(if v < 0 { i64::MIN } else { i64::MAX })
}
