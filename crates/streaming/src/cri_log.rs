//! The CRI container log format and the kubelet's log options applied to it.
//!
//! A line is `<RFC3339Nano time> <stdout|stderr> <tags> <content>` where the first tag is `F`
//! (full line) or `P` (partial: the content continues in the next record, without newline).

use chrono::{DateTime, Datelike, Timelike, Utc};

/// One parsed CRI log record (one physical line of the file).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record<'a> {
    pub time: DateTime<Utc>,
    pub stream: LogStream,
    pub partial: bool,
    pub content: &'a [u8],
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogStream {
    Stdout,
    Stderr,
}

/// Parse one line (without its trailing newline). `None` for malformed lines, which a kubelet skips.
pub fn parse_record(line: &[u8]) -> Option<Record<'_>> {
    let mut fields = line.splitn(4, |&b| b == b' ');
    let time = std::str::from_utf8(fields.next()?).ok()?;
    let time = DateTime::parse_from_rfc3339(time).ok()?.with_timezone(&Utc);
    let stream = match fields.next()? {
        b"stdout" => LogStream::Stdout,
        b"stderr" => LogStream::Stderr,
        _ => return None,
    };
    // Tags are `:`-separated; only the first (F/P) is defined.
    let partial = match fields.next()?.split(|&b| b == b':').next()? {
        b"F" => false,
        b"P" => true,
        _ => return None,
    };
    let content = fields.next().unwrap_or(b"");
    Some(Record {
        time,
        stream,
        partial,
        content,
    })
}

/// Is this physical line the end of a logical line (an `F` record)? Malformed lines count as
/// nothing.
pub fn ends_logical_line(line: &[u8]) -> bool {
    parse_record(line).is_some_and(|r| !r.partial)
}

/// Format a time like Go's RFC3339Nano: fractional seconds without trailing zeros.
pub fn format_timestamp(time: &DateTime<Utc>) -> String {
    let mut out = format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        time.year(),
        time.month(),
        time.day(),
        time.hour(),
        time.minute(),
        time.second()
    );
    let nanos = time.nanosecond() % 1_000_000_000;
    if nanos != 0 {
        let fraction = format!("{nanos:09}");
        out.push('.');
        out.push_str(fraction.trim_end_matches('0'));
    }
    out.push('Z');
    out
}

/// Output options of one log request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogOptions {
    pub follow: bool,
    pub previous: bool,
    pub timestamps: bool,
    /// Only the last N logical lines.
    pub tail_lines: Option<u64>,
    /// Only lines at or after this time.
    pub since: Option<DateTime<Utc>>,
    /// Stop after this many output bytes.
    pub limit_bytes: Option<u64>,
}

/// Turns records into output bytes: joins partial records, filters by time, adds timestamps,
/// and enforces the byte limit.
#[derive(Debug)]
pub struct LogAssembler {
    timestamps: bool,
    since: Option<DateTime<Utc>>,
    remaining: Option<u64>,
    /// Content and time of the partial records seen so far for the current logical line.
    pending: Option<(DateTime<Utc>, Vec<u8>)>,
}

impl LogAssembler {
    pub fn new(options: &LogOptions) -> Self {
        LogAssembler {
            timestamps: options.timestamps,
            since: options.since,
            remaining: options.limit_bytes,
            pending: None,
        }
    }

    /// True once `limitBytes` has been reached: the caller should stop reading.
    pub fn exhausted(&self) -> bool {
        self.remaining == Some(0)
    }

    /// Feed one physical line; append whatever becomes output to `out`.
    pub fn push_line(&mut self, line: &[u8], out: &mut Vec<u8>) {
        let Some(record) = parse_record(line) else {
            tracing::debug!("skipping malformed CRI log line");
            return;
        };
        let (time, mut content) = match self.pending.take() {
            Some((time, mut joined)) => {
                joined.extend_from_slice(record.content);
                (time, joined)
            }
            None => (record.time, record.content.to_vec()),
        };
        if record.partial {
            self.pending = Some((time, content));
            return;
        }
        if self.since.is_some_and(|since| time < since) {
            return;
        }
        content.push(b'\n');
        if self.timestamps {
            let mut prefixed = format_timestamp(&time).into_bytes();
            prefixed.push(b' ');
            prefixed.extend_from_slice(&content);
            content = prefixed;
        }
        self.emit(&content, out);
    }

    fn emit(&mut self, bytes: &[u8], out: &mut Vec<u8>) {
        match &mut self.remaining {
            None => out.extend_from_slice(bytes),
            Some(remaining) => {
                let take = bytes
                    .len()
                    .min(usize::try_from(*remaining).unwrap_or(usize::MAX));
                out.extend_from_slice(&bytes[..take]);
                *remaining -= take as u64;
            }
        }
    }
}

