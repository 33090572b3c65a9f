//! Resource quantities (`100m`, `1.5`, `64Mi`, `1G`, `1e3`) as integers, enough for node
//! admission and cgroup limits.

/// Parses a quantity into thousandths of a unit (millicores for cpu, millibytes for memory),
/// rounding up like Kubernetes does when it scales a value.
pub fn parse_milli(text: &str) -> Result<i128, String> {
    let s = text.trim();
    if s.is_empty() {
        return Err("empty quantity".into());
    }
    let split = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '+' || c == '-'))
        .unwrap_or(s.len());
    let (number, suffix) = s.split_at(split);
    let (num, den) = decimal(number).ok_or_else(|| format!("invalid quantity {text:?}"))?;
    // value = num/den * mult_num/mult_den, returned ×1000
    let (mult_num, mult_den): (i128, i128) = match suffix {
        "" => (1, 1),
        "m" => (1, 1000),
        "u" => (1, 1_000_000),
        "n" => (1, 1_000_000_000),
        "k" => (1_000, 1),
        "M" => (1_000_000, 1),
        "G" => (1_000_000_000, 1),
        "T" => (1_000_000_000_000, 1),
        "P" => (1_000_000_000_000_000, 1),
        "E" => (1_000_000_000_000_000_000, 1),
        "Ki" => (1 << 10, 1),
        "Mi" => (1 << 20, 1),
        "Gi" => (1 << 30, 1),
        "Ti" => (1 << 40, 1),
        "Pi" => (1 << 50, 1),
        "Ei" => (1 << 60, 1),
        e if e.starts_with(['e', 'E']) => {
            let exp: u32 = e[1..]
                .parse()
                .map_err(|_| format!("invalid quantity {text:?}"))?;
            if exp > 18 {
                return Err(format!("quantity {text:?} too large"));
            }
            (10i128.pow(exp), 1)
        }
        _ => return Err(format!("invalid quantity suffix in {text:?}")),
    };
    let top = num
        .checked_mul(mult_num)
        .and_then(|v| v.checked_mul(1000))
        .ok_or_else(|| format!("quantity {text:?} too large"))?;
    let bottom = den * mult_den;
    Ok(div_ceil(top, bottom))
}

/// Whole units, rounded up (bytes for memory).
pub fn parse_units(text: &str) -> Result<i128, String> {
    parse_milli(text).map(|m| div_ceil(m, 1000))
}

fn div_ceil(a: i128, b: i128) -> i128 {
    let q = a / b;
    if a % b != 0 && ((a > 0) == (b > 0)) {
        q + 1
    } else {
        q
    }
}

/// `"-1.25"` → (-125, 100).
fn decimal(s: &str) -> Option<(i128, i128)> {
    let (sign, digits) = match s.strip_prefix('-') {
        Some(rest) => (-1, rest),
        None => (1, s.strip_prefix('+').unwrap_or(s)),
    };
    let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
    if int.is_empty() && frac.is_empty() {
        return None;
    }
    if !int.bytes().all(|b| b.is_ascii_digit()) || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if int.len() + frac.len() > 30 {
        return None;
    }
    let mut num: i128 = 0;
    for b in int.bytes().chain(frac.bytes()) {
        num = num * 10 + i128::from(b - b'0');
    }
    Some((sign * num, 10i128.pow(frac.len() as u32)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_and_memory_forms() {
        assert_eq!(parse_milli("100m").unwrap(), 100);
        assert_eq!(parse_milli("1.5").unwrap(), 1500);
        assert_eq!(parse_milli("2").unwrap(), 2000);
        assert_eq!(parse_units("64Mi").unwrap(), 64 << 20);
        assert_eq!(parse_units("1G").unwrap(), 1_000_000_000);
        assert_eq!(parse_units("1e3").unwrap(), 1000);
        assert_eq!(parse_units("0.5Ki").unwrap(), 512);
        assert_eq!(parse_milli("1u").unwrap(), 1);
    }

    #[test]
    fn garbage_is_an_error() {
        for bad in ["", "abc", "1Q", "1.2.3", "--1", "1e99"] {
            assert!(parse_milli(bad).is_err(), "{bad}");
        }
    }
}
