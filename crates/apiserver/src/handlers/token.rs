//! `serviceaccounts/<name>/token` (TokenRequest) and bearer-token authentication.

use axum::body::Body;
use axum::http::StatusCode;
use axum::response::Response;
use peapod_admission::{BoundObjects, TokenRequestOptions};
use serde_json::Value;

use super::Ctx;
use crate::auth::Identity;
use crate::errors::{ApiError, ApiResult};
use crate::registry;
use crate::state::SharedState;
use crate::{body, respond};

pub async fn token_request(ctx: &Ctx<'_>, raw: Body) -> ApiResult<Response> {
    let rr = ctx.rr;
    let ns = rr.namespace.as_deref().unwrap_or("default");
    let name = rr.name.as_deref().unwrap_or_default();
    let bytes = body::read(raw).await?;
    let request = if bytes.is_empty() {
        serde_json::json!({})
    } else {
        body::decode(&ctx.content_type, &bytes)?
    };
    let (sa, _) = ctx.state.objects.must_get(rr.res, Some(ns), name).await?;
    let spec = peapod_admission::parse_token_request(&request).map_err(token_error)?;
    let mut pod = None;
    let mut secret = None;
    let mut node = None;
    if let Some(b) = &spec.bound_object_ref {
        let (res, nsopt) = match b.kind.as_str() {
            "Pod" => (registry::core("pods"), Some(ns)),
            "Secret" => (registry::core("secrets"), Some(ns)),
            "Node" => (registry::core("nodes"), None),
            _ => {
                return Err(ApiError::bad_request(format!(
                    "cannot bind token to a {}",
                    b.kind
                )))
            }
        };
        let obj = ctx.state.objects.must_get(res, nsopt, &b.name).await?.0;
        match b.kind.as_str() {
            "Pod" => pod = Some(obj),
            "Secret" => secret = Some(obj),
            _ => node = Some(obj),
        }
    }
    // A pod-bound token also names the pod's node.
    if let Some(n) = pod
        .as_ref()
        .and_then(|p| p.get("spec"))
        .and_then(|s| s.get("nodeName"))
        .and_then(Value::as_str)
        .filter(|n| !n.is_empty())
    {
        node = ctx
            .state
            .objects
            .get(registry::core("nodes"), None, n)
            .await?
            .map(|(v, _)| v);
    }
    let bound = BoundObjects {
        service_account: Some(&sa),
        pod: pod.as_ref(),
        secret: secret.as_ref(),
        node: node.as_ref(),
    };
    let opts = TokenRequestOptions::for_signer(&ctx.state.signer);
    let out = peapod_admission::token_request_response(
        &ctx.state.signer,
        &request,
        &sa,
        &bound,
        &opts,
        chrono::Utc::now(),
    )
    .map_err(token_error)?;
    Ok(respond::json(StatusCode::CREATED, &out))
}

fn token_error(e: peapod_admission::TokenRequestError) -> ApiError {
    let reason = match e.status_code() {
        400 => "BadRequest",
        409 => "Conflict",
        404 => "NotFound",
        422 => "Invalid",
        _ => "InternalError",
    };
    ApiError::new(e.status_code(), reason, e.to_string())
}

/// The identity behind a ServiceAccount bearer token, if it verifies and what it is bound to
/// (ServiceAccount, pod, secret, node) still exists.
pub async fn authenticate(state: &SharedState, header: Option<&str>) -> Option<Identity> {
    let token = header?.strip_prefix("Bearer ")?.trim();
    let verified = state
        .signer
        .verify(token, &state.signer.api_audiences())
        .ok()?;
    let ns = verified.namespace.clone();
    let sa = state
        .objects
        .get(
            registry::core("serviceaccounts"),
            Some(&ns),
            &verified.service_account.name,
        )
        .await
        .ok()??
        .0;
    let pod = match &verified.pod {
        Some(p) => state
            .objects
            .get(registry::core("pods"), Some(&ns), &p.name)
            .await
            .ok()?
            .map(|(v, _)| v),
        None => None,
    };
    let secret = match &verified.secret {
        Some(s) => state
            .objects
            .get(registry::core("secrets"), Some(&ns), &s.name)
            .await
            .ok()?
            .map(|(v, _)| v),
        None => None,
    };
    let node = match &verified.node {
        Some(n) => state
            .objects
            .get(registry::core("nodes"), None, &n.name)
            .await
            .ok()?
            .map(|(v, _)| v),
        None => None,
    };
    let bound = BoundObjects {
        service_account: Some(&sa),
        pod: pod.as_ref(),
        secret: secret.as_ref(),
        node: node.as_ref(),
    };
    bound.validate(&verified, chrono::Utc::now()).ok()?;
    Some(Identity {
        user: verified.username(),
        groups: verified.groups(),
    })
}
