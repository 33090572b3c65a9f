//! k8s-openapi 0.29 carries times as `jiff::Timestamp`; the agent computes with chrono.

use chrono::{DateTime, Utc};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, Time};
use k8s_openapi::jiff::Timestamp;

fn to_jiff(dt: DateTime<Utc>) -> Timestamp {
    Timestamp::new(dt.timestamp(), dt.timestamp_subsec_nanos() as i32)
        .unwrap_or(Timestamp::UNIX_EPOCH)
}

pub fn time(dt: DateTime<Utc>) -> Time {
    Time(to_jiff(dt))
}

pub fn micro_time(dt: DateTime<Utc>) -> MicroTime {
    MicroTime(to_jiff(dt))
}

pub fn from_time(t: &Time) -> DateTime<Utc> {
    DateTime::from_timestamp(t.0.as_second(), t.0.subsec_nanosecond().max(0) as u32)
        .unwrap_or_default()
}
