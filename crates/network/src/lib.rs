//! peapod network
