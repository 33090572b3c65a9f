//! peapod runtime
