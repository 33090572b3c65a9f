//! `peapod image ...`: manage the node's image store. Safe to use while a server runs
//! on the same data dir (the store locks and publishes atomically).

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Mutex;

use anyhow::Context;
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use peapod_runtime::image::{normalize_reference, ImageRecord, ImageStore, PullEvent};

#[derive(clap::Args)]
pub struct ImageArgs {
    /// Data directory holding the image store (`DATA_DIR/images`).
    #[arg(long, global = true, default_value = "/var/lib/peapod")]
    data_dir: PathBuf,
    #[command(subcommand)]
    command: ImageCommand,
}

#[derive(clap::Subcommand)]
enum ImageCommand {
    /// Pull an image from a registry (mirrors and credentials from DATA_DIR/registries.yaml).
    Pull { reference: String },
    /// Import docker-archive / oci-archive tarballs or OCI layout directories.
    Import {
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// List images.
    #[command(alias = "list")]
    Ls,
    /// Remove images (by reference, ID or ID prefix).
    #[command(alias = "rmi", alias = "remove")]
    Rm {
        #[arg(required = true)]
        references: Vec<String>,
    },
    /// Show images as JSON.
    Inspect {
        #[arg(required = true)]
        references: Vec<String>,
    },
}

pub fn run(args: ImageArgs) -> anyhow::Result<()> {
    let store = ImageStore::open(&args.data_dir)
        .with_context(|| format!("open image store in {}", args.data_dir.display()))?;
    match args.command {
        ImageCommand::Pull { reference } => pull(&store, &reference),
        ImageCommand::Import { files } => {
            for file in files {
                let records = store
                    .import(&file)
                    .with_context(|| format!("import {}", file.display()))?;
                for r in records {
                    emit(&format!("Imported {} ({})\n", display_names(&r), r.id))?;
                }
            }
            Ok(())
        }
        ImageCommand::Ls => emit(&format_table(&store.list()?)),
        ImageCommand::Rm { references } => {
            let mut failed = false;
            for r in references {
                match store.remove(&r) {
                    Ok(removed) => {
                        for name in removed.untagged {
                            emit(&format!("Untagged: {name}\n"))?;
                        }
                        if let Some(id) = removed.deleted {
                            emit(&format!("Deleted: {id}\n"))?;
                        }
                    }
                    Err(e) => {
                        eprintln!("Error: {e}");
                        failed = true;
                    }
                }
            }
            if failed {
                anyhow::bail!("some images could not be removed");
            }
            Ok(())
        }
        ImageCommand::Inspect { references } => {
            let mut docs = Vec::new();
            for r in &references {
                docs.push(store.inspect(r)?.to_json_pretty());
            }
            // One JSON array, like `docker image inspect`.
            emit(&format!("[{}]\n", docs.join(",\n")))
        }
    }
}

fn pull(store: &ImageStore, reference: &str) -> anyhow::Result<()> {
    // Validate before spinning up anything.
    let normalized = normalize_reference(reference)?;
    let bars = PullBars::new();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("start tokio runtime")?;
    let record = runtime.block_on(store.pull(reference, &|event| bars.on_event(event)))?;
    bars.finish();
    emit(&format!("Pulled {normalized} ({})\n", record.id))
}

/// Writes to stdout; a closed pipe (`peapod image ls | head`) is not an error.
fn emit(text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(()),
    }
}

/// One progress bar per layer, driven by pull events.
struct PullBars {
    multi: MultiProgress,
    bars: Mutex<HashMap<String, ProgressBar>>,
}

impl PullBars {
    fn new() -> Self {
        PullBars {
            multi: MultiProgress::new(),
            bars: Mutex::new(HashMap::new()),
        }
    }

