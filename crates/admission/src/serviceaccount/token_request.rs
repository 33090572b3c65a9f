//! The `serviceaccounts/<name>/token` subresource: an `authentication.k8s.io/v1` TokenRequest in,
//! the same object with `status.token` and `status.expirationTimestamp` out.

use chrono::{DateTime, Duration, SecondsFormat, Utc};
use serde_json::{json, Value};

use super::bound::BoundObjects;
use super::claims::{ObjectRef, TokenClaims};
use super::signer::TokenSigner;
use crate::json::str_at;

/// `expirationSeconds` when the request gives none.
pub const DEFAULT_EXPIRATION_SECONDS: i64 = 3600;
/// The shortest expiry a TokenRequest may ask for.
pub const MIN_EXPIRATION_SECONDS: i64 = 600;
/// The longest expiry a TokenRequest may ask for (2^32 s).
pub const MAX_EXPIRATION_SECONDS: i64 = 1 << 32;
/// The expiry the kubelet asks for projected tokens; such tokens get extended (see below).
pub const WARN_ONLY_EXPIRATION_SECONDS: i64 = 3607;
/// The extended lifetime of kubelet tokens (one year), with `warnafter` at the requested expiry,
/// so a node that fails to refresh does not cut its pods off at once.
pub const EXTENDED_EXPIRATION_SECONDS: i64 = 365 * 24 * 60 * 60;

/// Server settings for TokenRequest.
#[derive(Clone, Debug)]
pub struct TokenRequestOptions {
    /// The audiences used when a request names none (the API server's own).
    pub api_audiences: Vec<String>,
    /// `--service-account-extend-token-expiration` (default true).
    pub extend_expiration: bool,
    /// `--service-account-max-token-expiration`, in seconds.
    pub max_expiration_seconds: Option<i64>,
}

impl TokenRequestOptions {
    pub fn for_signer(signer: &TokenSigner) -> Self {
        TokenRequestOptions {
            api_audiences: signer.api_audiences(),
            extend_expiration: true,
            max_expiration_seconds: None,
        }
    }
}

/// How the API server should answer a rejected TokenRequest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TokenRequestError {
    /// 400 BadRequest.
    BadRequest(String),
    /// 422 Invalid, with the offending field (`spec.expirationSeconds`, …).
    Invalid { field: String, message: String },
    /// 409 Conflict (the bound object was recreated with another uid).
    Conflict(String),
    /// 404 NotFound for the bound object (`resource`, `name`).
    NotFound { resource: String, name: String },
    /// 500: the signer failed.
    Internal(String),
}

impl TokenRequestError {
    pub fn status_code(&self) -> u16 {
        match self {
            TokenRequestError::BadRequest(_) => 400,
            TokenRequestError::Invalid { .. } => 422,
            TokenRequestError::Conflict(_) => 409,
            TokenRequestError::NotFound { .. } => 404,
            TokenRequestError::Internal(_) => 500,
        }
    }
}

impl std::fmt::Display for TokenRequestError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TokenRequestError::BadRequest(m)
            | TokenRequestError::Conflict(m)
            | TokenRequestError::Internal(m) => f.write_str(m),
            TokenRequestError::Invalid { field, message } => write!(f, "{field}: {message}"),
            TokenRequestError::NotFound { resource, name } => {
                write!(f, "{resource} \"{name}\" not found")
            }
        }
    }
}

impl std::error::Error for TokenRequestError {}

/// `spec.boundObjectRef` of a TokenRequest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BoundObjectRef {
    /// `Pod`, `Secret` or `Node`.
    pub kind: String,
    pub name: String,
    pub uid: Option<String>,
}

/// A parsed, defaulted and validated TokenRequest spec.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenRequestSpec {
    /// Empty means "the API server's audiences".
    pub audiences: Vec<String>,
    pub expiration_seconds: i64,
    pub bound_object_ref: Option<BoundObjectRef>,
}

