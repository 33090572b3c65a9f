//! Checking that a token's ServiceAccount and bound object still exist, as the Kubernetes token
//! authenticator does on every request.

use chrono::{DateTime, Duration, Utc};
use serde_json::Value;

use super::claims::{ObjectRef, VerifiedToken};
use super::error::TokenError;
use crate::json::str_at;

/// A bound object deleted longer ago than this no longer authenticates (the Kubernetes validator
/// gives a deleting pod the same minute, so it can finish its graceful shutdown).
const DELETION_GRACE_SECONDS: i64 = 60;

/// The live objects a token refers to, as found in the store (`None`: not found).
#[derive(Clone, Copy, Debug, Default)]
pub struct BoundObjects<'a> {
    pub service_account: Option<&'a Value>,
    pub pod: Option<&'a Value>,
    pub secret: Option<&'a Value>,
    pub node: Option<&'a Value>,
}

impl BoundObjects<'_> {
    /// Accepts `token` only if its ServiceAccount exists with the same uid and is not being
    /// deleted, and its bound pod/secret (or node, for a node-bound token) exists with the same
    /// uid and is not past its deletion grace.
    pub fn validate(&self, token: &VerifiedToken, now: DateTime<Utc>) -> Result<(), TokenError> {
        let namespace = &token.namespace;
        let invalidated = || TokenError::Invalidated("token has been invalidated".to_string());
        let Some(account) = self.service_account else {
            return Err(TokenError::Invalidated(format!(
                "serviceaccounts \"{}\" not found in namespace {namespace}",
                token.service_account.name
            )));
        };
        if !same_object(account, &token.service_account)
            || is_deleting(account, now, DELETION_GRACE_SECONDS)
        {
            return Err(invalidated());
        }
        let bound = [
            ("pods", self.pod, &token.pod),
            ("secrets", self.secret, &token.secret),
        ];
        for (resource, live, reference) in bound {
            let Some(reference) = reference else { continue };
            let Some(live) = live else {
                return Err(TokenError::Invalidated(format!(
                    "{resource} \"{}\" not found",
                    reference.name
                )));
            };
            if !same_object(live, reference) || is_deleting(live, now, DELETION_GRACE_SECONDS) {
                return Err(invalidated());
            }
        }
        // For a pod-bound token the node is informational; only a node-bound token needs it.
        if let (Some(reference), None, None) = (&token.node, &token.pod, &token.secret) {
            let Some(live) = self.node else {
                return Err(TokenError::Invalidated(format!(
                    "nodes \"{}\" not found",
                    reference.name
                )));
            };
            if !same_object(live, reference) {
                return Err(invalidated());
            }
        }
        Ok(())
    }
}

fn same_object(live: &Value, reference: &ObjectRef) -> bool {
    let name_matches = str_at(live, &["metadata", "name"]) == Some(reference.name.as_str());
    let uid_matches = reference.uid.is_empty()
        || str_at(live, &["metadata", "uid"]) == Some(reference.uid.as_str());
    name_matches && uid_matches
}

fn is_deleting(live: &Value, now: DateTime<Utc>, grace_seconds: i64) -> bool {
    let Some(deletion) = str_at(live, &["metadata", "deletionTimestamp"]) else {
        return false;
    };
    match DateTime::parse_from_rfc3339(deletion) {
        Ok(at) => at.with_timezone(&Utc) + Duration::seconds(grace_seconds) < now,
        // An unreadable timestamp still means "being deleted".
        Err(_) => true,
    }
}
