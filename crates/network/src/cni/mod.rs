//! CNI mode: attach pods with standard CNI plugins (spec 1.0: ADD, DEL, CHECK).

mod cache;
mod conf;
mod exec;
mod result;

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{json, Map, Value};

use crate::error::{NetworkError, Result};
use crate::nl::{netns_handle, set_up};
use crate::types::{
    validate_sandbox_id, BoxFuture, PodNetwork, PodNetworkRequest, PodNetworkStatus,
};
use cache::{CacheEntry, ResultCache};
use conf::{load_first, NetworkConfigList};
use exec::{find_plugin, run_plugin, CniCommand, Invocation};

/// Where CNI configuration, plugins and the result cache live.
#[derive(Debug, Clone)]
pub struct CniConfig {
    /// `--cni-conf-dir`: the first `*.conflist|*.conf|*.json` (lexical order) is used.
    pub conf_dir: PathBuf,
    /// `--cni-bin-dir` (several allowed, searched in order).
    pub bin_dirs: Vec<PathBuf>,
    /// Agent data dir; results are cached under `<data_dir>/cni/results/`.
    pub data_dir: PathBuf,
    /// Interface name inside the pod.
    pub ifname: String,
    /// Upper bound for one plugin run.
    pub plugin_timeout: Duration,
}

impl CniConfig {
    pub fn new(
        conf_dir: impl Into<PathBuf>,
        bin_dir: impl Into<PathBuf>,
        data_dir: impl Into<PathBuf>,
    ) -> Self {
        CniConfig {
            conf_dir: conf_dir.into(),
            bin_dirs: vec![bin_dir.into()],
            data_dir: data_dir.into(),
            ifname: "eth0".into(),
            plugin_timeout: Duration::from_secs(60),
        }
    }
}

/// Pod network backed by CNI plugins.
#[derive(Debug)]
pub struct CniNetwork {
    cfg: CniConfig,
    cache: ResultCache,
}

impl CniNetwork {
    pub fn new(cfg: CniConfig) -> Result<Self> {
        if cfg.bin_dirs.is_empty() {
            return Err(NetworkError::invalid(
                "at least one CNI bin dir is required",
            ));
        }
        let cache = ResultCache::open(cfg.data_dir.join("cni").join("results"))?;
        Ok(CniNetwork { cfg, cache })
    }