/// Parses `spec` of a TokenRequest body. The server calls this first to learn which object
/// (`boundObjectRef`) to look up before [`token_request_response`].
pub fn parse_token_request(request: &Value) -> Result<TokenRequestSpec, TokenRequestError> {
    let spec = request.get("spec").unwrap_or(&Value::Null);
    let audiences = match spec.get("audiences") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|a| a.as_str().map(str::to_string))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| invalid("spec.audiences", "audiences must be strings"))?,
        Some(_) => return Err(invalid("spec.audiences", "must be a list of strings")),
    };
    let expiration_seconds = match spec.get("expirationSeconds") {
        None | Some(Value::Null) => DEFAULT_EXPIRATION_SECONDS,
        Some(value) => value
            .as_i64()
            .ok_or_else(|| invalid("spec.expirationSeconds", "must be an integer"))?,
    };
    if expiration_seconds < MIN_EXPIRATION_SECONDS {
        return Err(invalid(
            "spec.expirationSeconds",
            &format!("Invalid value: {expiration_seconds}: may not specify a duration less than 10 minutes"),
        ));
    }
    if expiration_seconds > MAX_EXPIRATION_SECONDS {
        return Err(invalid(
            "spec.expirationSeconds",
            &format!("Invalid value: {expiration_seconds}: may not specify a duration larger than 2^32 seconds"),
        ));
    }
    let bound_object_ref = match spec.get("boundObjectRef") {
        None | Some(Value::Null) => None,
        Some(reference) => Some(parse_bound_ref(reference)?),
    };
    Ok(TokenRequestSpec {
        audiences,
        expiration_seconds,
        bound_object_ref,
    })
}

fn parse_bound_ref(reference: &Value) -> Result<BoundObjectRef, TokenRequestError> {
    let kind = reference.get("kind").and_then(Value::as_str).unwrap_or("");
    let api_version = reference
        .get("apiVersion")
        .and_then(Value::as_str)
        .unwrap_or("");
    let name = reference.get("name").and_then(Value::as_str).unwrap_or("");
    if !matches!(kind, "Pod" | "Secret" | "Node") || api_version != "v1" {
        return Err(TokenRequestError::BadRequest(format!(
            "cannot bind token to object of type {api_version}, Kind={kind}"
        )));
    }
    if name.is_empty() {
        return Err(invalid("spec.boundObjectRef.name", "Required value"));
    }
    let uid = reference
        .get("uid")
        .and_then(Value::as_str)
        .filter(|u| !u.is_empty())
        .map(str::to_string);
    Ok(BoundObjectRef {
        kind: kind.to_string(),
        name: name.to_string(),
        uid,
    })
}

/// Issues the token for `request` against `service_account` and returns the TokenRequest to send
/// back (`metadata` named after the ServiceAccount, `spec` defaulted, `status` filled).
///
/// `bound` holds the object named by `spec.boundObjectRef` (pod, secret or node) and, for a pod
/// bound to a node, that node if it exists, so its uid can be recorded.
pub fn token_request_response(
    signer: &TokenSigner,
    request: &Value,
    service_account: &Value,
    bound: &BoundObjects<'_>,
    options: &TokenRequestOptions,
    now: DateTime<Utc>,
) -> Result<Value, TokenRequestError> {
    let spec = parse_token_request(request)?;
    let namespace = str_at(service_account, &["metadata", "namespace"]).unwrap_or("");
    let account_name = str_at(service_account, &["metadata", "name"]).unwrap_or("");
    if let Some(requested) = str_at(request, &["metadata", "name"]) {
        if !requested.is_empty() && requested != account_name {
            return Err(TokenRequestError::BadRequest(format!(
                "metadata.name \"{requested}\" does not match the service account \"{account_name}\""
            )));
        }
    }
    let audiences = if spec.audiences.is_empty() {
        options.api_audiences.clone()
    } else {
        spec.audiences.clone()
    };
    let mut expiration = spec.expiration_seconds;
    if let Some(max) = options.max_expiration_seconds {
        expiration = expiration.min(max.max(MIN_EXPIRATION_SECONDS));
    }

    let mut claims = TokenClaims {
        namespace: namespace.to_string(),
        service_account: object_ref(service_account),
        audiences: audiences.clone(),
        issued_at: now,
        expires_at: now + Duration::seconds(expiration),
        pod: None,
        secret: None,
        node: None,
        warn_after: None,
    };
    if let Some(reference) = &spec.bound_object_ref {
        bind(&mut claims, reference, bound, account_name)?;
    }
    let kubelet_token = claims.pod.is_some()
        && spec.expiration_seconds == WARN_ONLY_EXPIRATION_SECONDS
        && audiences == options.api_audiences;
    if options.extend_expiration && kubelet_token {
        claims.warn_after = Some(claims.expires_at);
        claims.expires_at = now + Duration::seconds(EXTENDED_EXPIRATION_SECONDS);
    }
    let token = signer
        .issue(claims)
        .map_err(|e| TokenRequestError::Internal(e.to_string()))?;

    let bound_ref = request
        .get("spec")
        .and_then(|s| s.get("boundObjectRef"))
        .cloned()
        .unwrap_or(Value::Null);
    // As upstream, the status shows the requested expiry even when the token was extended.
    let expires = now + Duration::seconds(expiration);
    Ok(json!({
        "kind": "TokenRequest",
        "apiVersion": "authentication.k8s.io/v1",
        "metadata": {
            "name": account_name,
            "namespace": namespace,
            "creationTimestamp": rfc3339(now),
        },
        "spec": {
            "audiences": audiences,
            "expirationSeconds": expiration,
            "boundObjectRef": bound_ref,
        },
        "status": {
            "token": token,
            "expirationTimestamp": rfc3339(expires),
        },
    }))
}

