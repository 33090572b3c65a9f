//! End-to-end tests of peapod-volumes against a real API server, with real tmpfs mounts
//! (run as root).

mod common;
mod keyed;
mod projected;
mod updates;
