//! exec and attach over WebSocket v5/v4 with real local processes and a real WebSocket client.

mod common;

use std::time::Duration;

use common::backend::TestBackend;
use common::client::{http_request, ws_connect, Ws};
use common::Harness;
use futures::{SinkExt, StreamExt};
use serde_json::Value;
use tokio_tungstenite::tungstenite::Message;

const V5: &str = "v5.channel.k8s.io";
const EXEC: &str = "/api/v1/namespaces/default/pods/web/exec";

#[derive(Debug, Default)]
struct Outcome {
    stdout: Vec<u8>,
    stderr: Vec<u8>,
    status: Option<Value>,
    close_code: Option<u16>,
}

/// Read until the server's Close frame, sorting messages by stream id.
async fn collect(ws: &mut Ws) -> Outcome {
    let mut outcome = Outcome::default();
    let read = async {
        while let Some(message) = ws.next().await {
            match message.expect("ws read") {
                Message::Binary(data) => match data.first() {
                    Some(1) => outcome.stdout.extend_from_slice(&data[1..]),
                    Some(2) => outcome.stderr.extend_from_slice(&data[1..]),
                    Some(3) => {
                        assert!(outcome.status.is_none(), "one status message only");
                        outcome.status =
                            Some(serde_json::from_slice(&data[1..]).expect("status json"));
                    }
                    other => panic!("unexpected stream id {other:?}"),
                },
                Message::Close(frame) => {
                    outcome.close_code = frame.map(|f| u16::from(f.code));
                    break;
                }
                Message::Text(_) => panic!("data must come in binary frames"),
                _ => {}
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(20), read)
        .await
        .expect("session ended in time");
    outcome
}

fn exec_path(command: &[&str], flags: &str) -> String {
    let mut query: Vec<String> = command
        .iter()
        .map(|c| format!("command={}", url_encode(c)))
        .collect();
    query.push("container=main".into());
    query.push(flags.into());
    format!("{EXEC}?{}", query.join("&"))
}

fn url_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

async fn harness() -> (Harness, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("tempdir");
    let harness = Harness::start(TestBackend::new(dir.path()), vec![]).await;
    (harness, dir)
}

#[tokio::test]
async fn exec_reports_output_exit_code_and_closes_with_1000() {
    let (harness, _dir) = harness().await;
    let path = exec_path(
        &["sh", "-c", "echo hi; echo oops >&2; exit 3"],
        "stdout=true&stderr=true",
    );
    let mut ws = ws_connect(&harness, &path, V5).await.expect("upgrade");
    let outcome = collect(&mut ws).await;
    assert_eq!(outcome.stdout, b"hi\n");
    assert_eq!(outcome.stderr, b"oops\n");
    let status = outcome.status.expect("status on channel 3");
    assert_eq!(status["status"], "Failure");
    assert_eq!(status["reason"], "NonZeroExitCode");
    assert_eq!(status["details"]["causes"][0]["reason"], "ExitCode");
    assert_eq!(status["details"]["causes"][0]["message"], "3");
    assert_eq!(outcome.close_code, Some(1000));
}

#[tokio::test]
async fn exec_success_status_and_large_output() {
    let (harness, _dir) = harness().await;
    let path = exec_path(&["head", "-c", "1000000", "/dev/zero"], "stdout=true");
    let mut ws = ws_connect(&harness, &path, V5).await.expect("upgrade");
    let outcome = collect(&mut ws).await;
    assert_eq!(outcome.stdout.len(), 1_000_000);
    assert_eq!(
        outcome.status,
        Some(serde_json::json!({"metadata": {}, "status": "Success"}))
    );
    assert_eq!(outcome.close_code, Some(1000));
}

#[tokio::test]
async fn stdin_is_piped_and_the_close_signal_ends_it() {
    let (harness, _dir) = harness().await;
    let path = exec_path(
        &["sh", "-c", "cat; echo done"],
        "stdin=true&stdout=true&stderr=true",
    );
    let mut ws = ws_connect(&harness, &path, V5).await.expect("upgrade");
    // 1 MiB in kubectl-sized chunks, like `kubectl cp` streaming a tar.
    let payload: Vec<u8> = (0..1_048_576u32).map(|i| (i % 251) as u8).collect();
    for chunk in payload.chunks(32 * 1024 + 1) {
        let mut message = vec![0u8];
        message.extend_from_slice(chunk);
        ws.send(Message::Binary(message.into()))
            .await
            .expect("send stdin");
    }
    ws.send(Message::Binary(vec![255u8, 0].into()))
        .await
        .expect("close stdin");
    let outcome = collect(&mut ws).await;
    let mut expected = payload.clone();
    expected.extend_from_slice(b"done\n");
    assert_eq!(outcome.stdout.len(), expected.len());
    assert!(outcome.stdout == expected, "stdin must come back unchanged");
    assert_eq!(outcome.status.expect("status")["status"], "Success");
}

#[tokio::test]
async fn tty_session_applies_resize() {
    let (harness, _dir) = harness().await;
    let path = exec_path(
        &["sh", "-c", "read x; stty size; exit 7"],
        "stdin=true&stdout=true&tty=true",
    );
    let mut ws = ws_connect(&harness, &path, V5).await.expect("upgrade");
    let mut resize = vec![4u8];
    resize.extend_from_slice(b"{\"Width\":100,\"Height\":30}\n");
    ws.send(Message::Binary(resize.into()))
        .await
        .expect("resize");
    ws.send(Message::Binary(b"\x00go\n".to_vec().into()))
        .await
        .expect("stdin");
    let outcome = collect(&mut ws).await;
    let output = String::from_utf8_lossy(&outcome.stdout).to_string();
    assert!(
        output.contains("30 100"),
        "stty size after resize, got {output:?}"
    );
    assert!(outcome.stderr.is_empty(), "a tty has no separate stderr");
    assert_eq!(
        outcome.status.expect("status")["details"]["causes"][0]["message"],
        "7"
    );
}

#[tokio::test]
async fn pings_get_pongs_while_a_command_runs() {
    let (harness, _dir) = harness().await;
    let path = exec_path(&["sh", "-c", "read x; echo $x"], "stdin=true&stdout=true");
    let mut ws = ws_connect(&harness, &path, V5).await.expect("upgrade");
    for round in 0..3u8 {
        ws.send(Message::Ping(vec![round].into()))
            .await
            .expect("ping");
        let pong = tokio::time::timeout(Duration::from_secs(5), ws.next())
            .await
            .expect("pong in time")
            .expect("message")
            .expect("ok");
        assert_eq!(pong, Message::Pong(vec![round].into()));
    }
    ws.send(Message::Binary(b"\x00bye\n".to_vec().into()))
        .await
        .expect("stdin");
    let outcome = collect(&mut ws).await;
    assert_eq!(outcome.stdout, b"bye\n");
}

#[tokio::test]
async fn v4_protocol_is_accepted() {
    let (harness, _dir) = harness().await;
    let path = exec_path(&["sh", "-c", "echo four"], "stdout=true");
    let mut ws = ws_connect(&harness, &path, "v4.channel.k8s.io")
        .await
        .expect("upgrade");
    let outcome = collect(&mut ws).await;
    assert_eq!(outcome.stdout, b"four\n");
    assert_eq!(outcome.status.expect("status")["status"], "Success");
    assert_eq!(outcome.close_code, Some(1000));
}

#[tokio::test]
async fn attach_streams_the_main_process() {
    let (harness, _dir) = harness().await;
    let path = "/api/v1/namespaces/default/pods/web/attach?container=main&stdin=true&stdout=true&stderr=true";
    let mut ws = ws_connect(&harness, path, V5).await.expect("upgrade");
    ws.send(Message::Binary(b"\x00hello\n".to_vec().into()))
        .await
        .expect("stdin");
    let outcome = collect(&mut ws).await;
    assert_eq!(outcome.stdout, b"attached\ngot hello\n");
    assert_eq!(outcome.status.expect("status")["status"], "Success");
}

#[tokio::test]
async fn client_disconnect_kills_the_exec_process() {
    let (harness, _dir) = harness().await;
    let path = exec_path(&["sh", "-c", "echo $$; exec sleep 60"], "stdout=true");
    let mut ws = ws_connect(&harness, &path, V5).await.expect("upgrade");
    let first = tokio::time::timeout(Duration::from_secs(5), ws.next())
        .await
        .expect("pid in time")
        .expect("message")
        .expect("ok");
    let pid: u32 = String::from_utf8_lossy(&first.into_data()[1..])
        .trim()
        .parse()
        .expect("pid");
    drop(ws);
    let gone = async {
        loop {
            let state = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
            // Gone, or a zombie waiting to be reaped.
            if state.is_empty() || state.contains(") Z ") {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(10), gone)
        .await
        .expect("process killed after the client left");
}

async fn expect_http_error(
    result: Result<Ws, tokio_tungstenite::tungstenite::Error>,
    code: u16,
    reason: &str,
) {
    match result {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status().as_u16(), code);
            let body: Value =
                serde_json::from_slice(response.body().as_deref().unwrap_or_default())
                    .expect("Status body");
            assert_eq!(body["kind"], "Status");
            assert_eq!(body["reason"], reason);
            assert_eq!(body["code"], code);
        }
        Err(other) => panic!("expected an HTTP error, got {other}"),
        Ok(_) => panic!("upgrade must be refused"),
    }
}

#[tokio::test]
async fn validation_errors_come_before_the_upgrade() {
    let (harness, _dir) = harness().await;
    let unknown_pod = "/api/v1/namespaces/default/pods/nope/exec?command=ls&stdout=true";
    expect_http_error(ws_connect(&harness, unknown_pod, V5).await, 404, "NotFound").await;
    let bad_container =
        "/api/v1/namespaces/default/pods/web/exec?command=ls&container=zzz&stdout=true";
    expect_http_error(
        ws_connect(&harness, bad_container, V5).await,
        400,
        "BadRequest",
    )
    .await;
    let no_command = "/api/v1/namespaces/default/pods/web/exec?container=main&stdout=true";
    expect_http_error(
        ws_connect(&harness, no_command, V5).await,
        400,
        "BadRequest",
    )
    .await;
    let no_streams = "/api/v1/namespaces/default/pods/web/exec?command=ls";
    expect_http_error(
        ws_connect(&harness, no_streams, V5).await,
        400,
        "BadRequest",
    )
    .await;

    // kubectl's SPDY fallback (POST + Upgrade: SPDY/3.1) gets the same Status.
    let request = hyper::Request::post(bad_container)
        .header("Host", "localhost")
        .header("Connection", "Upgrade")
        .header("Upgrade", "SPDY/3.1")
        .header("X-Stream-Protocol-Version", "v5.channel.k8s.io")
        .body(String::new())
        .expect("request");
    let response = http_request(&harness, request).await;
    assert_eq!(response.status().as_u16(), 400);
    let body: Value =
        serde_json::from_str(&common::client::read_all(response.into_body()).await).expect("json");
    assert_eq!(body["message"], "container zzz is not valid for pod web");
}

#[tokio::test]
async fn unsupported_subprotocol_is_refused() {
    let (harness, _dir) = harness().await;
    let path = exec_path(&["ls"], "stdout=true");
    expect_http_error(
        ws_connect(&harness, &path, "channel.k8s.io").await,
        400,
        "BadRequest",
    )
    .await;
}
