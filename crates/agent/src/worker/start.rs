//! Starting a container instance: prepare (image, env, config), create in the runtime,
//! then start with its Created/Started events, postStart hook and probes. The first start
//! of a pod's app containers creates them side by side (the runtime's create is the
//! longest step) and starts them in spec order, as the kubelet does.

use std::time::{Duration, Instant};

use chrono::Utc;
use k8s_openapi::api::core::v1::Container;
use peapod_runtime::{ContainerConfig, ContainerConfigError, ProcessStartError};

use super::role::Role;
use super::PodWorker;
use crate::container_config::{container_config, ContainerInputs};
use crate::ctx::Ctx;
use crate::env::{container_env, EnvInputs, Sources};
use crate::events::EventType;
use crate::images::{display_name, image_id};
use crate::lifecycle::{kill_container, post_start};
use crate::status::Waiting;

/// A container instance ready to be created.
pub(super) struct Prepared {
    sandbox_id: String,
    cfg: ContainerConfig,
}

/// What the runtime's create returned, and how long it took.
pub(super) struct Created {
    result: anyhow::Result<String>,
    took: Duration,
}

async fn create(ctx: &Ctx, p: Prepared) -> Created {
    let t = Instant::now();
    let Prepared { sandbox_id, cfg } = p;
    let result = ctx
        .rt(move |rt| rt.create_container(&sandbox_id, &cfg))
        .await;
    Created {
        result,
        took: t.elapsed(),
    }
}

impl PodWorker {
    /// Creates and starts one container instance as restart number `restart`; `replace`
    /// is (the id of) a never-started instance to remove first.
    pub(super) async fn start(
        &mut self,
        c: &Container,
        role: Role,
        replace: Option<&str>,
        restart: u32,
    ) {
        if let Some(p) = self.prepare(c, role, replace, restart).await {
            let created = create(&self.ctx, p).await;
            self.launch(c, role, restart, created).await;
        }
    }

    /// The first start of several app containers: each is prepared (in order), all are
    /// created at once, then each is started in order, after the previous one's postStart,
    /// as soon as it is created: the first starts while later ones are still being made.
    pub(super) async fn start_all(&mut self, cs: &[&Container]) {
        let mut creations = Vec::new();
        for c in cs {
            if let Some(p) = self.prepare(c, Role::App, None, 0).await {
                let ctx = self.ctx.clone();
                creations.push((*c, tokio::spawn(async move { create(&ctx, p).await })));
            }
        }
        for (c, creation) in creations {
            let created = creation.await.unwrap_or_else(|e| Created {
                result: Err(anyhow::anyhow!("creating the container: {e}")),
                took: Duration::ZERO,
            });
            self.launch(c, Role::App, 0, created).await;
        }
    }

    /// What a container instance needs before the runtime creates it: its image (pulled
    /// per imagePullPolicy), env and config. `None` when it cannot be had now (the reason
    /// is recorded as the container's waiting state).
    async fn prepare(
        &mut self,
        c: &Container,
        role: Role,
        replace: Option<&str>,
        restart: u32,
    ) -> Option<Prepared> {
        if super::sandbox::env_needs_pod_ip(c) && !self.network_ready().await {
            return None;
        }
        let sb = self.live_sandbox().cloned()?;
        if let Some(id) = replace {
            let id = id.to_string();
            let _ = self.ctx.rt(move |rt| rt.remove_container(&id)).await;
        }
        let pod = self.pod.clone();
        let rec = match self
            .puller
            .ensure(
                &self.ctx.images,
                &self.ctx.events,
                &pod,
                c,
                role.listed_as_init(),
            )
            .await
        {
            Ok(r) => r,
            Err(w) => {
                self.waiting.insert(c.name.clone(), w);
                return None;
            }
        };
        let image = c.image.clone().unwrap_or_default();
        self.images.insert(
            c.name.clone(),
            (display_name(&image, Some(&rec)), image_id(&rec)),
        );
        let spec = pod.spec.clone().unwrap_or_default();
        let ns = pod
            .metadata
            .namespace
            .clone()
            .unwrap_or_else(|| "default".into());
        let mut sources = Sources::new(&self.ctx.client, &ns);
        let pod_ips = self.pod_ips();
        let host_ip = self.ctx.host_ip();
        let inputs = EnvInputs {
            pod: &pod,
            pod_ips: &pod_ips,
            host_ip: &host_ip,
            node_allocatable: &self.ctx.allocatable,
            service_env: &[],
        };
        let env = match container_env(&mut sources, &inputs, c).await {
            Ok((env, skipped)) => {
                for s in skipped {
                    self.ctx.events.pod(
                        &pod,
                        EventType::Warning,
                        "InvalidEnvironmentVariableNames",
                        s.message(&ns),
                    );
                }
                env
            }
            Err(msg) => {
                self.config_error(c, role, msg);
                return None;
            }
        };
        let layer_dirs = match self.ctx.images.layer_dirs(&rec) {
            Ok(d) => d,
            Err(e) => {
                self.config_error(c, role, e.to_string());
                return None;
            }
        };
        let holder = format!("pod-{}-{}", self.uid, c.name);
        if let Err(e) = self.ctx.images.lease(&holder, &rec) {
            tracing::debug!("leasing image layers for {holder}: {e}");
        }
        let cfg = match container_config(&ContainerInputs {
            pod_full_name: &crate::lifecycle::pod_full_name(&pod),
            spec: &spec,
            container: c,
            env: &env,
            image: &rec,
            layer_dirs,
            restart_count: restart,
        }) {
            Ok(cfg) => cfg,
            Err(msg) => {
                self.config_error(c, role, msg);
                return None;
            }
        };
        Some(Prepared {
            sandbox_id: sb.id,
            cfg,
        })
    }

