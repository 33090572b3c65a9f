//! One exec/attach session over a WebSocket speaking the v4/v5 channel protocol.

use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, WebSocket};
use bytes::Bytes;
use futures::future::BoxFuture;
use futures::stream::SplitStream;
use futures::{SinkExt, StreamExt};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::backend::{BoxedReader, BoxedWriter, Process};
use crate::channel::{self, ChannelProtocol, ClientMessage};
use crate::error::StreamError;
use crate::status;

/// kubectl reads with a 32 KiB + 1 KiB buffer; one chunk per message stays below it.
const OUTPUT_CHUNK: usize = 32 * 1024;
/// After the process exits, how long output still held open by its children may keep flowing.
const OUTPUT_DRAIN_TIMEOUT: Duration = Duration::from_secs(2);
/// How long the first message to the client is held after the upgrade. kubectl registers its
/// streams only after its reader has started, and drops data for a stream it has not
/// registered yet ("Unknown stream id"); a command that prints at once could lose its output
/// and exit status. (Behind a real API server the kubelet's hop gives kubectl that time.)
const CLIENT_SETUP_GRACE: Duration = Duration::from_millis(50);
/// How long to wait for the client's Close reply after ours.
const CLOSE_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(5);

/// Stdin commands, queued so a slow process never blocks reading (and ponging) the socket for long.
enum StdinEvent {
    Data(Bytes),
    Close,
}

/// Why the main loop stopped.
enum Ending {
    Exited(Result<i32, StreamError>),
    ClientGone,
}

/// Run the session: start the process, pump streams both ways, report the exit status on the
/// error channel, then close the WebSocket with code 1000.
pub(crate) async fn run(
    socket: WebSocket,
    protocol: ChannelProtocol,
    start: BoxFuture<'static, Result<Process, StreamError>>,
) {
    let (mut sink, mut incoming) = socket.split();
    let (out_tx, mut out_rx) = mpsc::channel::<Message>(16);
    let upgraded = tokio::time::Instant::now();
    let writer = tokio::spawn(async move {
        tokio::time::sleep_until(upgraded + CLIENT_SETUP_GRACE).await;
        while let Some(message) = out_rx.recv().await {
            let is_close = matches!(message, Message::Close(_));
            if sink.send(message).await.is_err() || is_close {
                break;
            }
        }
    });

    let ending = match start.await {
        Ok(process) => pump(process, protocol, &mut incoming, &out_tx).await,
        Err(err) => Ending::Exited(Err(err)),
    };

    if let Ending::Exited(result) = ending {
        let status = match result {
            Ok(code) => status::exit_status(code),
            Err(err) => status::failure_status(&err),
        };
        let payload = channel::encode(channel::ERROR, status.to_string().as_bytes());
        let _ = out_tx.send(Message::Binary(payload)).await;
        let close = CloseFrame {
            code: 1000,
            reason: "".into(),
        };
        let _ = out_tx.send(Message::Close(Some(close))).await;
        drop(out_tx);
        let _ = writer.await;
        // Let the client answer our Close so it sees a clean shutdown, not an EOF.
        let _ = tokio::time::timeout(CLOSE_HANDSHAKE_TIMEOUT, async {
            while let Some(Ok(message)) = incoming.next().await {
                if matches!(message, Message::Close(_)) {
                    break;
                }
            }
        })
        .await;
    } else {
        drop(out_tx);
        writer.abort();
    }
}

/// Move bytes until the process exits or the client leaves.
async fn pump(
    process: Process,
    protocol: ChannelProtocol,
    incoming: &mut SplitStream<WebSocket>,
    out_tx: &mpsc::Sender<Message>,
) -> Ending {
    let Process {
        stdin,
        stdout,
        stderr,
        control,
    } = process;
    let mut pumps: Vec<JoinHandle<()>> = Vec::new();
    if let Some(reader) = stdout {
        pumps.push(tokio::spawn(copy_output(
            reader,
            channel::STDOUT,
            out_tx.clone(),
        )));
    }
    if let Some(reader) = stderr {
        pumps.push(tokio::spawn(copy_output(
            reader,
            channel::STDERR,
            out_tx.clone(),
        )));
    }
    let mut stdin_tx = stdin.map(|writer| {
        let (tx, rx) = mpsc::channel(64);
        tokio::spawn(copy_stdin(writer, rx));
        tx
    });

    let wait = control.wait();
    tokio::pin!(wait);
    let ending = loop {
        tokio::select! {
            result = &mut wait => break Ending::Exited(result),
            message = incoming.next() => {
                // Clients may send stdin in TEXT frames (the Python client sends `str` that
                // way); kube-apiserver reads both kinds alike.
                let data: Bytes = match message {
                    Some(Ok(Message::Binary(data))) => data,
                    Some(Ok(Message::Text(text))) => text.into(),
                    // Pings are answered by the WebSocket layer on the next read.
                    Some(Ok(Message::Close(_))) | Some(Err(_)) | None => break Ending::ClientGone,
                    Some(Ok(_)) => continue,
                };
                match channel::decode(protocol, data) {
                    Ok(ClientMessage::Stdin(bytes)) => {
                        if let Some(tx) = &stdin_tx {
                            if tx.send(StdinEvent::Data(bytes)).await.is_err() {
                                stdin_tx = None;
                            }
                        }
                    }
                    Ok(ClientMessage::CloseStdin) => {
                        if let Some(tx) = stdin_tx.take() {
                            let _ = tx.send(StdinEvent::Close).await;
                        }
                    }
                    Ok(ClientMessage::Resize(size)) => {
                        if let Err(err) = control.resize(size) {
                            tracing::debug!(%err, "terminal resize failed");
                        }
                    }
                    Ok(ClientMessage::Ignored) => {}
                    Err(err) => tracing::debug!(%err, "ignoring malformed client message"),
                }
            }
        }
    };

    match ending {
        Ending::Exited(result) => {
            drop(stdin_tx);
            let drained = tokio::time::timeout(
                OUTPUT_DRAIN_TIMEOUT,
                futures::future::join_all(pumps.iter_mut()),
            )
            .await;
            if drained.is_err() {
                // Output still held open by a background child: stop waiting for it.
                pumps.iter().for_each(JoinHandle::abort);
            }
            Ending::Exited(result)
        }
        Ending::ClientGone => {
            pumps.iter().for_each(JoinHandle::abort);
            Ending::ClientGone
        }
    }
}

/// Forward one output stream to the client until EOF (a tty reports EIO at the end: also EOF).
async fn copy_output(mut reader: BoxedReader, stream: u8, out_tx: mpsc::Sender<Message>) {
    let mut buf = vec![0u8; OUTPUT_CHUNK];
    loop {
        match reader.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                let message = Message::Binary(channel::encode(stream, &buf[..n]));
                if out_tx.send(message).await.is_err() {
                    break;
                }
            }
        }
    }
}

/// Feed client stdin into the process; close it on the client's CLOSE signal.
async fn copy_stdin(mut writer: BoxedWriter, mut rx: mpsc::Receiver<StdinEvent>) {
    while let Some(event) = rx.recv().await {
        match event {
            StdinEvent::Data(bytes) => {
                if writer.write_all(&bytes).await.is_err() || writer.flush().await.is_err() {
                    return;
                }
            }
            StdinEvent::Close => break,
        }
    }
    let _ = writer.shutdown().await;
}
