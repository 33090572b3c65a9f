//! `portforward`: SPDY/3.1 tunnelled in a WebSocket (kubectl ≥ 1.30), the WebSocket channel
//! protocol (`v4.channel.k8s.io`, the Python client's; see `ws_portforward`), or raw SPDY
//! after an HTTP `Upgrade: SPDY/3.1` (kubectl's fallback).

use std::sync::Arc;

use axum::body::Body;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{FromRequestParts, Path, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use futures::stream::SplitSink;
use futures::{SinkExt, StreamExt};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::mpsc;

use crate::backend::StreamingBackend;
use crate::error::StreamError;
use crate::netns::connect_in_netns;
use crate::portforward::{self, Dialer};
use crate::query::Query;
use crate::ws_portforward::{self, CHANNEL_PROTOCOL};

pub const WEBSOCKET_PROTOCOL: &str = "SPDY/3.1+portforward.k8s.io";
const SPDY_UPGRADE: &str = "SPDY/3.1";
const PORTFORWARD_PROTOCOL: &str = "portforward.k8s.io";

pub(crate) async fn portforward(
    State(backend): State<Arc<dyn StreamingBackend>>,
    Path((namespace, pod)): Path<(String, String)>,
    request: Request,
) -> Response {
    let netns = match backend.pod_netns(&namespace, &pod) {
        Ok(path) => path,
        Err(err) => return err.into_response(),
    };
    let dial: Dialer = Arc::new(move |port| Box::pin(connect_in_netns(netns.clone(), port)));
    let pod = format!("{namespace}/{pod}");
    let upgrade = header_value(request.headers(), header::UPGRADE).to_ascii_lowercase();
    if upgrade == "websocket" {
        websocket(request, dial, pod).await
    } else if upgrade == SPDY_UPGRADE.to_ascii_lowercase() {
        raw_spdy(request, dial, pod)
    } else {
        StreamError::BadRequest(
            "unable to upgrade connection: port-forward needs Upgrade: websocket \
             (SPDY/3.1+portforward.k8s.io) or SPDY/3.1"
                .into(),
        )
        .into_response()
    }
}

fn header_value(headers: &HeaderMap, name: header::HeaderName) -> String {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

async fn websocket(request: Request, dial: Dialer, pod: String) -> Response {
    let (mut parts, _) = request.into_parts();
    let offered = parts.headers.contains_key(header::SEC_WEBSOCKET_PROTOCOL);
    let upgrade = match WebSocketUpgrade::from_request_parts(&mut parts, &()).await {
        Ok(upgrade) => upgrade.protocols([WEBSOCKET_PROTOCOL, CHANNEL_PROTOCOL]),
        Err(rejection) => return rejection.into_response(),
    };
    let tunnel = match upgrade.selected_protocol() {
        Some(p) => p.as_bytes() == WEBSOCKET_PROTOCOL.as_bytes(),
        // No subprotocol at all is the channel protocol, as the kubelet treats it.
        None if !offered => false,
        None => {
            return StreamError::BadRequest(format!(
                "unable to upgrade connection: port-forward needs WebSocket subprotocol \
                 {WEBSOCKET_PROTOCOL} or {CHANNEL_PROTOCOL}"
            ))
            .into_response()
        }
    };
    if tunnel {
        return upgrade.on_upgrade(move |socket| tunnel_over_websocket(socket, dial, pod));
    }
    let ports = match ws_portforward::ports(&Query::parse(parts.uri.query())) {
        Ok(ports) => ports,
        Err(err) => return err.into_response(),
    };
    upgrade.on_upgrade(move |socket| ws_portforward::serve(socket, ports, dial, pod))
}

/// Carry the SPDY byte stream in binary WebSocket messages, both ways.
async fn tunnel_over_websocket(socket: WebSocket, dial: Dialer, pod: String) {
    let (mut sink, mut stream) = socket.split();
    let (in_tx, in_rx) = mpsc::channel::<Bytes>(32);
    let (out_tx, mut out_rx) = mpsc::channel::<Bytes>(64);
    let session = tokio::spawn(portforward::run(in_rx, out_tx, dial, pod));
    let writer = async move {
        while let Some(bytes) = out_rx.recv().await {
            if sink.send(Message::Binary(bytes)).await.is_err() {
                return;
            }
        }
        close_normally(&mut sink).await;
    };
    let reader = async move {
        // Pings are answered by the WebSocket layer while we keep reading.
        while let Some(Ok(message)) = stream.next().await {
            match message {
                Message::Binary(bytes) if in_tx.send(bytes.clone()).await.is_err() => break,
                Message::Close(_) => break,
                _ => {}
            }
        }
    };
    futures::future::join(reader, writer).await;
    session.abort();
}

/// Ends a WebSocket as the kubelet does once the streams are done: a normal close.
pub(crate) async fn close_normally(sink: &mut SplitSink<WebSocket, Message>) {
    let close = CloseFrame {
        code: 1000,
        reason: "".into(),
    };
    let _ = sink.send(Message::Close(Some(close))).await;
    let _ = sink.close().await;
}

/// kubectl's fallback: answer 101 `Upgrade: SPDY/3.1` and speak SPDY on the raw connection.
fn raw_spdy(mut request: Request, dial: Dialer, pod: String) -> Response {
    let on_upgrade = hyper::upgrade::on(&mut request);
    tokio::spawn(async move {
        let upgraded = match on_upgrade.await {
            Ok(upgraded) => upgraded,
            Err(err) => {
                tracing::debug!(%err, "SPDY upgrade failed");
                return;
            }
        };
        let (mut read, mut write) = tokio::io::split(TokioIo::new(upgraded));
        let (in_tx, in_rx) = mpsc::channel::<Bytes>(32);
        let (out_tx, mut out_rx) = mpsc::channel::<Bytes>(64);
        let session = tokio::spawn(portforward::run(in_rx, out_tx, dial, pod));
        let writer = async move {
            while let Some(bytes) = out_rx.recv().await {
                if write.write_all(&bytes).await.is_err() {
                    return;
                }
            }
            let _ = write.shutdown().await;
        };
        let reader = async move {
            let mut buf = vec![0u8; 32 * 1024];
            loop {
                match read.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        if in_tx.send(Bytes::copy_from_slice(&buf[..n])).await.is_err() {
                            break;
                        }
                    }
                }
            }
        };
        futures::future::join(reader, writer).await;
        session.abort();
    });
    Response::builder()
        .status(StatusCode::SWITCHING_PROTOCOLS)
        .header(header::CONNECTION, "Upgrade")
        .header(header::UPGRADE, SPDY_UPGRADE)
        .header("X-Stream-Protocol-Version", PORTFORWARD_PROTOCOL)
        .body(Body::empty())
        .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
}
