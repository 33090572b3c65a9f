//! The quantity grammar: `<sign><digits>[.<digits>]<suffix>`, where the suffix is binary SI
//! (`Ki`..`Ei`), decimal SI (`n u m "" k M G T P E`) or a decimal exponent (`e3`, `E-2`).

use super::{Quantity, QuantityError, NANOS_PER_UNIT};

/// Kubernetes caps binary-suffixed quantities at 2^63-1 units instead of rejecting them.
const MAX_BINARY_NANOS: u128 = i64::MAX as u128 * NANOS_PER_UNIT as u128;

/// What a suffix multiplies the number by: `10^pow10 × 2^pow2`.
struct Scale {
    pow10: i64,
    pow2: u32,
}

pub(super) fn parse(input: &str) -> Result<Quantity, QuantityError> {
    let malformed = |reason| QuantityError::Malformed {
        input: input.to_string(),
        reason,
    };
    let text = input.trim();
    if text.is_empty() {
        return Err(malformed("empty"));
    }
    let (negative, unsigned) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let number_len = unsigned
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(unsigned.len());
    let (number, suffix) = unsigned.split_at(number_len);
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    if whole.is_empty() && fraction.is_empty() {
        return Err(malformed("no digits"));
    }
    if fraction.contains('.') {
        return Err(malformed("more than one decimal point"));
    }
    let scale = suffix_scale(suffix).ok_or_else(|| malformed("unknown suffix"))?;
    let fraction_len = i64::try_from(fraction.len()).unwrap_or(i64::MAX);
    // The digits without their decimal point, counted in nano-units: 10^(pow10 - fraction + 9).
    let nanos_pow10 = scale.pow10.saturating_sub(fraction_len).saturating_add(9);
    let digits = whole.bytes().chain(fraction.bytes()).map(|b| b - b'0');
    let exact = scaled_ceil(digits, scale.pow2, nanos_pow10);
    let magnitude = if scale.pow2 > 0 {
        Some(exact.map_or(MAX_BINARY_NANOS, |m| m.min(MAX_BINARY_NANOS)))
    } else {
        exact
    };
    // Kept within i128 so that the value can be negated.
    let nanos = magnitude
        .and_then(|m| i128::try_from(m).ok())
        .ok_or_else(|| QuantityError::OutOfRange {
            input: input.to_string(),
        })?;
    Ok(Quantity::from_nanos(if negative { -nanos } else { nanos }))
}

fn suffix_scale(suffix: &str) -> Option<Scale> {
    let decimal = |pow10| Some(Scale { pow10, pow2: 0 });
    let binary = |pow2| Some(Scale { pow10: 0, pow2 });
    match suffix {
        "n" => decimal(-9),
        "u" => decimal(-6),
        "m" => decimal(-3),
        "" => decimal(0),
        "k" => decimal(3),
        "M" => decimal(6),
        "G" => decimal(9),
        "T" => decimal(12),
        "P" => decimal(15),
        "E" => decimal(18),
        "Ki" => binary(10),
        "Mi" => binary(20),
        "Gi" => binary(30),
        "Ti" => binary(40),
        "Pi" => binary(50),
        "Ei" => binary(60),
        _ => {
            let exponent = suffix.strip_prefix(['e', 'E'])?;
            let digits = exponent.strip_prefix(['+', '-']).unwrap_or(exponent);
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            // Like Kubernetes, an exponent that does not fit in 64 bits is not a suffix.
            decimal(exponent.parse().ok()?)
        }
    }
}

/// `ceil(digits × 2^pow2 × 10^pow10)` for decimal `digits` (most significant first), or None
/// when the result does not fit in a u128. Works on the decimal digits so that any number of
/// them (`0.000…1`) is handled exactly.
fn scaled_ceil(digits: impl Iterator<Item = u8>, pow2: u32, pow10: i64) -> Option<u128> {
    let mut digits: Vec<u8> = digits.skip_while(|d| *d == 0).collect();
    if digits.is_empty() {
        return Some(0);
    }
    if pow2 > 0 {
        digits = multiply_by_power_of_two(&digits, pow2);
    }
    let (integer, fraction): (&[u8], &[u8]) = if pow10 >= 0 {
        (&digits, &[])
    } else {
        let dropped = usize::try_from(pow10.unsigned_abs()).unwrap_or(usize::MAX);
        digits.split_at(digits.len().saturating_sub(dropped))
    };
    let mut value: u128 = 0;
    for d in integer {
        value = value.checked_mul(10)?.checked_add(u128::from(*d))?;
    }
    if pow10 > 0 {
        let factor = u32::try_from(pow10)
            .ok()
            .and_then(|p| 10u128.checked_pow(p))?;
        value = value.checked_mul(factor)?;
    }
    if fraction.iter().any(|d| *d != 0) {
        value = value.checked_add(1)?;
    }
    Some(value)
}

/// Decimal digits (most significant first) times 2^pow2, for pow2 ≤ 60.
fn multiply_by_power_of_two(digits: &[u8], pow2: u32) -> Vec<u8> {
    let factor = 1u128 << pow2;
    let mut out = Vec::with_capacity(digits.len() + 19);
    let mut carry: u128 = 0;
    for d in digits.iter().rev() {
        let x = u128::from(*d) * factor + carry;
        out.push((x % 10) as u8);
        carry = x / 10;
    }
    while carry > 0 {
        out.push((carry % 10) as u8);
        carry /= 10;
    }
    out.reverse();
    out
}
