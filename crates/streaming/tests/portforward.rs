//! port-forward: SPDY/3.1 inside a WebSocket (and raw SPDY), dialling an echo server inside a
//! real network namespace. The SPDY client here is written independently of the crate's codec:
//! frames are built by hand and header blocks compressed with flate2 + the SPDY/3 dictionary.

mod common;

use std::time::Duration;

use bytes::{Buf, BufMut, Bytes, BytesMut};
use common::backend::TestBackend;
use common::client::{apiserver_tls, ws_connect, Ws};
use common::netns::TestNetns;
use common::Harness;
use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress};
use futures::{SinkExt, StreamExt};
use hyper_util::rt::TokioIo;
use peapod_streaming::spdy::dictionary::SPDY3_DICTIONARY;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_tungstenite::tungstenite::Message;

const PATH: &str = "/api/v1/namespaces/default/pods/web/portforward";

enum Transport {
    Ws(Box<Ws>),
    Raw(TokioIo<hyper::upgrade::Upgraded>),
}

#[derive(Debug, PartialEq)]
enum Received {
    Control {
        kind: u16,
        flags: u8,
        payload: Bytes,
    },
    Data {
        stream: u32,
        flags: u8,
        data: Bytes,
    },
}

struct SpdyClient {
    transport: Transport,
    buffer: BytesMut,
    deflate: Compress,
    inflate: Decompress,
}

impl SpdyClient {
    fn new(transport: Transport) -> Self {
        let mut deflate = Compress::new(Compression::default(), true);
        deflate
            .set_dictionary(SPDY3_DICTIONARY)
            .expect("dictionary");
        SpdyClient {
            transport,
            buffer: BytesMut::new(),
            deflate,
            inflate: Decompress::new(true),
        }
    }

    /// Send bytes cut into uneven pieces, as kubectl's WebSocket writer does.
    async fn send(&mut self, bytes: &[u8]) {
        match &mut self.transport {
            Transport::Ws(ws) => {
                for piece in bytes.chunks(5) {
                    ws.send(Message::Binary(Bytes::copy_from_slice(piece)))
                        .await
                        .expect("ws send");
                }
            }
            Transport::Raw(io) => io.write_all(bytes).await.expect("raw send"),
        }
    }

    async fn syn_stream(&mut self, id: u32, kind: &str, port: u16, request_id: &str) {
        let port = port.to_string();
        let pairs = [
            ("streamtype", kind),
            ("port", port.as_str()),
            ("requestid", request_id),
        ];
        let mut block = BytesMut::new();
        block.put_u32(pairs.len() as u32);
        for (name, value) in pairs {
            block.put_u32(name.len() as u32);
            block.put_slice(name.as_bytes());
            block.put_u32(value.len() as u32);
            block.put_slice(value.as_bytes());
        }
        let mut compressed = Vec::with_capacity(block.len() + 128);
        self.deflate
            .compress_vec(&block, &mut compressed, FlushCompress::Sync)
            .expect("deflate");
        let mut frame = BytesMut::new();
        frame.put_u32(0x8003_0001);
        frame.put_u32((10 + compressed.len()) as u32);
        frame.put_u32(id);
        frame.put_u32(0);
        frame.put_u16(0);
        frame.put_slice(&compressed);
        self.send(&frame).await;
    }

    async fn data(&mut self, stream: u32, fin: bool, data: &[u8]) {
        let mut frame = BytesMut::new();
        frame.put_u32(stream);
        frame.put_u32((u32::from(fin) << 24) | data.len() as u32);
        frame.put_slice(data);
        self.send(&frame).await;
    }

    async fn ping(&mut self, id: u32) {
        self.send(&[0x80, 3, 0, 6, 0, 0, 0, 4, 0, 0, 0, id as u8])
            .await;
    }

    async fn next(&mut self) -> Received {
        tokio::time::timeout(Duration::from_secs(10), self.next_inner())
            .await
            .expect("frame in time")
    }

