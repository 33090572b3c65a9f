//! The controllers' notion of "now": real time plus an offset that tests can move forward,
//! so time-driven behaviour (cron schedules, deadlines) can be tested without waiting.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use tokio::sync::watch;

#[derive(Clone)]
pub struct Clock {
    offset_ms: Arc<AtomicI64>,
    changed: Arc<watch::Sender<u64>>,
}

impl Default for Clock {
    fn default() -> Self {
        Clock::system()
    }
}

impl std::fmt::Debug for Clock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Clock(offset_ms={})",
            self.offset_ms.load(Ordering::Relaxed)
        )
    }
}

impl Clock {
    /// Wall-clock time.
    pub fn system() -> Clock {
        let (tx, _) = watch::channel(0);
        Clock {
            offset_ms: Arc::new(AtomicI64::new(0)),
            changed: Arc::new(tx),
        }
    }

    pub fn now(&self) -> DateTime<Utc> {
        Utc::now() + Duration::milliseconds(self.offset_ms.load(Ordering::Relaxed))
    }

    /// Test hook: moves "now" forward and wakes every time-driven controller.
    pub fn advance(&self, by: std::time::Duration) {
        let ms = i64::try_from(by.as_millis()).unwrap_or(i64::MAX);
        self.offset_ms.fetch_add(ms, Ordering::Relaxed);
        self.changed.send_modify(|n| *n += 1);
    }

    /// Fires after every `advance`.
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.changed.subscribe()
    }
}
