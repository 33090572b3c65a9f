//! Image pulls per `imagePullPolicy`, with the kubelet's waiting reasons and events.

use std::collections::HashMap;
use std::time::Instant;

use chrono::{DateTime, Utc};
use k8s_openapi::api::core::v1::{Container, Pod};
use peapod_runtime::image::{no_progress, normalize_reference, ImageRecord, ImageStore};

use crate::backoff::{Backoff, Decision};
use crate::events::{EventRecorder, EventType};
use crate::status::Waiting;

/// The policy Kubernetes defaults to: `Always` for `:latest` or untagged images.
pub fn pull_policy(c: &Container) -> String {
    if let Some(p) = c.image_pull_policy.as_deref().filter(|p| !p.is_empty()) {
        return p.to_string();
    }
    let image = c.image.as_deref().unwrap_or("");
    let name = image.rsplit('/').next().unwrap_or(image);
    let tagged = name.contains(':') && !name.ends_with(":latest");
    if image.contains('@') || tagged {
        "IfNotPresent".into()
    } else {
        "Always".into()
    }
}

/// `docker.io/library/x@sha256:…` when the image has a repo digest, else its config id.
pub fn image_id(rec: &ImageRecord) -> String {
    rec.repo_digests
        .first()
        .cloned()
        .unwrap_or_else(|| rec.id.to_string())
}

/// The image name the status reports (normalised like containerd does).
pub fn display_name(image: &str, rec: Option<&ImageRecord>) -> String {
    if let Some(r) = rec {
        if let Ok(n) = normalize_reference(image) {
            let s = n.to_string();
            if r.names().any(|x| *x == s) {
                return s;
            }
        }
        if let Some(t) = r.repo_tags.first() {
            return t.clone();
        }
    }
    normalize_reference(image)
        .map(|n| n.to_string())
        .unwrap_or_else(|_| image.to_string())
}

/// Per-pod pull state: failures back off like kubelet's image back-off.
#[derive(Default)]
pub struct Puller {
    backoff: Backoff,
    failed_at: HashMap<String, DateTime<Utc>>,
    /// The failure each image's BackOff event was last recorded for: one event per back-off,
    /// not one per sync.
    backoff_reported: HashMap<String, DateTime<Utc>>,
}

impl Puller {
    /// Makes the container's image available, or says why the container waits.
    pub async fn ensure(
        &mut self,
        store: &ImageStore,
        events: &EventRecorder,
        pod: &Pod,
        c: &Container,
        init: bool,
    ) -> Result<ImageRecord, Waiting> {
        let image = c.image.clone().unwrap_or_default();
        if image.is_empty() {
            return Err(Waiting::new(
                "InvalidImageName",
                Some("Failed to apply default image tag \"\": couldn't parse image name \"\": invalid reference format".to_string()),
            ));
        }
        if let Err(e) = normalize_reference(&image) {
            let msg = format!("Failed to apply default image tag {image:?}: {e}");
            events.container(
                pod,
                &c.name,
                init,
                EventType::Warning,
                "InspectFailed",
                &msg,
            );
            return Err(Waiting::new("InvalidImageName", Some(msg)));
        }
        let policy = pull_policy(c);
        let local = store.resolve(&image).ok().flatten();
        match (policy.as_str(), local) {
            ("Never", Some(rec)) | ("IfNotPresent", Some(rec)) => {
                events.container(
                    pod,
                    &c.name,
                    init,
                    EventType::Normal,
                    "Pulled",
                    format!("Container image {image:?} already present on machine"),
                );
                return Ok(rec);
            }
            ("Never", None) => {
                let msg =
                    format!("Container image {image:?} is not present with pull policy of Never");
                events.container(
                    pod,
                    &c.name,
                    init,
                    EventType::Warning,
                    "ErrImageNeverPull",
                    &msg,
                );
                return Err(Waiting::new("ErrImageNeverPull", Some(msg)));
            }
            _ => {}
        }
        let now = Utc::now();
        if let Some(failed) = self.failed_at.get(&image) {
            if let Decision::Wait { .. } = self.backoff.check(&image, None, *failed, now) {
                let msg = format!("Back-off pulling image {image:?}");
                if self.backoff_reported.get(&image) != Some(failed) {
                    self.backoff_reported.insert(image.clone(), *failed);
                    events.container(pod, &c.name, init, EventType::Normal, "BackOff", &msg);
                }
                return Err(Waiting::new("ImagePullBackOff", Some(msg)));
            }
        }
        events.container(
            pod,
            &c.name,
            init,
            EventType::Normal,
            "Pulling",
            format!("Pulling image {image:?}"),
        );
        let started = Instant::now();
        match store.pull(&image, &no_progress).await {
            Ok(rec) => {
                self.failed_at.remove(&image);
                self.backoff.reset(&image);
                let took = started.elapsed();
                events.container(
                    pod,
                    &c.name,
                    init,
                    EventType::Normal,
                    "Pulled",
                    format!(
                        "Successfully pulled image {image:?} in {took:?} ({took:?} including waiting). Image size: {} bytes.",
                        rec.size
                    ),
                );
                Ok(rec)
            }
            Err(e) => {
                self.failed_at.insert(image.clone(), Utc::now());
                self.backoff.restarted(&image);
                let msg = format!("Failed to pull image {image:?}: {e}");
                events.container(pod, &c.name, init, EventType::Warning, "Failed", &msg);
                events.container(
                    pod,
                    &c.name,
                    init,
                    EventType::Warning,
                    "Failed",
                    "Error: ErrImagePull",
                );
                Err(Waiting::new("ErrImagePull", Some(msg)))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(image: &str, policy: Option<&str>) -> Container {
        Container {
            name: "c".into(),
            image: Some(image.into()),
            image_pull_policy: policy.map(str::to_string),
            ..Default::default()
        }
    }

    #[test]
    fn default_policies() {
        assert_eq!(pull_policy(&c("busybox", None)), "Always");
        assert_eq!(pull_policy(&c("busybox:latest", None)), "Always");
        assert_eq!(pull_policy(&c("busybox:1.36", None)), "IfNotPresent");
        assert_eq!(pull_policy(&c("reg:5000/busybox", None)), "Always");
        assert_eq!(pull_policy(&c("busybox", Some("Never"))), "Never");
    }
}
