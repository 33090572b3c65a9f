//! Kubernetes resource quantities (`100m`, `1Gi`, `1e3`, `0.5`) parsed exactly and rounded up
//! the way the scheduler reads them (`MilliValue()` for cpu, `Value()` for everything else).

use std::fmt;

/// A parsed quantity: `±mantissa × 10^pow10 × 2^pow2`, kept exact until it is scaled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quantity {
    negative: bool,
    mantissa: u128,
    pow10: i32,
    pow2: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuantityError(pub String);

impl fmt::Display for QuantityError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for QuantityError {}

/// Parses `<sign><digits>[.<digits>]<suffix>` where suffix is a binary SI (`Ki`..`Ei`), a decimal SI
/// (`n u m k M G T P E` or none) or a decimal exponent (`e3`, `E-2`).
pub fn parse(input: &str) -> Result<Quantity, QuantityError> {
    let err = |why: &str| QuantityError(format!("quantity {input:?} is invalid: {why}"));
    let s = input.trim();
    if s.is_empty() {
        return Err(err("empty"));
    }
    let (negative, rest) = match s.as_bytes()[0] {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    let number_len = rest
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(rest.len());
    let (number, suffix) = rest.split_at(number_len);
    let (int_part, frac_part) = match number.split_once('.') {
        Some((i, f)) => (i, f),
        None => (number, ""),
    };
    if int_part.is_empty() && frac_part.is_empty() {
        return Err(err("no digits"));
    }
    if frac_part.contains('.') {
        return Err(err("more than one decimal point"));
    }
    // Trailing zeros of the fraction carry no value; dropping them keeps the mantissa small.
    let frac_part = frac_part.trim_end_matches('0');
    let mut mantissa: u128 = 0;
    for c in int_part.bytes().chain(frac_part.bytes()) {
        mantissa = mantissa
            .checked_mul(10)
            .and_then(|m| m.checked_add(u128::from(c - b'0')))
            .ok_or_else(|| err("too many significant digits"))?;
    }
    let frac_digits = i32::try_from(frac_part.len()).map_err(|_| err("fraction too long"))?;
    let (pow10, pow2) = suffix_scale(suffix).ok_or_else(|| err("unknown suffix"))?;
    Ok(Quantity {
        negative,
        mantissa,
        pow10: pow10 - frac_digits,
        pow2,
    })
}

/// Returns (power of ten, power of two) for a suffix.
fn suffix_scale(suffix: &str) -> Option<(i32, u32)> {
    let decimal = |p: i32| Some((p, 0));
    match suffix {
        "" => decimal(0),
        "n" => decimal(-9),
        "u" => decimal(-6),
        "m" => decimal(-3),
        "k" => decimal(3),
        "M" => decimal(6),
        "G" => decimal(9),
        "T" => decimal(12),
        "P" => decimal(15),
        "E" => decimal(18),
        "Ki" => Some((0, 10)),
        "Mi" => Some((0, 20)),
        "Gi" => Some((0, 30)),
        "Ti" => Some((0, 40)),
        "Pi" => Some((0, 50)),
        "Ei" => Some((0, 60)),
        _ => {
            let exp = suffix
                .strip_prefix('e')
                .or_else(|| suffix.strip_prefix('E'))?;
            let digits = exp.strip_prefix(['+', '-']).unwrap_or(exp);
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            exp.parse::<i32>()
                .ok()
                .filter(|e| e.abs() <= 1000)
                .map(|e| (e, 0))
        }
    }
}

impl Quantity {
    /// The value in thousandths, rounded up (Kubernetes' `MilliValue`).
    pub fn milli_value(&self) -> i64 {
        self.scaled(3)
    }

    /// The value in units, rounded up (Kubernetes' `Value`).
    pub fn value(&self) -> i64 {
        self.scaled(0)
    }

    pub fn is_negative(&self) -> bool {
        self.negative && self.mantissa != 0
    }

    /// `ceil(|q| × 10^extra_pow10)`, signed, saturating at the i64 range.
    fn scaled(&self, extra_pow10: i32) -> i64 {
        let magnitude = self.scaled_magnitude(extra_pow10);
        let clamped = i64::try_from(magnitude).unwrap_or(i64::MAX);
        if self.negative {
            -clamped
        } else {
            clamped
        }
    }

    fn scaled_magnitude(&self, extra_pow10: i32) -> u128 {
        let saturated = u128::MAX;
        let with_pow2 = match 1u128
            .checked_shl(self.pow2)
            .and_then(|p| self.mantissa.checked_mul(p))
        {
            Some(v) => v,
            None => return saturated,
        };
        let exp = self.pow10 + extra_pow10;
        if exp >= 0 {
            let factor = u32::try_from(exp).ok().and_then(|e| 10u128.checked_pow(e));
            factor
                .and_then(|f| with_pow2.checked_mul(f))
                .unwrap_or(if with_pow2 == 0 { 0 } else { saturated })
        } else {
            match u32::try_from(-exp).ok().and_then(|e| 10u128.checked_pow(e)) {
                Some(divisor) => with_pow2.div_ceil(divisor),
                // The divisor exceeds any representable mantissa: a non-zero value rounds up to 1.
                None => u128::from(with_pow2 != 0),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn milli(s: &str) -> i64 {
        parse(s).unwrap().milli_value()
    }
    fn value(s: &str) -> i64 {
        parse(s).unwrap().value()
    }

    #[test]
    fn cpu_forms() {
        assert_eq!(milli("100m"), 100);
        assert_eq!(milli("1"), 1000);
        assert_eq!(milli("0.5"), 500);
        assert_eq!(milli(".25"), 250);
        assert_eq!(milli("2."), 2000);
        assert_eq!(milli("1.5k"), 1_500_000);
        assert_eq!(milli("250000u"), 250);
        assert_eq!(milli("1n"), 1, "sub-milli values round up");
        assert_eq!(milli("0.0001"), 1);
        assert_eq!(milli("0"), 0);
        assert_eq!(milli("0m"), 0);
    }

    #[test]
    fn memory_forms() {
        assert_eq!(value("1Gi"), 1 << 30);
        assert_eq!(value("512Mi"), 512 << 20);
        assert_eq!(value("128974848"), 128_974_848);
        assert_eq!(value("129e6"), 129_000_000);
        assert_eq!(value("129M"), 129_000_000);
        assert_eq!(value("123Mi"), 123 * 1024 * 1024);
        assert_eq!(value("1.5Gi"), 3 << 29);
        assert_eq!(value("1Ki"), 1024);
        assert_eq!(value("1k"), 1000);
        assert_eq!(value("1e3"), 1000);
        assert_eq!(value("1E3"), 1000);
        assert_eq!(value("1E"), 1_000_000_000_000_000_000);
        assert_eq!(value("1.5"), 2, "Value() rounds up");
        assert_eq!(value("100m"), 1);
        assert_eq!(value("+5"), 5);
        assert_eq!(value("-5"), -5);
        assert!(parse("-5").unwrap().is_negative());
    }

    #[test]
    fn huge_values_saturate() {
        assert_eq!(value("8Ei"), i64::MAX);
        assert_eq!(milli("9E"), i64::MAX);
        assert_eq!(value("1e999"), i64::MAX);
        assert_eq!(value("0e999"), 0);
        assert_eq!(value("1e-999"), 1);
    }

    #[test]
    fn invalid_inputs() {
        for bad in [
            "", "abc", "1.2.3", "1Gb", "1ii", ".", "m", "1e", "1e+", "--1", "1 Gi", "1e3.5", "Gi",
        ] {
            assert!(parse(bad).is_err(), "{bad:?} should be rejected");
        }
        let e = parse("12xy").unwrap_err();
        assert!(e.to_string().contains("12xy"), "{e}");
    }
}
