//! Standard 5-field cron schedules (minute hour day-of-month month day-of-week) with ranges,
//! lists, steps, names and the `@hourly`-style shorthands, evaluated in a time zone.

use chrono::{DateTime, Datelike, Duration, TimeZone, Timelike, Utc};
use chrono_tz::Tz;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Schedule {
    minutes: u64,
    hours: u64,
    days_of_month: u64,
    months: u64,
    days_of_week: u64,
    /// Both day fields were restricted: a day matches if either does (cron's rule).
    day_or: bool,
}

const MONTHS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];
const DAYS: [&str; 7] = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];

fn parse_value(s: &str, names: &[&str], base: u32) -> Result<u32, String> {
    if let Ok(v) = s.parse::<u32>() {
        return Ok(v);
    }
    let lower = s.to_ascii_lowercase();
    names
        .iter()
        .position(|n| *n == lower)
        .map(|i| i as u32 + base)
        .ok_or_else(|| format!("invalid value {s:?}"))
}

/// One field as a bit set. Returns (bits, whether the field was `*`/`?`).
fn parse_field(
    field: &str,
    min: u32,
    max: u32,
    names: &[&str],
    name_base: u32,
) -> Result<(u64, bool), String> {
    let mut bits = 0u64;
    let mut star = false;
    for part in field.split(',') {
        let (range, step) = match part.split_once('/') {
            Some((r, s)) => {
                let step: u32 = s.parse().map_err(|_| format!("invalid step {s:?}"))?;
                if step == 0 {
                    return Err("step must be positive".into());
                }
                (r, step)
            }
            None => (part, 1),
        };
        let (lo, hi) = if range == "*" || range == "?" {
            if step == 1 {
                star = true;
            }
            (min, max)
        } else if let Some((a, b)) = range.split_once('-') {
            (
                parse_value(a, names, name_base)?,
                parse_value(b, names, name_base)?,
            )
        } else {
            let v = parse_value(range, names, name_base)?;
            // "5/15" means from 5 to the end in steps of 15.
            (v, if part.contains('/') { max } else { v })
        };
        if lo < min || hi > max || lo > hi {
            return Err(format!("{part:?} is outside {min}-{max}"));
        }
        let mut v = lo;
        while v <= hi {
            bits |= 1 << v;
            v += step;
        }
    }
    Ok((bits, star))
}

impl Schedule {
    pub fn parse(spec: &str) -> Result<Schedule, String> {
        let spec = spec.trim();
        let expanded = match spec.to_ascii_lowercase().as_str() {
            "@yearly" | "@annually" => "0 0 1 1 *".to_string(),
            "@monthly" => "0 0 1 * *".to_string(),
            "@weekly" => "0 0 * * 0".to_string(),
            "@daily" | "@midnight" => "0 0 * * *".to_string(),
            "@hourly" => "0 * * * *".to_string(),
            s if s.starts_with('@') => return Err(format!("unsupported schedule {spec:?}")),
            _ => spec.to_string(),
        };
        let fields: Vec<&str> = expanded.split_whitespace().collect();
        if fields.len() != 5 {
            return Err(format!(
                "expected exactly 5 fields, found {}: {spec:?}",
                fields.len()
            ));
        }
        let (minutes, _) = parse_field(fields[0], 0, 59, &[], 0)?;
        let (hours, _) = parse_field(fields[1], 0, 23, &[], 0)?;
        let (days_of_month, dom_star) = parse_field(fields[2], 1, 31, &[], 0)?;
        let (months, _) = parse_field(fields[3], 1, 12, &MONTHS, 1)?;
        let (mut days_of_week, dow_star) = parse_field(fields[4], 0, 7, &DAYS, 0)?;
        if days_of_week & (1 << 7) != 0 {
            days_of_week |= 1; // 7 is Sunday too
        }
        Ok(Schedule {
            minutes,
            hours,
            days_of_month,
            months,
            days_of_week,
            day_or: !dom_star && !dow_star,
        })
    }

    fn matches<T: Datelike + Timelike>(&self, t: &T) -> bool {
        let bit = |set: u64, v: u32| set & (1 << v) != 0;
        let dom = bit(self.days_of_month, t.day());
        let dow = bit(self.days_of_week, t.weekday().num_days_from_sunday());
        let day = if self.day_or { dom || dow } else { dom && dow };
        bit(self.minutes, t.minute())
            && bit(self.hours, t.hour())
            && bit(self.months, t.month())
            && day
    }

