//! Importing docker-archive, oci-archive and OCI layout images; list/remove/leases;
//! concurrent imports; the k3s `images/*.tar` directory import.

mod image_support;

use std::os::unix::fs::MetadataExt;
use std::path::Path;

use image_support::{busybox, read_tar, tree, write_tar};
use peapod_runtime::image::{ImageError, ImageStore};

const BUSYBOX: &str = "docker.io/library/busybox:latest";

fn assert_busybox_rootfs(store: &ImageStore, reference: &str) {
    let image = store.get(reference).expect("image present");
    let dirs = store.layer_dirs(&image).expect("layer dirs");
    assert_eq!(dirs.len(), 1);
    let root = &dirs[0];
    let busybox_bin = root.join("bin/busybox");
    let meta = std::fs::metadata(&busybox_bin).expect("bin/busybox");
    assert_eq!(meta.mode() & 0o777, 0o755);
    assert_eq!(meta.uid(), 0);
    // Applet links made inside the chroot point at /bin/busybox, not the build host.
    assert_eq!(
        std::fs::read_link(root.join("bin/sh")).expect("bin/sh link"),
        Path::new("/bin/busybox")
    );
    assert!(std::fs::read_to_string(root.join("etc/passwd"))
        .expect("passwd")
        .contains("nobody:x:65534"));
    assert_eq!(
        std::fs::metadata(root.join("tmp")).expect("tmp").mode() & 0o7777,
        0o1777
    );
    assert_eq!(image.config.cmd, vec!["sh"]);
    assert!(image.size > 500_000, "size {} counts busybox", image.size);
}

#[test]
fn import_docker_archive() {
    let data = tempfile::tempdir().unwrap();
    let store = ImageStore::open(data.path()).unwrap();
    let records = store.import(&busybox().docker_archive).expect("import");
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].repo_tags, vec![BUSYBOX]);
    assert!(
        records[0].repo_digests.is_empty(),
        "docker archives carry no manifest digest"
    );
    assert_busybox_rootfs(&store, "busybox");
    assert_eq!(
        store.resolve("busybox:latest").unwrap().unwrap().id,
        records[0].id
    );
    assert_eq!(
        store
            .resolve(&records[0].id.to_string())
            .unwrap()
            .unwrap()
            .id,
        records[0].id
    );
    assert_eq!(
        store
            .resolve(&records[0].id.hex()[..12])
            .unwrap()
            .unwrap()
            .id,
        records[0].id
    );
    assert!(store.resolve("busybox:other").unwrap().is_none());
    assert!(store.resolve("alpine").unwrap().is_none());
}

#[test]
fn import_oci_archive_shares_layers_with_docker_archive() {
    let data = tempfile::tempdir().unwrap();
    let store = ImageStore::open(data.path()).unwrap();
    let oci = store.import(&busybox().oci_archive).expect("import oci");
    assert_eq!(oci.len(), 1);
    assert_eq!(oci[0].repo_tags, vec![BUSYBOX]);
    let manifest_digest = oci[0].manifest_digest.clone().expect("manifest digest");
    assert_eq!(
        oci[0].repo_digests,
        vec![format!("docker.io/library/busybox@{manifest_digest}")]
    );
    assert_busybox_rootfs(&store, "docker.io/library/busybox");
    assert!(store
        .resolve(&format!("busybox@{manifest_digest}"))
        .unwrap()
        .is_some());

    // Same config → same image; the layer is not unpacked a second time.
    let layer_dir = store.layer_dirs(&oci[0]).unwrap()[0].clone();
    let inode_before = std::fs::metadata(&layer_dir).unwrap().ino();
    let docker = store
        .import(&busybox().docker_archive)
        .expect("import docker");
    assert_eq!(docker[0].id, oci[0].id);
    assert_eq!(std::fs::metadata(&layer_dir).unwrap().ino(), inode_before);
    assert_eq!(store.list().unwrap().len(), 1);
    assert_eq!(
        std::fs::read_dir(store.root().join("layers"))
            .unwrap()
            .count(),
        1
    );
}

#[test]
fn import_oci_layout_directory_and_gzipped_archive() {
    let data = tempfile::tempdir().unwrap();
    let store = ImageStore::open(data.path()).unwrap();
    let layout = tempfile::tempdir().unwrap();
    for (name, bytes) in read_tar(&busybox().oci_archive) {
        let path = layout.path().join(&name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, bytes).unwrap();
    }
    let records = store.import(layout.path()).expect("import layout dir");
    assert_eq!(records[0].repo_tags, vec![BUSYBOX]);
    assert_busybox_rootfs(&store, "busybox");

    // `docker save | gzip` style archive.
    let gz_path = layout.path().join("busybox.tar.gz");
    let mut enc = flate2::write::GzEncoder::new(
        std::fs::File::create(&gz_path).unwrap(),
        flate2::Compression::fast(),
    );
    std::io::copy(
        &mut std::fs::File::open(&busybox().docker_archive).unwrap(),
        &mut enc,
    )
    .unwrap();
    enc.finish().unwrap();
    let data2 = tempfile::tempdir().unwrap();
    let store2 = ImageStore::open(data2.path()).unwrap();
    assert_eq!(store2.import(&gz_path).unwrap()[0].id, records[0].id);
}

