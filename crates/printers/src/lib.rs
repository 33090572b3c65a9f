//! Server-side Table conversion for kubectl (being written).
