//! A Kubernetes container (plus its resolved env and image) as the runtime's ContainerConfig.

use k8s_openapi::api::core::v1::{Container, PodSpec};
use peapod_runtime::image::ImageRecord;
use peapod_runtime::{
    Capabilities, ContainerConfig, RootfsSource, TerminationMessagePolicy, VolumeMount,
};

use crate::env::Env;
use crate::sandbox_config::container_resources;

pub struct ContainerInputs<'a> {
    /// The pod as the kubelet names it in messages: `name_namespace(uid)`.
    pub pod_full_name: &'a str,
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

/// The mount's path inside its volume, checked as the kubelet checks it before creating the
/// container: `subPathExpr` expands from the container's env (a variable that is undefined
/// or empty is an error), and the result may be neither absolute nor climb out with `..`.
fn sub_path(
    m: &k8s_openapi::api::core::v1::VolumeMount,
    env: &Env,
) -> Result<Option<String>, String> {
    let sub = match (&m.sub_path, &m.sub_path_expr) {
        (Some(p), _) if !p.is_empty() => p.clone(),
        (_, Some(e)) if !e.is_empty() => {
            let missing = std::cell::RefCell::new(std::collections::BTreeSet::new());
            let expanded = peapod_admission::expand_vars(e, |name| match env.get(name) {
                Some(v) if !v.is_empty() => Some(v),
                _ => {
                    missing.borrow_mut().insert(name.to_string());
                    Some(String::new())
                }
            });
            let missing = missing.into_inner();
            if !missing.is_empty() {
                let names: Vec<String> = missing.into_iter().collect();
                return Err(format!("missing value for {}", names.join(", ")));
            }
            expanded
        }
        _ => return Ok(None),
    };
    if sub.starts_with('/') {
        return Err(format!(
            "error SubPath `{sub}` must not be an absolute path"
        ));
    }
    if sub.split('/').any(|part| part == "..") {
        return Err(format!(
            "unable to provision SubPath `{sub}`: must not contain '..'"
        ));
    }
    Ok(Some(sub))
}

pub fn container_config(i: &ContainerInputs<'_>) -> Result<ContainerConfig, String> {
    let c = i.container;
    let pod_sc = i.spec.security_context.clone().unwrap_or_default();
    let sc = c.security_context.clone().unwrap_or_default();
    let mut cfg = ContainerConfig::new(
        c.name.clone(),
        RootfsSource::Overlay {
            lower_dirs: i.layer_dirs.clone(),
        },
    );
    cfg.image_config = i.image.config.clone();
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
        let sub = sub_path(m, i.env)?;
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
    crate::non_root::verify(
        cfg.run_as_non_root,
        sc.run_as_user.or(pod_sc.run_as_user),
        i.image.config.user.as_deref(),
        i.pod_full_name,
        &c.name,
    )?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::VolumeMount as Mount;

    fn mount(sub: Option<&str>, expr: Option<&str>) -> Mount {
        Mount {
            name: "v".into(),
            mount_path: "/m".into(),
            sub_path: sub.map(String::from),
            sub_path_expr: expr.map(String::from),
            ..Default::default()
        }
    }

    #[test]
    fn sub_paths_are_checked_as_the_kubelet_does() {
        let mut env = Env::default();
        env.set("POD", "web-0".into());
        env.set("EMPTY", String::new());
        assert_eq!(sub_path(&mount(None, None), &env), Ok(None));
        assert_eq!(
            sub_path(&mount(None, Some("logs/$(POD)")), &env),
            Ok(Some("logs/web-0".into()))
        );
        assert_eq!(
            sub_path(&mount(None, Some("$(NOPE)/$(EMPTY)/$(POD)")), &env),
            Err("missing value for EMPTY, NOPE".into())
        );
        assert_eq!(
            sub_path(&mount(Some("/etc"), None), &env),
            Err("error SubPath `/etc` must not be an absolute path".into())
        );
        assert_eq!(
            sub_path(&mount(None, Some("a/../../$(POD)")), &env),
            Err("unable to provision SubPath `a/../../web-0`: must not contain '..'".into())
        );
        assert_eq!(
            sub_path(&mount(Some("a..b/c"), None), &env),
            Ok(Some("a..b/c".into()))
        );
    }
}