    async fn next_inner(&mut self) -> Received {
        loop {
            if self.buffer.len() >= 8 {
                let len = u32::from_be_bytes([0, self.buffer[5], self.buffer[6], self.buffer[7]])
                    as usize;
                if self.buffer.len() >= 8 + len {
                    let first = self.buffer.get_u32();
                    let flags_len = self.buffer.get_u32();
                    let payload = self.buffer.split_to(len).freeze();
                    let flags = (flags_len >> 24) as u8;
                    return if first & 0x8000_0000 != 0 {
                        assert_eq!((first >> 16) & 0x7fff, 3, "SPDY version 3");
                        Received::Control {
                            kind: (first & 0xffff) as u16,
                            flags,
                            payload,
                        }
                    } else {
                        Received::Data {
                            stream: first,
                            flags,
                            data: payload,
                        }
                    };
                }
            }
            match &mut self.transport {
                Transport::Ws(ws) => match ws.next().await.expect("open").expect("ws read") {
                    Message::Binary(bytes) => self.buffer.extend_from_slice(&bytes),
                    Message::Close(frame) => panic!("unexpected close {frame:?}"),
                    _ => {}
                },
                Transport::Raw(io) => {
                    let mut buf = [0u8; 8192];
                    let n = io.read(&mut buf).await.expect("raw read");
                    assert!(n > 0, "unexpected EOF");
                    self.buffer.extend_from_slice(&buf[..n]);
                }
            }
        }
    }

    /// Expect a SYN_REPLY for `stream` whose header block inflates on our single zlib stream.
    async fn expect_syn_reply(&mut self, stream: u32) {
        match self.next().await {
            Received::Control {
                kind: 2,
                mut payload,
                ..
            } => {
                assert_eq!(payload.get_u32(), stream);
                assert!(!payload.is_empty(), "header block must not be empty bytes");
                let mut out = Vec::with_capacity(256);
                self.inflate
                    .decompress_vec(&payload, &mut out, FlushDecompress::Sync)
                    .expect("server header block inflates");
                assert_eq!(&out[..4], &[0, 0, 0, 0], "zero headers");
            }
            other => panic!("expected SYN_REPLY for {stream}, got {other:?}"),
        }
    }

    /// Collect DATA on `stream` until FIN; other frames must not interleave except DATA on `also`.
    async fn read_until_fin(&mut self, stream: u32) -> Vec<u8> {
        let mut out = Vec::new();
        loop {
            match self.next().await {
                Received::Data {
                    stream: s,
                    flags,
                    data,
                } if s == stream => {
                    out.extend_from_slice(&data);
                    if flags & 1 != 0 {
                        return out;
                    }
                }
                other => panic!("unexpected frame {other:?} while reading stream {stream}"),
            }
        }
    }
}

/// Open the error/data pair, send `payload`, half-close, and check the echo and both FINs.
async fn echo_round_trip(client: &mut SpdyClient, port: u16, payload: &[u8]) {
    client.syn_stream(1, "error", port, "0").await;
    client.data(1, true, b"").await; // kubectl closes its side of the error stream at once
    client.syn_stream(3, "data", port, "0").await;
    client.expect_syn_reply(1).await;
    client.expect_syn_reply(3).await;
    client.ping(9).await;
    assert_eq!(
        client.next().await,
        Received::Control {
            kind: 6,
            flags: 0,
            payload: Bytes::from_static(&[0, 0, 0, 9])
        },
        "PING is echoed"
    );
    for chunk in payload.chunks(30_000) {
        client.data(3, false, chunk).await;
    }
    client.data(3, true, b"").await;
    let echoed = client.read_until_fin(3).await;
    assert_eq!(echoed.len(), payload.len());
    assert!(echoed == payload, "echo must match");
    assert_eq!(
        client.read_until_fin(1).await,
        b"",
        "error stream ends empty"
    );
}

fn payload() -> Vec<u8> {
    (0..300_000u32).map(|i| (i % 253) as u8).collect()
}

