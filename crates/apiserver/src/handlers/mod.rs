//! Request dispatch: non-resource endpoints, discovery, then resource verbs. The verb
//! handlers decode the request and encode the answer; writes are `crate::storage`'s.

mod create;
mod delete;
mod patch;
mod read;
mod subresource;
mod token;
mod update;
mod watch;

use std::time::Instant;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, Method, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::auth::Identity;
use crate::errors::{ApiError, ApiResult};
use crate::query::Query;
use crate::request::{self, ResourceRequest, Target};
use crate::state::SharedState;
use crate::{discovery, openapi, respond, version};

/// Context of one resource request.
pub struct Ctx<'a> {
    pub state: &'a SharedState,
    pub rr: &'a ResourceRequest,
    pub query: &'a Query,
    pub accept: &'a str,
    pub content_type: String,
}

impl Ctx<'_> {
    /// The object the URL names (for verbs on one object).
    pub fn object_ref(&self) -> crate::storage::ObjectRef<'_> {
        crate::storage::ObjectRef {
            res: self.rr.res,
            namespace: self.rr.namespace.as_deref(),
            name: self.rr.name.as_deref().unwrap_or_default(),
        }
    }
}

pub async fn dispatch(State(state): State<SharedState>, req: Request) -> Response {
    let start = Instant::now();
    let path = req.uri().path().to_string();
    let method = req.method().clone();
    let (resp, verb, resource) = route(&state, req).await;
    let code = resp.status().as_u16();
    state
        .metrics
        .observe(verb, &resource, code, start.elapsed());
    tracing::debug!(%method, %path, code, elapsed_us = start.elapsed().as_micros() as u64, "request");
    resp
}

fn is_public(path: &str) -> bool {
    matches!(
        path,
        "/healthz" | "/livez" | "/readyz" | "/version" | "/version/"
    ) || path.starts_with("/healthz/")
        || path.starts_with("/livez/")
        || path.starts_with("/readyz/")
}

async fn route(state: &SharedState, req: Request) -> (Response, &'static str, String) {
    let path = req.uri().path().to_string();
    if path == crate::join::CA_PATH {
        return (
            respond::text(StatusCode::OK, state.ca_pem.clone()),
            "get",
            "cacerts".into(),
        );
    }
    if path == crate::join::PATH && req.method() == Method::POST {
        let headers = req.headers().clone();
        let resp = match crate::body::read(req.into_body()).await {
            Ok(b) => match crate::join::node_credentials(state, &headers, &b).await {
                Ok(r) => r,
                Err(e) => e.into_response(),
            },
            Err(e) => e.into_response(),
        };
        return (resp, "create", "node-credentials".into());
    }
    let mut user = req.extensions().get::<Identity>().cloned();
    if user.is_none() {
        let header = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok());
        user = token::authenticate(state, header).await;
    }
    if is_public(&path) {
        let resp = if path.starts_with("/version") {
            respond::json(StatusCode::OK, &version::info())
        } else {
            respond::text(StatusCode::OK, "ok")
        };
        return (resp, "get", String::new());
    }
    if user.is_none() {
        return (ApiError::unauthorized().into_response(), "", String::new());
    }
    let accept = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    if path == "/metrics" {
        return (state.metrics.render(state), "get", String::new());
    }
    if path == "/openapi/v3" || path == "/openapi/v3/" {
        return (
            respond::json(StatusCode::OK, &openapi::root()),
            "get",
            String::new(),
        );
    }
    if let Some(p) = path.strip_prefix("/openapi/v3/") {
        let resp = match openapi::document(p) {
            Some(doc) => respond::json(StatusCode::OK, &doc),
            None => ApiError::not_found_path().into_response(),
        };
        return (resp, "get", String::new());
    }
    let Some(target) = request::parse(&path) else {
        return (
            ApiError::not_found_path().into_response(),
            "",
            String::new(),
        );
    };
    let rr = match target {
        Target::RootDiscovery { legacy_core } => {
            let resp = if discovery::wants_aggregated(&accept) {
                let body =
                    serde_json::to_vec(&discovery::aggregated(legacy_core)).unwrap_or_default();
                respond::json_bytes(StatusCode::OK, body, discovery::AGGREGATED_CONTENT_TYPE)
            } else if legacy_core {
                respond::json(
                    StatusCode::OK,
                    &discovery::api_versions(&state.server_address),
                )
            } else {
                respond::json(StatusCode::OK, &discovery::api_group_list())
            };
            return (resp, "get", String::new());
        }
        Target::GroupDiscovery { group } => {
            return (
                respond::json(StatusCode::OK, &discovery::group(&group)),
                "get",
                String::new(),
            )
        }
        Target::VersionDiscovery { group, version } => {
            return (
                respond::json(StatusCode::OK, &discovery::resource_list(&group, &version)),
                "get",
                String::new(),
            )
        }
        Target::Resource(rr) => rr,
    };
    if matches!(
        rr.subresource.as_deref(),
        Some("log" | "exec" | "attach" | "portforward")
    ) && rr.name.is_some()
    {
        let resource = format!(
            "{}/{}",
            rr.res.plural,
            rr.subresource.as_deref().unwrap_or_default()
        );
        return (
            crate::proxy::forward(state, &rr, req).await,
            "connect",
            resource,
        );
    }
    let query = Query::parse(req.uri().query());
    let content_type = crate::body::content_type(req.headers());
    let method = req.method().clone();
    let body = req.into_body();
    let ctx = Ctx {
        state,
        rr: &rr,
        query: &query,
        accept: &accept,
        content_type,
    };
    let resource = match &rr.subresource {
        Some(s) => format!("{}/{s}", rr.res.plural),
        None => rr.res.plural.to_string(),
    };
    let (verb, result) = resource_verb(&ctx, method, body).await;
    let resp = match result {
        Ok(r) => r,
        Err(e) => e.into_response(),
    };
    (resp, verb, resource)
}

