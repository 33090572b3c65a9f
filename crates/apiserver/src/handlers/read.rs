//! get and list.

use axum::http::StatusCode;
use axum::response::Response;
use base64::Engine;
use serde_json::{json, Value};

use super::Ctx;
use crate::errors::{ApiError, ApiResult};
use crate::filter::Filter;
use crate::objects::decode;
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
        let meta = json!({"resourceVersion": crate::object::resource_version(&obj).unwrap_or("")});
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
    let prefix = rr.res.list_prefix(ns);
    let start = match ctx.query.non_empty("continue") {
        Some(t) => Some(decode_continue(t)?),
        None => None,
    };
    let page = objects.store.list(&prefix, start.as_deref(), 0).await?;
    let mut items = Vec::new();
    let mut next = None;
    for (i, kv) in page.kvs.iter().enumerate() {
        if limit > 0 && items.len() == limit {
            // Resume after the last key examined.
            next = Some(encode_continue(&page.kvs[i - 1].key, page.revision));
            break;
        }
        let obj = decode(kv)?;
        if filter.matches(&obj) {
            items.push(obj);
        }
    }
    Ok((items, page.revision, next))
}

pub async fn list(ctx: &Ctx<'_>) -> ApiResult<Response> {
    let rr = ctx.rr;
    let filter = Filter::from_query(rr.res, ctx.query)?;
    let limit = ctx.query.int("limit")?.unwrap_or(0).max(0) as usize;
    let (items, rev, next) = collect(ctx, &filter, limit).await?;
    let mut meta = json!({"resourceVersion": rev.to_string()});
    if let Some(c) = next {
        meta["continue"] = json!(c);
    }
    if tables::wants_table(ctx.accept) {
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
