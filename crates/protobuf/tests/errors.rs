//! Bad bodies give a clear error, never a panic.

mod common;

use common::{body, go_meta, s};
use k8s_pb::api::apps::v1 as apps;
use k8s_pb::apimachinery::pkg::runtime::{TypeMeta, Unknown};
use k8s_pb::apimachinery::pkg::util::intstr::IntOrString;
use peapod_protobuf::{
    decode, is_protobuf_content_type, supports_kind, DecodeError, MAGIC, SUPPORTED_KINDS,
};
use prost::Message;

fn deployment_body() -> Vec<u8> {
    let deployment = apps::Deployment {
        metadata: Some(go_meta("web", "default")),
        spec: Some(apps::DeploymentSpec {
            replicas: Some(2),
            ..Default::default()
        }),
        status: None,
    };
    body("apps/v1", "Deployment", &deployment)
}

fn envelope(unknown: Unknown) -> Vec<u8> {
    let mut out = MAGIC.to_vec();
    out.extend(unknown.encode_to_vec());
    out
}

#[test]
fn wrong_magic_is_rejected() {
    let mut bad = deployment_body();
    bad[3] = b'X';
    let err = decode(&bad).unwrap_err();
    assert_eq!(err, DecodeError::BadMagic);
    assert_eq!(err.http_status(), 400);
    assert!(err.to_string().contains("magic"), "{err}");
    assert_eq!(decode(b"").unwrap_err(), DecodeError::BadMagic);
    assert_eq!(
        decode(b"{\"kind\":\"Pod\"}").unwrap_err(),
        DecodeError::BadMagic
    );
}

#[test]
fn magic_without_type_meta_is_rejected() {
    assert_eq!(decode(MAGIC).unwrap_err(), DecodeError::MissingTypeMeta);
}

#[test]
fn truncated_bodies_fail_cleanly() {
    let message = apps::Deployment {
        metadata: Some(go_meta("web", "default")),
        spec: Some(apps::DeploymentSpec {
            replicas: Some(2),
            ..Default::default()
        }),
        status: None,
    }
    .encode_to_vec();
    // raw is the last envelope field here, so any cut inside the last message.len() bytes
    // truncates a length-delimited field and must be reported as malformed.
    let full = envelope(Unknown {
        type_meta: Some(TypeMeta {
            api_version: s("apps/v1"),
            kind: s("Deployment"),
        }),
        raw: Some(message.clone()),
        content_encoding: None,
        content_type: None,
    });
    assert!(decode(&full).is_ok());
    for cut in (full.len() - message.len())..full.len() {
        match decode(&full[..cut]) {
            Err(DecodeError::Malformed { detail, .. }) => assert!(!detail.is_empty()),
            other => panic!("cut at {cut}: expected Malformed, got {other:?}"),
        }
    }
    // Every prefix of a kubectl-style body: an error or (at a field boundary) a value, never a panic.
    let kubectl_style = deployment_body();
    for cut in 0..kubectl_style.len() {
        let _ = decode(&kubectl_style[..cut]);
    }
    let err = decode(&full[..full.len() - 3]).unwrap_err();
    assert!(err.to_string().starts_with("malformed protobuf"), "{err}");
}

#[test]
fn unknown_kind_is_unsupported_with_a_clear_message() {
    let body = envelope(Unknown {
        type_meta: Some(TypeMeta {
            api_version: s("example.com/v1"),
            kind: s("Widget"),
        }),
        raw: Some(vec![]),
        content_encoding: None,
        content_type: None,
    });
    let err = decode(&body).unwrap_err();
    assert_eq!(err.http_status(), 415);
    let message = err.to_string();
    assert!(
        message.contains("Widget") && message.contains("example.com/v1"),
        "{message}"
    );
    assert!(!supports_kind("example.com/v1", "Widget"));
}

#[test]
fn required_kinds_are_supported() {
    let required = [
        ("v1", "Namespace"),
        ("v1", "Pod"),
        ("v1", "ConfigMap"),
        ("v1", "Secret"),
        ("v1", "ServiceAccount"),
        ("v1", "Service"),
        ("v1", "Endpoints"),
        ("v1", "Event"),
        ("v1", "Node"),
        ("apps/v1", "Deployment"),
        ("apps/v1", "ReplicaSet"),
        ("apps/v1", "DaemonSet"),
        ("apps/v1", "StatefulSet"),
        ("apps/v1", "ControllerRevision"),
        ("batch/v1", "Job"),
        ("batch/v1", "CronJob"),
        ("coordination.k8s.io/v1", "Lease"),
        ("events.k8s.io/v1", "Event"),
        ("meta.k8s.io/v1", "DeleteOptions"),
        ("v1", "DeleteOptions"),
    ];
    for (api_version, kind) in required {
        assert!(supports_kind(api_version, kind), "{api_version} {kind}");
    }
    assert!(SUPPORTED_KINDS.len() >= 60);
}

