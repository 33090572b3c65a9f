//! k8s-openapi 0.29 carries times as `jiff::Timestamp`; the agent and the controllers compute
//! with chrono. These are the conversions between the two, in one place.

use chrono::{DateTime, Utc};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, Time};
use k8s_openapi::jiff::Timestamp;

/// A negative sub-second part (never produced by the API) reads as zero.
pub fn to_chrono(ts: &Timestamp) -> DateTime<Utc> {
    DateTime::from_timestamp(
        ts.as_second(),
        u32::try_from(ts.subsec_nanosecond()).unwrap_or(0),
    )
    .unwrap_or_default()
}

/// A time jiff cannot hold reads as the Unix epoch.
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

pub fn from_time(t: &Time) -> DateTime<Utc> {
    to_chrono(&t.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        let now = Utc::now();
        assert_eq!(to_chrono(&to_jiff(now)), now);
        assert_eq!(from_time(&time(now)), now);
    }
}
