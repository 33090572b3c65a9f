//! TLS, WebSocket and HTTP clients talking to the test server like the API server's proxy would.

use std::sync::Arc;

use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use tokio_rustls::TlsConnector;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::WebSocketStream;

use super::Harness;

pub type Tls = TlsStream<TcpStream>;
pub type Ws = WebSocketStream<Tls>;

fn pem_certs(pem: &str) -> Vec<CertificateDer<'static>> {
    rustls_pemfile::certs(&mut pem.as_bytes())
        .collect::<Result<_, _>>()
        .expect("certs")
}

/// Connect with TLS, presenting `client` (cert PEM, key PEM) if given.
pub async fn tls_connect(
    harness: &Harness,
    client: Option<(String, String)>,
) -> std::io::Result<Tls> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    for cert in pem_certs(&harness.certs.ca_pem) {
        roots.add(cert).expect("root");
    }
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_root_certificates(roots);
    let config = match client {
        Some((cert, key)) => {
            let key: PrivateKeyDer<'static> = rustls_pemfile::private_key(&mut key.as_bytes())
                .expect("key pem")
                .expect("key");
            builder
                .with_client_auth_cert(pem_certs(&cert), key)
                .expect("client auth")
        }
        None => builder.with_no_client_auth(),
    };
    let tcp = TcpStream::connect(harness.addr).await?;
    let name = ServerName::try_from("localhost").expect("name");
    let mut tls = TlsConnector::from(Arc::new(config))
        .connect(name, tcp)
        .await?;
    // TLS 1.3 reports a rejected client certificate only on the first read: probe for it.
    use tokio::io::AsyncWriteExt;
    tls.flush().await?;
    Ok(tls)
}

/// Connect as the API server (CN "apiserver").
pub async fn apiserver_tls(harness: &Harness) -> Tls {
    tls_connect(harness, Some(harness.certs.client("apiserver")))
        .await
        .expect("tls connect")
}

/// Open a WebSocket on `path` offering `protocols`.
pub async fn ws_connect(
    harness: &Harness,
    path: &str,
    protocols: &str,
) -> Result<Ws, tokio_tungstenite::tungstenite::Error> {
    let tls = apiserver_tls(harness).await;
    let mut request =
        format!("wss://localhost:{}{}", harness.addr.port(), path).into_client_request()?;
    request.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        HeaderValue::from_str(protocols).expect("header"),
    );
    let (ws, response) = tokio_tungstenite::client_async(request, tls).await?;
    assert_eq!(
        response
            .headers()
            .get("Sec-WebSocket-Protocol")
            .and_then(|v| v.to_str().ok()),
        Some(protocols.split(',').next().unwrap_or_default().trim()),
        "server must echo the negotiated subprotocol"
    );
    Ok(ws)
}

/// Send a request over a fresh connection; returns the response with a streaming body.
pub async fn http_request(
    harness: &Harness,
    request: hyper::Request<String>,
) -> hyper::Response<Incoming> {
    let tls = apiserver_tls(harness).await;
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(tls))
        .await
        .expect("handshake");
    tokio::spawn(connection.with_upgrades());
    sender.send_request(request).await.expect("response")
}

pub async fn http_get(harness: &Harness, path: &str) -> hyper::Response<Incoming> {
    let request = hyper::Request::get(path)
        .header("Host", "localhost")
        .body(String::new())
        .expect("request");
    http_request(harness, request).await
}

/// Next chunk of a streaming body (None at the end).
pub async fn next_chunk(body: &mut Incoming) -> Option<Bytes> {
    loop {
        let frame = body.frame().await?.expect("body frame");
        if let Ok(data) = frame.into_data() {
            return Some(data);
        }
    }
}

pub async fn read_all(body: Incoming) -> String {
    let bytes = body.collect().await.expect("body").to_bytes();
    String::from_utf8(bytes.to_vec()).expect("utf8")
}
