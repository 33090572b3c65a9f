//! Reference normalisation as Docker/Kubernetes do it.

use peapod_runtime::image::normalize_reference;

const D: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

#[test]
fn normalisation_table() {
    let table: &[(&str, String)] = &[
        ("busybox", "docker.io/library/busybox:latest".into()),
        ("busybox:1.36", "docker.io/library/busybox:1.36".into()),
        ("library/busybox", "docker.io/library/busybox:latest".into()),
        (
            "docker.io/busybox",
            "docker.io/library/busybox:latest".into(),
        ),
        (
            "index.docker.io/library/busybox:1",
            "docker.io/library/busybox:1".into(),
        ),
        ("bitnami/nginx:1.25", "docker.io/bitnami/nginx:1.25".into()),
        (
            "registry.k8s.io/pause:3.9",
            "registry.k8s.io/pause:3.9".into(),
        ),
        ("quay.io/a/b/c:v1", "quay.io/a/b/c:v1".into()),
        ("localhost/app", "localhost/app:latest".into()),
        ("localhost:5000/app:dev", "localhost:5000/app:dev".into()),
        (
            "127.0.0.1:5000/busybox:test",
            "127.0.0.1:5000/busybox:test".into(),
        ),
        ("[::1]:5000/busybox", "[::1]:5000/busybox:latest".into()),
        (
            &format!("busybox@{D}"),
            format!("docker.io/library/busybox@{D}"),
        ),
        (
            &format!("busybox:1.36@{D}"),
            format!("docker.io/library/busybox:1.36@{D}"),
        ),
        (
            &format!("127.0.0.1:5000/busybox@{D}"),
            format!("127.0.0.1:5000/busybox@{D}"),
        ),
        (
            "my-org/my_app__x.y:V1.0-rc_1",
            "docker.io/my-org/my_app__x.y:V1.0-rc_1".into(),
        ),
    ];
    for (input, want) in table {
        let got = normalize_reference(input).unwrap_or_else(|e| panic!("{input}: {e}"));
        assert_eq!(&got.to_string(), want, "input {input}");
    }

    let r = normalize_reference("127.0.0.1:5000/busybox:test").unwrap();
    assert_eq!(r.registry, "127.0.0.1:5000");
    assert_eq!(r.repository, "busybox");
    assert_eq!(r.tag.as_deref(), Some("test"));
    assert!(r.digest.is_none());
    assert_eq!(r.name(), "127.0.0.1:5000/busybox");

    let r = normalize_reference(&format!("busybox@{D}")).unwrap();
    assert_eq!(r.tag, None, "a digest alone gets no default tag");
    assert_eq!(
        r.digested().unwrap(),
        format!("docker.io/library/busybox@{D}")
    );
}

#[test]
fn invalid_references_are_rejected() {
    for bad in [
        "",
        "Busybox",
        "busybox:",
        "busybox:-tag",
        "busybox@sha256:1234",
        "busybox@md5:0123456789abcdef0123456789abcdef",
        "bad host!/x",
        "busy box",
        "a//b",
        "docker.io/UPPER/x",
        "host:notaport/x",
        "-lead",
        "trail-/x",
        "x:tag:more",
        &format!("busybox:{}", "t".repeat(129)),
    ] {
        assert!(
            normalize_reference(bad).is_err(),
            "{bad:?} should be rejected"
        );
    }
}