/// Byte offset in `window` (the file's bytes from `window_start` to its end) where the last
/// `lines` logical lines begin, or `None` if the window does not reach back far enough.
///
/// A trailing line without newline is still being written and does not count.
pub fn tail_offset_in(window: &[u8], window_start: u64, lines: u64) -> Option<u64> {
    let complete_end = window.iter().rposition(|&b| b == b'\n').map(|i| i + 1)?;
    // The first line of a window that starts mid-file may be cut: only lines after a newline count.
    let first = if window_start == 0 {
        0
    } else {
        window.iter().position(|&b| b == b'\n')? + 1
    };
    let mut seen = 0u64;
    let mut end = complete_end;
    while end > first {
        let line_end = end - 1; // index of this line's '\n'
        let start = window[first..line_end]
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(first, |i| first + i + 1);
        if ends_logical_line(&window[start..line_end]) {
            if seen == lines {
                // This F record ends the logical line just before the wanted ones.
                return Some(window_start + end as u64);
            }
            seen += 1;
        }
        end = start;
    }
    (window_start == 0).then_some(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(lines: &[&str], options: &LogOptions) -> String {
        let mut assembler = LogAssembler::new(options);
        let mut out = Vec::new();
        for line in lines {
            assembler.push_line(line.as_bytes(), &mut out);
        }
        String::from_utf8(out).expect("utf8")
    }

    const SAMPLE: &[&str] = &[
        "2024-01-01T00:00:01.000000000Z stdout F one",
        "2024-01-01T00:00:02.500000000Z stderr F two",
        "2024-01-01T00:00:03.123456789Z stdout P thr",
        "2024-01-01T00:00:03.200000000Z stdout F ee",
        "2024-01-01T00:00:04Z stdout F ",
    ];

    #[test]
    fn parses_fields_and_tags() {
        let r =
            parse_record(b"2024-01-01T00:00:03.123456789Z stderr P:x hello world").expect("parses");
        assert_eq!(r.stream, LogStream::Stderr);
        assert!(r.partial);
        assert_eq!(r.content, b"hello world");
        assert_eq!(r.time.nanosecond(), 123_456_789);
        assert!(parse_record(b"garbage").is_none());
        assert!(parse_record(b"2024-01-01T00:00:01Z stdin F x").is_none());
        assert!(parse_record(b"2024-01-01T00:00:01Z stdout Q x").is_none());
    }

    #[test]
    fn partial_records_join_into_one_line() {
        assert_eq!(
            render(SAMPLE, &LogOptions::default()),
            "one\ntwo\nthree\n\n"
        );
    }

    #[test]
    fn timestamps_use_first_fragment_and_trim_zeros() {
        let out = render(
            SAMPLE,
            &LogOptions {
                timestamps: true,
                ..Default::default()
            },
        );
        assert_eq!(
            out,
            "2024-01-01T00:00:01Z one\n2024-01-01T00:00:02.5Z two\n\
             2024-01-01T00:00:03.123456789Z three\n2024-01-01T00:00:04Z \n"
        );
    }

    #[test]
    fn since_filters_by_line_time() {
        let since = DateTime::parse_from_rfc3339("2024-01-01T00:00:02.5Z")
            .expect("time")
            .with_timezone(&Utc);
        let out = render(
            SAMPLE,
            &LogOptions {
                since: Some(since),
                ..Default::default()
            },
        );
        assert_eq!(out, "two\nthree\n\n");
    }

    #[test]
    fn limit_bytes_cuts_mid_line_and_reports_exhaustion() {
        let options = LogOptions {
            limit_bytes: Some(6),
            ..Default::default()
        };
        let mut assembler = LogAssembler::new(&options);
        let mut out = Vec::new();
        for line in SAMPLE {
            assembler.push_line(line.as_bytes(), &mut out);
        }
        assert_eq!(out, b"one\ntw");
        assert!(assembler.exhausted());
    }

    #[test]
    fn tail_counts_logical_lines_not_records() {
        let file = SAMPLE.join("\n") + "\n";
        let bytes = file.as_bytes();
        let at = |n| tail_offset_in(bytes, 0, n).expect("found") as usize;
        assert_eq!(&bytes[at(0)..], b"");
        assert_eq!(render_from(&bytes[at(1)..]), "\n");
        // The joined "three" spans two records; tail=2 starts at its first fragment.
        assert_eq!(render_from(&bytes[at(2)..]), "three\n\n");
        assert_eq!(render_from(&bytes[at(10)..]), "one\ntwo\nthree\n\n");
    }

    #[test]
    fn tail_ignores_unfinished_last_line_and_needs_a_full_window() {
        let file = format!("{}\n{}", SAMPLE[0], "2024-01-01T00:00:09Z stdout F half");
        assert_eq!(tail_offset_in(file.as_bytes(), 0, 1), Some(0));
        // A window that starts mid-file with too few lines cannot decide yet.
        let window = format!("xx\n{}\n", SAMPLE[1]);
        assert_eq!(tail_offset_in(window.as_bytes(), 100, 5), None);
        assert_eq!(
            tail_offset_in(window.as_bytes(), 100, 0),
            Some(100 + window.len() as u64)
        );
    }

    fn render_from(bytes: &[u8]) -> String {
        let lines: Vec<&str> = std::str::from_utf8(bytes).expect("utf8").lines().collect();
        render(&lines, &LogOptions::default())
    }
}