    /// After the runtime created (or failed to create) the instance: Created event, start,
    /// Started event, postStart hook, probes.
    async fn launch(&mut self, c: &Container, role: Role, restart: u32, created: Created) {
        let pod = self.pod.clone();
        let id = match created.result {
            Ok(id) => id,
            Err(e) => {
                let msg = format!("{e:#}");
                self.container_event(
                    c,
                    role,
                    EventType::Warning,
                    "Failed",
                    format!("Error: {msg}"),
                );
                // The process could not be executed (no such executable, not executable,
                // bad working directory): runc-based runtimes fail the start for these, so
                // it is RunContainerError, retried through the restart back-off.
                if e.downcast_ref::<ProcessStartError>().is_some() {
                    self.run_failed(c, None, restart, msg);
                } else if let Some(config) = e.downcast_ref::<ContainerConfigError>() {
                    // What the pod asked for cannot be set up: retried at the create pace,
                    // reported as the kubelet reports configuration failures.
                    self.create_failed.insert(c.name.clone(), Utc::now());
                    self.waiting.insert(
                        c.name.clone(),
                        Waiting::new("CreateContainerConfigError", Some(config.to_string())),
                    );
                } else {
                    self.create_failed.insert(c.name.clone(), Utc::now());
                    self.waiting.insert(
                        c.name.clone(),
                        Waiting::new("CreateContainerError", Some(msg)),
                    );
                }
                return;
            }
        };
        // The network of a new sandbox was set up while this container was created.
        if !self.network_ready().await {
            return;
        }
        self.create_failed.remove(&c.name);
        self.waiting.remove(&c.name);
        self.container_event(
            c,
            role,
            EventType::Normal,
            "Created",
            format!("Created container: {}", c.name),
        );
        let t = Instant::now();
        let id2 = id.clone();
        let started = self.ctx.rt(move |rt| rt.start_container(&id2)).await;
        tracing::debug!(
            pod = %self.uid,
            "container {} created in {:?}, started in {:?}",
            c.name,
            created.took,
            t.elapsed()
        );
        if let Err(e) = started {
            let msg = format!("failed to start container {:?}: {e:#}", c.name);
            self.container_event(
                c,
                role,
                EventType::Warning,
                "Failed",
                format!("Error: {msg}"),
            );
            self.run_failed(c, Some(id), restart, msg);
            return;
        }
        self.start_failed.remove(&c.name);
        self.container_event(
            c,
            role,
            EventType::Normal,
            "Started",
            format!("Started container {}", c.name),
        );
        let pod_ip = self.pod_ip();
        if let Err(msg) = post_start(&self.ctx, &pod, c, role.listed_as_init(), &id, &pod_ip).await
        {
            // Shown while the container waits for its restart (per restartPolicy).
            self.waiting.insert(
                c.name.clone(),
                Waiting::new("PostStartHookError", Some(msg)),
            );
            kill_container(
                &self.ctx,
                &pod,
                Some(c),
                role.listed_as_init(),
                &id,
                &pod_ip,
                self.spec_grace(),
                Some("FailedPostStartHook".to_string()),
            )
            .await;
            return;
        }
        self.start_probes(c, role, &id, false);
    }

    pub(super) fn config_error(&mut self, c: &Container, role: Role, msg: String) {
        self.container_event(
            c,
            role,
            EventType::Warning,
            "Failed",
            format!("Error: {msg}"),
        );
        self.waiting.insert(
            c.name.clone(),
            Waiting::new("CreateContainerConfigError", Some(msg)),
        );
    }

    fn container_event(
        &self,
        c: &Container,
        role: Role,
        kind: EventType,
        reason: &str,
        message: impl Into<String>,
    ) {
        self.ctx.events.container(
            &self.pod,
            &c.name,
            role.listed_as_init(),
            kind,
            reason,
            message,
        );
    }
}
