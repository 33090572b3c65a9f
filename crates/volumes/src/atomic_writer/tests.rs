use std::fs::{self, File, FileTimes};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::time::{Duration, SystemTime};

use super::*;

fn payload(entries: &[(&str, &str, u32)]) -> Payload {
    entries
        .iter()
        .map(|(path, data, mode)| {
            (
                path.to_string(),
                FileProjection {
                    data: data.as_bytes().to_vec(),
                    mode: *mode,
                },
            )
        })
        .collect()
}

fn versions(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| is_version_name(n))
        .collect();
    names.sort();
    names
}

fn age(path: &Path) {
    let old = SystemTime::now() - RETIRE_GRACE - Duration::from_secs(1);
    File::open(path)
        .unwrap()
        .set_times(FileTimes::new().set_modified(old))
        .unwrap();
}

#[test]
fn writes_versioned_layout_with_links() {
    let dir = tempfile::tempdir().unwrap();
    let p = payload(&[("a", "one", 0o644), ("sub/b", "two", 0o400)]);
    assert!(write_payload(dir.path(), &p, None).unwrap());

    let data = fs::read_link(dir.path().join("..data")).unwrap();
    assert!(data.to_string_lossy().starts_with(".."));
    assert_eq!(
        fs::read_link(dir.path().join("a")).unwrap(),
        Path::new("..data/a")
    );
    assert_eq!(
        fs::read_link(dir.path().join("sub")).unwrap(),
        Path::new("..data/sub")
    );
    assert_eq!(fs::read_to_string(dir.path().join("a")).unwrap(), "one");
    assert_eq!(fs::read_to_string(dir.path().join("sub/b")).unwrap(), "two");
    let mode = |p: &str| {
        fs::metadata(dir.path().join(p))
            .unwrap()
            .permissions()
            .mode()
            & 0o7777
    };
    assert_eq!(mode("a"), 0o644);
    assert_eq!(mode("sub/b"), 0o400);
}

#[test]
fn unchanged_payload_is_not_rewritten() {
    let dir = tempfile::tempdir().unwrap();
    let p = payload(&[("a", "one", 0o644)]);
    assert!(write_payload(dir.path(), &p, None).unwrap());
    let first = versions(dir.path());
    assert!(!write_payload(dir.path(), &p, None).unwrap());
    assert_eq!(versions(dir.path()), first);
    // A mode change alone is a change.
    let chmod = payload(&[("a", "one", 0o600)]);
    assert!(write_payload(dir.path(), &chmod, None).unwrap());
}

#[test]
fn update_swaps_links_and_retires_old_version() {
    let dir = tempfile::tempdir().unwrap();
    write_payload(
        dir.path(),
        &payload(&[("a", "1", 0o644), ("gone", "x", 0o644)]),
        None,
    )
    .unwrap();
    let old = versions(dir.path());
    assert_eq!(old.len(), 1);

    write_payload(
        dir.path(),
        &payload(&[("a", "2", 0o644), ("new", "y", 0o644)]),
        None,
    )
    .unwrap();
    assert_eq!(fs::read_to_string(dir.path().join("a")).unwrap(), "2");
    assert_eq!(fs::read_to_string(dir.path().join("new")).unwrap(), "y");
    assert!(
        fs::symlink_metadata(dir.path().join("gone")).is_err(),
        "stale link removed"
    );
    // The replaced version stays readable during its grace period ...
    let now = versions(dir.path());
    assert_eq!(now.len(), 2);
    assert!(dir.path().join(&old[0]).join("gone").exists());
    // ... and goes once it is older than that.
    age(&dir.path().join(&old[0]));
    prune_retired(dir.path()).unwrap();
    let current = fs::read_link(dir.path().join("..data")).unwrap();
    assert_eq!(
        versions(dir.path()),
        vec![current.to_string_lossy().into_owned()]
    );
}

#[test]
fn empty_payload_leaves_an_empty_volume() {
    let dir = tempfile::tempdir().unwrap();
    write_payload(dir.path(), &payload(&[("a", "1", 0o644)]), None).unwrap();
    write_payload(dir.path(), &Payload::new(), None).unwrap();
    let visible: Vec<_> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with(".."))
        .collect();
    assert!(visible.is_empty(), "{visible:?}");
}

