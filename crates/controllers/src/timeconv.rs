//! k8s-openapi 0.29 carries times as `jiff::Timestamp`; the controllers compute with chrono.

use chrono::{DateTime, Utc};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, Time};
use k8s_openapi::jiff::Timestamp;

pub fn to_chrono(ts: &Timestamp) -> DateTime<Utc> {
    DateTime::from_timestamp(
        ts.as_second(),
        u32::try_from(ts.subsec_nanosecond()).unwrap_or(0),
    )
    .unwrap_or_default()
}

pub fn to_jiff(dt: DateTime<Utc>) -> Timestamp {
    Timestamp::new(
        dt.timestamp(),
        i32::try_from(dt.timestamp_subsec_nanos()).unwrap_or(0),
    )
    .unwrap_or(Timestamp::UNIX_EPOCH)
}

pub fn time(dt: DateTime<Utc>) -> Time {
    Time(to_jiff(dt))
}

pub fn micro_time(dt: DateTime<Utc>) -> MicroTime {
    MicroTime(to_jiff(dt))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        let now = Utc::now();
        assert_eq!(to_chrono(&to_jiff(now)), now);
    }
}
