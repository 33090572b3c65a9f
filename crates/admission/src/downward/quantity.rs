//! Just enough of Kubernetes' `resource.Quantity` to turn a quantity string into an exact value:
//! decimal and binary suffixes (`m`, `k`, `Mi`, …) and exponents (`1e3`).

/// An exact quantity, `numerator / 10^scale`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Quantity {
    numerator: i128,
    scale: u32,
}

const MAX_SCALE: u32 = 30;

impl Quantity {
    pub(crate) fn parse(text: &str) -> Result<Quantity, String> {
        let bad = || {
            format!("quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$': {text:?}")
        };
        let text = text.trim();
        let (sign, rest) = match text.strip_prefix('-') {
            Some(rest) => (-1, rest),
            None => (1, text.strip_prefix('+').unwrap_or(text)),
        };
        let number_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let (number, suffix) = rest.split_at(number_len);
        let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
        if whole.is_empty() && fraction.is_empty() || fraction.contains('.') {
            return Err(bad());
        }
        let digits = format!("{whole}{fraction}");
        let mut numerator: i128 = digits.parse().map_err(|_| bad())?;
        let mut scale = u32::try_from(fraction.len()).map_err(|_| bad())?;
        let (binary_power, decimal_exponent) = suffix_value(suffix).ok_or_else(bad)?;
        numerator = numerator
            .checked_mul(1i128 << binary_power)
            .ok_or_else(|| format!("quantity {text:?} is too large"))?;
        if decimal_exponent >= 0 {
            let factor = 10i128
                .checked_pow(decimal_exponent.unsigned_abs())
                .ok_or_else(|| format!("quantity {text:?} is too large"))?;
            numerator = numerator
                .checked_mul(factor)
                .ok_or_else(|| format!("quantity {text:?} is too large"))?;
        } else {
            scale += decimal_exponent.unsigned_abs();
        }
        if scale > MAX_SCALE {
            return Err(format!("quantity {text:?} is too small to represent"));
        }
        Ok(Quantity {
            numerator: sign * numerator,
            scale,
        })
    }

    pub(crate) fn is_zero(&self) -> bool {
        self.numerator == 0
    }

    /// The value in units of `10^-exponent`, rounded up (Quantity.Value() for 0,
    /// Quantity.MilliValue() for 3).
    pub(crate) fn scaled_ceil(&self, exponent: u32) -> Result<i128, String> {
        let multiplier = 10i128
            .checked_pow(exponent)
            .and_then(|m| self.numerator.checked_mul(m))
            .ok_or("quantity is too large")?;
        let divisor = 10i128.pow(self.scale);
        Ok(ceil_div(multiplier, divisor))
    }
}

/// Integer division rounding towards positive infinity.
pub(crate) fn ceil_div(numerator: i128, denominator: i128) -> i128 {
    let quotient = numerator / denominator;
    if numerator % denominator != 0 && (numerator > 0) == (denominator > 0) {
        quotient + 1
    } else {
        quotient
    }
}

/// The suffix as (power of two, power of ten).
fn suffix_value(suffix: &str) -> Option<(u32, i32)> {
    let value = match suffix {
        "" => (0, 0),
        "n" => (0, -9),
        "u" => (0, -6),
        "m" => (0, -3),
        "k" => (0, 3),
        "M" => (0, 6),
        "G" => (0, 9),
        "T" => (0, 12),
        "P" => (0, 15),
        "E" => (0, 18),
        "Ki" => (10, 0),
        "Mi" => (20, 0),
        "Gi" => (30, 0),
        "Ti" => (40, 0),
        "Pi" => (50, 0),
        "Ei" => (60, 0),
        _ => {
            let exponent = suffix.strip_prefix(['e', 'E'])?;
            let digits = exponent.strip_prefix(['+', '-']).unwrap_or(exponent);
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            let exponent: i32 = exponent.parse().ok()?;
            if exponent.abs() > 30 {
                return None;
            }
            (0, exponent)
        }
    };
    Some(value)
}
