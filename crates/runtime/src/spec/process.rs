//! Kubernetes rules for the container process: command/args vs ENTRYPOINT/CMD, env merge,
//! working dir and user/groups.

use std::path::Path;

use anyhow::{bail, Context};

use crate::config::ContainerConfig;

/// The fully resolved process of a container.
#[derive(Debug, Clone, PartialEq)]
pub struct ResolvedProcess {
    pub args: Vec<String>,
    pub env: Vec<String>,
    pub cwd: String,
    pub uid: u32,
    pub gid: u32,
    pub additional_gids: Vec<u32>,
}

const DEFAULT_PATH: &str = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// `command` replaces ENTRYPOINT (and drops CMD); `args` replaces CMD.
pub fn resolve_args(c: &ContainerConfig) -> anyhow::Result<Vec<String>> {
    let img = &c.image_config;
    let args = if !c.command.is_empty() {
        c.command.iter().chain(c.args.iter()).cloned().collect()
    } else if !c.args.is_empty() {
        img.entrypoint
            .iter()
            .chain(c.args.iter())
            .cloned()
            .collect()
    } else {
        img.entrypoint
            .iter()
            .chain(img.cmd.iter())
            .cloned()
            .collect::<Vec<_>>()
    };
    if args.is_empty() {
        bail!(
            "container {:?}: no command specified (neither command/args nor image ENTRYPOINT/CMD)",
            c.name
        );
    }
    Ok(args)
}

/// Image env first, container env overriding by name; PATH and HOSTNAME always present.
pub fn resolve_env(c: &ContainerConfig, hostname: &str) -> Vec<String> {
    let mut env: Vec<String> = Vec::new();
    let mut set = |entry: &str| {
        let key = entry.split('=').next().unwrap_or(entry);
        env.retain(|e| e.split('=').next() != Some(key));
        env.push(entry.to_string());
    };
    set(DEFAULT_PATH);
    set(&format!("HOSTNAME={hostname}"));
    for e in c.image_config.env.iter().chain(c.env.iter()) {
        set(e);
    }
    env
}

pub fn resolve_process(
    c: &ContainerConfig,
    rootfs: &Path,
    hostname: &str,
) -> anyhow::Result<ResolvedProcess> {
    let args = resolve_args(c)?;
    let env = resolve_env(c, hostname);
    let cwd = c
        .working_dir
        .clone()
        .filter(|w| !w.is_empty())
        .or_else(|| c.image_config.working_dir.clone().filter(|w| !w.is_empty()))
        .unwrap_or_else(|| "/".to_string());
    if !cwd.starts_with('/') {
        bail!("working dir {cwd:?} must be absolute");
    }
    let (uid, gid, groups) = resolve_user(c, rootfs)?;
    if c.run_as_non_root && uid == 0 {
        bail!(
            "container {:?} has runAsNonRoot and would run as root",
            c.name
        );
    }
    Ok(ResolvedProcess {
        args,
        env,
        cwd,
        uid,
        gid,
        additional_gids: groups,
    })
}

/// uid, gid, supplementary gids following the image `USER` and the security context.
fn resolve_user(c: &ContainerConfig, rootfs: &Path) -> anyhow::Result<(u32, u32, Vec<u32>)> {
    let passwd = std::fs::read_to_string(rootfs.join("etc/passwd")).unwrap_or_default();
    let group = std::fs::read_to_string(rootfs.join("etc/group")).unwrap_or_default();
    let (img_user, img_group) = match c.image_config.user.as_deref().filter(|u| !u.is_empty()) {
        Some(u) => match u.split_once(':') {
            Some((a, b)) => (Some(a), Some(b)),
            None => (Some(u), None),
        },
        None => (None, None),
    };
    let (uid, user_name, primary_gid) = match c.run_as_user {
        Some(uid) => {
            let entry = passwd_by(&passwd, |e| e.uid == uid);
            (
                uid,
                entry.as_ref().map(|e| e.name.clone()),
                entry.map(|e| e.gid),
            )
        }
        None => match img_user {
            None => (0, Some("root".to_string()), Some(0)),
            Some(u) => {
                let entry = passwd_by(&passwd, |e| e.name == u || e.uid.to_string() == u);
                match (entry, u.parse::<u32>()) {
                    (Some(e), _) => (e.uid, Some(e.name), Some(e.gid)),
                    (None, Ok(n)) => (n, None, None),
                    (None, Err(_)) => {
                        bail!("image user {u:?} not found in the image's /etc/passwd")
                    }
                }
            }
        },
    };
    let gid = match (c.run_as_group, img_group) {
        (Some(g), _) => g,
        (None, Some(g)) => match g.parse::<u32>() {
            Ok(n) => n,
            Err(_) => group_gid(&group, g)
                .with_context(|| format!("image group {g:?} not found in /etc/group"))?,
        },
        (None, None) => primary_gid.unwrap_or(0),
    };
    let mut groups: Vec<u32> = Vec::new();
    if let Some(name) = user_name {
        groups.extend(member_gids(&group, &name));
    }
    groups.extend(c.supplemental_groups.iter().copied());
    groups.retain(|g| *g != gid);
    groups.sort_unstable();
    groups.dedup();
    Ok((uid, gid, groups))
}

