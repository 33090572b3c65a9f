//! peapod store