    fn invocation<'a>(
        &'a self,
        container_id: &'a str,
        netns: &'a str,
        args: &'a str,
    ) -> Invocation<'a> {
        Invocation {
            container_id,
            netns,
            ifname: &self.cfg.ifname,
            args,
            bin_dirs: &self.cfg.bin_dirs,
            timeout: self.cfg.plugin_timeout,
        }
    }

    /// ADD through the whole list; on failure the attachment is deleted again.
    pub async fn add(&self, req: &PodNetworkRequest) -> Result<PodNetworkStatus> {
        req.validate()?;
        if self
            .cache
            .load(&req.sandbox_id, &self.cfg.ifname)?
            .is_some()
        {
            self.del(&req.sandbox_id, Some(&req.netns_path)).await?;
        }
        let list = load_first(&self.cfg.conf_dir)?;
        let netns = req
            .netns_path
            .to_str()
            .ok_or_else(|| NetworkError::invalid("netns path is not UTF-8"))?;
        // Like containerd's loopback step: lo is up in every pod.
        set_up(&netns_handle(&req.netns_path)?, 1, "lo").await?;
        let mut entry = CacheEntry {
            container_id: req.sandbox_id.clone(),
            if_name: self.cfg.ifname.clone(),
            network_name: list.name.clone(),
            netns: netns.to_string(),
            cni_args: cni_args(req),
            runtime_config: runtime_config(req),
            config: list.raw.clone(),
            result: Value::Null,
        };
        // Cached before the first plugin runs so a crash mid-ADD is still DELeted.
        self.cache.save(&entry)?;
        match self.run_add(&list, &entry).await {
            Ok(result) => {
                let status = result::status_from_result(&result, &self.cfg.ifname);
                entry.result = result;
                self.cache.save(&entry)?;
                match status {
                    Ok(s) => Ok(s),
                    Err(e) => {
                        self.cleanup_after_failed_add(&req.sandbox_id, &req.netns_path)
                            .await;
                        Err(e)
                    }
                }
            }
            Err(e) => {
                self.cleanup_after_failed_add(&req.sandbox_id, &req.netns_path)
                    .await;
                Err(e)
            }
        }
    }

    async fn cleanup_after_failed_add(&self, sandbox_id: &str, netns: &Path) {
        if let Err(e) = self.del(sandbox_id, Some(netns)).await {
            tracing::warn!(sandbox = sandbox_id, error = %e, "CNI DEL after failed ADD");
        }
    }

    async fn run_add(&self, list: &NetworkConfigList, entry: &CacheEntry) -> Result<Value> {
        let inv = self.invocation(&entry.container_id, &entry.netns, &entry.cni_args);
        let mut prev: Option<Value> = None;
        for plugin in &list.plugins {
            let ty = plugin
                .get("type")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let bin = find_plugin(&self.cfg.bin_dirs, ty)?;
            let stdin = list.plugin_stdin(plugin, prev.as_ref(), &entry.runtime_config);
            let out = run_plugin(&bin, CniCommand::Add, &inv, &stdin).await?;
            if out.is_null() {
                return Err(NetworkError::Cni(format!("{ty} ADD printed no result")));
            }
            prev = Some(out);
        }
        prev.ok_or_else(|| NetworkError::Cni("empty plugin list".into()))
    }

    /// DEL in reverse order with the cached config and result; idempotent. The cache
    /// entry is kept when a plugin fails, so a later DEL or reconcile retries.
    pub async fn del(&self, sandbox_id: &str, netns_path: Option<&Path>) -> Result<()> {
        validate_sandbox_id(sandbox_id)?;
        // The cache entry is written before the first ADD plugin runs: without one,
        // nothing was ever attached for this sandbox.
        let Some(cached) = self.cache.load(sandbox_id, &self.cfg.ifname)? else {
            return Ok(());
        };
        let list = NetworkConfigList::from_value(cached.config.clone(), "cache".into())?;
        let prev = Some(cached.result.clone()).filter(|r| !r.is_null());
        let (args, runtime) = (cached.cni_args.clone(), cached.runtime_config.clone());
        let recorded_netns = Some(PathBuf::from(&cached.netns));
        // Plugins clean host-side state without a namespace; pass it only if it still exists.
        let netns = netns_path
            .map(Path::to_path_buf)
            .or(recorded_netns)
            .filter(|p| p.exists())
            .and_then(|p| p.to_str().map(str::to_string))
            .unwrap_or_default();
        let inv = self.invocation(sandbox_id, &netns, &args);
        let mut first_error = None;
        for plugin in list.plugins.iter().rev() {
            let ty = plugin
                .get("type")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let outcome = match find_plugin(&self.cfg.bin_dirs, ty) {
                Ok(bin) => run_plugin(
                    &bin,
                    CniCommand::Del,
                    &inv,
                    &list.plugin_stdin(plugin, prev.as_ref(), &runtime),
                )
                .await
                .map(|_| ()),
                Err(e) => Err(e),
            };
            if let Err(e) = outcome {
                first_error.get_or_insert(e);
            }
        }
        match first_error {
            Some(e) => Err(e),
            None => self.cache.remove(sandbox_id, &self.cfg.ifname),
        }
    }

    /// CHECK the attachment against the cached result (spec ≥ 0.4.0).
    pub async fn check(&self, sandbox_id: &str) -> Result<()> {
        validate_sandbox_id(sandbox_id)?;
        let cached = self
            .cache
            .load(sandbox_id, &self.cfg.ifname)?
            .ok_or_else(|| {
                NetworkError::Cni(format!("no cached result for sandbox {sandbox_id}"))
            })?;
        let list = NetworkConfigList::from_value(cached.config.clone(), "cache".into())?;
        if !list.supports_check() {
            return Ok(());
        }
        let inv = self.invocation(sandbox_id, &cached.netns, &cached.cni_args);
        for plugin in &list.plugins {
            let ty = plugin
                .get("type")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let bin = find_plugin(&self.cfg.bin_dirs, ty)?;
            let stdin = list.plugin_stdin(plugin, Some(&cached.result), &cached.runtime_config);
            run_plugin(&bin, CniCommand::Check, &inv, &stdin).await?;
        }
        Ok(())
    }

    /// Sandbox ids that have a cached attachment.
    pub fn attached_sandboxes(&self) -> Result<Vec<String>> {
        Ok(self
            .cache
            .entries()?
            .into_iter()
            .map(|e| e.container_id)
            .collect())
    }

    /// DELs every cached attachment whose sandbox is not live.
    pub async fn reconcile_attachments(&self, live: &[String]) -> Result<usize> {
        let live: HashSet<&str> = live.iter().map(String::as_str).collect();
        let mut n = 0;
        for entry in self.cache.entries()? {
            if !live.contains(entry.container_id.as_str()) {
                self.del(&entry.container_id, None).await?;
                n += 1;
            }
        }
        Ok(n)
    }
}

