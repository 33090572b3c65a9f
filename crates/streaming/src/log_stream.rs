//! Reading a CRI log file for one request: tail, then follow until the container stops.

use std::io::{Read, Seek, SeekFrom};
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::time::Duration;

use bytes::Bytes;
use tokio::io::{AsyncReadExt, AsyncSeekExt};
use tokio::sync::mpsc;

use crate::backend::LogSource;
use crate::cri_log::{tail_offset_in, LogAssembler, LogOptions};
use crate::error::StreamError;

/// How often a follower looks for new lines, rotation and container exit.
const FOLLOW_POLL: Duration = Duration::from_millis(100);
const READ_CHUNK: usize = 64 * 1024;

/// Open the log and start producing output chunks; the receiver ends with the output.
///
/// Opening errors are returned now, so the HTTP answer can still be a Status error.
pub(crate) async fn start(
    source: LogSource,
    options: LogOptions,
) -> Result<mpsc::Receiver<Bytes>, StreamError> {
    let path = source.path.clone();
    let tail = options.tail_lines;
    let (file, offset) = tokio::task::spawn_blocking(move || -> std::io::Result<_> {
        let mut file = std::fs::File::open(&path)?;
        let offset = match tail {
            Some(lines) => find_tail_offset(&mut file, lines)?,
            None => 0,
        };
        Ok((file, offset))
    })
    .await
    .map_err(StreamError::internal)?
    .map_err(|e| {
        StreamError::BadRequest(format!(
            "failed to open log file {}: {e}",
            source.path.display()
        ))
    })?;
    let (tx, rx) = mpsc::channel(16);
    tokio::spawn(async move {
        if let Err(err) = pump(tokio::fs::File::from_std(file), offset, source, options, tx).await {
            tracing::debug!(%err, "log stream ended with an error");
        }
    });
    Ok(rx)
}

/// Where the last `lines` logical lines of the file start, reading backwards in growing chunks.
fn find_tail_offset(file: &mut std::fs::File, lines: u64) -> std::io::Result<u64> {
    let len = file.metadata()?.len();
    let mut start = len;
    let mut chunk = READ_CHUNK as u64;
    let mut window: Vec<u8> = Vec::new();
    loop {
        let new_start = start.saturating_sub(chunk);
        let mut block = vec![0u8; (start - new_start) as usize];
        file.seek(SeekFrom::Start(new_start))?;
        file.read_exact(&mut block)?;
        block.extend_from_slice(&window);
        window = block;
        start = new_start;
        if let Some(offset) = tail_offset_in(&window, start, lines) {
            return Ok(offset);
        }
        if start == 0 {
            return Ok(0);
        }
        chunk = chunk.saturating_mul(2);
    }
}

async fn pump(
    mut file: tokio::fs::File,
    mut position: u64,
    source: LogSource,
    options: LogOptions,
    tx: mpsc::Sender<Bytes>,
) -> std::io::Result<()> {
    file.seek(SeekFrom::Start(position)).await?;
    let mut assembler = LogAssembler::new(&options);
    let mut carry: Vec<u8> = Vec::new();
    let mut buf = vec![0u8; READ_CHUNK];
    let mut inode = file.metadata().await?.ino();
    loop {
        // Sampled before reading, so lines written just before the container exited are not lost.
        let was_running = options.follow && (source.is_running)();
        let n = file.read(&mut buf).await?;
        if n > 0 {
            position += n as u64;
            carry.extend_from_slice(&buf[..n]);
            let out = drain_complete_lines(&mut carry, &mut assembler);
            if !out.is_empty() && tx.send(Bytes::from(out)).await.is_err() {
                return Ok(()); // client went away
            }
            if assembler.exhausted() {
                return Ok(());
            }
            continue;
        }
        if !was_running {
            break;
        }
        tokio::time::sleep(FOLLOW_POLL).await;
        if tx.is_closed() {
            return Ok(());
        }
        match reopen_if_rotated(&source.path, inode, position).await? {
            Reopen::Same => {}
            Reopen::Truncated => {
                position = 0;
                file.seek(SeekFrom::Start(0)).await?;
            }
            Reopen::Rotated(new_file, new_inode) => {
                file = new_file;
                inode = new_inode;
                position = 0;
            }
        }
    }
    // The file ends without a newline: a finished log still shows its last words.
    if !carry.is_empty() {
        let mut out = Vec::new();
        assembler.push_line(&carry, &mut out);
        if !out.is_empty() {
            let _ = tx.send(Bytes::from(out)).await;
        }
    }
    Ok(())
}

