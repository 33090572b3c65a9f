//! CronJob `timeZone`: an explicit IANA zone name, checked against the system zone database
//! when one is installed.

use std::path::Path;

const ZONEINFO: &str = "/usr/share/zoneinfo";

pub fn check_time_zone(tz: &str) -> Result<(), String> {
    if tz.is_empty() {
        return Err("timeZone must be nil or non-empty string".to_string());
    }
    if tz.eq_ignore_ascii_case("local") {
        return Err(
            "timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones"
                .to_string(),
        );
    }
    // IANA names are '/'-separated parts of letters, digits and "._+-", each at most 14 long.
    let well_formed = tz.split('/').all(|part| {
        !part.is_empty()
            && part.len() <= 14
            && part != "."
            && part != ".."
            && part
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._+-".contains(&b))
    });
    let unknown = || format!("unknown time zone {tz}");
    if !well_formed {
        return Err(unknown());
    }
    if tz == "UTC" {
        return Ok(());
    }
    let db = Path::new(ZONEINFO);
    if db.is_dir() && !db.join(tz).is_file() {
        return Err(unknown());
    }
    Ok(())
}
