//! The claims of a bound ServiceAccount token, laid out like the tokens Kubernetes issues.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The issuer Kubernetes uses by default (`--service-account-issuer`); also the default audience.
pub const ISSUER: &str = "https://kubernetes.default.svc.cluster.local";

/// A named object with its uid, as recorded in the `kubernetes.io` claim.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectRef {
    pub name: String,
    #[serde(default)]
    pub uid: String,
}

impl ObjectRef {
    pub fn new(name: impl Into<String>, uid: impl Into<String>) -> Self {
        ObjectRef {
            name: name.into(),
            uid: uid.into(),
        }
    }
}

/// What a token says. `issue` adds the issuer, subject, `nbf` (= `issued_at`) and a fresh `jti`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenClaims {
    pub namespace: String,
    pub service_account: ObjectRef,
    pub audiences: Vec<String>,
    pub issued_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// The object the token is bound to (at most one of pod and secret; node alone for a token
    /// bound to a Node, or alongside a pod as the node it runs on).
    pub pod: Option<ObjectRef>,
    pub secret: Option<ObjectRef>,
    pub node: Option<ObjectRef>,
    /// Set when the expiry was extended for a kubelet-requested token: consumers are expected to
    /// refresh it by then.
    pub warn_after: Option<DateTime<Utc>>,
}

/// A token that passed signature, issuer, time and audience checks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedToken {
    pub namespace: String,
    pub service_account: ObjectRef,
    pub pod: Option<ObjectRef>,
    pub secret: Option<ObjectRef>,
    pub node: Option<ObjectRef>,
    pub audiences: Vec<String>,
    pub issued_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub warn_after: Option<DateTime<Utc>>,
    /// The token's `jti`.
    pub id: String,
}

impl VerifiedToken {
    /// `system:serviceaccount:<namespace>:<name>`.
    pub fn username(&self) -> String {
        format!(
            "system:serviceaccount:{}:{}",
            self.namespace, self.service_account.name
        )
    }

    /// The groups Kubernetes gives a service account user.
    pub fn groups(&self) -> Vec<String> {
        vec![
            "system:serviceaccounts".to_string(),
            format!("system:serviceaccounts:{}", self.namespace),
            "system:authenticated".to_string(),
        ]
    }

    /// The user's extra attributes, as Kubernetes records them for bound tokens.
    pub fn extra(&self) -> BTreeMap<String, Vec<String>> {
        let mut extra = BTreeMap::new();
        let mut put = |key: &str, value: &str| {
            if !value.is_empty() {
                extra.insert(
                    format!("authentication.kubernetes.io/{key}"),
                    vec![value.to_string()],
                );
            }
        };
        if let Some(pod) = &self.pod {
            put("pod-name", &pod.name);
            put("pod-uid", &pod.uid);
        }
        if let Some(node) = &self.node {
            put("node-name", &node.name);
            put("node-uid", &node.uid);
        }
        put("credential-id", &format!("JTI={}", self.id));
        extra
    }
}

/// The JSON payload of the JWT.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Payload {
    pub aud: Vec<String>,
    pub exp: i64,
    pub iat: i64,
    pub iss: String,
    pub jti: String,
    #[serde(rename = "kubernetes.io")]
    pub kubernetes: KubernetesClaim,
    pub nbf: i64,
    pub sub: String,
}

#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct KubernetesClaim {
    pub namespace: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node: Option<ObjectRef>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pod: Option<ObjectRef>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<ObjectRef>,
    pub serviceaccount: ObjectRef,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warnafter: Option<i64>,
}

impl Payload {
    pub(crate) fn new(claims: TokenClaims, issuer: &str, id: String) -> Payload {
        Payload {
            sub: format!(
                "system:serviceaccount:{}:{}",
                claims.namespace, claims.service_account.name
            ),
            aud: claims.audiences,
            exp: claims.expires_at.timestamp(),
            iat: claims.issued_at.timestamp(),
            nbf: claims.issued_at.timestamp(),
            iss: issuer.to_string(),
            jti: id,
            kubernetes: KubernetesClaim {
                namespace: claims.namespace,
                node: claims.node,
                pod: claims.pod,
                secret: claims.secret,
                serviceaccount: claims.service_account,
                warnafter: claims.warn_after.map(|t| t.timestamp()),
            },
        }
    }
}
