//! Pulling from OCI registries with `oci-client`: manifests and blobs are verified
//! against their digests, manifest lists resolved for linux/amd64, layers downloaded
//! (three at a time) to a temp file, then unpacked once into the store.

use std::sync::Arc;
use std::time::Duration;

use futures::{StreamExt, TryStreamExt};
use oci_client::client::{Certificate, CertificateEncoding, ClientConfig, ClientProtocol};
use oci_client::secrets::RegistryAuth;
use oci_client::{Client, Reference};
use sha2::{Digest as _, Sha256};
use tokio::io::AsyncWriteExt;

use super::config::parse_config;
use super::digest::Digest;
use super::error::{ImageError, IoContext, Result};
use super::fsutil;
use super::manifest::{
    parse_manifest, select_platform, Descriptor, ImageManifest, Manifest, ACCEPTED_MANIFEST_TYPES,
};
use super::record::ImageRecord;
use super::reference::{normalize_reference, NormalizedRef};
use super::registries::{Credentials, Endpoint, RegistriesConfig};
use super::store::{ImageStore, PendingImage};
use super::unpack::unpack_layer;

const PARALLEL_DOWNLOADS: usize = 3;
const MAX_CONFIG_BYTES: usize = 16 * 1024 * 1024;

/// Progress of a pull, for progress bars and logs.
#[derive(Debug, Clone)]
pub enum PullEvent {
    /// Asking `endpoint` (a mirror or the registry itself) for the manifest.
    Resolving {
        endpoint: String,
    },
    /// The image manifest is known.
    Resolved {
        manifest_digest: Digest,
        layers: usize,
    },
    LayerAlreadyPresent {
        digest: Digest,
    },
    /// `size` is the compressed size announced by the manifest.
    LayerStarted {
        digest: Digest,
        size: u64,
    },
    /// Cumulative bytes downloaded for this layer.
    LayerProgress {
        digest: Digest,
        downloaded: u64,
    },
    LayerUnpacking {
        digest: Digest,
    },
    LayerDone {
        digest: Digest,
    },
}

/// A progress sink that ignores everything.
pub fn no_progress(_: PullEvent) {}

type Progress<'a> = &'a (dyn Fn(PullEvent) + Send + Sync);

/// rustls needs a process-wide crypto provider; ring keeps the build free of aws-lc.
fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

impl ImageStore {
    /// Pulls `reference` (normalised like Docker does) into the store, trying the
    /// mirrors of `registries.yaml` first, then the registry itself.
    pub async fn pull(&self, reference: &str, progress: Progress<'_>) -> Result<ImageRecord> {
        install_crypto_provider();
        let wanted = normalize_reference(reference)?;
        let registries = RegistriesConfig::load(self.data_dir())?;
        let endpoints = registries.endpoints(&wanted.registry)?;
        let mut errors = Vec::new();
        for endpoint in &endpoints {
            progress(PullEvent::Resolving {
                endpoint: endpoint.host.clone(),
            });
            match self.pull_from(&wanted, endpoint, progress).await {
                Ok(record) => return Ok(record),
                Err(e) if endpoints.len() == 1 => return Err(e),
                Err(e) => {
                    tracing::info!("pull {wanted} from {}: {e}", endpoint.host);
                    errors.push(format!("{}: {e}", endpoint.host));
                }
            }
        }
        Err(ImageError::Registry(format!(
            "pull {wanted}: every endpoint failed: {}",
            errors.join("; ")
        )))
    }