fn bind(
    claims: &mut TokenClaims,
    reference: &BoundObjectRef,
    bound: &BoundObjects<'_>,
    account_name: &str,
) -> Result<(), TokenRequestError> {
    let (resource, live) = match reference.kind.as_str() {
        "Pod" => ("pods", bound.pod),
        "Secret" => ("secrets", bound.secret),
        _ => ("nodes", bound.node),
    };
    let Some(live) = live else {
        return Err(TokenRequestError::NotFound {
            resource: resource.to_string(),
            name: reference.name.clone(),
        });
    };
    let live_ref = object_ref(live);
    if live_ref.name != reference.name {
        return Err(TokenRequestError::BadRequest(format!(
            "the bound object {resource} \"{}\" was not the one looked up",
            reference.name
        )));
    }
    if let Some(uid) = &reference.uid {
        if *uid != live_ref.uid {
            return Err(TokenRequestError::Conflict(format!(
                "the UID in the bound object reference ({uid}) does not match the UID in record ({}). The object might have been deleted and then recreated",
                live_ref.uid
            )));
        }
    }
    match reference.kind.as_str() {
        "Pod" => {
            let pod_account = str_at(live, &["spec", "serviceAccountName"]).unwrap_or("default");
            if pod_account != account_name {
                return Err(TokenRequestError::BadRequest(format!(
                    "cannot bind token for serviceaccount \"{account_name}\" to pod running with different serviceaccount name."
                )));
            }
            if let Some(node_name) = str_at(live, &["spec", "nodeName"]).filter(|n| !n.is_empty()) {
                let uid = bound
                    .node
                    .filter(|n| str_at(n, &["metadata", "name"]) == Some(node_name))
                    .and_then(|n| str_at(n, &["metadata", "uid"]))
                    .unwrap_or("");
                claims.node = Some(ObjectRef::new(node_name, uid));
            }
            claims.pod = Some(live_ref);
        }
        "Secret" => claims.secret = Some(live_ref),
        _ => claims.node = Some(live_ref),
    }
    Ok(())
}

fn object_ref(object: &Value) -> ObjectRef {
    ObjectRef::new(
        str_at(object, &["metadata", "name"]).unwrap_or(""),
        str_at(object, &["metadata", "uid"]).unwrap_or(""),
    )
}

fn invalid(field: &str, message: &str) -> TokenRequestError {
    TokenRequestError::Invalid {
        field: field.to_string(),
        message: message.to_string(),
    }
}

fn rfc3339(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(SecondsFormat::Secs, true)
}
