//! `/version`: the Kubernetes version whose API types peapod serves (k8s-openapi v1_33).
//! kubectl's dispatcher picks its client by this minor version.

use serde_json::{json, Value};

pub use peapod_apimachinery::well_known::KUBERNETES_VERSION as GIT_VERSION;

pub fn info() -> Value {
    json!({
        "major": "1",
        "minor": "33",
        "gitVersion": GIT_VERSION,
        "gitCommit": concat!("peapod-", env!("CARGO_PKG_VERSION")),
        "gitTreeState": "clean",
        "buildDate": "2026-11-01T00:00:00Z",
        "goVersion": "go1.24.0",
        "compiler": "gc",
        "platform": "linux/amd64",
    })
}