    /// The first scheduled minute strictly after `after`, in `tz`; None if there is none
    /// within five years (e.g. "30 0 31 2 *").
    pub fn next_after(&self, after: DateTime<Utc>, tz: Tz) -> Option<DateTime<Utc>> {
        let start = after.with_second(0)?.with_nanosecond(0)? + Duration::minutes(1);
        let limit = start + Duration::days(366 * 5);
        let mut t = start;
        while t < limit {
            let local = tz.from_utc_datetime(&t.naive_utc());
            if !self.matches(&local) {
                // Skip whole hours or days that cannot match, minute by minute otherwise.
                if self.months & (1 << local.month()) == 0 || !self.day_matches(&local) {
                    t += Duration::minutes(i64::from(24 * 60 - local.hour() * 60 - local.minute()));
                } else if self.hours & (1 << local.hour()) == 0 {
                    t += Duration::minutes(i64::from(60 - local.minute()));
                } else {
                    t += Duration::minutes(1);
                }
                continue;
            }
            return Some(t);
        }
        None
    }

    fn day_matches<T: Datelike>(&self, t: &T) -> bool {
        let dom = self.days_of_month & (1 << t.day()) != 0;
        let dow = self.days_of_week & (1 << t.weekday().num_days_from_sunday()) != 0;
        if self.day_or {
            dom || dow
        } else {
            dom && dow
        }
    }

    /// The most recent scheduled time in (`since`, `now`], and how many were missed.
    pub fn most_recent(
        &self,
        since: DateTime<Utc>,
        now: DateTime<Utc>,
        tz: Tz,
    ) -> (Option<DateTime<Utc>>, usize) {
        let mut last = None;
        let mut missed = 0;
        let mut t = since;
        while let Some(next) = self.next_after(t, tz) {
            if next > now {
                break;
            }
            last = Some(next);
            missed += 1;
            t = next;
            if missed > 100_000 {
                break;
            }
        }
        (last, missed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s)
            .map(|d| d.with_timezone(&Utc))
            .unwrap_or_default()
    }

    #[test]
    fn every_minute_and_shorthands() {
        let s = Schedule::parse("* * * * *").expect("parse");
        assert_eq!(
            s.next_after(at("2024-05-01T10:00:30Z"), Tz::UTC),
            Some(at("2024-05-01T10:01:00Z"))
        );
        let h = Schedule::parse("@hourly").expect("parse");
        assert_eq!(
            h.next_after(at("2024-05-01T10:00:00Z"), Tz::UTC),
            Some(at("2024-05-01T11:00:00Z"))
        );
        let d = Schedule::parse("@daily").expect("parse");
        assert_eq!(
            d.next_after(at("2024-05-01T10:00:00Z"), Tz::UTC),
            Some(at("2024-05-02T00:00:00Z"))
        );
    }

    #[test]
    fn ranges_steps_names_and_day_or() {
        let s = Schedule::parse("*/15 9-17 * * mon-fri").expect("parse");
        // Saturday 2024-05-04 → Monday 09:00.
        assert_eq!(
            s.next_after(at("2024-05-04T12:00:00Z"), Tz::UTC),
            Some(at("2024-05-06T09:00:00Z"))
        );
        // Either the 1st or a Sunday.
        let s = Schedule::parse("0 0 1 * sun").expect("parse");
        assert_eq!(
            s.next_after(at("2024-05-01T00:00:00Z"), Tz::UTC),
            Some(at("2024-05-05T00:00:00Z"))
        );
        assert!(Schedule::parse("0 0 30 2 *")
            .expect("parse")
            .next_after(at("2024-01-01T00:00:00Z"), Tz::UTC)
            .is_none());
    }

    #[test]
    fn time_zones_shift_the_schedule() {
        let s = Schedule::parse("0 9 * * *").expect("parse");
        let tz: Tz = "Europe/Paris".parse().expect("tz");
        // 09:00 in Paris in summer is 07:00 UTC.
        assert_eq!(
            s.next_after(at("2024-07-01T00:00:00Z"), tz),
            Some(at("2024-07-01T07:00:00Z"))
        );
    }

    #[test]
    fn bad_schedules_are_errors() {
        for bad in [
            "* * * *",
            "60 * * * *",
            "*/0 * * * *",
            "@reboot",
            "a b c d e",
            "5-1 * * * *",
        ] {
            assert!(Schedule::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn most_recent_counts_missed() {
        let s = Schedule::parse("* * * * *").expect("parse");
        let (last, missed) = s.most_recent(
            at("2024-05-01T10:00:00Z"),
            at("2024-05-01T10:03:30Z"),
            Tz::UTC,
        );
        assert_eq!(last, Some(at("2024-05-01T10:03:00Z")));
        assert_eq!(missed, 3);
    }
}