async fn resource_verb(
    ctx: &Ctx<'_>,
    method: Method,
    body: Body,
) -> (&'static str, ApiResult<Response>) {
    let rr = ctx.rr;
    let named = rr.name.is_some();
    let sub = rr.subresource.as_deref();
    let watch = rr.watch_path || ctx.query.flag("watch");
    match (method, named, sub) {
        (Method::GET, false, None) if watch => ("watch", watch::watch(ctx).await),
        (Method::GET, false, None) => ("list", read::list(ctx).await),
        (Method::GET, true, None) if watch => ("watch", watch::watch(ctx).await),
        (Method::GET, true, None) => ("get", read::get(ctx).await),
        (Method::GET, true, Some("status")) => ("get", read::get(ctx).await),
        (Method::GET, true, Some("scale")) => ("get", subresource::get_scale(ctx).await),
        (Method::POST, false, None) => ("create", create::create(ctx, body).await),
        (Method::POST, true, Some("binding")) => ("create", subresource::binding(ctx, body).await),
        (Method::POST, true, Some("eviction")) => {
            ("create", subresource::eviction(ctx, body).await)
        }
        (Method::POST, true, Some("token")) => ("create", token::token_request(ctx, body).await),
        (Method::PUT, true, None | Some("status") | Some("finalize")) => {
            ("update", update::update(ctx, body).await)
        }
        (Method::PUT, true, Some("scale")) => {
            ("update", subresource::update_scale(ctx, body).await)
        }
        (Method::PATCH, true, None | Some("status")) => ("patch", patch::patch(ctx, body).await),
        (Method::PATCH, true, Some("scale")) => {
            ("patch", subresource::patch_scale(ctx, body).await)
        }
        (Method::DELETE, true, None) => ("delete", delete::delete(ctx, body).await),
        (Method::DELETE, false, None) => (
            "deletecollection",
            delete::delete_collection(ctx, body).await,
        ),
        _ => ("", Err(ApiError::method_not_allowed())),
    }
}
