//! CRI log format: `<RFC3339Nano> <stream> <F|P> <content>\n`, one file per container
//! instance at `DIR/pods/<ns>_<pod>_<uid>/<container>/<restartCount>.log`.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::{SecondsFormat, Utc};

/// Lines longer than this are split into `P` records, like containerd does.
const MAX_LINE: usize = 16 * 1024;

pub fn pod_log_dir(data_dir: &Path, namespace: &str, name: &str, uid: &str) -> PathBuf {
    data_dir
        .join("pods")
        .join(format!("{namespace}_{name}_{uid}"))
}

pub fn container_log_path(pod_log_dir: &Path, container: &str, restart_count: u32) -> PathBuf {
    pod_log_dir
        .join(container)
        .join(format!("{restart_count}.log"))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    Stdout,
    Stderr,
}

impl Stream {
    fn as_str(self) -> &'static str {
        match self {
            Stream::Stdout => "stdout",
            Stream::Stderr => "stderr",
        }
    }
}

/// Appends CRI records to a container's log file; `reopen` follows log rotation.
pub struct LogWriter {
    path: PathBuf,
    file: Option<File>,
}

impl LogWriter {
    pub fn open(path: &Path) -> std::io::Result<Self> {
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent)?;
        }
        let file = OpenOptions::new().create(true).append(true).open(path)?;
        Ok(LogWriter {
            path: path.to_path_buf(),
            file: Some(file),
        })
    }

    pub fn reopen(&mut self) -> std::io::Result<()> {
        self.file = None;
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)?;
        self.file = Some(file);
        Ok(())
    }

    fn record(&mut self, stream: Stream, full: bool, content: &[u8]) {
        let ts = Utc::now().to_rfc3339_opts(SecondsFormat::Nanos, true);
        let mut rec = Vec::with_capacity(content.len() + 48);
        rec.extend_from_slice(ts.as_bytes());
        rec.push(b' ');
        rec.extend_from_slice(stream.as_str().as_bytes());
        rec.extend_from_slice(if full { b" F " } else { b" P " });
        rec.extend_from_slice(content);
        rec.push(b'\n');
        if let Some(f) = self.file.as_mut() {
            // A full disk must not stop the container: the record is dropped.
            let _ = f.write_all(&rec);
        }
    }
}

/// Splits one output stream into CRI records.
pub struct LineSplitter {
    pub stream: Stream,
    buf: Vec<u8>,
}

impl LineSplitter {
    pub fn new(stream: Stream) -> Self {
        LineSplitter {
            stream,
            buf: Vec::new(),
        }
    }

    pub fn feed(&mut self, data: &[u8], out: &mut LogWriter) {
        self.buf.extend_from_slice(data);
        while let Some(pos) = self.buf.iter().position(|b| *b == b'\n') {
            let mut line: Vec<u8> = self.buf.drain(..=pos).collect();
            line.pop();
            if line.last() == Some(&b'\r') {
                line.pop();
            }
            for (i, chunk) in line.chunks(MAX_LINE).enumerate() {
                let last = (i + 1) * MAX_LINE >= line.len();
                out.record(self.stream, last, chunk);
            }
            if line.is_empty() {
                out.record(self.stream, true, b"");
            }
        }
        while self.buf.len() >= MAX_LINE {
            let chunk: Vec<u8> = self.buf.drain(..MAX_LINE).collect();
            out.record(self.stream, false, &chunk);
        }
    }

    /// End of stream: a trailing fragment without newline is written as a full line.
    pub fn finish(&mut self, out: &mut LogWriter) {
        if !self.buf.is_empty() {
            let rest = std::mem::take(&mut self.buf);
            out.record(self.stream, true, &rest);
        }
    }
}

/// The last `max_lines` lines (at most `max_bytes`) of a CRI log's contents, for
/// `FallbackToLogsOnError`.
pub fn log_tail(path: &Path, max_lines: usize, max_bytes: usize) -> String {
    let Ok(data) = fs::read_to_string(path) else {
        return String::new();
    };
    let contents: Vec<&str> = data
        .lines()
        .filter_map(|l| {
            let mut parts = l.splitn(4, ' ');
            let (_ts, _stream, _tag) = (parts.next()?, parts.next()?, parts.next()?);
            Some(parts.next().unwrap_or(""))
        })
        .collect();
    let start = contents.len().saturating_sub(max_lines);
    let mut out = contents[start..].join("\n");
    if out.len() > max_bytes {
        let mut cut = out.len() - max_bytes;
        while !out.is_char_boundary(cut) {
            cut += 1;
        }
        out = out[cut..].to_string();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_become_cri_records() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c/0.log");
        let mut w = LogWriter::open(&path).unwrap();
        let mut s = LineSplitter::new(Stream::Stdout);
        s.feed(b"hello\nwor", &mut w);
        s.feed(b"ld\n\npartial", &mut w);
        s.finish(&mut w);
        let text = fs::read_to_string(&path).unwrap();
        let recs: Vec<&str> = text.lines().map(|l| l.split_once(' ').unwrap().1).collect();
        assert_eq!(
            recs,
            [
                "stdout F hello",
                "stdout F world",
                "stdout F ",
                "stdout F partial"
            ]
        );
        let ts = text.split(' ').next().unwrap();
        assert!(
            chrono::DateTime::parse_from_rfc3339(ts).is_ok() && ts.len() >= 30,
            "{ts}"
        );
        assert_eq!(log_tail(&path, 2, 100), "\npartial");
    }

    #[test]
    fn long_lines_are_split_into_partials() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("0.log");
        let mut w = LogWriter::open(&path).unwrap();
        let mut s = LineSplitter::new(Stream::Stderr);
        let mut long = vec![b'x'; MAX_LINE + 10];
        long.push(b'\n');
        s.feed(&long, &mut w);
        let text = fs::read_to_string(&path).unwrap();
        let tags: Vec<&str> = text.lines().map(|l| l.split(' ').nth(2).unwrap()).collect();
        assert_eq!(tags, ["P", "F"]);
    }
}
