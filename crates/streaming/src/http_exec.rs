//! `exec` and `attach`: validate, then upgrade to a WebSocket speaking v5 (or v4).

use std::sync::Arc;

use axum::extract::ws::{rejection::WebSocketUpgradeRejection, WebSocketUpgrade};
use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Response};

use crate::backend::{ContainerRef, StreamingBackend};
use crate::channel::ChannelProtocol;
use crate::error::StreamError;
use crate::exec_session;
use crate::query::Query;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Exec,
    Attach,
}

pub(crate) async fn exec(
    State(backend): State<Arc<dyn StreamingBackend>>,
    Path((namespace, pod)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Response {
    handle(Kind::Exec, backend, namespace, pod, raw, upgrade)
        .unwrap_or_else(IntoResponse::into_response)
}

pub(crate) async fn attach(
    State(backend): State<Arc<dyn StreamingBackend>>,
    Path((namespace, pod)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Response {
    handle(Kind::Attach, backend, namespace, pod, raw, upgrade)
        .unwrap_or_else(IntoResponse::into_response)
}

fn handle(
    kind: Kind,
    backend: Arc<dyn StreamingBackend>,
    namespace: String,
    pod: String,
    raw: Option<String>,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Result<Response, StreamError> {
    let query = Query::parse(raw.as_deref());
    let command = query.all("command");
    if kind == Kind::Exec && command.is_empty() {
        return Err(StreamError::BadRequest(
            "you must specify at least one command for the container".into(),
        ));
    }
    let stdio = query.stdio()?;
    let target = ContainerRef {
        namespace,
        pod,
        container: query.get("container").unwrap_or_default().to_owned(),
    };
    // Validation happens before the upgrade so kubectl's SPDY fallback POST gets the same error.
    backend.check_container(&target)?;
    let upgrade = upgrade.map_err(|_| {
        StreamError::BadRequest(
            "unable to upgrade connection: this node streams exec and attach over WebSocket \
             (v5.channel.k8s.io) only"
                .into(),
        )
    })?;
    let upgrade = upgrade.protocols(ChannelProtocol::ALL.map(ChannelProtocol::name));
    let protocol = upgrade
        .selected_protocol()
        .and_then(|p| p.to_str().ok())
        .and_then(ChannelProtocol::from_name)
        .ok_or_else(|| {
            StreamError::BadRequest(
                "unable to upgrade connection: no supported WebSocket subprotocol \
                 (want v5.channel.k8s.io or v4.channel.k8s.io)"
                    .into(),
            )
        })?;
    Ok(upgrade.on_upgrade(move |socket| {
        // The process starts only once the client is connected.
        let start = match kind {
            Kind::Exec => backend.exec(target, command, stdio),
            Kind::Attach => backend.attach(target, stdio),
        };
        exec_session::run(socket, protocol, start)
    }))
}
