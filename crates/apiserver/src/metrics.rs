//! Prometheus metrics: request counts and latency histograms by verb/resource/code, the
//! number of open watches and the store size.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::StatusCode;
use axum::response::Response;

use crate::state::AppState;

const BUCKETS: &[f64] = &[
    0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0, 30.0,
];

#[derive(Default)]
struct Series {
    count: u64,
    sum: f64,
    buckets: [u64; 11],
}

#[derive(Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<(String, String, u16), Series>>,
    watches: Arc<AtomicI64>,
}

/// Decrements the open-watch gauge when dropped.
pub struct WatchGuard(Arc<AtomicI64>);

impl Drop for WatchGuard {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Metrics {
    pub fn observe(&self, verb: &str, resource: &str, code: u16, elapsed: Duration) {
        if verb.is_empty() {
            return;
        }
        let secs = elapsed.as_secs_f64();
        if let Ok(mut m) = self.requests.lock() {
            let s = m
                .entry((verb.to_string(), resource.to_string(), code))
                .or_default();
            s.count += 1;
            s.sum += secs;
            for (i, b) in BUCKETS.iter().enumerate() {
                if secs <= *b {
                    s.buckets[i] += 1;
                }
            }
        }
    }

    pub fn watch_started(&self) -> WatchGuard {
        self.watches.fetch_add(1, Ordering::Relaxed);
        WatchGuard(self.watches.clone())
    }

    pub fn render(&self, state: &AppState) -> Response {
        let mut out = String::new();
        out.push_str("# HELP apiserver_request_total Requests by verb, resource and HTTP code.\n");
        out.push_str("# TYPE apiserver_request_total counter\n");
        let m = match self.requests.lock() {
            Ok(m) => m,
            Err(p) => p.into_inner(),
        };
        for ((verb, res, code), s) in m.iter() {
            let _ = writeln!(
                out,
                "apiserver_request_total{{verb=\"{verb}\",resource=\"{res}\",code=\"{code}\"}} {}",
                s.count
            );
        }
        out.push_str("# HELP apiserver_request_duration_seconds Request latency.\n");
        out.push_str("# TYPE apiserver_request_duration_seconds histogram\n");
        for ((verb, res, code), s) in m.iter() {
            let l = format!("verb=\"{verb}\",resource=\"{res}\",code=\"{code}\"");
            for (i, b) in BUCKETS.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "apiserver_request_duration_seconds_bucket{{{l},le=\"{b}\"}} {}",
                    s.buckets[i]
                );
            }
            let _ = writeln!(
                out,
                "apiserver_request_duration_seconds_bucket{{{l},le=\"+Inf\"}} {}",
                s.count
            );
            let _ = writeln!(
                out,
                "apiserver_request_duration_seconds_sum{{{l}}} {}",
                s.sum
            );
            let _ = writeln!(
                out,
                "apiserver_request_duration_seconds_count{{{l}}} {}",
                s.count
            );
        }
        drop(m);
        out.push_str("# HELP apiserver_registered_watchers Open watch streams.\n# TYPE apiserver_registered_watchers gauge\n");
        let _ = writeln!(
            out,
            "apiserver_registered_watchers {}",
            self.watches.load(Ordering::Relaxed)
        );
        out.push_str("# HELP apiserver_storage_revision Current store revision.\n# TYPE apiserver_storage_revision gauge\n");
        let _ = writeln!(
            out,
            "apiserver_storage_revision {}",
            state.objects.store.current_revision()
        );
        let db = state.data_dir.join("db").join("state.db");
        let size = std::fs::metadata(&db).map(|m| m.len()).unwrap_or(0)
            + std::fs::metadata(db.with_extension("db-wal"))
                .map(|m| m.len())
                .unwrap_or(0);
        out.push_str("# HELP apiserver_storage_size_bytes Size of the database files.\n# TYPE apiserver_storage_size_bytes gauge\n");
        let _ = writeln!(out, "apiserver_storage_size_bytes {size}");
        crate::respond::text(StatusCode::OK, out)
    }
}
