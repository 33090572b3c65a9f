//! A Kubernetes container (plus its resolved env and image) as the runtime's ContainerConfig.

use k8s_openapi::api::core::v1::{Container, PodSpec};
use peapod_runtime::image::ImageRecord;
use peapod_runtime::{
    Capabilities, ContainerConfig, ImageConfig, RootfsSource, TerminationMessagePolicy, VolumeMount,
};

use crate::env::Env;
use crate::sandbox::container_resources;

pub struct ContainerInputs<'a> {
    pub spec: &'a PodSpec,
    pub container: &'a Container,
    pub env: &'a Env,
    pub image: &'a ImageRecord,
    pub layer_dirs: Vec<std::path::PathBuf>,
    pub restart_count: u32,
}

fn id_of(v: Option<i64>) -> Result<Option<u32>, String> {
    v.map(|n| u32::try_from(n).map_err(|_| format!("invalid user/group id {n}")))
        .transpose()
}

pub fn container_config(i: &ContainerInputs<'_>) -> Result<ContainerConfig, String> {
    let c = i.container;
    let pod_sc = i.spec.security_context.clone().unwrap_or_default();
    let sc = c.security_context.clone().unwrap_or_default();
    let cfg_img = &i.image.config;
    let mut cfg = ContainerConfig::new(
        c.name.clone(),
        RootfsSource::Overlay {
            lower_dirs: i.layer_dirs.clone(),
        },
    );
    cfg.image_config = ImageConfig {
        entrypoint: cfg_img.entrypoint.clone(),
        cmd: cfg_img.cmd.clone(),
        env: cfg_img.env.clone(),
        working_dir: cfg_img.working_dir.clone(),
        user: cfg_img.user.clone(),
        stop_signal: cfg_img.stop_signal.clone(),
    };
    cfg.command = c
        .command
        .iter()
        .flatten()
        .map(|s| i.env.expand(s))
        .collect();
    cfg.args = c.args.iter().flatten().map(|s| i.env.expand(s)).collect();
    cfg.env = i.env.to_list();
    cfg.working_dir = c.working_dir.clone().filter(|w| !w.is_empty());
    for m in c.volume_mounts.iter().flatten() {
        let sub = match (&m.sub_path, &m.sub_path_expr) {
            (Some(p), _) if !p.is_empty() => Some(p.clone()),
            (_, Some(e)) if !e.is_empty() => Some(i.env.expand(e)),
            _ => None,
        };
        cfg.mounts.push(VolumeMount {
            volume: m.name.clone(),
            container_path: m.mount_path.clone(),
            read_only: m.read_only == Some(true),
            sub_path: sub,
        });
    }
    cfg.run_as_user = id_of(sc.run_as_user.or(pod_sc.run_as_user))?;
    cfg.run_as_group = id_of(sc.run_as_group.or(pod_sc.run_as_group))?;
    cfg.run_as_non_root = sc.run_as_non_root.or(pod_sc.run_as_non_root) == Some(true);
    let mut groups = Vec::new();
    for g in pod_sc.supplemental_groups.iter().flatten() {
        groups.extend(id_of(Some(*g))?);
    }
    if let Some(fs) = id_of(pod_sc.fs_group)? {
        groups.push(fs);
    }
    cfg.supplemental_groups = groups;
    if let Some(caps) = &sc.capabilities {
        cfg.capabilities = Capabilities {
            add: caps.add.clone().unwrap_or_default(),
            drop: caps.drop.clone().unwrap_or_default(),
        };
    }
    cfg.privileged = sc.privileged == Some(true);
    cfg.read_only_rootfs = sc.read_only_root_filesystem == Some(true);
    cfg.no_new_privs = sc.allow_privilege_escalation == Some(false);
    cfg.stdin = c.stdin == Some(true);
    cfg.stdin_once = c.stdin_once == Some(true);
    cfg.tty = c.tty == Some(true);
    cfg.resources = container_resources(c);
    cfg.termination_message_path = c.termination_message_path.clone().filter(|p| !p.is_empty());
    cfg.termination_message_policy = match c.termination_message_policy.as_deref() {
        Some("FallbackToLogsOnError") => TerminationMessagePolicy::FallbackToLogsOnError,
        _ => TerminationMessagePolicy::File,
    };
    cfg.restart_count = i.restart_count;
    Ok(cfg)
}