#[test]
fn content_encoding_and_foreign_content_type_are_rejected() {
    let type_meta = Some(TypeMeta {
        api_version: s("v1"),
        kind: s("Namespace"),
    });
    let gzip = envelope(Unknown {
        type_meta: type_meta.clone(),
        raw: Some(vec![]),
        content_encoding: s("gzip"),
        content_type: None,
    });
    assert_eq!(
        decode(&gzip).unwrap_err(),
        DecodeError::UnsupportedEncoding("gzip".to_string())
    );
    let json_inside = envelope(Unknown {
        type_meta,
        raw: Some(b"{}".to_vec()),
        content_encoding: None,
        content_type: s("application/json"),
    });
    assert_eq!(decode(&json_inside).unwrap_err().http_status(), 415);
}

#[test]
fn invalid_values_are_reported_not_panicked() {
    // IntOrString with an unknown discriminator.
    let deployment = apps::Deployment {
        spec: Some(apps::DeploymentSpec {
            strategy: Some(apps::DeploymentStrategy {
                r#type: s("RollingUpdate"),
                rolling_update: Some(apps::RollingUpdateDeployment {
                    max_surge: Some(IntOrString {
                        r#type: Some(7),
                        int_val: None,
                        str_val: None,
                    }),
                    max_unavailable: None,
                }),
            }),
            ..Default::default()
        }),
        ..Default::default()
    };
    let err = decode(&body("apps/v1", "Deployment", &deployment)).unwrap_err();
    assert!(matches!(err, DecodeError::InvalidValue { .. }), "{err:?}");
    assert!(err.to_string().contains("IntOrString"), "{err}");

    // RawExtension that is not JSON.
    let revision = apps::ControllerRevision {
        data: Some(k8s_pb::apimachinery::pkg::runtime::RawExtension {
            raw: Some(b"\x00not json".to_vec()),
        }),
        ..Default::default()
    };
    let err = decode(&body("apps/v1", "ControllerRevision", &revision)).unwrap_err();
    assert!(err.to_string().contains("RawExtension"), "{err}");

    // Times outside what RFC 3339 can express.
    let mut meta = go_meta("x", "");
    meta.creation_timestamp = Some(k8s_pb::apimachinery::pkg::apis::meta::v1::Time {
        seconds: Some(i64::MAX),
        nanos: None,
    });
    let namespace = k8s_pb::api::core::v1::Namespace {
        metadata: Some(meta),
        ..Default::default()
    };
    let err = decode(&body("v1", "Namespace", &namespace)).unwrap_err();
    assert!(err.to_string().contains("Time"), "{err}");
}

#[test]
fn content_type_detection() {
    assert!(is_protobuf_content_type(
        "application/vnd.kubernetes.protobuf"
    ));
    assert!(is_protobuf_content_type(
        "Application/VND.Kubernetes.Protobuf ; charset=utf-8"
    ));
    assert!(is_protobuf_content_type(
        "application/vnd.kubernetes.protobuf;stream=watch"
    ));
    assert!(!is_protobuf_content_type("application/json"));
    assert!(!is_protobuf_content_type(
        "application/vnd.kubernetes.protobuf+json"
    ));
    assert!(!is_protobuf_content_type(""));
}

/// xorshift64*: deterministic so a failure reproduces.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

#[test]
fn random_and_mutated_bytes_never_panic() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let valid = deployment_body();
    for round in 0..20_000 {
        let bytes = match round % 3 {
            // Pure noise, with and without the magic prefix.
            0 => (0..rng.below(200))
                .map(|_| rng.next() as u8)
                .collect::<Vec<u8>>(),
            1 => {
                let mut b = MAGIC.to_vec();
                b.extend((0..rng.below(200)).map(|_| rng.next() as u8));
                b
            }
            // A valid body with a few bytes flipped: reaches deep into the typed decoder.
            _ => {
                let mut b = valid.clone();
                for _ in 0..1 + rng.below(4) {
                    let at = MAGIC.len() + rng.below(b.len() - MAGIC.len());
                    b[at] = rng.next() as u8;
                }
                b
            }
        };
        if let Err(err) = decode(&bytes) {
            assert!(!err.to_string().is_empty());
        }
    }
}
