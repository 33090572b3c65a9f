//! Running one CNI plugin binary per the spec's execution protocol:
//! parameters in `CNI_*` environment variables, the config on stdin, the result
//! (or an error object) on stdout.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use serde_json::Value;
use tokio::io::AsyncWriteExt;
use tokio::process::Command;

use crate::error::{NetworkError, Result};

/// The CNI operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CniCommand {
    Add,
    Del,
    Check,
}

impl CniCommand {
    fn as_str(self) -> &'static str {
        match self {
            CniCommand::Add => "ADD",
            CniCommand::Del => "DEL",
            CniCommand::Check => "CHECK",
        }
    }
}

/// Per-attachment parameters shared by every plugin of a list.
#[derive(Debug, Clone)]
pub(crate) struct Invocation<'a> {
    pub container_id: &'a str,
    /// Empty when the namespace is gone (DEL after the sandbox died).
    pub netns: &'a str,
    pub ifname: &'a str,
    pub args: &'a str,
    pub bin_dirs: &'a [PathBuf],
    pub timeout: Duration,
}

/// Finds the plugin executable in the bin dirs (first match wins).
pub(crate) fn find_plugin(bin_dirs: &[PathBuf], ty: &str) -> Result<PathBuf> {
    bin_dirs
        .iter()
        .map(|d| d.join(ty))
        .find(|p| p.is_file())
        .ok_or_else(|| {
            NetworkError::Cni(format!(
                "plugin {ty:?} not found in {}",
                join_paths(bin_dirs)
            ))
        })
}

fn join_paths(dirs: &[PathBuf]) -> String {
    dirs.iter()
        .map(|d| d.display().to_string())
        .collect::<Vec<_>>()
        .join(":")
}

/// Runs `plugin` with `cmd`; returns its parsed stdout (`Value::Null` when empty).
pub(crate) async fn run_plugin(
    plugin: &Path,
    cmd: CniCommand,
    inv: &Invocation<'_>,
    stdin: &Value,
) -> Result<Value> {
    let name = plugin
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("plugin")
        .to_string();
    let input = serde_json::to_vec(stdin)
        .map_err(|e| NetworkError::Cni(format!("encoding config for {name}: {e}")))?;
    let mut child = Command::new(plugin)
        .env("CNI_COMMAND", cmd.as_str())
        .env("CNI_CONTAINERID", inv.container_id)
        .env("CNI_NETNS", inv.netns)
        .env("CNI_IFNAME", inv.ifname)
        .env("CNI_ARGS", inv.args)
        .env("CNI_PATH", join_paths(inv.bin_dirs))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| NetworkError::Cni(format!("starting {}: {e}", plugin.display())))?;
    if let Some(mut pipe) = child.stdin.take() {
        pipe.write_all(&input)
            .await
            .map_err(|e| NetworkError::Cni(format!("writing config to {name}: {e}")))?;
    }
    let out = tokio::time::timeout(inv.timeout, child.wait_with_output())
        .await
        .map_err(|_| {
            NetworkError::Cni(format!(
                "{name} {} timed out after {:?}",
                cmd.as_str(),
                inv.timeout
            ))
        })?
        .map_err(|e| NetworkError::Cni(format!("waiting for {name}: {e}")))?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        return Err(NetworkError::Cni(format!(
            "{name} {} failed ({}): {}",
            cmd.as_str(),
            out.status,
            describe_error(&stdout, &String::from_utf8_lossy(&out.stderr))
        )));
    }
    if stdout.trim().is_empty() {
        return Ok(Value::Null);
    }
    serde_json::from_str(&stdout).map_err(|e| {
        NetworkError::Cni(format!("{name} {} printed invalid JSON: {e}", cmd.as_str()))
    })
}

/// Renders the spec's error object (`code`, `msg`, `details`), or raw output.
fn describe_error(stdout: &str, stderr: &str) -> String {
    if let Ok(v) = serde_json::from_str::<Value>(stdout) {
        let code = v.get("code").and_then(Value::as_u64);
        let msg = v.get("msg").and_then(Value::as_str);
        if let (Some(code), Some(msg)) = (code, msg) {
            let details = v
                .get("details")
                .and_then(Value::as_str)
                .filter(|d| !d.is_empty());
            return match details {
                Some(d) => format!("code {code}: {msg} ({d})"),
                None => format!("code {code}: {msg}"),
            };
        }
    }
    let text = format!("{} {}", stdout.trim(), stderr.trim());
    text.trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_object_rendering() {
        assert_eq!(
            describe_error(
                r#"{"cniVersion":"1.0.0","code":7,"msg":"bad","details":"why"}"#,
                ""
            ),
            "code 7: bad (why)"
        );
        assert_eq!(
            describe_error(r#"{"code":11,"msg":"again"}"#, ""),
            "code 11: again"
        );
        assert_eq!(describe_error("boom", "stderr text"), "boom stderr text");
    }

    #[test]
    fn missing_plugin_is_an_error() {
        let tmp = tempfile::tempdir().expect("tempdir");
        assert!(find_plugin(&[tmp.path().to_path_buf()], "bridge").is_err());
        std::fs::write(tmp.path().join("bridge"), "").expect("write");
        assert_eq!(
            find_plugin(&[tmp.path().to_path_buf()], "bridge").expect("found"),
            tmp.path().join("bridge")
        );
    }
}