    fn on_event(&self, event: PullEvent) {
        let Ok(mut bars) = self.bars.lock() else {
            return;
        };
        match event {
            PullEvent::Resolving { endpoint } => {
                let _ = self.multi.println(format!("Resolving from {endpoint}"));
            }
            PullEvent::Resolved {
                manifest_digest, ..
            } => {
                let _ = self.multi.println(format!("Manifest {manifest_digest}"));
            }
            PullEvent::LayerAlreadyPresent { digest } => {
                let _ = self
                    .multi
                    .println(format!("{}: already present", short(&digest.to_string())));
            }
            PullEvent::LayerStarted { digest, size } => {
                let bar = self.multi.add(ProgressBar::new(size));
                if let Ok(style) = ProgressStyle::with_template(
                    "{prefix} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} {msg}",
                ) {
                    bar.set_style(style.progress_chars("=> "));
                }
                bar.set_prefix(short(&digest.to_string()));
                bars.insert(digest.to_string(), bar);
            }
            PullEvent::LayerProgress { digest, downloaded } => {
                if let Some(bar) = bars.get(&digest.to_string()) {
                    bar.set_position(downloaded);
                }
            }
            PullEvent::LayerUnpacking { digest } => {
                if let Some(bar) = bars.get(&digest.to_string()) {
                    bar.set_message("unpacking");
                }
            }
            PullEvent::LayerDone { digest } => {
                if let Some(bar) = bars.get(&digest.to_string()) {
                    bar.finish_with_message("done");
                }
            }
        }
    }

    fn finish(&self) {
        if let Ok(bars) = self.bars.lock() {
            for bar in bars.values() {
                if !bar.is_finished() {
                    bar.finish();
                }
            }
        }
    }
}

/// `sha256:0123456789abcdef...` → `0123456789ab`
fn short(digest: &str) -> String {
    digest
        .strip_prefix("sha256:")
        .unwrap_or(digest)
        .chars()
        .take(12)
        .collect()
}

fn display_names(r: &ImageRecord) -> String {
    if r.repo_tags.is_empty() {
        "<none>".to_string()
    } else {
        r.repo_tags.join(", ")
    }
}

/// `REPOSITORY TAG DIGEST IMAGE ID SIZE`, one row per tag (like `crictl images --digests`).
fn format_table(images: &[ImageRecord]) -> String {
    let mut rows = vec![[
        "REPOSITORY".to_string(),
        "TAG".into(),
        "DIGEST".into(),
        "IMAGE ID".into(),
        "SIZE".into(),
    ]];
    for image in images {
        let digest_for = |repo: &str| {
            image
                .repo_digests
                .iter()
                .find_map(|d| d.split_once('@').filter(|(name, _)| *name == repo))
                .map_or("<none>".to_string(), |(_, d)| short(d))
        };
        let mut names: Vec<(String, String)> = image
            .repo_tags
            .iter()
            .filter_map(|t| {
                let slash = t.rfind('/').unwrap_or(0);
                t[slash..]
                    .rfind(':')
                    .map(|i| (t[..slash + i].to_string(), t[slash + i + 1..].to_string()))
            })
            .collect();
        for d in &image.repo_digests {
            if let Some((repo, _)) = d.split_once('@') {
                if !names.iter().any(|(r, _)| r == repo) {
                    names.push((repo.to_string(), "<none>".to_string()));
                }
            }
        }
        if names.is_empty() {
            names.push(("<none>".into(), "<none>".into()));
        }
        for (repo, tag) in names {
            rows.push([
                repo.clone(),
                tag,
                digest_for(&repo),
                short(&image.id.to_string()),
                human_size(image.size),
            ]);
        }
    }
    let widths: Vec<usize> = (0..5)
        .map(|c| rows.iter().map(|r| r[c].len()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for row in rows {
        let line: Vec<String> = row
            .iter()
            .zip(&widths)
            .map(|(cell, w)| format!("{cell:<w$}"))
            .collect();
        out.push_str(line.join("   ").trim_end());
        out.push('\n');
    }
    out
}

/// Decimal units with three significant digits, as Docker and crictl print sizes.
fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "kB", "MB", "GB", "TB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit < UNITS.len() - 1 {
        value /= 1000.0;
        unit += 1;
    }
    let precision = if unit == 0 || value >= 100.0 {
        0
    } else if value >= 10.0 {
        1
    } else {
        2
    };
    format!("{value:.precision$}{}", UNITS[unit])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_sizes() {
        assert_eq!(human_size(999), "999B");
        assert_eq!(human_size(4_260_000), "4.26MB");
        assert_eq!(human_size(12_345_678), "12.3MB");
        assert_eq!(human_size(123_456_789), "123MB");
    }

    #[test]
    fn short_digest() {
        assert_eq!(short("sha256:0123456789abcdef"), "0123456789ab");
    }
}
