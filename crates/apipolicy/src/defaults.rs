//! Server-side defaults (being written).
