use std::sync::Arc;

use peapod_store::{EventType, SqliteStore, Store, StoreError};

fn open(dir: &tempfile::TempDir) -> SqliteStore {
    SqliteStore::open(&dir.path().join("state.db")).unwrap()
}

#[tokio::test]
async fn create_get_update_delete_with_revisions() {
    let dir = tempfile::tempdir().unwrap();
    let s = open(&dir);
    let a = s
        .create("/registry/pods/default/a", b"1".to_vec())
        .await
        .unwrap();
    assert_eq!(a.create_revision, 1);
    assert_eq!(
        s.create("/registry/pods/default/a", b"x".to_vec()).await,
        Err(StoreError::AlreadyExists)
    );
    let b = s
        .update("/registry/pods/default/a", Some(1), b"2".to_vec())
        .await
        .unwrap();
    assert_eq!((b.create_revision, b.mod_revision), (1, 2));
    assert_eq!(
        s.update("/registry/pods/default/a", Some(1), b"3".to_vec())
            .await,
        Err(StoreError::Conflict { current: 2 })
    );
    assert_eq!(
        &s.get("/registry/pods/default/a")
            .await
            .unwrap()
            .unwrap()
            .value[..],
        b"2"
    );
    let d = s.delete("/registry/pods/default/a", Some(2)).await.unwrap();
    assert_eq!(d.mod_revision, 3);
    assert_eq!(s.get("/registry/pods/default/a").await.unwrap(), None);
    assert_eq!(
        s.delete("/registry/pods/default/a", None).await,
        Err(StoreError::NotFound)
    );
    assert_eq!(s.current_revision(), 3);
}

#[tokio::test]
async fn list_by_prefix_with_limit_and_continue() {
    let dir = tempfile::tempdir().unwrap();
    let s = open(&dir);
    for ns in ["a", "b"] {
        for i in 0..5 {
            s.create(&format!("/registry/pods/{ns}/p{i}"), vec![])
                .await
                .unwrap();
        }
    }
    s.create("/registry/podsx/a/zz", vec![]).await.unwrap();
    let all = s.list("/registry/pods/", None, 0).await.unwrap();
    assert_eq!(all.kvs.len(), 10);
    let page = s.list("/registry/pods/a/", None, 3).await.unwrap();
    assert_eq!(page.kvs.len(), 3);
    assert!(page.more);
    let rest = s
        .list("/registry/pods/a/", Some(&page.kvs[2].key), 3)
        .await
        .unwrap();
    assert_eq!(rest.kvs.len(), 2);
    assert!(!rest.more);
    assert_eq!(rest.revision, 11);
}

#[tokio::test]
async fn acknowledged_writes_survive_reopen() {
    let dir = tempfile::tempdir().unwrap();
    {
        let s = open(&dir);
        for i in 0..100 {
            s.create(&format!("/registry/cm/default/c{i}"), vec![i as u8])
                .await
                .unwrap();
        }
        s.delete("/registry/cm/default/c0", None).await.unwrap();
    }
    let s = open(&dir);
    assert_eq!(s.current_revision(), 101);
    assert_eq!(
        s.list("/registry/cm/", None, 0).await.unwrap().kvs.len(),
        99
    );
    let kv = s.create("/registry/cm/default/new", vec![]).await.unwrap();
    assert_eq!(kv.mod_revision, 102);
}

#[tokio::test]
async fn concurrent_writers_get_distinct_revisions() {
    let dir = tempfile::tempdir().unwrap();
    let s = Arc::new(open(&dir));
    let mut tasks = Vec::new();
    for t in 0..8 {
        let s = s.clone();
        tasks.push(tokio::spawn(async move {
            let mut revs = Vec::new();
            for i in 0..50 {
                revs.push(
                    s.create(&format!("/k/{t}/{i}"), vec![])
                        .await
                        .unwrap()
                        .mod_revision,
                );
            }
            revs
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    all.sort();
    all.dedup();
    assert_eq!(all.len(), 400);
    assert_eq!(*all.last().unwrap(), 400);
}

#[tokio::test]
async fn conflicting_updates_in_one_batch_only_one_wins() {
    let dir = tempfile::tempdir().unwrap();
    let s = Arc::new(open(&dir));
    let kv = s.create("/k", vec![0]).await.unwrap();
    let mut tasks = Vec::new();
    for i in 0..10u8 {
        let s = s.clone();
        let rev = kv.mod_revision;
        tasks.push(tokio::spawn(async move {
            s.update("/k", Some(rev), vec![i]).await
        }));
    }
    let mut ok = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(_) => ok += 1,
            Err(StoreError::Conflict { .. }) => {}
            Err(e) => panic!("{e}"),
        }
    }
    assert_eq!(ok, 1);
}

#[tokio::test]
async fn watch_replays_history_then_streams_live() {
    let dir = tempfile::tempdir().unwrap();
    let s = open(&dir);
    s.create("/registry/pods/default/a", b"a1".to_vec())
        .await
        .unwrap();
    s.create("/registry/cms/default/x", vec![]).await.unwrap();
    s.update("/registry/pods/default/a", None, b"a2".to_vec())
        .await
        .unwrap();
    let mut w = s.watch("/registry/pods/", 1).await.unwrap();
    let e = w.next().await.unwrap().unwrap();
    assert_eq!((e.kind, e.revision()), (EventType::Put, 3));
    assert!(!e.is_create());
    assert_eq!(&e.prev.as_ref().unwrap().value[..], b"a1");
    s.delete("/registry/pods/default/a", None).await.unwrap();
    let e = w.next().await.unwrap().unwrap();
    assert_eq!((e.kind, e.revision()), (EventType::Delete, 4));
    assert_eq!(&e.kv.value[..], b"a2");
}

#[tokio::test]
async fn watch_from_disk_history_after_reopen() {
    let dir = tempfile::tempdir().unwrap();
    {
        let s = open(&dir);
        s.create("/p/a", b"1".to_vec()).await.unwrap();
        s.update("/p/a", None, b"2".to_vec()).await.unwrap();
    }
    let s = open(&dir);
    let mut w = s.watch("/p/", 0).await.unwrap();
    let e1 = w.next().await.unwrap().unwrap();
    assert!(e1.is_create());
    let e2 = w.next().await.unwrap().unwrap();
    assert_eq!(&e2.prev.as_ref().unwrap().value[..], b"1");
}

#[tokio::test]
async fn compacted_history_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let s = open(&dir);
    for i in 0..10 {
        s.create(&format!("/k/{i}"), vec![]).await.unwrap();
    }
    s.compact(5).await.unwrap();
    assert!(matches!(
        s.watch("/k/", 3).await,
        Err(StoreError::Compacted { compacted: 5 })
    ));
    let mut w = s.watch("/k/", 5).await.unwrap();
    assert_eq!(w.next().await.unwrap().unwrap().revision(), 6);
}

#[tokio::test]
async fn automatic_compaction_bounds_history() {
    let dir = tempfile::tempdir().unwrap();
    let s = SqliteStore::open_with_history(&dir.path().join("db"), 100).unwrap();
    for i in 0..1_300 {
        s.create(&format!("/k/{i}"), vec![]).await.unwrap();
    }
    assert!(matches!(
        s.watch("/k/", 1).await,
        Err(StoreError::Compacted { .. })
    ));
    assert!(s.watch("/k/", 1_250).await.is_ok());
}
