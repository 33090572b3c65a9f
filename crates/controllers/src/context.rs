//! What every controller shares: the client, the informers' caches, the clock and the
//! creation/deletion expectations.

use std::sync::Arc;

use k8s_openapi::api::apps::v1::{
    ControllerRevision, DaemonSet, Deployment, ReplicaSet, StatefulSet,
};
use k8s_openapi::api::batch::v1::{CronJob, Job};
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::{Node, Pod, ReplicationController};
use kube::api::Api;
use kube::{Client, ResourceExt};

use crate::clock::Clock;
use crate::expectations::{Expectations, Seen};
use crate::informer::{Change, Informer};

pub struct Context {
    pub client: Client,
    pub clock: Clock,
    pub pods: Arc<Informer<Pod>>,
    pub replicasets: Arc<Informer<ReplicaSet>>,
    pub replicationcontrollers: Arc<Informer<ReplicationController>>,
    pub deployments: Arc<Informer<Deployment>>,
    pub jobs: Arc<Informer<Job>>,
    pub cronjobs: Arc<Informer<CronJob>>,
    pub daemonsets: Arc<Informer<DaemonSet>>,
    pub statefulsets: Arc<Informer<StatefulSet>>,
    pub revisions: Arc<Informer<ControllerRevision>>,
    pub nodes: Arc<Informer<Node>>,
    /// Node heartbeats (`kube-node-lease`).
    pub node_leases: Arc<Informer<Lease>>,
    pub expectations: Expectations,
}

impl Context {
    pub fn new(client: Client, clock: Clock) -> Arc<Context> {
        Arc::new(Context {
            pods: Informer::new(Api::all(client.clone())),
            replicasets: Informer::new(Api::all(client.clone())),
            replicationcontrollers: Informer::new(Api::all(client.clone())),
            deployments: Informer::new(Api::all(client.clone())),
            jobs: Informer::new(Api::all(client.clone())),
            cronjobs: Informer::new(Api::all(client.clone())),
            daemonsets: Informer::new(Api::all(client.clone())),
            statefulsets: Informer::new(Api::all(client.clone())),
            revisions: Informer::new(Api::all(client.clone())),
            nodes: Informer::new(Api::all(client.clone())),
            node_leases: Informer::new(Api::namespaced(
                client.clone(),
                crate::nodelifecycle::NODE_LEASE_NAMESPACE,
            )),
            expectations: Expectations::default(),
            client,
            clock,
        })
    }

    /// Starts every informer's watch (after the controllers subscribed).
    pub fn start_informers(self: &Arc<Self>, tasks: &mut tokio::task::JoinSet<()>) {
        let mut pod_changes = self.pods.subscribe();
        let ctx = self.clone();
        tasks.spawn(async move {
            while let Some(c) = pod_changes.recv().await {
                let pod = c.object();
                let deleted =
                    matches!(c, Change::Deleted(_)) || pod.metadata.deletion_timestamp.is_some();
                if let Some(owner) = crate::ownership::controller_of(&pod.metadata) {
                    ctx.expectations
                        .observe(&owner.uid, &pod.name_any(), deleted);
                }
            }
        });
        tasks.spawn(self.pods.clone().run());
        tasks.spawn(self.replicasets.clone().run());
        tasks.spawn(self.replicationcontrollers.clone().run());
        tasks.spawn(self.deployments.clone().run());
        tasks.spawn(self.jobs.clone().run());
        tasks.spawn(self.cronjobs.clone().run());
        tasks.spawn(self.daemonsets.clone().run());
        tasks.spawn(self.statefulsets.clone().run());
        tasks.spawn(self.revisions.clone().run());
        tasks.spawn(self.nodes.clone().run());
        tasks.spawn(self.node_leases.clone().run());
    }

    pub fn api<K>(&self, ns: &str) -> Api<K>
    where
        K: kube::Resource<Scope = k8s_openapi::NamespaceResourceScope, DynamicType = ()>,
    {
        Api::namespaced(self.client.clone(), ns)
    }

    /// Cached pods of one namespace.
    pub fn pods_in(&self, ns: &str) -> Vec<Arc<Pod>> {
        self.pods
            .store()
            .state()
            .into_iter()
            .filter(|p| p.namespace().as_deref() == Some(ns))
            .collect()
    }

    /// Whether the pod cache shows every pod change `owner_uid` made.
    pub fn pods_settled(&self, ns: &str, owner_uid: &str) -> bool {
        let store = self.pods.store();
        self.expectations.satisfied(owner_uid, |name| {
            match store.get(&kube::runtime::reflector::ObjectRef::new(name).within(ns)) {
                None => Seen::Absent,
                Some(p) if p.metadata.deletion_timestamp.is_some() => Seen::Deleting,
                Some(_) => Seen::Present,
            }
        })
    }
}
