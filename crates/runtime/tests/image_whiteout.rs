//! Whiteouts and opaque directories: layer 2 deletes a file and makes a directory
//! opaque. The unpacked lower dirs use overlayfs' format, and a real overlay mount
//! of them shows the merged result.

mod image_support;

use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::process::Command;

use image_support::{docker_archive, layer_tar, Item};
use peapod_runtime::image::ImageStore;

struct Mount(PathBuf);

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

fn two_layer_image(dir: &Path) -> PathBuf {
    let base = layer_tar(&[
        Item::Dir("etc"),
        Item::File("etc/keep.conf", b"keep"),
        Item::File("etc/delete-me.conf", b"gone soon"),
        Item::Dir("data"),
        Item::File("data/old-a", b"a"),
        Item::Dir("data/old-sub"),
        Item::File("data/old-sub/b", b"b"),
        Item::Dir("replaced"),
        Item::File("replaced/inner", b"inner"),
        Item::Symlink("link", "etc/keep.conf"),
    ]);
    let top = layer_tar(&[
        Item::Dir("etc"),
        Item::File("etc/.wh.delete-me.conf", b""),
        Item::Dir("data"),
        Item::File("data/.wh..wh..opq", b""),
        Item::File("data/new", b"new"),
        // A whiteout of a whole directory, then a file of the same name.
        Item::File(".wh.replaced", b""),
        Item::File("added", b"added"),
    ]);
    let path = dir.join("two-layers.tar");
    docker_archive(&path, "example.com/whiteouts:v1", &[base, top]);
    path
}

#[test]
fn whiteouts_and_opaque_dirs_in_overlay_format() {
    let data = tempfile::tempdir().unwrap();
    let store = ImageStore::open(data.path()).unwrap();
    let archive = two_layer_image(data.path());
    let image = store.import(&archive).expect("import").remove(0);
    assert_eq!(image.config.working_dir.as_deref(), Some("/work"));
    assert_eq!(image.config.user.as_deref(), Some("1000:1000"));
    assert_eq!(image.config.stop_signal.as_deref(), Some("SIGQUIT"));
    assert_eq!(image.config.exposed_ports, vec!["8080/tcp"]);

    let dirs = store.layer_dirs(&image).unwrap();
    assert_eq!(dirs.len(), 2);
    let (top, base) = (&dirs[0], &dirs[1]);

    // Lower layer unchanged.
    assert!(base.join("etc/delete-me.conf").is_file());
    assert_eq!(
        std::fs::read_link(base.join("link")).unwrap(),
        Path::new("etc/keep.conf")
    );
    // Top layer: whiteouts are 0/0 char devices, markers are gone, opaque is an xattr.
    for whiteout in ["etc/delete-me.conf", "replaced"] {
        let meta = std::fs::symlink_metadata(top.join(whiteout)).unwrap();
        assert!(
            meta.file_type().is_char_device(),
            "{whiteout} is a whiteout"
        );
        assert_eq!(meta.rdev(), 0);
    }
    assert!(!top.join("etc/.wh.delete-me.conf").exists());
    assert!(!top.join("data/.wh..wh..opq").exists());
    assert_eq!(
        xattr::get(top.join("data"), "trusted.overlay.opaque").unwrap(),
        Some(b"y".to_vec())
    );
    assert_eq!(
        xattr::get(base.join("data"), "trusted.overlay.opaque").unwrap(),
        None
    );

    // The kernel's view: mount the lowers read-only and look at the merge.
    let merged = data.path().join("merged");
    std::fs::create_dir(&merged).unwrap();
    let lowerdir = dirs
        .iter()
        .map(|d| d.display().to_string())
        .collect::<Vec<_>>()
        .join(":");
    let status = Command::new("mount")
        .args(["-t", "overlay", "overlay", "-o"])
        .arg(format!("lowerdir={lowerdir}"))
        .arg(&merged)
        .status()
        .expect("run mount");
    assert!(status.success(), "overlay mount failed");
    let _mount = Mount(merged.clone());

    assert!(merged.join("etc/keep.conf").is_file());
    assert!(
        !merged.join("etc/delete-me.conf").exists(),
        "deleted file hidden"
    );
    let mut data_entries: Vec<String> = std::fs::read_dir(merged.join("data"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    data_entries.sort();
    assert_eq!(
        data_entries,
        vec!["new"],
        "opaque dir hides the lower contents"
    );
    assert!(
        !merged.join("replaced").exists(),
        "whited-out directory hidden"
    );
    assert_eq!(std::fs::read(merged.join("added")).unwrap(), b"added");
    assert_eq!(std::fs::read(merged.join("link")).unwrap(), b"keep");
}

#[test]
fn layer_paths_cannot_escape() {
    let data = tempfile::tempdir().unwrap();
    let store = ImageStore::open(data.path()).unwrap();
    // A symlink to / followed by a file "through" it must not write outside the layer.
    let outside = data.path().join("outside");
    std::fs::create_dir(&outside).unwrap();
    let evil = layer_tar(&[
        Item::Symlink("escape", outside.to_str().unwrap()),
        Item::File("escape/pwned", b"x"),
    ]);
    let archive = data.path().join("evil.tar");
    docker_archive(&archive, "example.com/evil:v1", &[evil]);
    let err = store.import(&archive).unwrap_err();
    assert!(
        err.to_string().contains("outside") || err.to_string().contains("escape"),
        "{err}"
    );
    assert!(!outside.join("pwned").exists());
    assert!(store.list().unwrap().is_empty());
}
