//! Shared helpers of the image tests: the busybox archives built by
//! `scripts/build-busybox-image.sh`, and small hand-made images.
#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use sha2::{Digest as _, Sha256};

pub struct Busybox {
    pub docker_archive: PathBuf,
    pub oci_archive: PathBuf,
}

/// Builds the busybox archives once (the script's output is deterministic, so a
/// copy left by an earlier run under cargo's test tmp dir is reused).
pub fn busybox() -> &'static Busybox {
    static BUSYBOX: OnceLock<Busybox> = OnceLock::new();
    BUSYBOX.get_or_init(|| {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("busybox-image");
        let image = Busybox {
            docker_archive: dir.join("busybox-docker.tar"),
            oci_archive: dir.join("busybox-oci.tar"),
        };
        if image.docker_archive.is_file() && image.oci_archive.is_file() {
            return image;
        }
        let staging = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("busybox-image-{}", std::process::id()));
        let script =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/build-busybox-image.sh");
        let out = Command::new("sh")
            .arg(&script)
            .arg(&staging)
            .output()
            .expect("run build-busybox-image.sh");
        assert!(
            out.status.success(),
            "build-busybox-image.sh failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        // Another test binary may have published it meanwhile: same bytes, keep either.
        if std::fs::rename(&staging, &dir).is_err() {
            let _ = std::fs::remove_dir_all(&staging);
        }
        image
    })
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// What goes into a hand-made layer.
pub enum Item<'a> {
    Dir(&'a str),
    File(&'a str, &'a [u8]),
    Symlink(&'a str, &'a str),
}

/// An uncompressed layer tar with fixed metadata.
pub fn layer_tar(items: &[Item]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for item in items {
        let mut header = tar::Header::new_gnu();
        header.set_mtime(1_700_000_000);
        header.set_uid(0);
        header.set_gid(0);
        match item {
            Item::Dir(path) => {
                header.set_entry_type(tar::EntryType::Directory);
                header.set_mode(0o755);
                header.set_size(0);
                builder
                    .append_data(&mut header, path, std::io::empty())
                    .expect("append dir");
            }
            Item::File(path, data) => {
                header.set_entry_type(tar::EntryType::Regular);
                header.set_mode(0o644);
                header.set_size(data.len() as u64);
                builder
                    .append_data(&mut header, path, *data)
                    .expect("append file");
            }
            Item::Symlink(path, target) => {
                header.set_entry_type(tar::EntryType::Symlink);
                header.set_mode(0o777);
                header.set_size(0);
                builder
                    .append_link(&mut header, path, target)
                    .expect("append symlink");
            }
        }
    }
    builder.into_inner().expect("finish layer tar")
}

pub fn config_json(diff_ids: &[String], cmd: &[&str]) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "architecture": "amd64",
        "os": "linux",
        "config": {"Cmd": cmd, "Env": ["PATH=/bin"], "WorkingDir": "/work", "User": "1000:1000",
                   "StopSignal": "SIGQUIT", "ExposedPorts": {"8080/tcp": {}}},
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
    }))
    .expect("config json")
}

/// A docker-archive (`docker save` layout) of the given uncompressed layers.
pub fn docker_archive(path: &Path, tag: &str, layers: &[Vec<u8>]) -> String {
    let diff_ids: Vec<String> = layers
        .iter()
        .map(|l| format!("sha256:{}", sha256_hex(l)))
        .collect();
    let config = config_json(&diff_ids, &["sh"]);
    let config_hex = sha256_hex(&config);
    let layer_paths: Vec<String> = layers
        .iter()
        .map(|l| format!("{}/layer.tar", sha256_hex(l)))
        .collect();
    let manifest = serde_json::to_vec(&serde_json::json!([{
        "Config": format!("{config_hex}.json"),
        "RepoTags": [tag],
        "Layers": layer_paths,
    }]))
    .expect("manifest json");
    let mut files: Vec<(String, Vec<u8>)> = vec![(format!("{config_hex}.json"), config)];
    for (p, l) in layer_paths.iter().zip(layers) {
        files.push((p.clone(), l.clone()));
    }
    files.push(("manifest.json".into(), manifest));
    write_tar(path, &files);
    format!("sha256:{config_hex}")
}

pub fn write_tar(path: &Path, files: &[(String, Vec<u8>)]) {
    let mut builder = tar::Builder::new(std::fs::File::create(path).expect("create tar"));
    for (name, data) in files {
        let mut header = tar::Header::new_gnu();
        header.set_mode(0o644);
        header.set_size(data.len() as u64);
        header.set_mtime(1_700_000_000);
        builder
            .append_data(&mut header, name, data.as_slice())
            .expect("append");
    }
    builder
        .into_inner()
        .expect("finish")
        .flush()
        .expect("flush");
}

/// Reads every regular file of a tar into memory (archives here are small).
pub fn read_tar(path: &Path) -> Vec<(String, Vec<u8>)> {
    let mut archive = tar::Archive::new(std::fs::File::open(path).expect("open tar"));
    let mut out = Vec::new();
    for entry in archive.entries().expect("entries") {
        let mut entry = entry.expect("entry");
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let name = entry.path().expect("path").display().to_string();
        let mut data = Vec::new();
        std::io::Read::read_to_end(&mut entry, &mut data).expect("read entry");
        out.push((name, data));
    }
    out
}

/// Names of everything under `dir` (recursive, relative), sorted: "the store is unchanged".
pub fn tree(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            out.push(p.strip_prefix(dir).unwrap_or(&p).display().to_string());
            if e.file_type().map(|t| t.is_dir()).unwrap_or(false) {
                stack.push(p);
            }
        }
    }
    out.sort();
    out
}
