//! The gRPC health checking protocol (`grpc.health.v1.Health/Check`) over plaintext HTTP/2,
//! for `grpc` probes. The two messages are tiny, so they are encoded by hand.

use bytes::{Buf, Bytes};
use http_body_util::{BodyExt, Full};
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::TcpStream;

/// `HealthCheckResponse.ServingStatus` names.
pub fn status_name(status: u64) -> &'static str {
    match status {
        0 => "UNKNOWN",
        1 => "SERVING",
        2 => "NOT_SERVING",
        3 => "SERVICE_UNKNOWN",
        _ => "UNKNOWN",
    }
}

fn varint(mut v: u64, out: &mut Vec<u8>) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn read_varint(buf: &mut &[u8]) -> Option<u64> {
    let mut v = 0u64;
    for shift in (0..64).step_by(7) {
        let b = *buf.first()?;
        *buf = &buf[1..];
        v |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            return Some(v);
        }
    }
    None
}

/// gRPC frame of `HealthCheckRequest { service }`.
pub fn encode_request(service: &str) -> Vec<u8> {
    let mut msg = Vec::new();
    if !service.is_empty() {
        msg.push(0x0a);
        varint(service.len() as u64, &mut msg);
        msg.extend_from_slice(service.as_bytes());
    }
    let mut frame = vec![0u8];
    frame.extend_from_slice(&(msg.len() as u32).to_be_bytes());
    frame.extend_from_slice(&msg);
    frame
}

/// The `status` of a framed `HealthCheckResponse` (0 when absent, as proto3 defaults).
pub fn decode_response(frame: &[u8]) -> Result<u64, String> {
    if frame.len() < 5 {
        return Err("short gRPC response".into());
    }
    if frame[0] != 0 {
        return Err("compressed gRPC responses are not supported".into());
    }
    let len = u32::from_be_bytes([frame[1], frame[2], frame[3], frame[4]]) as usize;
    let mut msg = frame.get(5..5 + len).ok_or("truncated gRPC response")?;
    let mut status = 0;
    while !msg.is_empty() {
        let key = read_varint(&mut msg).ok_or("bad protobuf")?;
        match key & 7 {
            0 => {
                let v = read_varint(&mut msg).ok_or("bad protobuf")?;
                if key >> 3 == 1 {
                    status = v;
                }
            }
            2 => {
                let l = read_varint(&mut msg).ok_or("bad protobuf")? as usize;
                if l > msg.len() {
                    return Err("bad protobuf".into());
                }
                msg.advance(l);
            }
            _ => return Err("unexpected protobuf wire type".into()),
        }
    }
    Ok(status)
}

/// Calls Check on `addr` (`ip:port`); returns the serving status.
pub async fn check(addr: &str, service: &str) -> Result<u64, String> {
    let tcp = TcpStream::connect(addr)
        .await
        .map_err(|e| format!("failed to connect service {addr:?}: {e}"))?;
    let (mut sender, conn) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(tcp))
            .await
            .map_err(|e| format!("HTTP/2 handshake with {addr}: {e}"))?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    let req = hyper::Request::post(format!("http://{addr}/grpc.health.v1.Health/Check"))
        .header("content-type", "application/grpc")
        .header("te", "trailers")
        .header("user-agent", "kube-probe/1.33")
        .body(Full::new(Bytes::from(encode_request(service))))
        .map_err(|e| e.to_string())?;
    let resp = sender
        .send_request(req)
        .await
        .map_err(|e| format!("health rpc failed: {e}"))?;
    let header_status = resp
        .headers()
        .get("grpc-status")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let collected = resp
        .into_body()
        .collect()
        .await
        .map_err(|e| format!("health rpc failed: {e}"))?;
    let trailer_status = collected
        .trailers()
        .and_then(|t| t.get("grpc-status"))
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    match trailer_status.or(header_status).as_deref() {
        Some("0") | None => {}
        Some(code) => return Err(format!("health rpc failed with grpc-status {code}")),
    }
    decode_response(&collected.to_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_and_response_framing() {
        assert_eq!(encode_request(""), vec![0, 0, 0, 0, 0]);
        assert_eq!(
            encode_request("ab"),
            vec![0, 0, 0, 0, 4, 0x0a, 2, b'a', b'b']
        );
        assert_eq!(decode_response(&[0, 0, 0, 0, 2, 0x08, 1]).unwrap(), 1);
        assert_eq!(decode_response(&[0, 0, 0, 0, 0]).unwrap(), 0);
        assert!(decode_response(&[0, 0, 0, 0, 9, 0x08]).is_err());
    }

    /// A real HTTP/2 gRPC health server on loopback: "" serves, "down" doesn't, any other
    /// service is unknown (grpc-status 5 in a trailers-only answer).
    async fn health_server() -> String {
        use http_body_util::StreamBody;
        use hyper::body::Frame;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let svc = hyper::service::service_fn(
                    |req: hyper::Request<hyper::body::Incoming>| async move {
                        assert_eq!(req.uri().path(), "/grpc.health.v1.Health/Check");
                        let body = req.into_body().collect().await.unwrap().to_bytes();
                        let service =
                            String::from_utf8_lossy(body.get(7..).unwrap_or_default()).to_string();
                        let mut trailers = hyper::HeaderMap::new();
                        let frames = match service.as_str() {
                            "" | "down" => {
                                let status = if service.is_empty() { 1 } else { 2 };
                                trailers.insert("grpc-status", "0".parse().unwrap());
                                vec![
                                    Frame::data(Bytes::from(vec![0, 0, 0, 0, 2, 0x08, status])),
                                    Frame::trailers(trailers),
                                ]
                            }
                            _ => {
                                trailers.insert("grpc-status", "5".parse().unwrap());
                                vec![Frame::trailers(trailers)]
                            }
                        };
                        let stream = futures::stream::iter(
                            frames.into_iter().map(Ok::<_, std::convert::Infallible>),
                        );
                        Ok::<_, std::convert::Infallible>(
                            hyper::Response::builder()
                                .header("content-type", "application/grpc")
                                .body(StreamBody::new(stream))
                                .unwrap(),
                        )
                    },
                );
                tokio::spawn(
                    hyper::server::conn::http2::Builder::new(TokioExecutor::new())
                        .serve_connection(TokioIo::new(tcp), svc),
                );
            }
        });
        addr
    }

    #[tokio::test]
    async fn checks_a_real_grpc_health_server() {
        let addr = health_server().await;
        assert_eq!(check(&addr, "").await, Ok(1));
        assert_eq!(check(&addr, "down").await, Ok(2));
        assert_eq!(
            check(&addr, "nope").await,
            Err("health rpc failed with grpc-status 5".into())
        );
        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let free = closed.local_addr().unwrap().to_string();
        drop(closed);
        assert!(check(&free, "")
            .await
            .unwrap_err()
            .starts_with("failed to connect service"));
    }
}
