//! Tables and queries. `kv` holds the current objects; `log` every change since the last
//! compaction (the watch history); `meta` the compaction point.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use rusqlite::{params, Connection, OpenFlags, OptionalExtension};

use crate::{Event, EventType, KeyValue, Result, Revision};

pub(super) fn open(path: &Path) -> Result<Connection> {
    let conn = Connection::open(path)?;
    // WAL + FULL: a commit returns only once the WAL is fsynced, so an acknowledged
    // write survives both a killed process and a power loss.
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "wal_autocheckpoint", 10_000)?;
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS kv (
             key TEXT PRIMARY KEY, value BLOB NOT NULL,
             create_rev INTEGER NOT NULL, mod_rev INTEGER NOT NULL) WITHOUT ROWID;
         CREATE TABLE IF NOT EXISTS log (
             rev INTEGER PRIMARY KEY, key TEXT NOT NULL, deleted INTEGER NOT NULL,
             value BLOB NOT NULL, create_rev INTEGER NOT NULL, prev_rev INTEGER);
         CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL);",
    )?;
    Ok(conn)
}

pub(super) fn open_reader(path: &Path) -> Result<Connection> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    Ok(conn)
}

/// Current objects, newest revision and compaction point.
pub(super) fn load(conn: &Connection) -> Result<(BTreeMap<String, KeyValue>, Revision, Revision)> {
    let mut objects = BTreeMap::new();
    let mut stmt = conn.prepare("SELECT key, value, create_rev, mod_rev FROM kv")?;
    let rows = stmt.query_map([], |r| {
        Ok(KeyValue {
            key: r.get(0)?,
            value: Arc::from(r.get::<_, Vec<u8>>(1)?),
            create_revision: r.get(2)?,
            mod_revision: r.get(3)?,
        })
    })?;
    for kv in rows {
        let kv = kv?;
        objects.insert(kv.key.clone(), kv);
    }
    let compacted = meta(conn, "compacted")?.unwrap_or(0);
    let last: Option<Revision> = conn.query_row("SELECT MAX(rev) FROM log", [], |r| r.get(0))?;
    let stored = meta(conn, "revision")?.unwrap_or(0);
    let revision = last.unwrap_or(0).max(compacted).max(stored);
    Ok((objects, revision, compacted))
}

pub(super) fn meta(conn: &Connection, name: &str) -> Result<Option<i64>> {
    Ok(conn
        .query_row("SELECT value FROM meta WHERE name = ?1", [name], |r| {
            r.get(0)
        })
        .optional()?)
}

pub(super) fn set_meta(conn: &Connection, name: &str, value: i64) -> Result<()> {
    conn.execute(
        "INSERT INTO meta (name, value) VALUES (?1, ?2)
         ON CONFLICT(name) DO UPDATE SET value = excluded.value",
        params![name, value],
    )?;
    Ok(())
}

pub(super) fn put(conn: &Connection, kv: &KeyValue, prev: Option<Revision>) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO kv (key, value, create_rev, mod_rev) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT(key) DO UPDATE SET value = excluded.value, mod_rev = excluded.mod_rev",
    )?
    .execute(params![
        kv.key,
        &kv.value[..],
        kv.create_revision,
        kv.mod_revision
    ])?;
    append_log(conn, kv, false, prev)
}

pub(super) fn delete(conn: &Connection, kv: &KeyValue, prev: Revision) -> Result<()> {
    conn.prepare_cached("DELETE FROM kv WHERE key = ?1")?
        .execute([&kv.key])?;
    append_log(conn, kv, true, Some(prev))
}

fn append_log(
    conn: &Connection,
    kv: &KeyValue,
    deleted: bool,
    prev: Option<Revision>,
) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO log (rev, key, deleted, value, create_rev, prev_rev)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![
        kv.mod_revision,
        kv.key,
        deleted,
        &kv.value[..],
        kv.create_revision,
        prev
    ])?;
    Ok(())
}

/// Events with `after < rev <= until`, rebuilt from the log.
pub(super) fn read_log(
    conn: &Connection,
    after: Revision,
    until: Revision,
) -> Result<Vec<Arc<Event>>> {
    let mut stmt = conn.prepare_cached(
        "SELECT l.rev, l.key, l.deleted, l.value, l.create_rev, p.rev, p.value, p.create_rev
         FROM log l LEFT JOIN log p ON p.rev = l.prev_rev
         WHERE l.rev > ?1 AND l.rev <= ?2 ORDER BY l.rev",
    )?;
    let rows = stmt.query_map(params![after, until], |r| {
        let key: String = r.get(1)?;
        let kv = KeyValue {
            key: key.clone(),
            value: Arc::from(r.get::<_, Vec<u8>>(3)?),
            create_revision: r.get(4)?,
            mod_revision: r.get(0)?,
        };
        let prev = match r.get::<_, Option<Revision>>(5)? {
            Some(rev) => Some(KeyValue {
                key,
                value: Arc::from(r.get::<_, Vec<u8>>(6)?),
                create_revision: r.get(7)?,
                mod_revision: rev,
            }),
            None => None,
        };
        let kind = if r.get::<_, bool>(2)? {
            EventType::Delete
        } else {
            EventType::Put
        };
        Ok(Arc::new(Event { kind, kv, prev }))
    })?;
    Ok(rows.collect::<std::result::Result<_, _>>()?)
}

pub(super) fn compact(conn: &Connection, revision: Revision) -> Result<()> {
    conn.execute("DELETE FROM log WHERE rev <= ?1", [revision])?;
    set_meta(conn, "compacted", revision)
}