fn cni_args(req: &PodNetworkRequest) -> String {
    // CNI_ARGS is `K=V;K=V`: drop characters that would break the format.
    let clean = |s: &str| {
        s.chars()
            .filter(|c| *c != ';' && *c != '=')
            .collect::<String>()
    };
    format!(
        "IgnoreUnknown=1;K8S_POD_NAMESPACE={};K8S_POD_NAME={};K8S_POD_INFRA_CONTAINER_ID={};K8S_POD_UID={}",
        clean(&req.pod_namespace),
        clean(&req.pod_name),
        clean(&req.sandbox_id),
        clean(&req.pod_uid)
    )
}

fn runtime_config(req: &PodNetworkRequest) -> Map<String, Value> {
    let mut rc = Map::new();
    if !req.port_mappings.is_empty() {
        let maps: Vec<Value> = req
            .port_mappings
            .iter()
            .map(|m| {
                let mut v = json!({"hostPort": m.host_port, "containerPort": m.container_port, "protocol": m.protocol.as_str()});
                if let Some(ip) = m.effective_host_ip() {
                    v["hostIP"] = json!(ip.to_string());
                }
                v
            })
            .collect();
        rc.insert("portMappings".into(), Value::Array(maps));
    }
    rc
}

impl PodNetwork for CniNetwork {
    fn setup<'a>(&'a self, req: &'a PodNetworkRequest) -> BoxFuture<'a, Result<PodNetworkStatus>> {
        Box::pin(self.add(req))
    }

    fn teardown<'a>(
        &'a self,
        sandbox_id: &'a str,
        netns_path: Option<&'a Path>,
    ) -> BoxFuture<'a, Result<()>> {
        Box::pin(self.del(sandbox_id, netns_path))
    }

    fn reconcile<'a>(&'a self, live_sandbox_ids: &'a [String]) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            self.reconcile_attachments(live_sandbox_ids)
                .await
                .map(|_| ())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{PortMapping, Protocol};

    #[test]
    fn args_and_runtime_config() {
        let req = PodNetworkRequest {
            pod_namespace: "default".into(),
            pod_name: "web;x=y".into(),
            pod_uid: "uid-1".into(),
            sandbox_id: "sb1".into(),
            netns_path: "/proc/1/ns/net".into(),
            port_mappings: vec![PortMapping {
                host_port: 8001,
                container_port: 8080,
                protocol: Protocol::Udp,
                host_ip: None,
            }],
        };
        assert_eq!(
            cni_args(&req),
            "IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=webxy;K8S_POD_INFRA_CONTAINER_ID=sb1;K8S_POD_UID=uid-1"
        );
        let rc = runtime_config(&req);
        assert_eq!(
            rc.get("portMappings"),
            Some(&json!([{"hostPort": 8001, "containerPort": 8080, "protocol": "udp"}]))
        );
    }
}
