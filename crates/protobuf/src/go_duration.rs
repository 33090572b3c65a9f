//! Go's `time.Duration.String()` format, which `metav1.Duration` uses in JSON.

/// Formats nanoseconds the way Go does: "0s", "1.5s", "2m3s", "1h0m0s", "250ms", "1.5µs", "-3ns".
pub(crate) fn format_go_duration(nanos: i64) -> String {
    if nanos == 0 {
        return "0s".to_string();
    }
    let sign = if nanos < 0 { "-" } else { "" };
    let abs = nanos.unsigned_abs();
    if abs < 1_000_000_000 {
        let (digits, unit) = if abs < 1_000 {
            (0, "ns")
        } else if abs < 1_000_000 {
            (3, "µs")
        } else {
            (6, "ms")
        };
        return format!("{sign}{}{unit}", with_fraction(abs, digits));
    }
    let total_seconds = abs / 1_000_000_000;
    let seconds = with_fraction(abs % 60_000_000_000, 9);
    let minutes = (total_seconds / 60) % 60;
    let hours = total_seconds / 3600;
    if hours > 0 {
        format!("{sign}{hours}h{minutes}m{seconds}s")
    } else if total_seconds >= 60 {
        format!("{sign}{minutes}m{seconds}s")
    } else {
        format!("{sign}{seconds}s")
    }
}

/// `value / 10^digits` with the fraction written out and trailing zeros trimmed.
fn with_fraction(value: u64, digits: u32) -> String {
    let scale = 10u64.pow(digits);
    let whole = value / scale;
    let fraction = value % scale;
    if fraction == 0 {
        return whole.to_string();
    }
    let text = format!("{fraction:0width$}", width = digits as usize);
    format!("{whole}.{}", text.trim_end_matches('0'))
}

#[cfg(test)]
mod tests {
    use super::format_go_duration;

    #[test]
    fn matches_go_formatting() {
        let cases = [
            (0, "0s"),
            (1, "1ns"),
            (1_100, "1.1µs"),
            (2_200_000, "2.2ms"),
            (1_000_000_000, "1s"),
            (1_500_000_000, "1.5s"),
            (60_000_000_000, "1m0s"),
            (90_000_000_000, "1m30s"),
            (3_600_000_000_000, "1h0m0s"),
            (3_723_000_000_000, "1h2m3s"),
            (-5_000_000_000, "-5s"),
            (i64::MIN, "-2562047h47m16.854775808s"),
        ];
        for (nanos, expected) in cases {
            assert_eq!(format_go_duration(nanos), expected, "for {nanos}ns");
        }
    }
}
