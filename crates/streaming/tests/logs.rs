//! pods/log over HTTPS from CRI log files.

mod common;

use std::io::Write;
use std::sync::atomic::Ordering;
use std::time::Duration;

use common::backend::TestBackend;
use common::client::{http_get, next_chunk, read_all};
use common::Harness;
use serde_json::Value;

const LOG: &str = "/api/v1/namespaces/default/pods/web/log";

fn write_log(path: &std::path::Path, lines: &[&str]) -> std::fs::File {
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .expect("open log");
    for line in lines {
        writeln!(file, "{line}").expect("write");
    }
    file
}

const LINES: &[&str] = &[
    "2024-05-01T10:00:00.100000000Z stdout F first",
    "2024-05-01T10:00:01.000000000Z stderr F second",
    "2024-05-01T10:00:02.000000000Z stdout P thi",
    "2024-05-01T10:00:02.500000000Z stdout F rd",
];

#[tokio::test]
async fn plain_tail_timestamps_limit_since_previous() {
    let dir = tempfile::tempdir().expect("tempdir");
    let backend = TestBackend::new(dir.path());
    write_log(&backend.log_path, LINES);
    write_log(
        &backend.previous_log_path,
        &["2024-04-30T00:00:00Z stdout F before restart"],
    );
    let harness = Harness::start(backend, vec![]).await;

    let all = http_get(&harness, &format!("{LOG}?container=main")).await;
    assert_eq!(all.status().as_u16(), 200);
    assert_eq!(all.headers()["content-type"], "text/plain");
    assert_eq!(read_all(all.into_body()).await, "first\nsecond\nthird\n");

    let tail = http_get(
        &harness,
        &format!("{LOG}?container=main&tailLines=1&timestamps=true"),
    )
    .await;
    assert_eq!(
        read_all(tail.into_body()).await,
        "2024-05-01T10:00:02Z third\n"
    );

    let limited = http_get(&harness, &format!("{LOG}?container=main&limitBytes=9")).await;
    assert_eq!(read_all(limited.into_body()).await, "first\nsec");

    let since = http_get(
        &harness,
        &format!("{LOG}?container=main&sinceTime=2024-05-01T10:00:01Z"),
    )
    .await;
    assert_eq!(read_all(since.into_body()).await, "second\nthird\n");

    let previous = http_get(&harness, &format!("{LOG}?container=main&previous=true")).await;
    assert_eq!(read_all(previous.into_body()).await, "before restart\n");
}

async fn chunk(body: &mut hyper::body::Incoming) -> Option<bytes::Bytes> {
    tokio::time::timeout(Duration::from_secs(5), next_chunk(body))
        .await
        .expect("chunk in time")
}

#[tokio::test]
async fn follow_streams_until_the_container_stops() {
    let dir = tempfile::tempdir().expect("tempdir");
    let backend = TestBackend::new(dir.path());
    let mut file = write_log(&backend.log_path, &LINES[..1]);
    let harness = Harness::start(backend, vec![]).await;

    let response = http_get(&harness, &format!("{LOG}?container=main&follow=true")).await;
    assert_eq!(response.status().as_u16(), 200);
    let mut body = response.into_body();
    assert_eq!(chunk(&mut body).await.as_deref(), Some(&b"first\n"[..]));
    writeln!(file, "{}", LINES[1]).expect("write");
    assert_eq!(chunk(&mut body).await.as_deref(), Some(&b"second\n"[..]));
    writeln!(file, "{}\n{}", LINES[2], LINES[3]).expect("write");
    assert_eq!(chunk(&mut body).await.as_deref(), Some(&b"third\n"[..]));
    harness.backend.running.store(false, Ordering::SeqCst);
    assert_eq!(
        chunk(&mut body).await,
        None,
        "response ends when the container stops"
    );
}

#[tokio::test]
async fn errors_are_status_json() {
    let dir = tempfile::tempdir().expect("tempdir");
    let harness = Harness::start(TestBackend::new(dir.path()), vec![]).await;
    for (path, code, reason) in [
        (
            "/api/v1/namespaces/default/pods/nope/log?container=main",
            404,
            "NotFound",
        ),
        (&format!("{LOG}?container=zzz") as &str, 400, "BadRequest"),
        (
            &format!("{LOG}?container=main&tailLines=-3"),
            400,
            "BadRequest",
        ),
        // The container never wrote a log file.
        (&format!("{LOG}?container=main"), 400, "BadRequest"),
        (
            "/api/v1/namespaces/default/pods/web/unknown",
            404,
            "NotFound",
        ),
    ] {
        let response = http_get(&harness, path).await;
        assert_eq!(response.status().as_u16(), code, "{path}");
        assert_eq!(response.headers()["content-type"], "application/json");
        let status: Value =
            serde_json::from_str(&read_all(response.into_body()).await).expect("json");
        assert_eq!(status["kind"], "Status", "{path}");
        assert_eq!(status["reason"], reason, "{path}");
    }
}