    async fn pull_from(
        &self,
        wanted: &NormalizedRef,
        endpoint: &Endpoint,
        progress: Progress<'_>,
    ) -> Result<ImageRecord> {
        let client = Arc::new(make_client(endpoint)?);
        let auth = registry_auth(&endpoint.credentials);
        let registry_err = |e: oci_client::errors::OciDistributionError| {
            ImageError::Registry(format!("{}: {e}", endpoint.host))
        };
        let image_ref = match (&wanted.digest, &wanted.tag) {
            (Some(d), _) => Reference::with_digest(
                endpoint.host.clone(),
                wanted.repository.clone(),
                d.to_string(),
            ),
            (None, Some(t)) => {
                Reference::with_tag(endpoint.host.clone(), wanted.repository.clone(), t.clone())
            }
            (None, None) => {
                return Err(ImageError::InvalidReference {
                    reference: wanted.to_string(),
                    reason: "neither tag nor digest".into(),
                })
            }
        };

        let (top_bytes, _) = client
            .pull_manifest_raw(&image_ref, &auth, ACCEPTED_MANIFEST_TYPES)
            .await
            .map_err(registry_err)?;
        let top_digest = Digest::of_bytes(&top_bytes);
        if let Some(d) = &wanted.digest {
            d.verify(&top_digest, &format!("manifest of {wanted}"))?;
        }
        let (manifest_digest, manifest_bytes, manifest) = match parse_manifest(&top_bytes, None)? {
            Manifest::Image(m) => (top_digest.clone(), top_bytes.to_vec(), m),
            Manifest::Index(index) => {
                let desc = select_platform(&index)?.clone();
                let platform_ref = image_ref.clone_with_digest(desc.digest.to_string());
                let (bytes, _) = client
                    .pull_manifest_raw(&platform_ref, &auth, ACCEPTED_MANIFEST_TYPES)
                    .await
                    .map_err(registry_err)?;
                let m = platform_manifest(&desc, &bytes)?;
                (desc.digest, bytes.to_vec(), m)
            }
        };
        progress(PullEvent::Resolved {
            manifest_digest: manifest_digest.clone(),
            layers: manifest.layers.len(),
        });

        let mut config_bytes = Vec::new();
        client
            .pull_blob(
                &image_ref,
                manifest.config.digest.to_string().as_str(),
                &mut config_bytes,
            )
            .await
            .map_err(registry_err)?;
        if config_bytes.len() > MAX_CONFIG_BYTES {
            return Err(ImageError::InvalidImage("image config too large".into()));
        }
        manifest
            .config
            .digest
            .verify(&Digest::of_bytes(&config_bytes), "image config")?;
        let config = parse_config(&config_bytes)?;
        if config.diff_ids.len() != manifest.layers.len() {
            return Err(ImageError::InvalidImage(format!(
                "config lists {} layers, manifest {}",
                config.diff_ids.len(),
                manifest.layers.len()
            )));
        }

        let store = self.clone();
        let diff_ids = config.diff_ids.clone();
        let _op = tokio::task::spawn_blocking(move || store.begin_operation(&diff_ids))
            .await
            .map_err(join_err)??;
        let mut missing = Vec::new();
        for (diff_id, desc) in config.diff_ids.iter().zip(&manifest.layers) {
            if self.has_layer(diff_id) {
                progress(PullEvent::LayerAlreadyPresent {
                    digest: desc.digest.clone(),
                });
            } else {
                missing.push((diff_id.clone(), desc.clone()));
            }
        }
        futures::stream::iter(missing)
            .map(|(diff_id, desc)| self.fetch_layer(&client, &image_ref, diff_id, desc, progress))
            .buffer_unordered(PARALLEL_DOWNLOADS)
            .try_collect::<Vec<()>>()
            .await?;

        let pending = PendingImage {
            config_bytes,
            config,
            manifest: Some((manifest_digest, manifest_bytes)),
            repo_tags: wanted.tagged().into_iter().collect(),
            repo_digests: vec![format!("{}@{}", wanted.name(), top_digest)],
        };
        let store = self.clone();
        tokio::task::spawn_blocking(move || store.commit(pending))
            .await
            .map_err(join_err)?
    }

