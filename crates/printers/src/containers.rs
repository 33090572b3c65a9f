//! The "Containers" and "Images" columns of workload printers.

use crate::access::{list_at, str_at};
use serde_json::Value;

/// Comma-joined container names and images of a pod spec (`spec.containers`).
pub(crate) fn names_and_images(pod_spec: Option<&Value>) -> (String, String) {
    let Some(spec) = pod_spec else {
        return (String::new(), String::new());
    };
    let containers = list_at(spec, &["containers"]);
    let names: Vec<&str> = containers.iter().map(|c| str_at(c, &["name"])).collect();
    let images: Vec<&str> = containers.iter().map(|c| str_at(c, &["image"])).collect();
    (names.join(","), images.join(","))
}