#[test]
fn not_an_image_archive_is_a_clear_error() {
    let data = tempfile::tempdir().unwrap();
    let store = ImageStore::open(data.path()).unwrap();
    let bogus = data.path().join("bogus.tar");
    write_tar(&bogus, &[("hello.txt".into(), b"hi".to_vec())]);
    let err = store.import(&bogus).unwrap_err();
    assert!(matches!(err, ImageError::InvalidArchive { .. }), "{err}");
    std::fs::write(&bogus, b"definitely not a tar archive, just text....").unwrap();
    assert!(store.import(&bogus).is_err());
    assert!(store.import(&data.path().join("missing.tar")).is_err());
}

#[test]
fn remove_untags_then_deletes_and_leases_keep_layers() {
    let data = tempfile::tempdir().unwrap();
    let store = ImageStore::open(data.path()).unwrap();
    let image = store.import(&busybox().oci_archive).unwrap().remove(0);
    // A second name for the same image: import the docker archive retagged.
    let retagged = data.path().join("retagged.tar");
    let files: Vec<(String, Vec<u8>)> = read_tar(&busybox().docker_archive)
        .into_iter()
        .map(|(n, b)| {
            if n == "manifest.json" {
                let s = String::from_utf8(b)
                    .unwrap()
                    .replace(BUSYBOX, "registry.local:5000/tools/bb:v1");
                (n, s.into_bytes())
            } else {
                (n, b)
            }
        })
        .collect();
    write_tar(&retagged, &files);
    store.import(&retagged).unwrap();
    let both = store.get("registry.local:5000/tools/bb:v1").unwrap();
    assert_eq!(both.id, image.id);
    assert_eq!(both.repo_tags.len(), 2);

    let layer_dir = store.layer_dirs(&image).unwrap()[0].clone();
    store.lease("container-1", &image).unwrap();

    let removed = store.remove("busybox").unwrap();
    assert_eq!(removed.untagged, vec![BUSYBOX]);
    assert!(removed.deleted.is_none(), "another tag remains");
    assert!(store.resolve("busybox").unwrap().is_none());

    let removed = store.remove("registry.local:5000/tools/bb:v1").unwrap();
    assert_eq!(removed.deleted.as_ref(), Some(&image.id));
    assert!(store.list().unwrap().is_empty());
    assert!(
        layer_dir.is_dir(),
        "leased layer kept while a container uses it"
    );

    store.release("container-1").unwrap();
    assert!(!layer_dir.exists(), "layer collected after release");
    assert!(matches!(
        store.remove("busybox"),
        Err(ImageError::NotFound(_))
    ));
    assert!(store.lease("../escape", &image).is_err());
    // No staging leftovers.
    assert!(tree(&store.root().join("tmp")).is_empty());
}

#[test]
fn concurrent_imports_of_the_same_image() {
    let data = tempfile::tempdir().unwrap();
    let threads: Vec<_> = (0..6)
        .map(|i| {
            let dir = data.path().to_path_buf();
            std::thread::spawn(move || {
                // Each thread opens its own store handle, as separate processes would.
                let store = ImageStore::open(&dir).unwrap();
                let archive = if i % 2 == 0 {
                    &busybox().docker_archive
                } else {
                    &busybox().oci_archive
                };
                store.import(archive).map(|r| r[0].id.clone())
            })
        })
        .collect();
    let ids: Vec<_> = threads
        .into_iter()
        .map(|t| t.join().expect("thread").expect("import"))
        .collect();
    assert!(ids.windows(2).all(|w| w[0] == w[1]));
    let store = ImageStore::open(data.path()).unwrap();
    assert_eq!(store.list().unwrap().len(), 1);
    assert_eq!(
        std::fs::read_dir(store.root().join("layers"))
            .unwrap()
            .count(),
        1
    );
    assert!(tree(&store.root().join("tmp")).is_empty());
    assert!(tree(&store.root().join("leases")).is_empty());
    assert_busybox_rootfs(&store, "busybox");
}

#[test]
fn import_dir_skips_unchanged_archives() {
    let data = tempfile::tempdir().unwrap();
    let store = ImageStore::open(data.path()).unwrap();
    let images_dir = store.root().to_path_buf();
    std::fs::copy(&busybox().docker_archive, images_dir.join("busybox.tar")).unwrap();
    std::fs::write(images_dir.join("broken.tar"), b"not a tar").unwrap();
    std::fs::write(images_dir.join("notes.txt"), b"ignored").unwrap();

    let first = store.import_dir(&images_dir).unwrap();
    assert_eq!(first.imported.len(), 1);
    assert_eq!(
        first.failed.len(),
        1,
        "a broken archive is reported, not fatal"
    );
    assert!(store.resolve("busybox").unwrap().is_some());

    let second = store.import_dir(&images_dir).unwrap();
    assert!(second.imported.is_empty());
    assert_eq!(second.skipped.len(), 1);

    // Removed by the user → imported again on the next start (k3s behaviour).
    store.remove("busybox").unwrap();
    let third = store.import_dir(&images_dir).unwrap();
    assert_eq!(third.imported.len(), 1);
    assert!(store
        .import_dir(&data.path().join("no-such-dir"))
        .unwrap()
        .imported
        .is_empty());
}
