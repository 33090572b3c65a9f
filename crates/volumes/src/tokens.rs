//! ServiceAccount tokens for projected volumes, requested through the TokenRequest API and
//! renewed once 80% of their lifetime has passed (or after 24 h), as the kubelet does.

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::{DateTime, Duration, Utc};
use k8s_openapi::api::authentication::v1::{BoundObjectReference, TokenRequest, TokenRequestSpec};
use k8s_openapi::api::core::v1::{Pod, ServiceAccount};
use kube::api::PostParams;
use kube::{Api, Client};

use crate::fetch::api_message;

/// Which token: pod UID, volume name and the source's index in the projected volume.
pub(crate) type TokenKey = (String, String, usize);

/// What was asked for; a change in the pod spec asks again.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct TokenSpec {
    pub service_account: String,
    pub audience: Option<String>,
    pub expiration_seconds: i64,
}

struct CachedToken {
    spec: TokenSpec,
    token: String,
    expires: DateTime<Utc>,
    refresh_at: DateTime<Utc>,
}

/// A renewal is due after 80% of the lifetime, and at the latest after a day.
const REFRESH_FRACTION: f64 = 0.8;
const MAX_AGE_HOURS: i64 = 24;

#[derive(Default)]
pub(crate) struct TokenCache {
    tokens: Mutex<HashMap<TokenKey, CachedToken>>,
}

impl TokenCache {
    /// A valid token for `key`: the cached one until its renewal is due, else a new one.
    /// A failed renewal keeps using the cached token while it has not expired.
    pub(crate) async fn token(
        &self,
        client: &Client,
        pod: &Pod,
        key: TokenKey,
        spec: TokenSpec,
    ) -> Result<String, String> {
        let now = Utc::now();
        let cached = self.lookup(&key, &spec, now);
        if let Some((token, false)) = &cached {
            return Ok(token.clone());
        }
        match request_token(client, pod, &spec).await {
            Ok((token, expires)) => {
                let entry = CachedToken {
                    refresh_at: renewal_time(now, expires, spec.expiration_seconds),
                    spec,
                    token: token.clone(),
                    expires,
                };
                self.lock().insert(key, entry);
                Ok(token)
            }
            Err(e) => match cached {
                Some((token, _)) => {
                    tracing::warn!(error = %e, "token renewal failed; keeping the current token");
                    Ok(token)
                }
                None => Err(e),
            },
        }
    }

    /// The cached token and whether it is due for renewal; `None` when absent, expired or
    /// requested with a different spec.
    fn lookup(
        &self,
        key: &TokenKey,
        spec: &TokenSpec,
        now: DateTime<Utc>,
    ) -> Option<(String, bool)> {
        let tokens = self.lock();
        let cached = tokens.get(key)?;
        if cached.spec != *spec || cached.expires <= now {
            return None;
        }
        Some((cached.token.clone(), now >= cached.refresh_at))
    }

    /// Drops every token of a pod.
    pub(crate) fn forget_pod(&self, pod_uid: &str) {
        self.lock().retain(|(uid, _, _), _| uid != pod_uid);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<TokenKey, CachedToken>> {
        // A poisoned cache only means a panic elsewhere; its data is still usable.
        self.tokens.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// When a token issued at `now` and expiring at `expires` is renewed: after 80% of its
/// lifetime (the shorter of the requested and the granted one, so a server that extends tokens
/// does not delay renewal past what the pod asked for), and at the latest after 24 h.
pub(crate) fn renewal_time(
    now: DateTime<Utc>,
    expires: DateTime<Utc>,
    requested_seconds: i64,
) -> DateTime<Utc> {
    let granted = (expires - now).max(Duration::zero());
    let lifetime = granted.min(Duration::seconds(requested_seconds.max(0)));
    let renew_after =
        Duration::milliseconds((lifetime.num_milliseconds() as f64 * REFRESH_FRACTION) as i64)
            .min(Duration::hours(MAX_AGE_HOURS));
    now + renew_after
}

/// POST `serviceaccounts/<sa>/token` bound to the pod; returns the token and its expiry.
async fn request_token(
    client: &Client,
    pod: &Pod,
    spec: &TokenSpec,
) -> Result<(String, DateTime<Utc>), String> {
    let namespace = pod.metadata.namespace.as_deref().unwrap_or("default");
    let api: Api<ServiceAccount> = Api::namespaced(client.clone(), namespace);
    let request = TokenRequest {
        spec: TokenRequestSpec {
            audiences: spec.audience.iter().cloned().collect(),
            expiration_seconds: Some(spec.expiration_seconds),
            bound_object_ref: Some(BoundObjectReference {
                api_version: Some("v1".to_string()),
                kind: Some("Pod".to_string()),
                name: pod.metadata.name.clone(),
                uid: pod.metadata.uid.clone(),
            }),
        },
        ..Default::default()
    };
    let response = api
        .create_token_request(&spec.service_account, &PostParams::default(), &request)
        .await
        .map_err(|e| api_message(&e))?;
    let status = response
        .status
        .ok_or("the TokenRequest response has no status")?;
    if status.token.is_empty() {
        return Err("the TokenRequest response has an empty token".to_string());
    }
    let expires = DateTime::<Utc>::from_timestamp(status.expiration_timestamp.0.as_second(), 0)
        .ok_or("the TokenRequest response has an invalid expirationTimestamp")?;
    Ok((status.token, expires))
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, TimeZone, Utc};

    use super::renewal_time;

    #[test]
    fn renews_at_eighty_percent_of_the_lifetime() {
        let now = Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).unwrap();
        let hour = now + Duration::seconds(3600);
        assert_eq!(renewal_time(now, hour, 3600), now + Duration::seconds(2880));
        // A server granting less than asked: 80% of what was granted.
        assert_eq!(
            renewal_time(now, now + Duration::seconds(1000), 3600),
            now + Duration::seconds(800)
        );
        // A server extending the token (a year): 80% of what was asked.
        let year = now + Duration::days(365);
        assert_eq!(
            renewal_time(now, year, 3607),
            now + Duration::milliseconds(2_885_600)
        );
        // Never later than a day.
        assert_eq!(
            renewal_time(now, year, 7 * 86400),
            now + Duration::hours(24)
        );
        // Already expired: renew at once.
        assert_eq!(renewal_time(now, now - Duration::seconds(5), 3600), now);
    }
}
