//! watch: a chunked stream of `{"type": ..., "object": ...}` lines. Starts from the given
//! resourceVersion (or from a fresh list, as synthetic ADDED events, when none is given),
//! filters by selectors with Kubernetes' transition rules (an object that stops matching is
//! DELETED, one that starts matching is ADDED), sends BOOKMARKs when allowed, and ends with
//! a 410 Expired ERROR event when the history is gone.

use std::time::Duration;

use axum::body::Body;
use axum::http::{header, StatusCode};
use axum::response::Response;
use bytes::Bytes;
use futures::StreamExt;
use peapod_store::{EventType, StoreError};
use serde_json::{json, Value};
use tokio::sync::mpsc;

use super::Ctx;
use crate::errors::{ApiError, ApiResult};
use crate::filter::Filter;
use crate::object_store::decode;
use crate::registry::ResourceInfo;
use crate::tables::{self, IncludeObject};

const BOOKMARK_EVERY: Duration = Duration::from_secs(15);

/// How events are rendered for this client.
#[derive(Clone, Copy)]
struct Render {
    res: &'static ResourceInfo,
    table: Option<IncludeObject>,
}

impl Render {
    fn line(&self, kind: &str, obj: &Value, first: bool) -> Bytes {
        let object = match self.table {
            Some(include) => tables::table(
                self.res,
                std::slice::from_ref(obj),
                include,
                json!({"resourceVersion": crate::object_meta::resource_version(obj).unwrap_or("")}),
                first,
            ),
            None => obj.clone(),
        };
        let mut line =
            serde_json::to_vec(&json!({"type": kind, "object": object})).unwrap_or_default();
        line.push(b'\n');
        Bytes::from(line)
    }
}

fn error_line(e: &ApiError) -> Bytes {
    let mut line =
        serde_json::to_vec(&json!({"type": "ERROR", "object": e.to_status()})).unwrap_or_default();
    line.push(b'\n');
    Bytes::from(line)
}

pub async fn watch(ctx: &Ctx<'_>) -> ApiResult<Response> {
    let rr = ctx.rr;
    let mut filter = Filter::from_query(rr.res, ctx.query)?;
    if let Some(name) = &rr.name {
        // `/watch/.../name` form: watch one object.
        let q = crate::query::Query::parse(Some(&format!("fieldSelector=metadata.name%3D{name}")));
        filter = Filter::from_query(rr.res, &q)?;
    }
    let render = Render {
        res: rr.res,
        table: tables::wants_table(ctx.accept)
            .then(|| IncludeObject::from_query(ctx.query.get("includeObject"))),
    };
    let bookmarks = ctx.query.flag("allowWatchBookmarks");
    let timeout = match ctx.query.int("timeoutSeconds")? {
        Some(t) if t > 0 => Duration::from_secs(t as u64),
        // Kubernetes ends watches after a randomised 30-60 minutes.
        _ => Duration::from_secs(1800 + rand::random::<u64>() % 1800),
    };
    let prefix = rr.res.list_prefix(rr.namespace.as_deref());
    let store = ctx.state.objects.store.clone();

    let (tx, rx) = mpsc::channel::<Bytes>(256);
    let mut first = true;
    // Where to start: a given revision, or a list now plus everything after it.
    let start = match ctx.query.non_empty("resourceVersion") {
        Some(v) if v != "0" => Some(
            v.parse::<i64>()
                .map_err(|_| ApiError::bad_request(format!("invalid resourceVersion {v:?}")))?,
        ),
        _ => None,
    };
    let (after, initial) = match start {
        Some(rv) => (rv, Vec::new()),
        None => {
            let (items, rev, _) = super::read::collect(ctx, &filter, 0).await?;
            (rev, items)
        }
    };
    let mut watcher = match store.watch(&prefix, after).await {
        Ok(w) => Some(w),
        Err(StoreError::Compacted { .. }) => None,
        Err(e) => return Err(e.into()),
    };
    let Some(mut watcher) = watcher.take() else {
        let e = ApiError::expired(format!(
            "too old resource version: {after} ({})",
            store.current_revision()
        ));
        let _ = tx.try_send(error_line(&e));
        drop(tx);
        return Ok(stream_response(rx));
    };
    // Events every client sees as they are can be spliced from the stored bytes.
    let splice = render.table.is_none() && filter.is_everything();
    let watchers = ctx.state.metrics.watch_started();
    tokio::spawn(async move {
        let _guard = watchers;
        for obj in &initial {
            if tx.send(render.line("ADDED", obj, first)).await.is_err() {
                return;
            }
            first = false;
        }
        let deadline = tokio::time::sleep(timeout);
        tokio::pin!(deadline);
        let mut tick = tokio::time::interval(BOOKMARK_EVERY);
        tick.tick().await;
        loop {
            tokio::select! {
                _ = &mut deadline => break,
                _ = tx.closed() => break,
                _ = tick.tick(), if bookmarks => {
                    let rv = watcher.last_revision().max(after);
                    let obj = json!({"kind": render.res.gvk.kind, "apiVersion": render.res.gvk.api_version(),
                        "metadata": {"resourceVersion": rv.to_string()}});
                    let mut line = serde_json::to_vec(&json!({"type": "BOOKMARK", "object": obj})).unwrap_or_default();
                    line.push(b'\n');
                    if tx.send(Bytes::from(line)).await.is_err() { break; }
                }
                ev = watcher.next() => {
                    let ev = match ev {
                        None => break,
                        Some(Err(e)) => { let _ = tx.send(error_line(&ApiError::from(e))).await; break; }
                        Some(Ok(ev)) => ev,
                    };
                    let line = match splice.then(|| raw_line(&ev)).flatten() {
                        Some(line) => line,
                        None => match translate(&ev, &filter) {
                            Ok(Some((kind, obj))) => render.line(kind, &obj, first),
                            Ok(None) => continue,
                            Err(e) => { tracing::warn!(error = %e.message, "watch decode"); continue; }
                        },
                    };
                    first = false;
                    if tx.send(line).await.is_err() { break; }
                }
            }
        }
    });
    Ok(stream_response(rx))
}

