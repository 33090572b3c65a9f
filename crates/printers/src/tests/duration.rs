use crate::human_duration;
use chrono::Duration;

fn secs(s: i64) -> String {
    human_duration(Duration::seconds(s))
}

#[test]
fn seconds_up_to_two_minutes() {
    assert_eq!(secs(0), "0s");
    assert_eq!(secs(5), "5s");
    assert_eq!(secs(119), "119s");
}

#[test]
fn minutes_with_seconds_below_ten_minutes() {
    assert_eq!(secs(120), "2m");
    assert_eq!(secs(200), "3m20s");
    assert_eq!(secs(599), "9m59s");
    assert_eq!(secs(600), "10m");
}

#[test]
fn whole_minutes_below_three_hours() {
    assert_eq!(secs(10 * 60 + 59), "10m");
    assert_eq!(secs(179 * 60 + 59), "179m");
}

#[test]
fn hours_with_minutes_below_eight_hours() {
    assert_eq!(secs(3 * 3600), "3h");
    assert_eq!(secs(3 * 3600 + 30 * 60), "3h30m");
    assert_eq!(secs(7 * 3600 + 59 * 60), "7h59m");
}

#[test]
fn whole_hours_below_two_days() {
    assert_eq!(secs(8 * 3600), "8h");
    assert_eq!(secs(47 * 3600 + 59 * 60), "47h");
}

#[test]
fn days_with_hours_below_eight_days() {
    assert_eq!(secs(48 * 3600), "2d");
    assert_eq!(secs(52 * 3600), "2d4h");
    assert_eq!(secs(8 * 24 * 3600 - 1), "7d23h");
}

#[test]
fn whole_days_below_two_years() {
    assert_eq!(secs(8 * 24 * 3600), "8d");
    assert_eq!(secs(729 * 24 * 3600), "729d");
}

#[test]
fn years_with_days_then_whole_years() {
    let day = 24 * 3600;
    assert_eq!(secs(730 * day), "2y");
    assert_eq!(secs(740 * day), "2y10d");
    assert_eq!(secs(8 * 365 * day), "8y");
    assert_eq!(secs(9 * 365 * day + 100 * day), "9y");
}

#[test]
fn small_future_skew_is_zero_larger_is_invalid() {
    assert_eq!(human_duration(Duration::milliseconds(-1500)), "0s");
    assert_eq!(secs(-1), "0s");
    assert_eq!(secs(-2), "<invalid>");
    assert_eq!(secs(-3600), "<invalid>");
}
