//! Cron schedule parsing with the grammar (and error texts) of the cron library Kubernetes uses:
//! five fields (minute hour day-of-month month day-of-week) with `*`, `?`, lists, ranges,
//! steps and month/weekday names, or one of the `@` descriptors.

struct Bounds {
    min: u32,
    max: u32,
    names: &'static [&'static str],
}

const MINUTE: Bounds = Bounds {
    min: 0,
    max: 59,
    names: &[],
};
const HOUR: Bounds = Bounds {
    min: 0,
    max: 23,
    names: &[],
};
const DOM: Bounds = Bounds {
    min: 1,
    max: 31,
    names: &[],
};
const MONTH: Bounds = Bounds {
    min: 1,
    max: 12,
    names: &[
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ],
};
const DOW: Bounds = Bounds {
    min: 0,
    max: 6,
    names: &["sun", "mon", "tue", "wed", "thu", "fri", "sat"],
};

const DESCRIPTORS: &[&str] = &[
    "@yearly",
    "@annually",
    "@monthly",
    "@weekly",
    "@daily",
    "@midnight",
    "@hourly",
];

/// Ok when the schedule parses; Err carries the parser's message.
pub fn parse_schedule(spec: &str) -> Result<(), String> {
    let mut spec = spec.trim();
    if spec.is_empty() {
        return Err("empty spec string".to_string());
    }
    if let Some(rest) = spec
        .strip_prefix("TZ=")
        .or_else(|| spec.strip_prefix("CRON_TZ="))
    {
        let (zone, after) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
        if super::time_zone::check_time_zone(zone).is_err() {
            return Err(format!(
                "provided bad location {zone}: unknown time zone {zone}"
            ));
        }
        spec = after.trim();
    }
    if spec.starts_with('@') {
        return parse_descriptor(spec);
    }
    let fields: Vec<&str> = spec.split_whitespace().collect();
    if fields.len() != 5 {
        return Err(format!(
            "expected exactly 5 fields, found {}: [{}]",
            fields.len(),
            fields.join(" ")
        ));
    }
    for (field, bounds) in fields.iter().zip([MINUTE, HOUR, DOM, MONTH, DOW]) {
        for expr in field.split(',') {
            parse_range(expr, &bounds)?;
        }
    }
    Ok(())
}

fn parse_descriptor(spec: &str) -> Result<(), String> {
    if DESCRIPTORS.contains(&spec) {
        return Ok(());
    }
    if let Some(d) = spec.strip_prefix("@every ") {
        return parse_go_duration(d.trim()).map_err(|_| {
            format!(
                "failed to parse duration {spec}: time: invalid duration \"{}\"",
                d.trim()
            )
        });
    }
    Err(format!("unrecognized descriptor: {spec}"))
}

/// Go's time.ParseDuration grammar: one or more `<number><unit>` groups.
fn parse_go_duration(d: &str) -> Result<(), ()> {
    let mut rest = d.strip_prefix(['+', '-']).unwrap_or(d);
    if rest == "0" {
        return Ok(());
    }
    if rest.is_empty() {
        return Err(());
    }
    while !rest.is_empty() {
        let num = rest
            .bytes()
            .take_while(|b| b.is_ascii_digit() || *b == b'.')
            .count();
        if num == 0 {
            return Err(());
        }
        rest = &rest[num..];
        let unit = ["ns", "us", "µs", "ms", "s", "m", "h"]
            .into_iter()
            .filter(|u| rest.starts_with(u))
            .max_by_key(|u| u.len())
            .ok_or(())?;
        rest = &rest[unit.len()..];
    }
    Ok(())
}

fn parse_int(expr: &str) -> Result<u32, String> {
    match expr.parse::<i64>() {
        Err(_) => Err(format!(
            "failed to parse int from {expr}: strconv.Atoi: parsing \"{expr}\": invalid syntax"
        )),
        Ok(n) if n < 0 => Err(format!("negative number ({n}) not allowed: {expr}")),
        Ok(n) => u32::try_from(n).map_err(|_| {
            format!("failed to parse int from {expr}: strconv.Atoi: parsing \"{expr}\": value out of range")
        }),
    }
}

fn parse_int_or_name(expr: &str, b: &Bounds) -> Result<u32, String> {
    let lower = expr.to_lowercase();
    if let Some(pos) = b.names.iter().position(|n| *n == lower) {
        return Ok(pos as u32 + b.min);
    }
    parse_int(expr)
}

fn parse_range(expr: &str, b: &Bounds) -> Result<(), String> {
    let range_and_step: Vec<&str> = expr.split('/').collect();
    let low_high: Vec<&str> = range_and_step[0].split('-').collect();
    let single = low_high.len() == 1;
    let (start, mut end) = if low_high[0] == "*" || low_high[0] == "?" {
        (b.min, b.max)
    } else {
        let start = parse_int_or_name(low_high[0], b)?;
        let end = match low_high.len() {
            1 => start,
            2 => parse_int_or_name(low_high[1], b)?,
            _ => return Err(format!("too many hyphens: {expr}")),
        };
        (start, end)
    };
    let step = match range_and_step.len() {
        1 => 1,
        2 => {
            let step = parse_int(range_and_step[1])?;
            // "N/step" means "N-max/step".
            if single {
                end = b.max;
            }
            step
        }
        _ => return Err(format!("too many slashes: {expr}")),
    };
    if start < b.min {
        return Err(format!(
            "beginning of range ({start}) below minimum ({}): {expr}",
            b.min
        ));
    }
    if end > b.max {
        return Err(format!(
            "end of range ({end}) above maximum ({}): {expr}",
            b.max
        ));
    }
    if start > end {
        return Err(format!(
            "beginning of range ({start}) beyond end of range ({end}): {expr}"
        ));
    }
    if step == 0 {
        return Err(format!("step of range should be a positive number: {expr}"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::parse_schedule;

    #[test]
    fn schedules() {
        for ok in [
            "*/5 * * * *",
            "0 0 * * 0",
            "15 2-4,6 1 jan-mar MON-FRI",
            "0 */2 * * ?",
            "@hourly",
            "@daily",
            "@weekly",
            "@monthly",
            "@yearly",
            "@annually",
            "@midnight",
            "@every 1h30m",
            "5/15 * * * *",
        ] {
            assert_eq!(parse_schedule(ok), Ok(()), "{ok}");
        }
        let cases = [
            ("* * *", "expected exactly 5 fields, found 3: [* * *]"),
            ("60 * * * *", "end of range (60) above maximum (59): 60"),
            ("* * 0 * *", "beginning of range (0) below minimum (1): 0"),
            (
                "5-1 * * * *",
                "beginning of range (5) beyond end of range (1): 5-1",
            ),
            (
                "*/0 * * * *",
                "step of range should be a positive number: */0",
            ),
            (
                "x * * * *",
                "failed to parse int from x: strconv.Atoi: parsing \"x\": invalid syntax",
            ),
            ("@fortnightly", "unrecognized descriptor: @fortnightly"),
            ("", "empty spec string"),
            ("1-2-3 * * * *", "too many hyphens: 1-2-3"),
            ("* * * * 7", "end of range (7) above maximum (6): 7"),
        ];
        for (bad, msg) in cases {
            assert_eq!(parse_schedule(bad), Err(msg.to_string()), "{bad}");
        }
    }
}
