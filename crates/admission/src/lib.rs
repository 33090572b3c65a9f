//! Server-side admission and pod-configuration logic, pure and storage-free:
//!
//! - [`serviceaccount`]: the ServiceAccount token signer (bound JWTs), the TokenRequest
//!   subresource, ServiceAccount admission (the `kube-api-access-*` projected volume) and the
//!   `kube-root-ca.crt` ConfigMap.
//! - [`podpreset`]: the `settings.k8s.io/v1alpha1` PodPreset admission step.
//! - [`downward`]: Downward API field and resource references as the kubelet resolves them.
//! - [`expansion`]: `$(VAR)` expansion of command, args and env values.
//!
//! Objects are `serde_json::Value`s shaped like the Kubernetes JSON the API server handles.

pub mod downward;
pub mod expansion;
pub mod podpreset;
pub mod serviceaccount;

mod json;

pub use downward::{resolve_field_ref, resolve_resource_field_ref};
pub use expansion::expand_vars;
pub use podpreset::{apply_pod_presets, PresetOutcome};
pub use serviceaccount::{
    admit_service_account, parse_token_request, root_ca_configmap, service_account_name,
    token_request_response, BoundObjects, ObjectRef, TokenClaims, TokenError, TokenRequestError,
    TokenRequestOptions, TokenSigner, VerifiedToken,
};