async fn setup() -> (Harness, TestNetns, tempfile::TempDir) {
    let netns = TestNetns::create().expect("network namespace");
    let dir = tempfile::tempdir().expect("tempdir");
    let mut backend = TestBackend::new(dir.path());
    backend.netns = Some(netns.path.clone());
    (Harness::start(backend, vec![]).await, netns, dir)
}

#[tokio::test]
async fn websocket_tunnel_forwards_into_the_pod_network_namespace() {
    let (harness, netns, _dir) = setup().await;
    let ws = ws_connect(&harness, PATH, "SPDY/3.1+portforward.k8s.io")
        .await
        .expect("upgrade");
    let mut client = SpdyClient::new(Transport::Ws(Box::new(ws)));
    echo_round_trip(&mut client, netns.echo_port, &payload()).await;

    // A port with no listener: the error stream explains, then both streams end.
    client.syn_stream(5, "error", netns.closed_port, "1").await;
    client.syn_stream(7, "data", netns.closed_port, "1").await;
    client.expect_syn_reply(5).await;
    client.expect_syn_reply(7).await;
    let error = String::from_utf8(client.read_until_fin(5).await).expect("utf8");
    assert!(
        error.contains(&format!("error forwarding port {}", netns.closed_port)),
        "got {error:?}"
    );
    assert_eq!(client.read_until_fin(7).await, b"");
}

#[tokio::test]
async fn the_echo_server_lives_only_in_the_pod_namespace() {
    let (_harness, netns, _dir) = setup().await;
    // The namespace file is a different network namespace than the test's own.
    use std::os::unix::fs::MetadataExt;
    let host = std::fs::read_link("/proc/self/ns/net").expect("host netns");
    let pod = std::fs::metadata(&netns.path).expect("netns file").ino();
    assert_ne!(format!("net:[{pod}]"), host.to_string_lossy());
    // And the echo port does not echo on the host's loopback: forwarding must enter the pod.
    if let Ok(mut direct) = tokio::net::TcpStream::connect(("127.0.0.1", netns.echo_port)).await {
        direct.write_all(b"x").await.expect("write");
        let mut buf = [0u8; 1];
        let echoed = tokio::time::timeout(Duration::from_millis(300), direct.read(&mut buf)).await;
        assert!(
            !matches!(echoed, Ok(Ok(1)) if buf == *b"x"),
            "host port must not be our echo"
        );
    }
}

#[tokio::test]
async fn raw_spdy_upgrade_fallback_works_too() {
    let (harness, netns, _dir) = setup().await;
    let tls = apiserver_tls(&harness).await;
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(tls))
        .await
        .expect("handshake");
    tokio::spawn(connection.with_upgrades());
    let request = hyper::Request::post(PATH)
        .header("Host", "localhost")
        .header("Connection", "Upgrade")
        .header("Upgrade", "SPDY/3.1")
        .header("X-Stream-Protocol-Version", "portforward.k8s.io")
        .body(String::new())
        .expect("request");
    let response = sender.send_request(request).await.expect("response");
    assert_eq!(response.status().as_u16(), 101);
    assert_eq!(response.headers()["upgrade"], "SPDY/3.1");
    let upgraded = hyper::upgrade::on(response).await.expect("upgraded");
    let mut client = SpdyClient::new(Transport::Raw(TokioIo::new(upgraded)));
    echo_round_trip(&mut client, netns.echo_port, b"over raw spdy").await;
}

#[tokio::test]
async fn unknown_pod_is_refused_before_upgrade() {
    let (harness, _netns, _dir) = setup().await;
    let result = ws_connect(
        &harness,
        "/api/v1/namespaces/default/pods/nope/portforward",
        "SPDY/3.1+portforward.k8s.io",
    )
    .await;
    match result {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status().as_u16(), 404)
        }
        Err(other) => panic!("expected 404, got {other}"),
        Ok(_) => panic!("upgrade must be refused"),
    }
}