/// The watch line of an event every client sees as it is, spliced from the stored bytes
/// (`raw_json`); `None` when they are not of the shape that allows it.
fn raw_line(ev: &peapod_store::Event) -> Option<Bytes> {
    let kind = unfiltered_kind(ev);
    let object = crate::raw_json::with_resource_version(&ev.kv.value, ev.kv.mod_revision)?;
    let mut line = Vec::with_capacity(object.len() + 32);
    line.extend_from_slice(b"{\"type\":\"");
    line.extend_from_slice(kind.as_bytes());
    line.extend_from_slice(b"\",\"object\":");
    line.extend_from_slice(&object);
    line.extend_from_slice(b"}\n");
    Some(Bytes::from(line))
}

/// The event's type when no selector can move the object in or out of view.
fn unfiltered_kind(ev: &peapod_store::Event) -> &'static str {
    match ev.kind {
        EventType::Delete => "DELETED",
        _ if ev.is_create() => "ADDED",
        _ => "MODIFIED",
    }
}

/// A store event as the watch event this client should see, if any.
fn translate(
    ev: &peapod_store::Event,
    filter: &Filter,
) -> ApiResult<Option<(&'static str, Value)>> {
    let obj = decode(&ev.kv)?;
    let now = filter.matches(&obj);
    if ev.kind == EventType::Delete || ev.is_create() || filter.is_everything() {
        return Ok(now.then_some((unfiltered_kind(ev), obj)));
    }
    let before = match &ev.prev {
        Some(p) => filter.matches(&decode(p)?),
        None => false,
    };
    Ok(match (before, now) {
        (true, true) => Some(("MODIFIED", obj)),
        (false, true) => Some(("ADDED", obj)),
        (true, false) => Some(("DELETED", obj)),
        (false, false) => None,
    })
}

fn stream_response(rx: mpsc::Receiver<Bytes>) -> Response {
    let stream = tokio_stream_from(rx).map(Ok::<_, std::convert::Infallible>);
    let mut r = Response::new(Body::from_stream(stream));
    *r.status_mut() = StatusCode::OK;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/json"),
    );
    r
}

fn tokio_stream_from(mut rx: mpsc::Receiver<Bytes>) -> impl futures::Stream<Item = Bytes> {
    futures::stream::poll_fn(move |cx| rx.poll_recv(cx))
}
