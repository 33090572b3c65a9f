//! peapod's controllers (the kube-controller-manager part of `peapod server`). They use only
//! the public API through kube-rs: shared informers (watch → cache) feed kube-runtime
//! `Controller`s (work queue, per-object rate-limited retries), and a Lease makes sure only
//! one server runs them at a time.
//!
//! Map: `informer`/`runner`/`context` (plumbing), `ownership`/`podutil`/
//! `nodeutil`/`expectations`/`revisions`/`events` (shared rules; selectors are matched by
//! `peapod_apimachinery::selectors`), one module per controller
//! (replicaset, replication, deployment, job, cronjob, daemonset, statefulset, gc,
//! nodelifecycle),
//! `leader` (election).

pub mod clock;
mod context;
mod cronjob;
mod daemonset;
mod deployment;
mod events;
mod expectations;
mod gc;
mod hashing;
mod informer;
mod job;
pub mod leader;
mod nodelifecycle;
mod nodeutil;
mod ownership;
mod podutil;
mod replicaset;
mod replication;
mod revisions;
mod runner;
mod statefulset;
mod status;

use tokio::task::JoinSet;

pub use clock::Clock;
pub use cronjob::schedule::Schedule;
pub use leader::LeaderConfig;
pub use nodelifecycle::{NodeLifecycleConfig, NODE_LEASE_NAMESPACE};

#[derive(Clone, Debug)]
pub struct ControllerConfig {
    /// Objects each controller reconciles concurrently.
    pub workers: usize,
    /// "Now" for time-driven decisions; tests move it forward.
    pub clock: Clock,
    pub leader: LeaderConfig,
    /// Heartbeat grace periods and monitoring cadence of the node lifecycle controller.
    pub node_lifecycle: NodeLifecycleConfig,
}

impl Default for ControllerConfig {
    fn default() -> Self {
        ControllerConfig {
            workers: 5,
            clock: Clock::system(),
            leader: LeaderConfig::default(),
            node_lifecycle: NodeLifecycleConfig::default(),
        }
    }
}

/// Runs every controller while this process holds the controller-manager Lease; stands by
/// (and takes over when the holder stops renewing) otherwise. Returns only on a fatal error.
pub async fn run(client: kube::Client, cfg: ControllerConfig) -> anyhow::Result<()> {
    let elector = leader::Elector::new(client.clone(), cfg.leader.clone());
    loop {
        elector.acquire().await;
        tracing::info!(identity = %cfg.leader.identity, "became controller-manager leader");
        let mut tasks = start_all(client.clone(), &cfg);
        tokio::select! {
            _ = elector.hold() => {
                tasks.abort_all();
                tracing::warn!("stopped controllers after losing leadership");
            }
            Some(done) = tasks.join_next() => {
                tasks.abort_all();
                if let Err(e) = done {
                    if e.is_panic() {
                        anyhow::bail!("a controller panicked: {e}");
                    }
                }
                anyhow::bail!("a controller stopped unexpectedly");
            }
        }
    }
}

fn start_all(client: kube::Client, cfg: &ControllerConfig) -> JoinSet<()> {
    let ctx = context::Context::new(client, cfg.clock.clone());
    let w = cfg.workers.max(1);
    let mut tasks = JoinSet::new();
    tasks.spawn(replicaset::run(ctx.clone(), w));
    tasks.spawn(replication::run(ctx.clone(), w));
    tasks.spawn(deployment::run(ctx.clone(), w));
    tasks.spawn(gc::run(ctx.clone(), w));
    tasks.spawn(job::run(ctx.clone(), w));
    tasks.spawn(cronjob::run(ctx.clone(), w));
    tasks.spawn(daemonset::run(ctx.clone(), w));
    tasks.spawn(statefulset::run(ctx.clone(), w));
    tasks.spawn(nodelifecycle::run(ctx.clone(), cfg.node_lifecycle.clone()));
    ctx.start_informers(&mut tasks);
    tasks
}
