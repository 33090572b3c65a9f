//! Corrupted content is refused with a clear error and leaves the store as it was.

mod image_support;

use std::path::Path;

use image_support::{busybox, read_tar, tree, write_tar};
use peapod_runtime::image::{ImageError, ImageStore};

/// Flips one byte in the middle of the first archive member matching `pred`.
fn corrupt_copy(src: &Path, dst: &Path, pred: impl Fn(&str) -> bool) {
    let mut files = read_tar(src);
    let (_, data) = files
        .iter_mut()
        .find(|(name, data)| pred(name) && data.len() > 10_000)
        .expect("member to corrupt");
    let mid = data.len() / 2;
    data[mid] ^= 0xff;
    write_tar(dst, &files);
}

fn assert_store_empty(store: &ImageStore, before: &[String]) {
    assert!(store.list().unwrap().is_empty());
    assert!(store.resolve("busybox").unwrap().is_none());
    // Lock files are empty and carry no state; everything else must be as before.
    let now: Vec<String> = tree(store.root())
        .into_iter()
        .filter(|p| p != "lock" && !p.ends_with(".lock"))
        .collect();
    assert_eq!(now, before, "store files unchanged");
}

#[test]
fn corrupted_docker_archive_layer() {
    let data = tempfile::tempdir().unwrap();
    let store = ImageStore::open(data.path()).unwrap();
    let before = tree(store.root());
    let bad = data.path().join("bad-docker.tar");
    corrupt_copy(&busybox().docker_archive, &bad, |n| {
        n.ends_with("layer.tar")
    });
    let err = store.import(&bad).unwrap_err();
    assert!(
        matches!(
            err,
            ImageError::DigestMismatch { .. } | ImageError::InvalidImage(_)
        ),
        "{err}"
    );
    assert_store_empty(&store, &before);
}

#[test]
fn corrupted_oci_layer_blob() {
    let data = tempfile::tempdir().unwrap();
    let store = ImageStore::open(data.path()).unwrap();
    let before = tree(store.root());
    let bad = data.path().join("bad-oci.tar");
    corrupt_copy(&busybox().oci_archive, &bad, |n| n.starts_with("blobs/"));
    let err = store.import(&bad).unwrap_err();
    // A flipped byte in gzip data breaks the CRC or the digest: either way no import.
    assert!(
        matches!(
            err,
            ImageError::DigestMismatch { .. } | ImageError::InvalidImage(_)
        ),
        "{err}"
    );
    assert_store_empty(&store, &before);
}

#[test]
fn corrupted_config_is_a_digest_mismatch() {
    let data = tempfile::tempdir().unwrap();
    let store = ImageStore::open(data.path()).unwrap();
    let before = tree(store.root());
    let bad = data.path().join("bad-config.tar");
    let files: Vec<(String, Vec<u8>)> = read_tar(&busybox().oci_archive)
        .into_iter()
        .map(|(n, b)| {
            let text = String::from_utf8(b.clone()).unwrap_or_default();
            if n.starts_with("blobs/") && text.contains("\"Cmd\"") {
                (n, text.replace("\"sh\"", "\"ls\"").into_bytes())
            } else {
                (n, b)
            }
        })
        .collect();
    write_tar(&bad, &files);
    match store.import(&bad).unwrap_err() {
        ImageError::DigestMismatch { what, .. } => assert!(what.contains("blob"), "{what}"),
        other => panic!("want a digest mismatch, got {other}"),
    }
    assert_store_empty(&store, &before);

    // The intact archive still imports afterwards.
    store.import(&busybox().oci_archive).expect("good import");
    assert!(store.resolve("busybox").unwrap().is_some());
}
