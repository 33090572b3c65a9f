//! Only clients with a certificate from the cluster CA (and, if configured, an allowed CN) get in.

mod common;

use common::backend::TestBackend;
use common::certs::TestCerts;
use common::client::{http_request, read_all, tls_connect};
use common::Harness;
use hyper_util::rt::TokioIo;

async fn get_status(tls: common::client::Tls) -> std::io::Result<u16> {
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(tls))
        .await
        .map_err(std::io::Error::other)?;
    tokio::spawn(connection);
    let request = hyper::Request::get("/api/v1/namespaces/default/pods/web/log?container=main")
        .header("Host", "localhost")
        .body(String::new())
        .map_err(std::io::Error::other)?;
    let response = sender
        .send_request(request)
        .await
        .map_err(std::io::Error::other)?;
    Ok(response.status().as_u16())
}

#[tokio::test]
async fn clients_without_a_cluster_certificate_are_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let harness = Harness::start(TestBackend::new(dir.path()), vec![]).await;
    let anonymous = match tls_connect(&harness, None).await {
        Ok(tls) => get_status(tls).await.is_ok(),
        Err(_) => false,
    };
    assert!(
        !anonymous,
        "a client without certificate must not get an answer"
    );
    let foreign = match tls_connect(&harness, Some(TestCerts::foreign_client())).await {
        Ok(tls) => get_status(tls).await.is_ok(),
        Err(_) => false,
    };
    assert!(
        !foreign,
        "a certificate from another CA must not get an answer"
    );
}

#[tokio::test]
async fn allowed_common_names_limit_who_is_served() {
    let dir = tempfile::tempdir().expect("tempdir");
    let backend = TestBackend::new(dir.path());
    std::fs::write(&backend.log_path, "2024-01-01T00:00:00Z stdout F ok\n").expect("log");
    let harness = Harness::start(backend, vec!["apiserver".into()]).await;

    let other_node = tls_connect(&harness, Some(harness.certs.client("system:node:other")))
        .await
        .expect("tls");
    assert_eq!(get_status(other_node).await.expect("answer"), 403);

    let request = hyper::Request::get("/api/v1/namespaces/default/pods/web/log?container=main")
        .header("Host", "localhost")
        .body(String::new())
        .expect("request");
    let response = http_request(&harness, request).await;
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(read_all(response.into_body()).await, "ok\n");
}
