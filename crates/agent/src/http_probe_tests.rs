//! Real HTTP and HTTPS servers on loopback answering the prober.

use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

use super::{get, Check, Outcome, Request};

/// Serves one status for every request; sends each request head it received to `seen`.
async fn serve(https: bool, status: u16) -> (u16, mpsc::UnboundedReceiver<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let acceptor = https.then(|| {
        let cert = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
        let key = rustls::pki_types::PrivateKeyDer::Pkcs8(cert.signing_key.serialize_der().into());
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let cfg = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(vec![cert.cert.der().clone()], key)
            .unwrap();
        tokio_rustls::TlsAcceptor::from(Arc::new(cfg))
    });
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let (acceptor, tx) = (acceptor.clone(), tx.clone());
            tokio::spawn(async move {
                let answer = format!("HTTP/1.1 {status} X\r\nContent-Length: 0\r\n\r\n");
                match acceptor {
                    Some(a) => {
                        let Ok(mut s) = a.accept(tcp).await else {
                            return;
                        };
                        let mut buf = vec![0u8; 4096];
                        let n = s.read(&mut buf).await.unwrap_or(0);
                        let _ = tx.send(String::from_utf8_lossy(&buf[..n]).to_string());
                        let _ = s.write_all(answer.as_bytes()).await;
                        let _ = s.shutdown().await;
                    }
                    None => {
                        let mut s = tcp;
                        let mut buf = vec![0u8; 4096];
                        let n = s.read(&mut buf).await.unwrap_or(0);
                        let _ = tx.send(String::from_utf8_lossy(&buf[..n]).to_string());
                        let _ = s.write_all(answer.as_bytes()).await;
                    }
                }
            });
        }
    });
    (port, rx)
}

fn req<'a>(port: u16, https: bool, headers: &'a [(String, String)]) -> Request<'a> {
    Request {
        host: "127.0.0.1",
        port,
        https,
        path: "healthz",
        headers,
        check: Check::Probe,
    }
}

const T: Duration = Duration::from_secs(5);

#[tokio::test]
async fn https_probe_skips_verification_and_reads_the_status() {
    let (ok_port, mut seen) = serve(true, 204).await;
    let headers = vec![("Host".to_string(), "example.test".to_string())];
    assert_eq!(
        get(&req(ok_port, true, &headers), T).await,
        Outcome::Success
    );
    let head = seen.recv().await.unwrap();
    assert!(head.starts_with("GET /healthz HTTP/1.1\r\n"), "{head}");
    assert!(head.contains("Host: example.test\r\n"), "{head}");
    assert!(head.contains("User-Agent: kube-probe/"), "{head}");
    assert!(!head.contains("127.0.0.1"), "{head}");

    let (bad_port, _seen) = serve(true, 503).await;
    assert_eq!(
        get(&req(bad_port, true, &[]), T).await,
        Outcome::Failure("HTTP probe failed with statuscode: 503".into())
    );
    // A hook only fails when there is no answer at all.
    let hook = Request {
        check: Check::Hook,
        ..req(bad_port, true, &[])
    };
    assert_eq!(get(&hook, T).await, Outcome::Success);
}

#[tokio::test]
async fn http_probe_and_its_failures() {
    let (port, _seen) = serve(false, 302).await;
    assert_eq!(get(&req(port, false, &[]), T).await, Outcome::Success);
    // Speaking TLS to a plain HTTP server fails the handshake, with the URL in the message.
    let Outcome::Failure(msg) = get(&req(port, true, &[]), T).await else {
        panic!("TLS to a plain server succeeded");
    };
    assert!(
        msg.starts_with(&format!("Get \"https://127.0.0.1:{port}/healthz\": TLS")),
        "{msg}"
    );
    // Nothing listens: connection refused, as kubelet words it.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let free = closed.local_addr().unwrap().port();
    drop(closed);
    assert_eq!(
        get(&req(free, false, &[]), T).await,
        Outcome::Failure(format!(
            "Get \"http://127.0.0.1:{free}/healthz\": dial tcp 127.0.0.1:{free}: connect: connection refused"
        ))
    );
    // Header injection is refused before anything is sent.
    let evil = vec![("X".to_string(), "a\r\nB: c".to_string())];
    assert!(
        matches!(get(&req(port, false, &evil), T).await, Outcome::Failure(m) if m.contains("invalid header"))
    );
}
