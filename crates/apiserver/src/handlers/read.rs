//! get and list.

use axum::http::StatusCode;
use axum::response::Response;
use base64::Engine;
use serde_json::{json, Value};

use super::Ctx;
use crate::errors::{ApiError, ApiResult};
use crate::filter::Filter;
use crate::object_store::decode;
use crate::raw_json;
use crate::respond;
use crate::tables::{self, IncludeObject};

pub async fn get(ctx: &Ctx<'_>) -> ApiResult<Response> {
    let rr = ctx.rr;
    let name = rr.name.as_deref().unwrap_or_default();
    let (obj, _) = ctx
        .state
        .objects
        .must_get(rr.res, rr.namespace.as_deref(), name)
        .await?;
    if tables::wants_table(ctx.accept) {
        let include = IncludeObject::from_query(ctx.query.get("includeObject"));
        let meta =
            json!({"resourceVersion": crate::object_meta::resource_version(&obj).unwrap_or("")});
        return Ok(respond::json(
            StatusCode::OK,
            &tables::table(rr.res, &[obj], include, meta, true),
        ));
    }
    Ok(respond::json(StatusCode::OK, &obj))
}

/// Continue tokens carry the last key returned, like Kubernetes' (opaque to clients).
fn encode_continue(key: &str, rev: i64) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(json!({"k": key, "rv": rev}).to_string())
}

fn decode_continue(token: &str) -> ApiResult<String> {
    let bad =
        || ApiError::bad_request("continue key is not valid: the continue token is malformed");
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token)
        .map_err(|_| bad())?;
    let v: Value = serde_json::from_slice(&raw).map_err(|_| bad())?;
    v.get("k")
        .and_then(Value::as_str)
        .map(String::from)
        .ok_or_else(bad)
}

/// Objects matching the request's namespace and selectors, with the list revision and an
/// optional continue token.
pub async fn collect(
    ctx: &Ctx<'_>,
    filter: &Filter,
    limit: usize,
) -> ApiResult<(Vec<Value>, i64, Option<String>)> {
    let rr = ctx.rr;
    let ns = rr.namespace.as_deref();
    let objects = &ctx.state.objects;
    // `metadata.name=x` in one namespace (or cluster-scoped) is a single key.
    if let Some(name) = filter.exact_name() {
        if !rr.res.namespaced || ns.is_some() {
            let rev = objects.store.current_revision();
            let items = match objects.get(rr.res, ns, name).await? {
                Some((o, _)) if filter.matches(&o) => vec![o],
                _ => vec![],
            };
            return Ok((items, rev, None));
        }
    }
    page_through(ctx, limit, |kv| {
        let obj = decode(kv)?;
        Ok(filter.matches(&obj).then_some(obj))
    })
    .await
}

/// The request's namespace page by page: each stored object through `item` (which may drop
/// it) until `limit` items are kept, with the list revision and a continue token if cut short.
async fn page_through<T>(
    ctx: &Ctx<'_>,
    limit: usize,
    mut item: impl FnMut(&peapod_store::KeyValue) -> ApiResult<Option<T>>,
) -> ApiResult<(Vec<T>, i64, Option<String>)> {
    let prefix = ctx.rr.res.list_prefix(ctx.rr.namespace.as_deref());
    let start = match ctx.query.non_empty("continue") {
        Some(t) => Some(decode_continue(t)?),
        None => None,
    };
    let page = ctx
        .state
        .objects
        .store
        .list(&prefix, start.as_deref(), 0)
        .await?;
    let mut items = Vec::new();
    let mut next = None;
    for (i, kv) in page.kvs.iter().enumerate() {
        if limit > 0 && items.len() == limit {
            // Resume after the last key examined.
            next = Some(encode_continue(&page.kvs[i - 1].key, page.revision));
            break;
        }
        if let Some(x) = item(kv)? {
            items.push(x);
        }
    }
    Ok((items, page.revision, next))
}

/// A JSON list of every object, spliced from the stored bytes (`raw_json`) rather than parsed
/// and serialised again; the same body `list` would build from values.
async fn raw_list(ctx: &Ctx<'_>, limit: usize) -> ApiResult<Response> {
    let (items, rev, next) = page_through(ctx, limit, |kv| {
        match raw_json::with_resource_version(&kv.value, kv.mod_revision) {
            Some(bytes) => Ok(Some(bytes)),
            None => serde_json::to_vec(&decode(kv)?)
                .map(Some)
                .map_err(|e| ApiError::internal(e.to_string())),
        }
    })
    .await?;
    let res = ctx.rr.res;
    let head = json!({
        "kind": format!("{}List", res.gvk.kind),
        "apiVersion": res.gvk.api_version(),
        "metadata": list_meta(rev, next),
    });
    let mut body = serde_json::to_vec(&head).map_err(|e| ApiError::internal(e.to_string()))?;
    // `{"kind":…,"metadata":{…}}` → `{"kind":…,"metadata":{…},"items":[…]}`
    body.pop();
    body.extend_from_slice(b",\"items\":[");
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            body.push(b',');
        }
        body.extend_from_slice(item);
    }
    body.extend_from_slice(b"]}");
    Ok(respond::json_bytes(
        StatusCode::OK,
        body,
        "application/json",
    ))
}

fn list_meta(rev: i64, next: Option<String>) -> Value {
    let mut meta = json!({"resourceVersion": rev.to_string()});
    if let Some(c) = next {
        meta["continue"] = json!(c);
    }
    meta
}

pub async fn list(ctx: &Ctx<'_>) -> ApiResult<Response> {
    let rr = ctx.rr;
    let filter = Filter::from_query(rr.res, ctx.query)?;
    let limit = ctx.query.int("limit")?.unwrap_or(0).max(0) as usize;
    let table = tables::wants_table(ctx.accept);
    if !table && filter.is_everything() {
        return raw_list(ctx, limit).await;
    }
    let (items, rev, next) = collect(ctx, &filter, limit).await?;
    let meta = list_meta(rev, next);
    if table {
        let include = IncludeObject::from_query(ctx.query.get("includeObject"));
        return Ok(respond::json(
            StatusCode::OK,
            &tables::table(rr.res, &items, include, meta, true),
        ));
    }
    let list = json!({
        "kind": format!("{}List", rr.res.gvk.kind),
        "apiVersion": rr.res.gvk.api_version(),
        "metadata": meta,
        "items": items,
    });
    Ok(respond::json(StatusCode::OK, &list))
}
