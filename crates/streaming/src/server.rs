//! The HTTPS listener and the routes (the same paths the API server serves, so its proxy can
//! forward requests unchanged).

use std::io;
use std::sync::Arc;
use std::time::Duration;

use axum::routing::get;
use axum::Router;
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

use crate::backend::StreamingBackend;
use crate::error::StreamError;
use crate::tls::{self, ServerTls};
use crate::{http_exec, http_logs, http_portforward};

/// The kubelet's streaming port.
pub const DEFAULT_PORT: u16 = 10250;
const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// The routes, without TLS (for embedding behind another listener).
pub fn router(backend: Arc<dyn StreamingBackend>) -> Router {
    let pods = "/api/v1/namespaces/{namespace}/pods/{pod}";
    Router::new()
        .route(&format!("{pods}/log"), get(http_logs::logs))
        .route(
            &format!("{pods}/exec"),
            get(http_exec::exec).post(http_exec::exec),
        )
        .route(
            &format!("{pods}/attach"),
            get(http_exec::attach).post(http_exec::attach),
        )
        .route(
            &format!("{pods}/portforward"),
            get(http_portforward::portforward).post(http_portforward::portforward),
        )
        .fallback(|| async {
            StreamError::NotFound("the server could not find the requested resource".into())
        })
        .with_state(backend)
}

/// Serve HTTPS on `listener` until it fails; every client must present a certificate signed by
/// `tls.ca_pem`. TLS configuration errors are returned before accepting anything.
pub async fn serve(
    listener: TcpListener,
    tls: ServerTls,
    backend: Arc<dyn StreamingBackend>,
) -> io::Result<()> {
    let acceptor = TlsAcceptor::from(tls::server_config(&tls)?);
    let allowed = Arc::new(tls.allowed_common_names);
    let app = router(backend);
    let forbidden = Router::new().fallback(|| async {
        // Signed by the CA but not a client this node serves (e.g. another node's certificate).
        crate::response::forbidden()
    });
    loop {
        let (tcp, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(err) if is_transient(&err) => {
                tracing::warn!(%err, "accept failed; retrying");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
            Err(err) => return Err(err),
        };
        let acceptor = acceptor.clone();
        let allowed = allowed.clone();
        let app = app.clone();
        let forbidden = forbidden.clone();
        tokio::spawn(async move {
            let stream =
                match tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
                    Ok(Ok(stream)) => stream,
                    Ok(Err(err)) => {
                        tracing::debug!(%peer, %err, "TLS handshake failed");
                        return;
                    }
                    Err(_) => return,
                };
            let authorized = allowed.is_empty()
                || stream
                    .get_ref()
                    .1
                    .peer_certificates()
                    .and_then(|chain| chain.first())
                    .and_then(tls::common_name)
                    .is_some_and(|cn| allowed.contains(&cn));
            let service = TowerToHyperService::new(if authorized { app } else { forbidden });
            let connection = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .with_upgrades();
            if let Err(err) = connection.await {
                tracing::debug!(%peer, %err, "streaming connection ended with an error");
            }
        });
    }
}

/// Errors after which accepting more connections can still work (fd exhaustion, aborted peers).
fn is_transient(err: &io::Error) -> bool {
    matches!(
        err.kind(),
        io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::Interrupted
    ) || matches!(
        err.raw_os_error(),
        Some(libc::EMFILE | libc::ENFILE | libc::ENOBUFS | libc::ENOMEM)
    )
}