#[test]
fn unsafe_paths_are_rejected() {
    for bad in [
        "",
        "/etc/passwd",
        "../x",
        "a/../b",
        "..data",
        "..x/y",
        "a//b",
        "./a",
        "a/",
    ] {
        assert!(validate_path(bad).is_err(), "{bad:?} accepted");
        let dir = tempfile::tempdir().unwrap();
        let err = write_payload(dir.path(), &payload(&[(bad, "x", 0o644)]), None);
        assert!(err.is_err(), "{bad:?} written");
    }
    for good in ["a", "a/b/c", "a..b", ".hidden", "x.."] {
        assert!(validate_path(good).is_ok(), "{good:?} rejected");
    }
}

#[test]
fn fs_group_sets_group_and_group_read() {
    let dir = tempfile::tempdir().unwrap();
    let gid = 4321;
    write_payload(dir.path(), &payload(&[("sub/f", "x", 0o600)]), Some(gid)).unwrap();
    let file = fs::metadata(dir.path().join("sub/f")).unwrap();
    assert_eq!(file.gid(), gid);
    assert_eq!(file.permissions().mode() & 0o7777, 0o640);
    let sub = fs::metadata(dir.path().join("sub")).unwrap();
    assert_eq!(sub.gid(), gid);
    assert_eq!(
        sub.permissions().mode() & 0o2000,
        0o2000,
        "setgid on directories"
    );
    // Rewriting the same payload with the same group is not a change.
    assert!(!write_payload(dir.path(), &payload(&[("sub/f", "x", 0o600)]), Some(gid)).unwrap());
}

/// A reader racing many rewrites never sees a missing file, a partial file or (through one
/// `..data` resolution) a mix of versions.
#[test]
fn concurrent_reader_never_sees_partial_state() {
    use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
    use std::sync::{Arc, Mutex};

    const KEYS: usize = 16;
    const SIZE: usize = 64 * 1024;
    let version_payload = |v: u32| -> Payload {
        (0..KEYS)
            .map(|k| {
                let mut data = format!("v{v:08}:").into_bytes();
                data.resize(SIZE, b'x');
                (format!("k{k:02}"), FileProjection { data, mode: 0o644 })
            })
            .collect()
    };
    // The version of a complete file, `None` when partial.
    fn complete(bytes: &[u8]) -> Option<u32> {
        if bytes.len() != SIZE || bytes[SIZE - 1] != b'x' {
            return None;
        }
        std::str::from_utf8(bytes.get(1..9)?).ok()?.parse().ok()
    }

    let dir = tempfile::tempdir().unwrap();
    write_payload(dir.path(), &version_payload(0), None).unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let passes = Arc::new(AtomicU64::new(0));
    let problems = Arc::new(Mutex::new(Vec::<String>::new()));
    let readers: Vec<_> = (0..2)
        .map(|_| {
            let (dir, stop, passes, problems) = (
                dir.path().to_path_buf(),
                stop.clone(),
                passes.clone(),
                problems.clone(),
            );
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let mut seen = Vec::new();
                    let base = match fs::read_link(dir.join("..data")) {
                        Ok(v) => dir.join(v),
                        Err(e) => {
                            problems.lock().unwrap().push(format!("readlink: {e}"));
                            continue;
                        }
                    };
                    for k in 0..KEYS {
                        let name = format!("k{k:02}");
                        match fs::read(dir.join(&name)).map(|b| complete(&b)) {
                            Ok(Some(_)) => {}
                            other => problems.lock().unwrap().push(format!("{name}: {other:?}")),
                        }
                        seen.push(fs::read(base.join(&name)).ok().and_then(|b| complete(&b)));
                    }
                    if seen.iter().any(Option::is_none) || seen.windows(2).any(|w| w[0] != w[1]) {
                        problems
                            .lock()
                            .unwrap()
                            .push(format!("inconsistent set {seen:?}"));
                    }
                    passes.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    for v in 1..=150 {
        write_payload(dir.path(), &version_payload(v), None).unwrap();
    }
    stop.store(true, Ordering::Relaxed);
    for r in readers {
        r.join().unwrap();
    }
    let problems = problems.lock().unwrap();
    assert!(
        problems.is_empty(),
        "{} problems, first: {:?}",
        problems.len(),
        problems.first()
    );
    assert!(passes.load(Ordering::Relaxed) > 0);
}
