//! Port-forward over WebSocket with the channel protocol (`v4.channel.k8s.io`, or no
//! subprotocol), as the kubelet serves it and the Python client speaks it. The ports come
//! from the `ports` query parameter; for the port at index `i`, channel `2i` carries data
//! both ways and channel `2i+1` carries errors to the client. The first frame on every
//! channel is the port as two little-endian bytes. Each port gets one TCP connection in the
//! pod, dialled at once; the WebSocket closes when every connection has ended.

use axum::extract::ws::{Message, WebSocket};
use bytes::{BufMut, Bytes, BytesMut};
use futures::{SinkExt, StreamExt};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::mpsc;

use crate::error::StreamError;
use crate::http_portforward::close_normally;
use crate::portforward::{Dialer, TCP_CHUNK};
use crate::query::Query;

/// The binary channel protocol of kubelet's WebSocket port-forward.
pub const CHANNEL_PROTOCOL: &str = "v4.channel.k8s.io";

/// The ports to forward: `ports` may repeat and each value may list several, comma-separated.
pub fn ports(query: &Query) -> Result<Vec<u16>, StreamError> {
    let values = query.all("ports");
    if values.is_empty() {
        return Err(StreamError::BadRequest(
            "query parameter \"ports\" is required".into(),
        ));
    }
    let mut ports = Vec::new();
    for value in values {
        for item in value.split(',') {
            let item = item.trim();
            if item.is_empty() {
                return Err(StreamError::BadRequest(
                    "query parameter \"ports\" cannot be empty".into(),
                ));
            }
            let port: u16 = item.parse().map_err(|e| {
                StreamError::BadRequest(format!("unable to parse {item:?} as a port: {e}"))
            })?;
            if port == 0 {
                return Err(StreamError::BadRequest(format!(
                    "port {item:?} must be > 0"
                )));
            }
            ports.push(port);
        }
    }
    Ok(ports)
}

fn frame(channel: u8, payload: &[u8]) -> Message {
    let mut buf = BytesMut::with_capacity(payload.len() + 1);
    buf.put_u8(channel);
    buf.put_slice(payload);
    Message::Binary(buf.freeze())
}

/// Serves one WebSocket until every port's connection ends or the client goes away.
pub async fn serve(socket: WebSocket, ports: Vec<u16>, dial: Dialer, pod: String) {
    let (mut sink, mut stream) = socket.split();
    let (out_tx, mut out_rx) = mpsc::channel::<Message>(64);
    // The port announcements come first, in port order, data channel then error channel.
    for (i, port) in ports.iter().enumerate() {
        let data = channel_of(i);
        for channel in [data, data + 1] {
            if sink
                .send(frame(channel, &port.to_le_bytes()))
                .await
                .is_err()
            {
                return;
            }
        }
    }
    let mut to_pod = Vec::with_capacity(ports.len());
    let mut forwards = tokio::task::JoinSet::new();
    for (i, port) in ports.iter().copied().enumerate() {
        let (tx, rx) = mpsc::channel::<Bytes>(32);
        to_pod.push(tx);
        forwards.spawn(forward(
            port,
            channel_of(i),
            dial.clone(),
            rx,
            out_tx.clone(),
            pod.clone(),
        ));
    }
    drop(out_tx);
    let writer = async move {
        while let Some(message) = out_rx.recv().await {
            if sink.send(message).await.is_err() {
                return;
            }
        }
        // Every connection has ended.
        close_normally(&mut sink).await;
    };
    let reader = async move {
        while let Some(Ok(message)) = stream.next().await {
            let data: Bytes = match message {
                Message::Binary(data) => data,
                Message::Text(text) => text.into(),
                Message::Close(_) => break,
                _ => continue,
            };
            let Some((&channel, payload)) = data.split_first() else {
                continue;
            };
            // Data for a port; anything sent on an error channel (or an unknown one) is dropped.
            let index = usize::from(channel / 2);
            if channel % 2 == 0 && !payload.is_empty() {
                if let Some(tx) = to_pod.get(index) {
                    let _ = tx.send(data.slice(1..)).await;
                }
            }
        }
    };
    tokio::select! {
        _ = writer => {}
        _ = reader => {}
    }
    forwards.abort_all();
}

fn channel_of(index: usize) -> u8 {
    u8::try_from(index * 2).unwrap_or(u8::MAX - 1)
}

/// One port: dial it in the pod and copy both ways until the pod's side ends.
async fn forward(
    port: u16,
    data_channel: u8,
    dial: Dialer,
    mut from_client: mpsc::Receiver<Bytes>,
    out: mpsc::Sender<Message>,
    pod: String,
) {
    let conn = match dial(port).await {
        Ok(conn) => conn,
        Err(err) => {
            let msg = format!("error forwarding port {port} to pod {pod}, uid : {err}");
            let _ = out.send(frame(data_channel + 1, msg.as_bytes())).await;
            return;
        }
    };
    let (mut rd, mut wr) = conn.into_split();
    let upstream = async move {
        while let Some(bytes) = from_client.recv().await {
            if wr.write_all(&bytes).await.is_err() {
                break;
            }
        }
        let _ = wr.shutdown().await;
    };
    let downstream = async move {
        let mut buf = vec![0u8; TCP_CHUNK];
        loop {
            match rd.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if out.send(frame(data_channel, &buf[..n])).await.is_err() {
                        break;
                    }
                }
            }
        }
    };
    // The connection ends when the pod's side does (as the kubelet's copy does).
    let upstream = tokio::spawn(upstream);
    downstream.await;
    upstream.abort();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_repeat_and_split_on_commas() {
        let q = Query::parse(Some("ports=80&ports=8080,9090"));
        assert_eq!(ports(&q).unwrap(), vec![80, 8080, 9090]);
    }

    #[test]
    fn bad_ports_are_bad_requests() {
        for raw in [
            "",
            "ports=",
            "ports=0",
            "ports=70000",
            "ports=x",
            "ports=80,",
        ] {
            let err = ports(&Query::parse(Some(raw))).unwrap_err();
            assert_eq!(err.code(), 400, "{raw}: {err}");
        }
    }
}