struct PasswdEntry {
    name: String,
    uid: u32,
    gid: u32,
}

fn passwd_by(passwd: &str, pred: impl Fn(&PasswdEntry) -> bool) -> Option<PasswdEntry> {
    passwd.lines().find_map(|l| {
        let f: Vec<&str> = l.split(':').collect();
        let e = PasswdEntry {
            name: f.first()?.to_string(),
            uid: f.get(2)?.parse().ok()?,
            gid: f.get(3)?.parse().ok()?,
        };
        pred(&e).then_some(e)
    })
}

fn group_gid(group: &str, name: &str) -> Option<u32> {
    group.lines().find_map(|l| {
        let f: Vec<&str> = l.split(':').collect();
        (f.first() == Some(&name)).then(|| f.get(2)?.parse().ok())?
    })
}

fn member_gids(group: &str, user: &str) -> Vec<u32> {
    group
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split(':').collect();
            let members = f.get(3)?;
            members
                .split(',')
                .any(|m| m == user)
                .then(|| f.get(2)?.parse().ok())?
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::RootfsSource;

    fn ctr() -> ContainerConfig {
        let mut c = ContainerConfig::new("c", RootfsSource::Dir("/nonexistent".into()));
        c.image_config.entrypoint = vec!["/ep".into()];
        c.image_config.cmd = vec!["a".into()];
        c
    }

    #[test]
    fn command_and_args_follow_kubernetes_rules() {
        let mut c = ctr();
        assert_eq!(resolve_args(&c).unwrap(), ["/ep", "a"]);
        c.args = vec!["b".into()];
        assert_eq!(resolve_args(&c).unwrap(), ["/ep", "b"]);
        c.command = vec!["/cmd".into()];
        assert_eq!(resolve_args(&c).unwrap(), ["/cmd", "b"]);
        c.args.clear();
        assert_eq!(resolve_args(&c).unwrap(), ["/cmd"]);
        let empty = ContainerConfig::new("e", RootfsSource::Dir("/x".into()));
        assert!(resolve_args(&empty).is_err());
    }

    #[test]
    fn container_env_overrides_image_env() {
        let mut c = ctr();
        c.image_config.env = vec!["A=1".into(), "PATH=/img".into()];
        c.env = vec!["A=2".into(), "B=3".into()];
        let env = resolve_env(&c, "h");
        assert!(env.contains(&"A=2".to_string()) && !env.contains(&"A=1".to_string()));
        assert!(env.contains(&"PATH=/img".to_string()));
        assert!(env.contains(&"HOSTNAME=h".to_string()));
    }

    #[test]
    fn users_resolve_through_passwd_and_non_root_is_enforced() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("etc")).unwrap();
        std::fs::write(
            dir.path().join("etc/passwd"),
            "root:x:0:0::/root:/bin/sh\nweb:x:33:44::/:/bin/sh\n",
        )
        .unwrap();
        std::fs::write(dir.path().join("etc/group"), "root:x:0:\nextra:x:55:web\n").unwrap();
        let mut c = ctr();
        c.image_config.user = Some("web".into());
        let p = resolve_process(&c, dir.path(), "h").unwrap();
        assert_eq!(
            (p.uid, p.gid, p.additional_gids.clone()),
            (33, 44, vec![55])
        );
        c.run_as_user = Some(0);
        c.run_as_non_root = true;
        assert!(resolve_process(&c, dir.path(), "h").is_err());
        c.run_as_user = None;
        c.image_config.user = Some("nobody".into());
        assert!(resolve_process(&c, dir.path(), "h").is_err());
    }
}
