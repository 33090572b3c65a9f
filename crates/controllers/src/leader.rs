//! Leader election through a coordination.k8s.io/v1 Lease, so that of several servers only
//! one runs the controllers. The holder renews the lease; the others take it over once it
//! has not been renewed for its duration.

use std::time::Duration;

use chrono::Utc;
use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::{Api, PostParams};
use kube::Client;

pub const LEASE_NAME: &str = "peapod-controller-manager";
pub const LEASE_NAMESPACE: &str = "kube-system";

#[derive(Clone, Debug)]
pub struct LeaderConfig {
    pub identity: String,
    pub lease_duration: Duration,
    pub renew_period: Duration,
    pub retry_period: Duration,
}

impl Default for LeaderConfig {
    fn default() -> Self {
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
        LeaderConfig {
            identity: format!("{}_{}", host.trim(), uuid_like()),
            lease_duration: Duration::from_secs(15),
            renew_period: Duration::from_secs(5),
            retry_period: Duration::from_secs(2),
        }
    }
}

fn uuid_like() -> String {
    format!("{:016x}", rand::random::<u64>())
}

pub struct Elector {
    api: Api<Lease>,
    cfg: LeaderConfig,
}

impl Elector {
    pub fn new(client: Client, cfg: LeaderConfig) -> Elector {
        Elector {
            api: Api::namespaced(client, LEASE_NAMESPACE),
            cfg,
        }
    }

    /// Waits until this process holds the lease.
    pub async fn acquire(&self) {
        loop {
            match self.try_acquire_or_renew().await {
                Ok(true) => return,
                Ok(false) => {}
                Err(e) => tracing::debug!(error = %e, "leader election attempt failed"),
            }
            tokio::time::sleep(self.cfg.retry_period).await;
        }
    }

    /// Renews until a renewal fails for longer than the lease lasts; then returns, and the
    /// caller must stop acting as leader.
    pub async fn hold(&self) {
        let mut last_renew = tokio::time::Instant::now();
        loop {
            tokio::time::sleep(self.cfg.renew_period).await;
            match self.try_acquire_or_renew().await {
                Ok(true) => last_renew = tokio::time::Instant::now(),
                Ok(false) => {
                    tracing::warn!(identity = %self.cfg.identity, "lost the controller-manager lease");
                    return;
                }
                Err(e) => {
                    tracing::warn!(error = %e, "renewing the controller-manager lease failed");
                    if last_renew.elapsed() >= self.cfg.lease_duration {
                        return;
                    }
                }
            }
        }
    }

    /// One round: take a free or expired lease, renew our own. Ok(false): someone else holds it.
    async fn try_acquire_or_renew(&self) -> kube::Result<bool> {
        let now = peapod_apimachinery::timeconv::micro_time(Utc::now());
        let secs = i32::try_from(self.cfg.lease_duration.as_secs()).unwrap_or(i32::MAX);
        let Some(mut lease) = self.api.get_opt(LEASE_NAME).await? else {
            let lease = Lease {
                metadata: ObjectMeta {
                    name: Some(LEASE_NAME.into()),
                    ..Default::default()
                },
                spec: Some(LeaseSpec {
                    holder_identity: Some(self.cfg.identity.clone()),
                    lease_duration_seconds: Some(secs),
                    acquire_time: Some(now.clone()),
                    renew_time: Some(now),
                    lease_transitions: Some(0),
                    ..Default::default()
                }),
            };
            return match self.api.create(&PostParams::default(), &lease).await {
                Ok(_) => Ok(true),
                Err(kube::Error::Api(e)) if e.code == 409 => Ok(false),
                Err(e) => Err(e),
            };
        };
        let spec = lease.spec.get_or_insert_with(Default::default);
        let ours = spec.holder_identity.as_deref() == Some(self.cfg.identity.as_str());
        if !ours {
            let held = spec
                .holder_identity
                .as_deref()
                .is_some_and(|h| !h.is_empty());
            let duration =
                chrono::Duration::seconds(i64::from(spec.lease_duration_seconds.unwrap_or(secs)));
            let fresh = spec.renew_time.as_ref().is_some_and(|t| {
                peapod_apimachinery::timeconv::to_chrono(&t.0) + duration > Utc::now()
            });
            if held && fresh {
                return Ok(false);
            }
            spec.holder_identity = Some(self.cfg.identity.clone());
            spec.acquire_time = Some(now.clone());
            spec.lease_transitions = Some(spec.lease_transitions.unwrap_or(0) + 1);
        }
        spec.lease_duration_seconds = Some(secs);
        spec.renew_time = Some(now);
        // The resourceVersion from the read makes this a compare-and-swap.
        match self
            .api
            .replace(LEASE_NAME, &PostParams::default(), &lease)
            .await
        {
            Ok(_) => Ok(true),
            Err(kube::Error::Api(e)) if e.code == 409 => Ok(false),
            Err(e) => Err(e),
        }
    }
}