    /// Downloads one layer blob to a temp file (verifying its digest), then unpacks it.
    async fn fetch_layer(
        &self,
        client: &Client,
        image_ref: &Reference,
        diff_id: Digest,
        desc: Descriptor,
        progress: Progress<'_>,
    ) -> Result<()> {
        let digest = desc.digest.clone();
        progress(PullEvent::LayerStarted {
            digest: digest.clone(),
            size: desc.size.max(0) as u64,
        });
        let tmp = TempPath(fsutil::unique_tmp_path(&self.tmp_dir(), "blob"));
        let mut stream = client
            .pull_blob_stream(image_ref, digest.to_string().as_str())
            .await
            .map_err(|e| ImageError::Registry(format!("layer {digest}: {e}")))?;
        let mut file = tokio::fs::File::create(&tmp.0)
            .await
            .ctx(|| format!("create {}", tmp.0.display()))?;
        let mut hasher = Sha256::new();
        let mut downloaded = 0u64;
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.ctx(|| format!("download layer {digest}"))?;
            hasher.update(&chunk);
            file.write_all(&chunk)
                .await
                .ctx(|| format!("write {}", tmp.0.display()))?;
            downloaded += chunk.len() as u64;
            progress(PullEvent::LayerProgress {
                digest: digest.clone(),
                downloaded,
            });
        }
        file.flush()
            .await
            .ctx(|| format!("write {}", tmp.0.display()))?;
        drop(file);
        digest.verify(
            &Digest::from_hasher(hasher),
            &format!("layer blob {digest}"),
        )?;

        progress(PullEvent::LayerUnpacking {
            digest: digest.clone(),
        });
        let store = self.clone();
        let blob_path = tmp.0.clone();
        tokio::task::spawn_blocking(move || {
            store.ensure_layer(&diff_id, |dest| {
                let f = std::fs::File::open(&blob_path)
                    .ctx(|| format!("open {}", blob_path.display()))?;
                unpack_layer(f, dest)
            })
        })
        .await
        .map_err(join_err)??;
        drop(tmp);
        progress(PullEvent::LayerDone { digest });
        Ok(())
    }
}

/// A downloaded blob, deleted once unpacked (or on error).
struct TempPath(std::path::PathBuf);
impl Drop for TempPath {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn platform_manifest(desc: &Descriptor, bytes: &[u8]) -> Result<ImageManifest> {
    desc.digest
        .verify(&Digest::of_bytes(bytes), "platform manifest")?;
    match parse_manifest(bytes, desc.media_type.as_deref())? {
        Manifest::Image(m) => Ok(m),
        Manifest::Index(_) => Err(ImageError::InvalidImage(
            "manifest list entry is itself a list".into(),
        )),
    }
}

fn make_client(endpoint: &Endpoint) -> Result<Client> {
    let mut extra_root_certificates = Vec::new();
    if let Some(ca) = &endpoint.ca_file {
        let data = std::fs::read(ca).ctx(|| format!("read CA file {}", ca.display()))?;
        extra_root_certificates.push(Certificate {
            encoding: CertificateEncoding::Pem,
            data,
        });
    }
    let config = ClientConfig {
        protocol: if endpoint.plain_http {
            ClientProtocol::Http
        } else {
            ClientProtocol::Https
        },
        accept_invalid_certificates: endpoint.insecure_skip_verify,
        extra_root_certificates,
        platform_resolver: Some(Box::new(oci_client::client::linux_amd64_resolver)),
        connect_timeout: Some(Duration::from_secs(30)),
        read_timeout: Some(Duration::from_secs(300)),
        ..ClientConfig::default()
    };
    Client::try_from(config)
        .map_err(|e| ImageError::Registry(format!("{}: client setup: {e}", endpoint.host)))
}

fn registry_auth(credentials: &Credentials) -> RegistryAuth {
    match credentials {
        Credentials::Anonymous => RegistryAuth::Anonymous,
        Credentials::Basic(u, p) => RegistryAuth::Basic(u.clone(), p.clone()),
        Credentials::Bearer(t) => RegistryAuth::Bearer(t.clone()),
    }
}

fn join_err(e: tokio::task::JoinError) -> ImageError {
    ImageError::Io {
        context: "image store worker".into(),
        source: std::io::Error::other(e.to_string()),
    }
}