/// Turn every complete line in `carry` into output, keeping the unfinished rest.
fn drain_complete_lines(carry: &mut Vec<u8>, assembler: &mut LogAssembler) -> Vec<u8> {
    let mut out = Vec::new();
    let mut consumed = 0;
    while let Some(i) = carry[consumed..].iter().position(|&b| b == b'\n') {
        if assembler.exhausted() {
            break;
        }
        assembler.push_line(&carry[consumed..consumed + i], &mut out);
        consumed += i + 1;
    }
    carry.drain(..consumed);
    out
}

enum Reopen {
    Same,
    Truncated,
    Rotated(tokio::fs::File, u64),
}

/// Detect log rotation (a new file at the path) or truncation (copytruncate).
async fn reopen_if_rotated(path: &Path, inode: u64, position: u64) -> std::io::Result<Reopen> {
    let meta = match tokio::fs::metadata(path).await {
        Ok(meta) => meta,
        Err(_) => return Ok(Reopen::Same), // mid-rotation: try again next poll
    };
    if meta.ino() != inode {
        let file = tokio::fs::File::open(path).await?;
        return Ok(Reopen::Rotated(file, meta.ino()));
    }
    if meta.len() < position {
        return Ok(Reopen::Truncated);
    }
    Ok(Reopen::Same)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;

    fn write_lines(file: &mut std::fs::File, count: usize) {
        for i in 0..count {
            writeln!(file, "2024-01-01T00:00:{:02}Z stdout F line {i}", i % 60).expect("write");
        }
    }

    async fn collect(mut rx: mpsc::Receiver<Bytes>) -> String {
        let mut out = Vec::new();
        while let Some(chunk) = rx.recv().await {
            out.extend_from_slice(&chunk);
        }
        String::from_utf8(out).expect("utf8")
    }

    fn source(path: &Path, running: Arc<AtomicBool>) -> LogSource {
        LogSource {
            path: path.to_path_buf(),
            is_running: Box::new(move || running.load(Ordering::SeqCst)),
        }
    }

    #[tokio::test]
    async fn tail_over_many_chunks_returns_exact_last_lines() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("0.log");
        let mut file = std::fs::File::create(&path).expect("create");
        write_lines(&mut file, 20_000); // ~800 KB: several backwards chunks
        let options = LogOptions {
            tail_lines: Some(3),
            ..Default::default()
        };
        let rx = start(source(&path, Arc::new(AtomicBool::new(false))), options)
            .await
            .expect("starts");
        assert_eq!(collect(rx).await, "line 19997\nline 19998\nline 19999\n");
    }

    #[tokio::test]
    async fn follow_streams_new_lines_and_ends_when_container_stops() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("0.log");
        let mut file = std::fs::File::create(&path).expect("create");
        write_lines(&mut file, 1);
        let running = Arc::new(AtomicBool::new(true));
        let options = LogOptions {
            follow: true,
            ..Default::default()
        };
        let mut rx = start(source(&path, running.clone()), options)
            .await
            .expect("starts");
        assert_eq!(rx.recv().await.as_deref(), Some(&b"line 0\n"[..]));
        // A line written in two pieces is only emitted once complete.
        write!(file, "2024-01-01T00:00:05Z stdout F la").expect("write");
        file.flush().expect("flush");
        tokio::time::sleep(Duration::from_millis(250)).await;
        writeln!(file, "te").expect("write");
        assert_eq!(rx.recv().await.as_deref(), Some(&b"late\n"[..]));
        writeln!(file, "2024-01-01T00:00:06Z stderr F last words").expect("write");
        running.store(false, Ordering::SeqCst);
        assert_eq!(collect(rx).await, "last words\n");
    }

    #[tokio::test]
    async fn missing_file_is_an_error_before_streaming() {
        let options = LogOptions::default();
        let result = start(
            source(
                Path::new("/nonexistent/peapod/0.log"),
                Arc::new(AtomicBool::new(false)),
            ),
            options,
        )
        .await;
        assert!(matches!(result, Err(StreamError::BadRequest(_))));
    }
}
